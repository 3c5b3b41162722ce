"""`ImbalanceTrainer`: `transformers.Trainer` with language schedules, per-language bookkeeping and evaluation.

It overrides as little as it can:

* `_get_train_sampler` returns a `ScheduledSampler` spanning the whole run (the schedule lives in the sampler,
  never in callbacks, so resuming and any number of workers or processes replay the same stream);
* the loss goes through Trainer's own ``compute_loss_func`` hook with per-token cross-entropy, identical to the
  model's loss (same normalisation for gradient accumulation and DDP), and adds each row's summed NLL and token
  count to its language's running totals (on device; reduced across processes only when logging);
* `log` adds ``train_loss_L{k}`` (token-mean NLL since the last log) and ``train_tokens_L{k}`` (cumulative input
  tokens, counted from the sampler's stream) to every training log, and ``*_ppl`` beside every ``eval_L{k}_loss``;
* `evaluate` adds the alignment summary of an `AlignmentCallback` on a fixed set of parallel blocks (mean hidden
  cosine, raw and centred, retrieval@1, gradient cosine, clone-embedding cosine per language pair; per-layer values
  appended to ``alignment_history.jsonl`` in the run folder), switchable with ``alignment_blocks``;
* `create_model_card` writes hf_clonelang's card instead of Trainer's (which cannot read per-language results);
* publishing stays Trainer's (``--push_to_hub``, ``--hub_strategy``): checkpoint pushes are Trainer's own, in the
  background, and `push_to_hub` sends the run folder as it is, in one commit with a card written for the repo.

Evaluate every language on its own fixed split with ``eval_dataset={"L1": ..., "L2": ...}``: the held-out sets
never move with the schedule.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from transformers import Trainer

from ..analysis.callback import AlignmentCallback, BaseAlignmentCallback, PairAlignmentCallback
from ..common import METRIC_LOSS, RunFiles
from ..data.pairs import read_pairs
from ..errors import ConfigError, HubError, one_line
from ..tokenization.language_tokenizer import LanguageTokenizer
from .arguments import ImbalanceTrainingArguments
from .collator import LANGUAGE_COLUMN, CloneCollator
from .loss import IGNORE_INDEX, token_nll
from .modeling import EMBEDDING_SCALE_KEY
from .run_folder import hub_repo
from .sampling import LanguageAssignment, ScheduledDataset, ScheduledSampler
from .schedules import LanguageSchedule

logger = logging.getLogger(__name__)

TEST_STRIDE_FRACTION = 4
"""The test perplexity scores the last 1/4 of each window by default: the paper's 128 of 512."""


