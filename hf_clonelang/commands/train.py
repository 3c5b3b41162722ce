"""The main job: train a causal LM on cloned languages with a language schedule, evaluate every language, save.

Launch it as ``accelerate launch run_clm_imbalance.py [args | config.yaml [args]]`` (the top-level script calls
`cli`), or ``python -m hf_clonelang.commands.train``. This module only wires library pieces:

    base text -> (builder) cloned corpus -> ClonedTokenizer -> GPT-2 -> ImbalanceTrainer -> metrics, plots, card

Data: the embedded stories by default; any `load_dataset` source or local files as base text (clone mode: base
blocks put into the sampled language); real languages, a text each (``--language en=TEXT --language fr=TEXT``,
each its own tokenizer in a disjoint or anchored joint vocabulary: pool mode); or an already built corpus, a folder
or Hub repo plus config (pool mode: the rows keep their languages). ``--push_to_hub`` is Trainer's: checkpoint
pushes during training (``--hub_strategy``), and the final push once the run folder is complete.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from ..common import RunFiles
from ..data.arguments import CorpusArguments
from ..errors import ConfigError, HubError
from ..training.arguments import TRAINING_SCRIPT, ImbalanceTrainingArguments, ModelArguments, parse_training_args
from .entry import run_command

PROG = TRAINING_SCRIPT
RETRY = "the run is saved locally: run the same command again to retry the push"
LOG_FORMAT = "%(asctime)s - %(levelname)s - %(name)s - %(message)s"
LOG_DATE_FORMAT = "%m/%d/%Y %H:%M:%S"

logger = logging.getLogger(__name__)


def parse_args(argv: list[str] | None = None) -> tuple[ModelArguments, CorpusArguments, ImbalanceTrainingArguments]:
    """Command-line flags and / or a YAML / JSON file of them (`training.arguments.parse_training_args`)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    return parse_training_args(argv, description=__doc__.split("\n\n")[0])


def _preflight(model_args: ModelArguments, corpus_args: CorpusArguments, args: ImbalanceTrainingArguments) -> Any:
    """Everything checkable before the corpus is built: the output folder, the model, repo ids, the checkpoint to
    resume from; returns that checkpoint (None: start fresh)."""
    from .checks import (
        check_checkpoint_files,
        check_config_name,
        check_folder_or_repo,
        check_repo_id,
        check_writable_folder,
        complete_checkpoint,
    )

    check_writable_folder(args.output_dir, "--output_dir")
    check_config_name(corpus_args.corpus_config_name)
    check_folder_or_repo(model_args.model_name_or_path, "--model_name_or_path")
    check_folder_or_repo(model_args.config_name, "--config_name")
    check_folder_or_repo(corpus_args.cloned_corpus, "--cloned_corpus")
    if args.eval_last_n and not corpus_args.cloned_corpus and args.eval_last_n > corpus_args.block_size:
        raise ConfigError(
            f"eval_last_n={args.eval_last_n} is not allowed: at most the block size ({corpus_args.block_size})"
        )  # (a built corpus's block size is checked once it is loaded, before training)
    if args.push_to_hub and args.hub_model_id:
        check_repo_id(args.hub_model_id, "--hub_model_id")
    if args.alignment_pairs and args.alignment_blocks:  # every line a pair, before any work
        from ..data.pairs import read_pairs

        read_pairs(args.alignment_pairs, limit=args.alignment_blocks, seed=0)
    value = args.resume_from_checkpoint
    if value is None or str(value).lower() in ("", "false", "none"):
        return None
    if str(value).lower() == "true":
        return complete_checkpoint(args.output_dir)  # checked, damaged ones skipped
    if not (Path(value) / RunFiles.TRAINER_STATE).is_file():
        raise ConfigError(f"--resume_from_checkpoint {value!r} is not a complete checkpoint (no trainer_state.json)")
    check_checkpoint_files(value)
    return value


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the job; returns the final metrics (also in ``output_dir/all_results.json``)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        import torch

        if not torch.cuda.is_available():  # several CPU processes: gloo, never silent independent copies
            os.environ.setdefault("ACCELERATE_USE_CPU", "1")
    model_args, corpus_args, args = parse_args(argv)
    resume = _preflight(model_args, corpus_args, args)
    restore_logging = configure_logging(args)
    try:
        return _run(model_args, corpus_args, args, resume)
    finally:
        restore_logging()  # a Python caller's logging is left as it was (a script ends here anyway)


