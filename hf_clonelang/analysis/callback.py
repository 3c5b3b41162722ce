"""`AlignmentCallback`: the paper's alignment measures at every evaluation of any `transformers.Trainer`
(`PairAlignmentCallback`: the same for real languages, on translation pairs).

Give it parallel blocks of language 1 (token ids; every other language is the same text in its own id range) and
the `ClonedTokenizer`; at each evaluation it measures hidden-state cosine (raw, centred), retrieval@1, the gradient
cosine and the clone-embedding cosine between L1 and every other language, adds the summary to the evaluation's
metrics and the trainer's log history, and appends the per-layer report to ``alignment_history.jsonl`` in the
output folder (main process only). It needs nothing from `ImbalanceTrainer`: a plain `Trainer` or a TRL trainer
works the same. ``AlignmentCallback(blocks, tokenizer).attach(trainer)`` also sends the numbers through
``trainer.log`` to the ``report_to`` integrations (TensorBoard, W&B, ...); ``trainer.add_callback(...)`` alone
puts them in the metrics and ``state.log_history`` only, because Trainer calls ``on_evaluate`` after it logged.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from transformers import TrainerCallback

from ..common import METRIC_LOSS, RunFiles
from ..errors import ConfigError
from ..tokenization.cloned_tokenizer import ClonedTokenizer
from .alignment import alignment_report, summarize
from .translation import pair_alignment

logger = logging.getLogger(__name__)


class BaseAlignmentCallback(TrainerCallback):
    """Measure once per evaluation, add the flat numbers to the metrics and the log, keep the per-layer report
    (``last_report``) and append it to ``history_file`` in the output folder. Subclasses say what `measure` does."""

    def __init__(self, history_file: str | None = RunFiles.ALIGNMENT_HISTORY) -> None:
        self.history_file = history_file
        self.last_report: dict[str, Any] | None = None
        self._log: Any = None  # the trainer's log method, once attached
        self._evaluation: tuple[int, set[str]] = (-1, set())  # (step, eval sets seen) of the current evaluation

    def measure(self, model: Any) -> tuple[dict[str, Any], dict[str, float]]:
        """(per-layer report, flat ``eval_*`` numbers) of ``model`` now."""
        raise NotImplementedError

    def attach(self, trainer: Any) -> BaseAlignmentCallback:
        """Add this callback to ``trainer`` and log through it, so that the integrations see the numbers too."""
        trainer.add_callback(self)
        self._log = trainer.log
        return self

    def compute(self, model: Any, args: Any = None, state: Any = None) -> dict[str, float]:
        """Measure now; return the flat ``eval_*`` metrics, keep the per-layer report in ``last_report``."""
        start = time.perf_counter()
        report, flat = self.measure(model)
        flat["eval_alignment_runtime"] = round(time.perf_counter() - start, 4)
        self.last_report = report
        step = getattr(state, "global_step", None)
        if args is not None and self.history_file and getattr(state, "is_world_process_zero", True):
            os.makedirs(args.output_dir, exist_ok=True)
            with open(os.path.join(args.output_dir, self.history_file), "a") as f:
                f.write(json.dumps({"step": step, "report": report}) + "\n")
        return flat

    def on_evaluate(self, args: Any, state: Any, control: Any, model: Any = None, metrics: Any = None, **kw: Any):
        """Once per evaluation: a dict of eval sets fires this once per set, and only the first set measures."""
        prefix = next((m.group("prefix") for k in metrics or {} if (m := METRIC_LOSS.match(k))), "")
        step, seen = self._evaluation
        first = step != state.global_step or prefix in seen  # a new step, or the same sets evaluated again
        self._evaluation = (state.global_step, {prefix} if first else seen | {prefix})
        if model is None or not first or (prefix and not prefix.startswith("eval")):  # not for test sets
            return
        flat = self.compute(_unwrap(model), args, state)
        if metrics is not None:
            metrics.update(flat)
        if self._log is not None:
            self._log(dict(flat))  # Trainer.log: the log history and every report_to integration
        else:
            state.log_history.append({**flat, "step": state.global_step})
        if state.is_world_process_zero:
            logger.info("alignment at step %d: %s", state.global_step, flat)


class AlignmentCallback(BaseAlignmentCallback):
    """Alignment between L1 and the other languages on fixed parallel blocks, once per evaluation.

    Args:
        blocks: L1 token ids, shape (n, block_size) (a tensor, an array or a list of equal-length lists).
        tokenizer: the `ClonedTokenizer` that maps them into every language.
        pairs: language pairs to compare; default (1, k) for k = 2..N.
        batch_size: blocks per forward pass.
        gradient_blocks: how many blocks also go into the gradient cosine (0: skip it).
        history_file: file name in ``args.output_dir`` that gets one JSON line per evaluation (None: none).
    """

    def __init__(
        self,
        blocks: Any,
        tokenizer: ClonedTokenizer,
        pairs: Sequence[tuple[int, int]] | None = None,
        batch_size: int = 32,
        gradient_blocks: int = 4,
        history_file: str | None = RunFiles.ALIGNMENT_HISTORY,
    ) -> None:
        super().__init__(history_file)
        self.blocks = torch.as_tensor(np.asarray(blocks), dtype=torch.long)
        if self.blocks.ndim != 2 or len(self.blocks) == 0:
            raise ConfigError(f"blocks of shape {tuple(self.blocks.shape)} are not allowed: give (n >= 1, block_size)")
        if gradient_blocks < 0 or batch_size < 1:
            raise ConfigError(f"gradient_blocks={gradient_blocks}, batch_size={batch_size}: need >= 0 and >= 1")
        n = tokenizer.num_languages
        self.pairs = [(1, k) for k in range(2, n + 1)] if pairs is None else [tuple(p) for p in pairs]
        if not self.pairs:
            raise ConfigError("AlignmentCallback needs at least two languages to compare")
        self.tokenizer = tokenizer
        self.batch_size = int(batch_size)
        self.gradient_blocks = int(gradient_blocks)

    def measure(self, model: Any) -> tuple[dict[str, Any], dict[str, float]]:
        report = alignment_report(
            model,
            self.tokenizer,
            self.blocks,
            pairs=self.pairs,
            batch_size=self.batch_size,
            gradient_blocks=self.gradient_blocks,
        )
        flat = {f"eval_{k}": round(v, 5) for k, v in summarize(report).items()}
        for pair, entry in report.items():
            overall = entry["embedding_cosine"]["input"]["overall"]
            flat[f"eval_{pair.replace('-', '_')}_embedding_cosine"] = round(overall, 5)
        return report, flat


class PairAlignmentCallback(BaseAlignmentCallback):
    """Alignment of two real languages on translation pairs, once per evaluation (the paper's Section 5 method:
    `translation.pair_alignment`); the numbers are named as `AlignmentCallback`'s (``eval_L1_L2_hidden_cosine``...).

    Args:
        pairs: (sentence in ``languages[0]``, its translation in ``languages[1]``) texts, e.g. `data.pairs.read_pairs`.
        tokenizer: the `JointTokenizer` (any tokenizer with ``tok(texts, language=k, ...)``).
        languages: the two languages of the pairs' columns.
        max_length: tokens per side of a measured sequence (the block size).
        packing: ``"sequences"`` (consecutive pairs packed into parallel sequences, the paper's) or ``"sentences"``
            (`translation.pair_alignment`).
        limit: the sequences (or sentence pairs) measured.
        batch_size, gradient_pairs, history_file: as for `AlignmentCallback` (``gradient_pairs``: pairs that also
            go into the gradient cosine).
    """

    def __init__(
        self,
        pairs: Sequence[tuple[str, str]],
        tokenizer: Any,
        languages: tuple[int, int] = (1, 2),
        max_length: int = 64,
        batch_size: int = 32,
        gradient_pairs: int = 4,
        history_file: str | None = RunFiles.ALIGNMENT_HISTORY,
        packing: str = "sequences",
        limit: int | None = None,
    ) -> None:
        super().__init__(history_file)
        if len(pairs) < 2:
            raise ConfigError(f"{len(pairs)} translation pair given: alignment needs at least two")
        a, b = languages
        if a == b or not all(1 <= k <= tokenizer.num_languages for k in languages):
            raise ConfigError(
                f"languages={a},{b} are not allowed: give two different languages of 1..{tokenizer.num_languages}"
            )
        self.pairs = list(pairs)
        self.tokenizer = tokenizer
        self.languages = (int(a), int(b))
        self.max_length = int(max_length)
        self.batch_size = int(batch_size)
        self.gradient_pairs = int(gradient_pairs)
        self.packing = packing
        self.limit = limit

    def measure(self, model: Any) -> tuple[dict[str, Any], dict[str, float]]:
        entry = pair_alignment(
            model,
            self.tokenizer,
            self.pairs,
            languages=self.languages,
            max_length=self.max_length,
            batch_size=self.batch_size,
            gradient_pairs=self.gradient_pairs,
            packing=self.packing,
            limit=self.limit,
        )
        report = {f"L{self.languages[0]}-L{self.languages[1]}": entry}
        return report, {f"eval_{k}": round(v, 5) for k, v in summarize(report).items()}


def _unwrap(model: Any) -> Any:
    """The bare model under DDP/compile wrappers (Trainer hands callbacks the model it trains)."""
    while hasattr(model, "module"):
        model = model.module
    return getattr(model, "_orig_mod", model)