class ImbalanceTrainer(Trainer):
    """Trainer for cloned-language runs. ``train_dataset`` is a `datasets.Dataset` of fixed-length blocks
    (``input_ids``, plus ``language`` in pool mode); ``processing_class`` is the corpus's tokenizer: a
    `ClonedTokenizer`, or a `JointTokenizer` for real languages (pool mode; alignment on ``alignment_pairs``)."""

    def __init__(
        self,
        model: Any = None,
        args: ImbalanceTrainingArguments | None = None,
        train_dataset: Any = None,
        eval_dataset: Any = None,
        processing_class: LanguageTokenizer | None = None,
        data_collator: Any = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(processing_class, LanguageTokenizer):
            raise ConfigError("ImbalanceTrainer needs processing_class=ClonedTokenizer(...) or JointTokenizer(...)")
        if not isinstance(args, ImbalanceTrainingArguments):
            raise ConfigError("ImbalanceTrainer needs args=ImbalanceTrainingArguments(...)")
        if processing_class.num_languages != args.num_languages:
            raise ConfigError(
                f"num_languages={args.num_languages} does not match the tokenizer's {processing_class.num_languages}"
            )
        self.blocks = train_dataset
        wrapped = ScheduledDataset(train_dataset) if train_dataset is not None else None
        super().__init__(
            model=model,
            args=args,
            train_dataset=wrapped,
            eval_dataset=eval_dataset,
            processing_class=processing_class,
            data_collator=data_collator or CloneCollator(processing_class),
            compute_loss_func=self._token_loss,
            **kwargs,
        )
        n = args.num_languages
        self._nll = torch.zeros(n, dtype=torch.float64, device=args.device)
        self._count = torch.zeros(n, dtype=torch.float64, device=args.device)
        self._batch_languages: torch.Tensor | None = None
        self.sampler = self._make_sampler() if train_dataset is not None else None
        self.block_size = len(train_dataset[0]["input_ids"]) if train_dataset is not None else 0
        self._alignment: BaseAlignmentCallback | None = None
        self._said: set[str] = set()

    # ------------------------------------------------------------------ sampling
    @property
    def samples_per_step(self) -> int:
        """Blocks per optimizer step, in every launch mode: Trainer's ``train_batch_size`` (the per-device batch
        × the GPUs `DataParallel` splits it over, when one process sees several GPUs) × accumulation × processes."""
        a = self.args
        return a.train_batch_size * a.gradient_accumulation_steps * a.world_size

    def _make_sampler(self) -> ScheduledSampler:
        a = self.args
        has_languages = "language" in self.blocks.column_names
        pool = a.data_mode == "pool" or (a.data_mode == "auto" and has_languages)
        if pool and not has_languages:
            raise ConfigError("data_mode='pool' needs a training set with a 'language' column")
        if not pool and a.pool_exhausted != "repeat":
            raise ConfigError(
                f"pool_exhausted={a.pool_exhausted!r} applies to pool mode only: this training set has no 'language' "
                "column (clone mode, where blocks never run out)"
            )
        row_languages = np.asarray(self.blocks["language"]) if pool else None
        sizes = np.bincount(row_languages, minlength=a.num_languages + 1)[1:] if pool else None
        self.schedule = LanguageSchedule.from_string(a.language_schedule, a.num_languages, sizes=sizes)
        if a.max_steps > 0:
            length = total = a.max_steps * self.samples_per_step
        else:
            length = len(self.blocks)
            total = length * max(1, math.ceil(a.num_train_epochs))
        seed = a.seed if a.data_seed is None else a.data_seed  # Trainer's meaning: data_seed seeds the sampling
        assignment = LanguageAssignment(self.schedule, total, seed=seed, mode=a.sampling)
        sampler = ScheduledSampler(
            assignment, length, num_rows=len(self.blocks), row_languages=row_languages, pool_exhausted=a.pool_exhausted
        )
        if sampler.available is not None and sampler.available < length:
            steps = sampler.available // self.samples_per_step
            if steps < 1:
                raise ConfigError("pool_exhausted='stop': a language runs out of rows before the first step")
            if self.is_world_process_zero():
                logger.warning("pool_exhausted='stop': a language runs out after %d of %d steps", steps, a.max_steps)
            a.max_steps = steps
            sampler.length = steps * self.samples_per_step
        return sampler

    def _get_train_sampler(self, train_dataset: Any = None) -> ScheduledSampler:
        return self.sampler

    def tokens_seen(self, step: int | None = None) -> dict[str, int]:
        """Input tokens per language consumed by the first ``step`` optimizer steps (default: so far)."""
        step = self.state.global_step if step is None else step
        counts = self.sampler.assignment.counts(step * self.samples_per_step)
        return {f"L{k}": int(c) * self.block_size for k, c in enumerate(counts, 1)}

    def pool_epochs(self, step: int | None = None) -> dict[str, float]:
        """How often each language's rows were used (pool mode; in clone mode, passes over the blocks)."""
        step = self.state.global_step if step is None else step
        return self.sampler.pool_epochs(step * self.samples_per_step)

    # ------------------------------------------------------------------ optimisation
    def create_optimizer(self, model: Any = None) -> torch.optim.Optimizer:
        """Trainer's optimizer; a model with a folded input-embedding factor (`modeling.fold_input_embedding_scale`)
        gets its input embedding in a group of its own: learning rate × the factor, weight decay and Adam's epsilon
        ÷ the factor, so that every step is the paper's step on the unfolded weights."""
        ours = self.optimizer is not None and any(g.get("clonelang_embedding") for g in self.optimizer.param_groups)
        given = self.optimizer is not None and not ours  # an optimizer passed in by the user is left as it is
        optimizer = super().create_optimizer(model)
        opt_model = self.model if model is None else model
        scale = float(getattr(opt_model.config, EMBEDDING_SCALE_KEY, None) or 1.0)
        embedding = opt_model.get_input_embeddings().weight
        if given and scale != 1.0 and self.is_world_process_zero():
            logger.warning(
                "the model's input embedding carries a folded factor of %.4g but the optimizer was given: give its "
                "input embedding %.4g x the learning rate to train as the paper's model",
                scale,
                scale,
            )
        if given or ours or scale == 1.0:
            return optimizer
        for group in optimizer.param_groups:
            kept = [p for p in group["params"] if p is not embedding]
            if len(kept) < len(group["params"]):
                group["params"] = kept
                settings = {k: v for k, v in group.items() if k != "params"}
                settings.update(lr=group["lr"] * scale, weight_decay=group["weight_decay"] / scale)
                if "eps" in settings:  # Adam's epsilon sits beside a gradient that is 1/scale of the paper's
                    settings["eps"] = settings["eps"] / scale
                optimizer.add_param_group({**settings, "params": [embedding], "clonelang_embedding": True})
                break
        return optimizer

    def create_scheduler(self, num_training_steps: int, optimizer: Any = None) -> Any:
        """Trainer's scheduler, or with ``cosine_spans_warmup`` the paper's: step s = 1..T gets
        ``min(s, W)/W · (r + (1 - r)·(1 + cos(π·s/T))/2)`` times the peak rate (r: ``min_lr_rate``)."""
        if not self.args.cosine_spans_warmup or self.lr_scheduler is not None:
            return super().create_scheduler(num_training_steps, optimizer)
        kwargs = dict(self.args.lr_scheduler_kwargs or {})
        peak = self.args.learning_rate
        rate = kwargs["min_lr"] / peak if "min_lr" in kwargs else float(kwargs.get("min_lr_rate", 0.0))
        warmup = max(1, self.args.get_warmup_steps(num_training_steps))
        total = max(1, num_training_steps)

        def factor(step: int) -> float:
            s = step + 1  # LambdaLR's step 0 is the first optimizer step; the paper counts it as 1
            cosine = 0.5 * (1 + math.cos(math.pi * min(s, total) / total))
            return min(s, warmup) / warmup * (rate + (1 - rate) * cosine)

        self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer or self.optimizer, factor)
        self._created_lr_scheduler = True
        return self.lr_scheduler

    # ------------------------------------------------------------------ loss
    def compute_loss(
        self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch: Any = None
    ) -> Any:
        """Take the language tag out of the batch (the model never sees it), then Trainer's own loss path."""
        self._batch_languages = inputs.pop(LANGUAGE_COLUMN, None)
        return super().compute_loss(
            model, inputs, return_outputs=return_outputs, num_items_in_batch=num_items_in_batch
        )

    def _token_loss(self, outputs: Any, labels: torch.Tensor, num_items_in_batch: Any = None) -> torch.Tensor:
        """Causal-LM cross-entropy as the model computes it (sum / items over the accumulated batch), with each
        row's NLL and token count added to its language's totals while training."""
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        # labels shifted left and padded with -100 (the last position predicts nothing): the logits stay one
        # contiguous tensor, never copied, and are upcast to float32 in chunks (`loss.token_nll`)
        shift_labels = F.pad(labels[:, 1:], (0, 1), value=IGNORE_INDEX).to(logits.device)
        nll = token_nll(logits, shift_labels, chunk_tokens=self.args.loss_chunk_tokens or None)
        mask = shift_labels != IGNORE_INDEX
        languages = self._batch_languages
        if languages is not None and self.model.training:
            index = languages.to(self._nll.device) - 1
            self._nll.index_add_(0, index, nll.detach().sum(dim=1).to(self._nll.dtype))
            self._count.index_add_(0, index, mask.sum(dim=1).to(self._count.dtype))
        total = nll.sum()
        if num_items_in_batch is not None:
            return total / torch.as_tensor(num_items_in_batch, device=total.device)
        return total / mask.sum().clamp(min=1)

    # ------------------------------------------------------------------ evaluation
    def evaluate(
        self, eval_dataset: Any = None, ignore_keys: list[str] | None = None, metric_key_prefix: str = "eval"
    ) -> dict[str, float]:
        """Trainer's evaluation (per language with a dict of eval sets), plus the alignment summary."""
        metrics = super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)
        if eval_dataset is None and metric_key_prefix == "eval" and self.args.alignment_blocks > 0:
            extra = self.alignment_metrics()
            if extra:
                self.log(extra)
                metrics.update(extra)
        return metrics

    def evaluate_test_text(self, test_sets: dict[str, Any], metric_key_prefix: str = "test") -> dict[str, float]:
        """The paper's perplexity of each language's test text (``{"L1": test_L1, ...}``): the split's blocks as one
        stream in corpus order, windows of the block size advanced by `test_window`'s stride, the last targets of
        each scored (`analysis.perplexity`). Gives ``{prefix}_L{k}_loss`` / ``_ppl`` and ``_tokens`` (the targets
        scored), logged like Trainer's evaluation. Every process computes every window (sharded models take part in
        every forward pass)."""
        from ..analysis.perplexity import blocks_stream, sliding_window_nll

        model = self.accelerator.unwrap_model(self.model)
        pad = self.processing_class.pad_token_id or 0
        metrics: dict[str, float] = {}
        for name, blocks in test_sets.items():
            window, stride = self.test_window(len(blocks[0]["input_ids"]))
            stream = blocks_stream(blocks)
            nll, count = sliding_window_nll(
                model, stream, window, stride, batch_size=self.args.per_device_eval_batch_size, pad_id=pad
            )
            metrics[f"{metric_key_prefix}_{name}_loss"] = nll / max(count, 1)
            metrics[f"{metric_key_prefix}_{name}_tokens"] = count
        add_perplexities(metrics)
        self.log(metrics)
        return metrics

    def test_window(self, block_size: int) -> tuple[int, int]:
        """The test perplexity's window (the block size) and stride (``eval_last_n``, default a quarter of the block,
        as the paper's 512 / 128)."""
        stride = self.args.eval_last_n or max(1, block_size // TEST_STRIDE_FRACTION)
        if stride > block_size:
            raise ConfigError(f"eval_last_n={stride} is not allowed: at most the block size ({block_size})")
        return block_size, stride

    def alignment_metrics(self) -> dict[str, float]:
        """Alignment of L1 with every other evaluated language on the first ``alignment_blocks`` parallel blocks,
        measured by the trainer's `AlignmentCallback` (per-layer report in ``last_alignment`` and
        ``alignment_history.jsonl``)."""
        callback = self.alignment_callback
        if callback is None:
            return {}
        return callback.compute(self.accelerator.unwrap_model(self.model), self.args, self.state)

    @property
    def alignment_callback(self) -> BaseAlignmentCallback | None:
        """What `evaluate` measures alignment with (None without L1 and another language, or with
        ``alignment_blocks=0``): clones, an `AlignmentCallback` on the eval sets' first parallel L1 blocks; real
        languages, a `PairAlignmentCallback` on the first ``alignment_blocks`` pairs of ``alignment_pairs`` (none
        given: no alignment during training, said once)."""
        sets = self.eval_dataset if isinstance(self.eval_dataset, dict) else {}
        langs = sorted(int(k[1:]) for k in sets if re.fullmatch(r"L\d+", k))
        if self.args.alignment_blocks == 0 or 1 not in langs or len(langs) < 2:
            return None
        if getattr(self, "is_fsdp_enabled", False):  # sharded parameters: per-tensor gradients are not whole here
            self._say_once(
                "alignment during training is skipped under FSDP: measure the saved run with hf-clonelang align"
            )
            return None
        if self._alignment is None and not self.processing_class.parallel:
            if self.args.alignment_pairs is None:
                self._say_once("real languages are not parallel: give --alignment_pairs FILE to measure alignment")
                return None
            self._alignment = PairAlignmentCallback(  # as `align` measures: sequences of consecutive pairs
                read_pairs(self.args.alignment_pairs),
                self.processing_class,
                languages=(1, 2),
                max_length=self.block_size or 64,
                batch_size=self.args.per_device_eval_batch_size,
                gradient_pairs=self.args.alignment_gradient_blocks,
                limit=self.args.alignment_blocks,
            )
        if self._alignment is None:
            first = sets["L1"]
            n = min(self.args.alignment_blocks, len(first))
            self._alignment = AlignmentCallback(
                first.with_format("numpy", columns=["input_ids"])[:n]["input_ids"],
                self.processing_class,
                pairs=[(1, k) for k in langs if k != 1],
                batch_size=self.args.per_device_eval_batch_size,
                gradient_blocks=self.args.alignment_gradient_blocks,
            )
        return self._alignment

    def _say_once(self, message: str) -> None:
        """Log ``message`` once per trainer, on the main process."""
        if self.is_world_process_zero() and message not in self._said:
            logger.warning(message)
        self._said.add(message)

    @property
    def last_alignment(self) -> dict[str, Any] | None:
        """The per-layer report of the last alignment measurement (None before the first)."""
        return None if self._alignment is None else self._alignment.last_report

    # ------------------------------------------------------------------ logging
    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """Add per-language training numbers to training logs and perplexities beside evaluation losses."""
        if "loss" in logs and self.sampler is not None:
            nll = self.accelerator.reduce(self._nll.clone(), reduction="sum").cpu().numpy()
            count = self.accelerator.reduce(self._count.clone(), reduction="sum").cpu().numpy()
            self._nll.zero_()
            self._count.zero_()
            for k, (s, c) in enumerate(zip(nll, count, strict=True), 1):
                if c > 0:
                    logs[f"train_loss_L{k}"] = round(float(s / c), 4)
            logs.update({f"train_tokens_{k}": v for k, v in self.tokens_seen().items()})
        add_perplexities(logs)
        super().log(logs, start_time)

    def _set_signature_columns_if_needed(self) -> None:
        """The columns Trainer keeps with ``remove_unused_columns``: the model's inputs, as Trainer says, and each
        row's ``language``, which the collator needs (and the trainer removes before the model sees the batch)."""
        super()._set_signature_columns_if_needed()
        if LANGUAGE_COLUMN not in self._signature_columns:
            self._signature_columns.append(LANGUAGE_COLUMN)

    def create_model_card(
        self,
        language: str | None = None,
        license: str | None = None,
        tags: str | list[str] | None = None,
        model_name: str | None = None,
        finetuned_from: str | None = None,
        tasks: str | list[str] | None = None,
        dataset_tags: str | list[str] | None = None,
        dataset: str | list[str] | None = None,
        dataset_args: str | list[str] | None = None,
    ) -> None:
        """hf_clonelang's model card (per-language results, from the run folder's files), not Trainer's; Trainer's
        options are accepted and not used: the card says what the run recorded (license, tags, data, languages)."""
        if not self.is_world_process_zero():
            return
        from ..hub.cards import write_model_card

        write_model_card(self.args.output_dir)

    # ------------------------------------------------------------------ publishing
    def init_hf_repo(self, token: str | None = None, private: bool | None = None) -> None:
        """Trainer's repo creation (at construction with ``push_to_hub``), failing with one `HubError` line."""
        try:
            super().init_hf_repo(token=token, private=private)
        except Exception as err:
            raise HubError(f"creating model repo {hub_repo(self.args)!r} failed: {one_line(err)}") from err

    def _push_from_checkpoint(self, checkpoint_folder: str) -> None:
        """Trainer's checkpoint push (``--hub_strategy`` as Trainer means it: model files to the repo root, the
        checkpoint with its optimizer state only under ``last-checkpoint/`` or ``checkpoint-N/``), in the
        background; a failed upload is logged, never raised into training (the final push sends the run)."""
        super()._push_from_checkpoint(checkpoint_folder)
        for job in getattr(self.push_in_progress, "jobs", None) or []:
            if not getattr(job, "_hf_clonelang_watched", False):
                job._hf_clonelang_watched = True
                job.add_done_callback(_log_failed_push)

    def push_to_hub(
        self,
        commit_message: str | None = "End of training",
        blocking: bool = True,
        token: str | None = None,
        revision: str | None = None,
        private: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Trainer's push: save the model (on every process, as `save_model` requires), then push the output folder
        from the main process, in one commit with a model card written for the repo (the local ``README.md`` keeps
        no repo id; checkpoint folders and ``training_args.bin`` stay local, and a copy that a checkpoint push put
        in the repo root is deleted). Returns the commit URL, or a `Future` of it with ``blocking=False``; a failure
        raises `HubError` and leaves the local folder as it was. ``kwargs`` (Trainer's card options) are not used:
        the card is hf_clonelang's."""
        self.callback_handler.on_push_begin(self.args, self.state, self.control)
        token = token if token is not None else self.args.hub_token
        if getattr(self, "hub_model_id", None) is None:
            self.init_hf_repo(token=token, private=private)
        self.save_model(_internal_call=True)
        if not self.is_world_process_zero():
            return None
        self._finish_current_push()
        from ..hub.push import push_run

        push = {
            "run_dir": self.args.output_dir,
            "repo_id": self.hub_model_id,
            "token": token,
            "private": private if private is not None else self.args.hub_private_repo,
            "revision": revision if revision is not None else self.args.hub_revision,
            "commit_message": commit_message,
            "finished": (Path(self.args.output_dir) / RunFiles.ALL_RESULTS).is_file(),  # a script run, or a model
        }
        if blocking:
            return push_run(**push)
        from huggingface_hub import HfApi

        return HfApi(token=token).run_as_future(push_run, **push)  # the Hub client's own background thread


def _log_failed_push(job: Any) -> None:
    """Done-callback of a background checkpoint upload: say that it failed (training goes on)."""
    err = job.exception()
    if err is not None:
        logger.warning("a checkpoint push failed (training goes on; the final push sends the run): %s", one_line(err))


def add_perplexities(metrics: dict[str, float]) -> dict[str, float]:
    """Put ``<prefix>_ppl`` = exp(loss) beside every ``eval_*_loss`` / ``test_*_loss`` (in place)."""
    for key in list(metrics):
        m = METRIC_LOSS.match(key)
        if m and isinstance(metrics[key], (int, float)):
            metrics[f"{m['prefix']}_ppl"] = float(math.exp(min(metrics[key], 700.0)))
    return metrics