def _run(
    model_args: ModelArguments, corpus_args: CorpusArguments, args: ImbalanceTrainingArguments, resume: Any
) -> dict[str, Any]:
    """The job's five steps, once the arguments are checked (`main`)."""
    if args.hub_token:  # huggingface_hub reads it from the environment: no file of the run keeps it (training_args)
        os.environ["HF_TOKEN"], args.hub_token = args.hub_token, None
    if args.disable_tqdm:  # the corpus build's bars too, not only the Trainer's
        import datasets

        datasets.disable_progress_bars()

    from ..training.run_folder import (
        already_trained,
        final_evaluation,
        logged_train_loss,
        settings_fingerprint,
        write_run_files,
    )

    # 1. A rerun of a finished run whose push failed only retries the push (on the main process).
    fingerprint = settings_fingerprint(model_args, corpus_args, args)
    if args.push_to_hub and already_trained(args.output_dir, fingerprint):
        return _push_finished_run(args)

    from transformers import set_seed

    from ..training.modeling import build_model
    from ..training.trainer import ImbalanceTrainer

    # 2. The cloned corpus (built once, on the main process first) and a model that fits its joint vocabulary.
    set_seed(args.seed)
    with args.main_process_first(desc="building the cloned corpus"):
        dsd, tok = corpus_args.load(args.num_languages)
    model = build_model(model_args, tok.vocab_size, len(dsd["train"][0]["input_ids"]))

    # 3. Train with the schedule; every language is evaluated on its own fixed held-out blocks.
    limit = args.max_eval_blocks
    eval_sets = {}
    for k in range(1, args.num_languages + 1):
        split = dsd[f"validation_L{k}"]
        eval_sets[f"L{k}"] = split.select(range(min(limit, len(split)))) if limit else split
    if resume is not None:
        args.eval_on_start = False  # the checkpoint's log already holds the evaluation at its step
    trainer = ImbalanceTrainer(
        model=model, args=args, train_dataset=dsd["train"], eval_dataset=eval_sets, processing_class=tok
    )
    trainer.test_window(trainer.block_size)  # the test perplexity's stride fits the blocks: refused now, not after
    result = trainer.train(resume_from_checkpoint=resume)

    # 4. Final metrics: the last evaluation, the test splits (the paper's sliding-window perplexity, and every
    #    position of the test blocks), tokens seen and epochs per language.
    metrics = dict(result.metrics)
    if resume is not None:  # Trainer's train_loss covers this session only: the whole run's comes from its logs
        resumed_at = int(Path(resume).name.split("-")[-1])
        whole_run = logged_train_loss(trainer.state.log_history, resumed_at=resumed_at)
        if whole_run is not None:
            metrics["train_loss"] = whole_run
    metrics.update(final_evaluation(trainer))
    tests = {f"L{k}": dsd[f"test_L{k}"] for k in range(1, args.num_languages + 1) if f"test_L{k}" in dsd}
    if tests:  # every position of the test blocks (test_L{k}_blocks_*), and the paper's windows (test_L{k}_*)
        metrics.update(
            trainer.evaluate({f"{k}_blocks": blocks for k, blocks in tests.items()}, metric_key_prefix="test")
        )
        metrics.update(trainer.evaluate_test_text(tests))
    metrics.update({f"train_tokens_{k}": v for k, v in trainer.tokens_seen().items()})
    metrics.update({f"train_epochs_{k}": round(v, 4) for k, v in trainer.pool_epochs().items()})

    # 5. The run folder, complete before the final push: metrics, state, run_info, plots, card, the model; then
    #    Trainer's push_to_hub sends it in one commit (checkpoint pushes went on during training, as Trainer does).
    trainer.save_metrics("all", metrics)
    trainer.save_state()
    write_run_files(trainer, model_args, corpus_args, fingerprint)
    if not args.push_to_hub:
        trainer.save_model()
        return metrics
    try:
        url = trainer.push_to_hub()
    except HubError as err:
        raise HubError(f"{err}; {RETRY}") from err
    if trainer.is_world_process_zero():
        print(f"pushed {args.output_dir} to {url}")
    return metrics


