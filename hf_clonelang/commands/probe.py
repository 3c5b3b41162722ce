"""``hf-clonelang probe MODEL``: downstream probing of a run folder, checkpoint or Hub model repo — a classifier
trained in one language and evaluated in every language, with the paper's recipe by default (the language model
frozen, a linear head; `hf_clonelang.analysis.probing`), its controls, ``probe.json`` / ``probe.png`` and the
results in the model card (and, with ``--push_to_hub``, in the Hub repo's card)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..common import EMBEDDED
from ..errors import ConfigError
from ..parser import comma_numbers, parse_dataclasses
from .checks import check_repo_id, check_writable_folder


@dataclass
class ProbeArguments:
    """What to probe, on which data, how, and where the results go."""

    model: str | None = field(
        default=None, metadata={"help": "Run folder, checkpoint folder or Hub model repo (also positional)."}
    )
    dataset: list[str] = field(
        default_factory=lambda: [EMBEDDED],
        metadata={
            "help": "Tasks, each SOURCE[:CONFIG]: embedded (labelled stories), a CSV/TSV/JSON(L)/Parquet file or "
            "folder, or a Hub dataset (nyu-mll/glue:mrpc). Several tasks: their mean is the paper's score. Real "
            "languages: {lang} in SOURCE is each language's name."
        },
    )
    text_column: str | None = field(
        default=None, metadata={"help": "Text column, or two comma-separated for sentence pairs (default: guessed)."}
    )
    label_column: str = field(default="label", metadata={"help": "Label column: integers or strings."})
    train_split: str = field(default="train", metadata={"help": "Split to train on."})
    eval_split: str | None = field(
        default=None,
        metadata={"help": "Split to evaluate on (default: validation, validation_matched or a labelled test)."},
    )
    eval_share: float = field(
        default=0.2, metadata={"help": "Without an evaluation split: the seeded share of train evaluated on."}
    )
    max_train_examples: int | None = field(default=None, metadata={"help": "Use at most this many training rows."})
    max_eval_examples: int | None = field(default=None, metadata={"help": "Use at most this many evaluation rows."})
    train_language: int = field(default=1, metadata={"help": "Language the probe is trained in (1..N)."})
    languages: str | None = field(default=None, metadata={"help": "Languages to evaluate, e.g. 1,2 (default: all)."})
    finetune: str = field(
        default="head", metadata={"help": "head (the paper's: the model frozen, features computed once) or full."}
    )
    pooling: str = field(
        default="final-position",
        metadata={"help": "final-position (the paper's: padded without a mask) or last-token (with a mask)."},
    )
    max_length: int = field(default=128, metadata={"help": "Tokens per input (at most the model's context)."})
    learning_rate: float = field(default=5e-5, metadata={"help": "The paper's: 5e-5."})
    batch_size: int = field(default=32, metadata={"help": "Examples per step and device (the paper's: 32)."})
    gradient_accumulation_steps: int = field(default=2, metadata={"help": "The paper's: 2 (batch 64)."})
    epochs: float = field(default=10.0, metadata={"help": "At most this many epochs (the paper's: 10)."})
    eval_steps: int = field(default=200, metadata={"help": "Optimizer steps between evaluations (the paper's: 200)."})
    patience: int = field(
        default=10, metadata={"help": "With --early_stopping: evaluations without improvement (10)."}
    )
    threshold: float = field(default=0.001, metadata={"help": "With --early_stopping: the least improvement (0.001)."})
    dropout: float = field(default=0.1, metadata={"help": "Dropout before the head's linear layer (0.1)."})
    seed: int = field(default=12, metadata={"help": "Seed of the head and the data order (the paper's: 12)."})
    early_stopping: bool = field(
        default=False,
        metadata={
            "help": "Stop after --patience evaluations without an improvement above --threshold and keep the best "
            "weights (the reference's script meant to; as it ran, every epoch trained and the last weights counted)."
        },
    )
    selection: str = field(
        default="eval",
        metadata={"help": "Examples evaluated on (and selected on): eval (the reference's) or validation (held out)."},
    )
    validation_share: float = field(default=0.1, metadata={"help": "With --selection validation: the share held out."})
    output_dir: str | None = field(
        default=None,
        metadata={
            "help": "Where probe.json and probe.png go (default: the model's folder; for a Hub repo ./probe-NAME)."
        },
    )
    push_to_hub: bool = field(default=False, metadata={"help": "Add the results to a Hub model repo's card."})
    hub_model_id: str | None = field(
        default=None, metadata={"help": "Repo to push to (default: the Hub repo the model came from)."}
    )
    hub_token: str | None = field(default=None, metadata={"help": "Hub token (default: the logged-in one)."})
    hub_private_repo: bool | None = field(default=None, metadata={"help": "Create a new repo as private."})
    report_to: str = field(
        default="none",
        metadata={"help": "Trainer's report_to (tensorboard, wandb, ...); local logs go to OUTPUT_DIR/probe_logs/."},
    )
    disable_tqdm: bool | None = field(default=None, metadata={"help": "Hide Trainer's progress bars."})

    def recipe(self) -> Any:
        """The `ProbeRecipe` of these arguments (checked)."""
        from ..analysis.probing.recipe import ProbeRecipe

        names = {f.name for f in fields(ProbeRecipe)}
        return ProbeRecipe(**{name: getattr(self, name) for name in names})

    def task_options(self, story_seed: int) -> Any:
        from ..analysis.probing.tasks import TaskOptions

        columns = tuple(c.strip() for c in self.text_column.split(",")) if self.text_column else None
        if columns is not None and not (1 <= len(columns) <= 2 and all(columns)):
            raise ConfigError(f"--text_column {self.text_column!r} is not allowed: give NAME or NAME1,NAME2")
        for name in ("max_train_examples", "max_eval_examples"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ConfigError(f"--{name}={getattr(self, name)} is not allowed: it must be >= 1")
        if not 0 < self.eval_share < 1:
            raise ConfigError(f"--eval_share={self.eval_share} is not allowed: it must be in (0, 1)")
        shared = {f.name: getattr(self, f.name) for f in fields(TaskOptions) if f.name in self.__dataclass_fields__}
        return TaskOptions(**{**shared, "text_columns": columns, "story_seed": story_seed})


def parse_probe_args(argv: list[str]) -> ProbeArguments:
    """The probe's arguments; the first argument, when not a flag, is the model."""
    argv = list(argv)
    if argv and not argv[0].startswith("-") and not argv[0].endswith((".yaml", ".yml", ".json")):
        argv = ["--model", *argv]
    (args,) = parse_dataclasses((ProbeArguments,), argv, prog="hf-clonelang probe MODEL", description=__doc__)
    return args


