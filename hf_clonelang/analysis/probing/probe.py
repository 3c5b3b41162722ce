"""The probe, whole: train a classifier in one language, evaluate it in every language of the model, beside the
controls that make a zero-shot number readable.

For each task: the probe trained in the training language (L1 by default) and evaluated on the same texts in every
language's ids (zero-shot for all but the training language; real languages: each on its own labelled data); the
**ceiling**, the probe trained and evaluated in each other language itself; the **random-init** control, the same
probe on a randomly initialised model of the same shape; the **majority-class** baseline (the training set's most
frequent label). The paper's score is the mean over tasks, per language.
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...common import EMBEDDED, EMBEDDING_SCALE_KEY, RunFiles
from ...errors import ConfigError
from ...scratch import scratch_dir
from ...tokenization.standalone import STANDALONE_DIR
from .fit import Fitted, TensorRows, fit, scores
from .heads import FeatureHead, ModelHead, features
from .inputs import encode
from .recipe import ProbeRecipe
from .tasks import Examples, ProbeTask, TaskOptions, load_task, public_source

logger = logging.getLogger(__name__)


@dataclass
class ProbedModel:
    """A model to probe: the folder it was read from, its config and per-language standalone tokenizers, and the
    model itself, loaded on first use (after the data has been checked)."""

    source: str
    folder: Path
    config: Any
    tokenizers: dict[int, Any]
    names: dict[int, str | None]
    info: dict[str, Any] = field(default_factory=dict)
    repo_id: str | None = None

    @cached_property
    def model(self) -> Any:
        from transformers import AutoModelForCausalLM

        device = "cuda" if torch.cuda.is_available() else "cpu"  # features on the accelerator where there is one
        return AutoModelForCausalLM.from_pretrained(self.folder).to(device).eval()

    @property
    def languages(self) -> tuple[int, ...]:
        return tuple(self.tokenizers)

    @property
    def context(self) -> int | None:
        config = self.config
        return getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)

    def label(self, k: int) -> str:
        """``L2``, or ``L2 (fr)`` for a real language."""
        return f"L{k}" if self.names.get(k) is None else f"L{k} ({self.names[k]})"


def load_probed_model(source: str | Path) -> ProbedModel:
    """A run folder, one of its checkpoints or a Hub model repo, with the per-language tokenizers it published
    (``tokenizers/L{k}/``), all loaded with plain `transformers` (the weights on first use of ``.model``)."""
    from transformers import AutoConfig, AutoTokenizer

    from ..runs import resolve_run

    text = str(source)
    path = Path(text)
    looks_local = path.exists() or text.startswith((".", "/", "~")) or text.count("/") != 1
    if looks_local and not path.is_dir():
        raise ConfigError(f"model {text!r} does not exist: give a run folder, a checkpoint folder or a Hub model repo")
    folder = resolve_run(text)
    if not (folder / "config.json").is_file():
        raise ConfigError(f"{text} holds no model (config.json): give a run folder, a checkpoint or a Hub model repo")
    count = 0
    while (folder / STANDALONE_DIR / f"L{count + 1}" / "tokenizer_config.json").is_file():
        count += 1
    if count == 0:
        raise ConfigError(
            f"{text} has no per-language tokenizers ({STANDALONE_DIR}/L1/, ...): probe a run folder, checkpoint or "
            "Hub repo written by hf_clonelang"
        )
    info_path = folder / RunFiles.RUN_INFO
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    names = _language_names(folder, info, count)
    tokenizers = {
        k: AutoTokenizer.from_pretrained(folder, subfolder=f"{STANDALONE_DIR}/L{k}") for k in range(1, count + 1)
    }
    config = AutoConfig.from_pretrained(folder)
    return ProbedModel(text, folder, config, tokenizers, names, info, None if path.is_dir() else text)


def _language_names(folder: Path, info: dict[str, Any], count: int) -> dict[int, str | None]:
    """Each language's name for real languages (``en``, ``fr``), None for clones."""
    names = info.get("tokenizer", {}).get("languages")
    if names is None and not info:  # a checkpoint: its saved tokenizer says what it is
        from ...tokenization.language_tokenizer import load_language_tokenizer

        try:
            names = getattr(load_language_tokenizer(folder), "names", None)
        except Exception:  # not a tokenizer hf_clonelang reads: treat the languages as clones
            names = None
    if names is None:
        return dict.fromkeys(range(1, count + 1))
    return {k: str(names[k - 1]) for k in range(1, count + 1)}