def configure_logging(args: ImbalanceTrainingArguments) -> Any:
    """Logging as transformers' ``run_clm.py`` sets it up: one format, on stdout; the main process logs at
    ``--log_level`` (info when left ``passive``), the others at ``--log_level_replica``, for hf_clonelang,
    transformers and datasets alike; Python's warnings go through logging, and only the main process shows them
    (N processes would print each one N times). Returns a function that puts every setting back."""
    import datasets
    import transformers

    root, ours, warned = logging.getLogger(), logging.getLogger("hf_clonelang"), logging.getLogger("py.warnings")
    before = (list(root.handlers), ours.level, warned.level, transformers.logging.get_verbosity(),
              datasets.logging.get_verbosity())  # fmt: skip
    logging.basicConfig(format=LOG_FORMAT, datefmt=LOG_DATE_FORMAT, handlers=[logging.StreamHandler(sys.stdout)])
    if args.should_log:  # Trainer's default level is passive: info, as run_clm.py has it
        transformers.logging.set_verbosity_info()
    level = args.get_process_log_level()
    ours.setLevel(level)
    datasets.logging.set_verbosity(level)
    transformers.logging.set_verbosity(level)
    transformers.logging.enable_default_handler()
    transformers.logging.enable_explicit_format()
    logging.captureWarnings(True)
    warned.setLevel(logging.WARNING if args.should_log else logging.ERROR)
    logger.info(
        "process %d of %d on %s (%s), precision %s",
        args.process_index,
        args.world_size,
        args.device,
        args.parallel_mode.value,
        "bf16" if args.bf16 else "fp16" if args.fp16 else "fp32",
    )

    def restore() -> None:
        handlers, our_level, warned_level, transformers_level, datasets_level = before
        for handler in root.handlers[:]:
            if handler not in handlers:  # the handler basicConfig added
                root.removeHandler(handler)
        ours.setLevel(our_level)
        warned.setLevel(warned_level)
        logging.captureWarnings(False)
        transformers.logging.set_verbosity(transformers_level)
        transformers.logging.reset_format()
        datasets.logging.set_verbosity(datasets_level)

    return restore


def _push_finished_run(args: ImbalanceTrainingArguments) -> dict[str, Any]:
    """Push a run folder that already holds this run (the main process only; the others return at once)."""
    from accelerate import PartialState

    from ..hub.push import push_run
    from ..training.run_folder import hub_repo

    if PartialState().is_main_process:
        repo = hub_repo(args)
        print(f"{args.output_dir} already holds this run: pushing it to {repo}")
        options = {"token": args.hub_token, "private": args.hub_private_repo, "revision": args.hub_revision}
        try:
            url = push_run(args.output_dir, repo, **{k: v for k, v in options.items() if v is not None})
        except HubError as err:
            raise HubError(f"{err}; {RETRY}") from err
        print(f"pushed {args.output_dir} to {url}")
    return json.loads((Path(args.output_dir) / RunFiles.ALL_RESULTS).read_text())


def cli(argv: list[str] | None = None) -> None:
    """Entry point for scripts: clear one-line errors, and a clean exit of multi-process runs."""
    hint = "interrupted (a run resumes from its last checkpoint with --resume_from_checkpoint true)"
    _, status = run_command(PROG, main, argv, interrupted=hint)  # every error in one line (entry.run_command)
    if status:
        sys.exit(status)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        _end_process_group()


def _end_process_group() -> None:
    """End a multi-process run cleanly. gloo (CPU processes) sometimes aborts at interpreter exit after all work is
    done: there, once every exit handler has run (W&B, TensorBoard and other writers flush in them) and the streams
    are flushed, the process ends with os._exit(0). NCCL runs (GPUs) end normally."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return
    backend = str(dist.get_backend())
    dist.barrier()
    dist.destroy_process_group()
    if backend != "gloo":
        return
    import atexit
    import logging

    atexit._run_exitfuncs()  # the writers' own exit handlers, which os._exit would skip
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    cli()