def run_probe(argv: list[str]) -> int:
    """Probe, write the results (and refresh the folder's card), push if asked, print the table."""
    from ..analysis.probing.outputs import write_probe
    from ..analysis.probing.probe import load_probed_model, probe_model, unseen_story_seed

    args = parse_probe_args(argv)
    if not args.model:
        raise ConfigError("no model given: hf-clonelang probe MODEL (a run folder, a checkpoint or a Hub model repo)")
    recipe = args.recipe()  # every value checked before anything loads
    report_to = check_report_to(args.report_to)
    languages = comma_numbers(args.languages, "--languages", integers=True) if args.languages else None
    local = Path(args.model).is_dir()
    if args.push_to_hub:
        if not args.hub_model_id and local:
            raise ConfigError(
                "--push_to_hub needs --hub_model_id REPO for a local model (the repo whose card to update)"
            )
        check_repo_id(args.hub_model_id or args.model, "--hub_model_id")
    elif args.hub_model_id:
        raise ConfigError(f"--hub_model_id {args.hub_model_id} is given without --push_to_hub")
    output = Path(args.output_dir) if args.output_dir else None
    if output is not None:
        check_writable_folder(str(output), "--output_dir")
    probed = load_probed_model(args.model)
    options = args.task_options(unseen_story_seed(probed))
    if output is None:
        output = probed.folder if local else Path(f"probe-{args.model.rstrip('/').split('/')[-1]}")
    result = probe_model(
        probed,
        args.dataset,
        recipe,
        train_language=args.train_language,
        languages=languages,
        options=options,
        report_to=report_to,
        disable_tqdm=args.disable_tqdm,
        trainer_dir=output / "probe_logs" if report_to != ["none"] else None,
    )
    path, plot = write_probe(result, output)
    if local and output.resolve() == probed.folder.resolve() and (output / "README.md").is_file():
        from ..hub.cards import write_model_card

        write_model_card(output)  # the run's own card shows the probe too
    print(format_table(result))
    print(f"wrote {path} and {plot}")
    if args.push_to_hub:
        from ..hub.push import push_probe

        repo = args.hub_model_id or args.model
        url = push_probe(probed.folder, output, repo, token=args.hub_token, private=args.hub_private_repo)
        print(f"pushed the probe results to {url}")
    return 0


def check_report_to(report_to: str) -> list[str]:
    """``--report_to`` as Trainer's list (comma-separated names), refusing an integration that is unknown or not
    installed before any work."""
    from transformers.integrations import get_available_reporting_integrations

    names = [n.strip() for n in report_to.split(",") if n.strip()] or ["none"]
    if names in (["none"], ["all"]):
        return names
    available = get_available_reporting_integrations()
    for name in names:
        if name not in available:
            have = ", ".join(available) or "none installed"
            raise ConfigError(f"--report_to {name!r} is not allowed: give none, all or an installed one ({have})")
    return names


def format_table(result: dict[str, Any]) -> str:
    """Accuracy per task and language with its controls, and the mean over tasks."""
    header = ("task", "language", "accuracy", "ceiling", "random init", "majority")
    rows = [header]
    for task, entry in result["tasks"].items():
        for lang, s in entry["languages"].items():
            name = f"{lang}{' (zero-shot)' if s['zero_shot'] else ''}"
            rows.append((task, name, *(f"{s[k]:.3f}" for k in ("accuracy", "ceiling", "random_init", "majority"))))
    if len(result["tasks"]) > 1:
        for lang, s in result["mean"].items():
            rows.append(("mean", lang, *(f"{s[k]:.3f}" for k in ("accuracy", "ceiling", "random_init", "majority"))))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in rows
    ]
    recipe = result["recipe"]
    lines.append(
        f"trained in {result['train_language']}: {'the paper' if recipe['paper_recipe'] else 'a variant of the paper'}"
        f"'s recipe ({recipe['finetune']}, {recipe['pooling']}), {result['seconds']:.0f} s"
    )
    return "\n".join(lines)