def probe_model(
    model: str | Path | ProbedModel,
    datasets: Sequence[str] = (EMBEDDED,),
    recipe: ProbeRecipe | None = None,
    train_language: int = 1,
    languages: Sequence[int] | None = None,
    options: TaskOptions | None = None,
    report_to: str | list[str] = "none",
    disable_tqdm: bool | None = None,
    trainer_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Probe ``model`` (a run folder, checkpoint or Hub repo) on the tasks ``datasets`` (see `tasks`), trained in
    ``train_language`` and evaluated in ``languages`` (default: all). Returns what ``probe.json`` holds: per task
    and language the accuracy with its controls, and per language their mean over tasks (the paper's score).
    ``trainer_dir``: where each Trainer of the probe writes what ``report_to`` logs (``TASK/probe``,
    ``TASK/ceiling_L2``, ``TASK/random_init``; its checkpoints are removed); default: a scratch folder."""
    recipe = recipe or ProbeRecipe()
    started = time.perf_counter()
    probed = model if isinstance(model, ProbedModel) else load_probed_model(model)
    langs = _check_languages(probed, train_language, languages)
    options = options or TaskOptions(seed=recipe.seed, story_seed=unseen_story_seed(probed))
    if not datasets:
        raise ConfigError("no --dataset given: name at least one task (default: embedded)")
    names = {k: probed.names[k] for k in langs}
    tasks = [load_task(spec, names, options) for spec in datasets]
    seen: dict[str, str] = {}
    for spec, task in zip(datasets, tasks, strict=True):
        if task.name in seen:
            raise ConfigError(
                f"--dataset {spec!r} and {seen[task.name]!r} are both task {task.name!r}: give each task once, under "
                "its own name (file name or dataset:config)"
            )
        seen[task.name] = spec
    for task in tasks:
        _check_task(task, recipe, train_language, langs)
    max_length = min(recipe.max_length, probed.context or recipe.max_length)
    results = {}
    for spec, task in zip(datasets, tasks, strict=True):
        results[task.name] = _probe_task(
            probed, task, recipe, train_language, langs, max_length, report_to, disable_tqdm, trainer_dir
        )
        results[task.name]["dataset"] = public_source(spec)
    means = {
        probed.label(k): {
            key: float(np.mean([r["languages"][probed.label(k)][key] for r in results.values()]))
            for key in ("accuracy", "ceiling", "random_init", "majority")
        }
        for k in langs
    }
    return {
        "model": probed.repo_id or probed.folder.name,
        "train_language": probed.label(train_language),
        "languages": [probed.label(k) for k in langs],
        "recipe": {**recipe.to_dict(), "max_length": max_length},
        "task_options": options.to_dict(),
        "tasks": results,
        "mean": means,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _check_languages(probed: ProbedModel, train: int, given: Sequence[int] | None) -> tuple[int, ...]:
    have = probed.languages
    for k in [train, *(given or ())]:
        if k not in have:
            raise ConfigError(f"language {k} is not allowed: the model has languages {have[0]}..{have[-1]}")
    langs = tuple(dict.fromkeys([train, *(given or have)]))
    return tuple(sorted(langs))


def unseen_story_seed(probed: ProbedModel) -> int:
    """The embedded task's story seed: one the run's training corpus did not use (1, as ``hf-clonelang stories``,
    unless the run trained on seed 1); a checkpoint reads its run's ``run_info.json``."""
    info = probed.info
    parent = probed.folder.parent / RunFiles.RUN_INFO
    if not info and probed.folder.name.startswith("checkpoint-") and parent.is_file():
        info = json.loads(parent.read_text())
    used = info.get("data", {}).get("story_seed", 0)
    return 1 if used != 1 else 2


def _check_task(task: ProbeTask, recipe: ProbeRecipe, train: int, langs: tuple[int, ...]) -> None:
    for k in langs:
        n = len(task.train[k])
        if n < recipe.batch_size:
            raise ConfigError(
                f"--dataset {task.sources[k]!r} has {n} training examples in L{k}: fewer than a batch "
                f"({recipe.batch_size}); give more examples or a smaller --batch_size"
            )
        if recipe.selection == "validation" and round(n * recipe.validation_share) < 1:
            raise ConfigError(f"--validation_share {recipe.validation_share} of {n} examples leaves none to select on")


def _split_selection(examples: Examples, recipe: ProbeRecipe) -> tuple[Examples, Examples]:
    """(training examples, examples to select on) for ``--selection validation``: a seeded share held out."""
    order = np.random.default_rng(recipe.seed).permutation(len(examples))
    cut = len(examples) - max(1, round(len(examples) * recipe.validation_share))
    pick = lambda idx: Examples([examples.texts[i] for i in idx], examples.labels[idx])  # noqa: E731
    return pick(order[:cut]), pick(order[cut:])


def _probe_task(
    probed: ProbedModel,
    task: ProbeTask,
    recipe: ProbeRecipe,
    train_language: int,
    langs: tuple[int, ...],
    max_length: int,
    report_to: str | list[str],
    disable_tqdm: bool | None,
    trainer_dir: str | Path | None,
) -> dict[str, Any]:
    started = time.perf_counter()
    logger.info("probe %s: %s, trained in %s", task.name, _describe(recipe), probed.label(train_language))
    random_model = _random_init(probed.model, recipe.seed)
    rows = _Rows(probed, recipe, max_length)
    splits = {}  # per language: (examples trained on, examples selected on)
    for k in langs:
        splits[k] = (
            _split_selection(task.train[k], recipe)
            if recipe.selection == "validation"
            else (task.train[k], task.eval[k])
        )
    scratch = scratch_dir("clonelang-probe-")
    root = Path(trainer_dir) / task.name.replace("/", "_") if trainer_dir is not None else scratch
    common = (task.num_labels, report_to, disable_tqdm)
    try:
        fits: dict[str, Any] = {}
        # the probe, trained in the training language, evaluated in every language
        trained, fits["probe"] = _fit(
            rows, probed.model, *splits[train_language], train_language, root / "probe", *common
        )
        accuracy = {k: _evaluate(trained, rows, probed.model, task, k) for k in langs}
        # the ceiling: trained and evaluated in each other language itself
        ceiling = {train_language: accuracy[train_language]}
        for k in langs:
            if k != train_language:
                name = f"ceiling_L{k}"
                own, fits[name] = _fit(rows, probed.model, *splits[k], k, root / name, *common)
                ceiling[k] = _evaluate(own, rows, probed.model, task, k)
        # the same probe on a randomly initialised model of the same shape
        rand, fits["random_init"] = _fit(
            rows, random_model, *splits[train_language], train_language, root / "random_init", *common
        )
        random_acc = {k: _evaluate(rand, rows, random_model, task, k) for k in langs}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    train_labels = splits[train_language][0].labels  # the examples the probe trained on
    majority = int(np.bincount(train_labels, minlength=task.num_labels).argmax())
    entry = {
        "labels": list(task.label_names),
        "eval_split": task.eval_split,
        "languages": {},
        "training": fits,
        "seconds": round(time.perf_counter() - started, 1),
    }
    for k in langs:
        labels = task.eval[k].labels
        entry["languages"][probed.label(k)] = {
            "accuracy": accuracy[k],
            "zero_shot": k != train_language,
            "examples": len(labels),
            "train_examples": len(splits[train_language][0]),
            "source": public_source(task.sources[k]),
            "ceiling": ceiling[k],
            "random_init": random_acc[k],
            "majority": float(np.mean(labels == majority)),
        }
    return entry


def _describe(recipe: ProbeRecipe) -> str:
    what = "frozen model, head only" if recipe.finetune == "head" else "full fine-tuning"
    return f"{what}, {recipe.pooling} pooling" + (" (the paper's recipe)" if recipe.is_paper else "")


def _random_init(model: Any, seed: int) -> Any:
    """A model of the same config, freshly initialised as training started (with its recorded √h input factor)."""
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    fresh = AutoModelForCausalLM.from_config(model.config)
    scale = getattr(model.config, EMBEDDING_SCALE_KEY, None)
    if scale:
        with torch.no_grad():
            fresh.get_input_embeddings().weight.mul_(float(scale))
    return fresh.to(next(model.parameters()).device).eval()


class _Rows:
    """The rows a probe reads, made once per (model, language, examples): features of the frozen model (computed
    once per language, however many probes read them), or the encoded inputs themselves."""

    def __init__(self, probed: ProbedModel, recipe: ProbeRecipe, max_length: int) -> None:
        self.probed, self.recipe, self.max_length = probed, recipe, max_length
        self.made: dict[tuple[int, int, int], TensorRows] = {}

    def __call__(self, model: Any, examples: Examples, k: int) -> TensorRows:
        key = (id(model), k, id(examples))
        if key not in self.made:
            inputs = encode(self.probed.tokenizers[k], examples.texts, self.max_length, self.recipe.pooling)
            columns = {"features": features(model, inputs)} if self.recipe.finetune == "head" else inputs
            self.made[key] = TensorRows(columns, examples.labels)
        return self.made[key]


def _fit(
    rows: _Rows,
    model: Any,
    train: Examples,
    selection: Examples,
    k: int,
    output_dir: Path,
    num_labels: int,
    report_to: str | list[str],
    disable_tqdm: bool | None,
) -> tuple[Fitted, dict[str, Any]]:
    """A probe trained in language ``k`` on ``model``; the model itself is never changed (full fine-tuning trains a
    copy)."""
    from transformers import set_seed

    recipe = rows.recipe
    train_rows, selection_rows = rows(model, train, k), rows(model, selection, k)  # (before the head's seed)
    set_seed(recipe.seed)
    if recipe.finetune == "head":
        module: torch.nn.Module = FeatureHead(model.config.hidden_size, num_labels, recipe.dropout)
    else:
        module = ModelHead(copy.deepcopy(model).train(), num_labels, recipe.dropout)
    fitted = fit(
        module,
        train_rows,
        selection_rows,
        recipe,
        output_dir,
        num_labels,
        report_to,
        disable_tqdm,
    )
    return fitted, {
        **fitted.summary(),
        "language": f"L{k}",
        "examples": len(train),
        "selection_examples": len(selection),
    }


def _evaluate(fitted: Fitted, rows: _Rows, model: Any, task: ProbeTask, k: int) -> float:
    """Accuracy of a trained probe on language ``k``'s evaluation examples (full fine-tuning reads them with its
    own fine-tuned model)."""
    examples = task.eval[k]
    return scores(fitted.predict(rows(model, examples, k)), examples.labels)["accuracy"]
