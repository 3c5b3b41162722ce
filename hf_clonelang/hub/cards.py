"""Runs on the Hub: model cards rendered from ``model_cards/model_card.md`` with `huggingface_hub` (one
`EvalResult` per language and split, plus the alignment measures, so they show on the Hub page — Trainer's own card
cannot read per-language results), and pushing a run folder in one commit."""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from ..common import CITATION, EVAL_LANGUAGE_LOSS, block_mean
from ..errors import ConfigError, HubError


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def _fmt(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _result(task: str, dataset: str, name: str, split: str, metric: str, label: str, value: float) -> Any:
    from huggingface_hub import EvalResult

    return EvalResult(
        task_type="text-generation",
        task_name=task,
        dataset_type=dataset,
        dataset_name=name,
        dataset_split=split,
        metric_type=metric,
        metric_name=label,
        metric_value=round(float(value), 4),
    )


def _training_data(data: dict[str, Any]) -> tuple[str, str, bool]:
    """What a run trained on, from its data settings: an id for the card's results (``dataset_type``), a line for
    the card, and whether the id is a Hub dataset. Local files are named by file, never called embedded."""
    source = data.get("cloned_corpus") or data.get("dataset_name")
    if source:
        on_hub = "/" in source and not Path(source).exists()
        config = data.get("cloned_corpus_config") or data.get("dataset_config_name")
        line = f"[{source}](https://huggingface.co/datasets/{source})" if on_hub else f"`{source}`"
        return source, line + (f", config `{config}`" if config else ""), on_hub
    files = [Path(f).name for f in data.get("train_files") or []]
    if files:
        shown = ", ".join(f"`{f}`" for f in files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        return "local-files", f"local text files: {shown}", False
    stories = data.get("max_documents")
    return "embedded", "hf_clonelang's embedded stories" + (f" ({stories:,} documents)" if stories else ""), False


def _model_description(info: dict[str, Any]) -> str:
    preset = info.get("model_preset")
    text = f"GPT-2, preset `{preset}`" if preset else "GPT-2 from a given checkpoint"
    parts = []
    if info.get("input_embedding_scale"):
        scale = info["input_embedding_scale"]
        parts.append(f"input embedding × {scale:.4g} = √h, as in the paper's GPT (folded into the weights)")
    if "tie_word_embeddings" in info:
        parts.append("tied embeddings" if info["tie_word_embeddings"] else "untied embeddings")
    return text + (f"; {'; '.join(parts)}" if parts else "")


def _teff_text(teff: dict[str, Any]) -> str:
    return _fmt(teff.get("teff"), 2) + ("*" if teff.get("extrapolated") else "")


def render_model_card(run_dir: str | Path, repo_id: str | None = None) -> str:
    """The README.md text of a run folder, from ``run_info.json``, ``all_results.json``, ``trainer_state.json``
    and, when present, ``alignment.json`` and ``efficiency.json`` (TEff, written by ``hf-clonelang reproduce``)."""
    from huggingface_hub import ModelCard, ModelCardData

    run = Path(run_dir)
    info = _read_json(run / "run_info.json")
    results = _read_json(run / "all_results.json")
    state = _read_json(run / "trainer_state.json")
    alignment = _read_json(run / "alignment_eval.json") or _read_json(run / "alignment.json")  # the larger sample
    efficiency = _read_json(run / "efficiency.json")
    name = repo_id.split("/")[-1] if repo_id else run.resolve().name
    langs = sorted({m.group(1) for k in results if (m := EVAL_LANGUAGE_LOSS.match(k))}, key=lambda s: int(s[1:]))
    data = info.get("data", {})
    dataset, data_line, on_hub = _training_data(data)
    rows, eval_results = [], []
    for split, prefix in (("validation", "eval"), ("test", "test")):
        for lang in langs:
            loss, ppl = results.get(f"{prefix}_{lang}_loss"), results.get(f"{prefix}_{lang}_ppl")
            if loss is None:
                continue
            teff = efficiency.get(lang, {}) if split == "validation" else {}
            power, interp = teff.get("power-law", {}), teff.get("loglog-interpolation", {})
            rows.append(
                {
                    "language": lang,
                    "split": split,
                    "loss": loss,
                    "ppl": ppl,
                    "teff": _teff_text(power),
                    "teff_interpolated": _teff_text(interp),
                    "mlte": f"{power['mlte']:,.0f}" if power.get("mlte") else "–",
                }
            )
            for metric, value in (("loss", loss), ("perplexity", ppl)):
                eval_results.append(
                    _result(
                        f"Language modeling ({lang})",
                        dataset,
                        f"held-out blocks in {lang}",
                        f"{split}_{lang}",
                        metric,
                        f"{lang} {metric} ({split})",
                        value,
                    )
                )
    align_rows = []
    for pair, entry in alignment.items():
        row = {
            "pair": pair,
            "hidden": _fmt(block_mean(entry["hidden_cosine"])),
            "centred": _fmt(block_mean(entry["hidden_cosine_centred"])),
            "retrieval": _fmt(block_mean(entry["retrieval_at_1"])),
            "cka": _fmt(block_mean(entry["cka"])),
            "gradient": _fmt(entry.get("gradient_cosine_mean")),
            "embedding": _fmt(entry.get("embedding_cosine", {}).get("input", {}).get("overall")),
        }
        align_rows.append(row)
        for metric, key in (
            ("hidden_cosine", "hidden"),
            ("hidden_cosine_centred", "centred"),
            ("retrieval_at_1", "retrieval"),
            ("gradient_cosine", "gradient"),
        ):
            if row[key] != "–":
                eval_results.append(
                    _result(
                        f"Cross-lingual alignment ({pair})",
                        dataset,
                        f"parallel held-out blocks {pair}",
                        "validation",
                        metric,
                        f"{pair} {metric.replace('_', ' ')}",
                        float(row[key]),
                    )
                )
    card_data = ModelCardData(
        license="apache-2.0",
        library_name="transformers",
        pipeline_tag="text-generation",
        tags=["hf-clonelang", "cloned-languages", "language-imbalance", "gpt2"],
        datasets=[dataset] if on_hub else None,
        model_name=name,
        eval_results=eval_results or None,
    )
    tokens = {k.removeprefix("train_tokens_"): int(v) for k, v in results.items() if k.startswith("train_tokens_L")}
    training = {k.replace("_", " "): v for k, v in info.get("training", {}).items()}
    template = resources.files("hf_clonelang.model_cards").joinpath("model_card.md").read_text()
    card = ModelCard.from_template(
        card_data,
        template_str=template,
        model_name=name,
        num_languages=info.get("num_languages", len(langs)),
        vocab_size=info.get("tokenizer", {}).get("vocab_size", "?"),
        schedule=info.get("language_schedule", "?"),
        shares=", ".join(f"L{i} {s:.1%}" for i, s in enumerate(info.get("expected_shares", []), 1)),
        sampling=info.get("sampling", "?"),
        data_mode=info.get("data_mode", "?"),
        clone_fraction=f"{info.get('tokenizer', {}).get('clone_fraction', 1):.4g}",
        shared=info.get("tokenizer", {}).get("shared_ids_description", "see cloned_tokenizer.json"),
        data_description=data_line,
        model_description=_model_description(info),
        num_parameters=f"{info.get('num_parameters', 0):,}",
        steps=state.get("global_step", "?"),
        global_batch=info.get("samples_per_step", "?"),
        block_size=info.get("block_size", "?"),
        training=training,
        has_schedule_plot=(run / "schedule.png").is_file(),
        has_loss_plot=(run / "eval_loss.png").is_file(),
        tokens_seen=tokens,
        results=rows,
        efficiency=bool(efficiency),
        efficiency_fit=efficiency.get("fits", {}).get("power-law", "monolingual reference runs"),
        alignment=align_rows,
        alignment_blocks=next(iter(alignment.values()), {}).get("blocks", "?"),
        repo_or_path=repo_id or str(run),
        citation=CITATION,
    )
    return str(card)


def write_model_card(run_dir: str | Path, repo_id: str | None = None) -> Path:
    """Write ``README.md`` into a run folder."""
    path = Path(run_dir) / "README.md"
    path.write_text(render_model_card(run_dir, repo_id))
    return path


# ---------------------------------------------------------------------- pushing runs
HUB_TIMEOUT = float(os.environ.get("HF_CLONELANG_HUB_TIMEOUT", "60"))
"""Seconds a Hub request may wait for the server (connect, read, write) before a push fails."""
RUN_IGNORE = ("checkpoint-*", "training_args.bin", "README.md")


@contextlib.contextmanager
def hub_timeout(seconds: float | None = None) -> Iterator[None]:
    """Give every `huggingface_hub` request a timeout for the duration (its shared client has none by default)."""
    import httpx2
    from huggingface_hub import get_session

    session = get_session()
    previous = session.timeout
    session.timeout = httpx2.Timeout(seconds or HUB_TIMEOUT)
    try:
        yield
    finally:
        session.timeout = previous


def one_line(err: BaseException) -> str:
    """``Type: first line of the message`` of an error."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}".rstrip(": ")


def run_files(run_dir: str | Path, ignore: tuple[str, ...] = RUN_IGNORE) -> list[Path]:
    """Files of a run folder that go to the Hub (checkpoints, the pickled arguments and the local card stay)."""
    run = Path(run_dir)
    return [
        p
        for p in sorted(run.rglob("*"))
        if p.is_file() and not any(fnmatch.fnmatch(p.relative_to(run).parts[0], pat) for pat in ignore)
    ]


def push_run(
    run_dir: str | Path,
    repo_id: str,
    token: str | None = None,
    private: bool | None = None,
    revision: str | None = None,
    path_in_repo: str = "",
    commit_message: str | None = None,
) -> str:
    """Push a finished run folder to a Hub model repo in one commit: model, `ClonedTokenizer` with the
    standalone per-language tokenizers, metrics, alignment, plots, and a card written for that repo.

    The local folder is only read. Any failure (HTTP error, timeout, dropped connection, a repo you cannot write)
    raises `HubError` with one line naming the cause; running the same push again retries it.
    """
    from huggingface_hub import CommitOperationAdd, HfApi

    run = Path(run_dir)
    if not (run / "config.json").is_file():
        raise ConfigError(f"{run} holds no model (config.json): push a run folder written by run_clm_imbalance.py")
    prefix = f"{path_in_repo.strip('/')}/" if path_in_repo else ""
    with_card = not prefix and (run / "run_info.json").is_file()
    api = HfApi(token=token)
    try:
        with hub_timeout():
            url = api.create_repo(repo_id, exist_ok=True, private=private)
            repo = url.repo_id
            operations = [CommitOperationAdd(prefix + p.relative_to(run).as_posix(), str(p)) for p in run_files(run)]
            if with_card:
                operations.append(CommitOperationAdd("README.md", render_model_card(run, repo).encode()))
            commit = api.create_commit(
                repo, operations, revision=revision, commit_message=commit_message or f"Upload run {run.name}"
            )
    except ConfigError:
        raise
    except Exception as err:  # network and HTTP errors of every kind: one line with the cause
        raise HubError(f"pushing run {run} to model repo {repo_id!r} failed: {one_line(err)}") from err
    return commit.commit_url


def checkpoint_pusher(repo_id: str, strategy: str, **push_kwargs: Any) -> Any:
    """A `TrainerCallback` that pushes checkpoints as ``hub_strategy`` asks (``every_save``: the checkpoint's model
    to the repo root; ``checkpoint``: to ``last-checkpoint/``; ``all_checkpoints``: to ``checkpoint-N/``).
    A failed checkpoint push prints one line and training goes on; the final push comes after local saving."""
    from transformers import TrainerCallback  # here, not at the top: corpus pushing must not load the Trainer

    class CheckpointPusher(TrainerCallback):
        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if not state.is_world_process_zero:
                return
            checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            where = {"every_save": "", "checkpoint": "last-checkpoint"}.get(strategy, checkpoint.name)
            try:
                push_run(
                    checkpoint,
                    repo_id,
                    path_in_repo=where,
                    commit_message=f"Checkpoint at step {state.global_step}",
                    **push_kwargs,
                )
            except (HubError, ConfigError) as err:
                print(f"warning: {err} (training goes on; the final push comes after it)", flush=True)

    return CheckpointPusher()
