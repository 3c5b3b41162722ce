"""Where the runs of a grid go and how their batch is split: one run per GPU (or ``gpus_per_run`` GPUs with
``accelerate launch`` inside), each pinned with ``CUDA_VISIBLE_DEVICES``; on a CPU host one 1-thread run per core,
as before. The scale's global batch is kept exactly: ``per_device_train_batch_size × gradient_accumulation_steps ×
processes = batch``, with the per-device batch given or chosen from the GPU's memory (`fit_batch`).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

MEMORY_SHARE = 0.85
"""Share of a GPU's memory the batch estimate may plan for (the rest: CUDA context, allocator slack)."""


@dataclass(frozen=True)
class GpuHost:
    """The GPUs this process sees: how many, and the memory of the smallest (bytes)."""

    count: int
    memory: int


def gpu_host() -> GpuHost:
    """The visible GPUs (none on a CPU host)."""
    import torch

    if not torch.cuda.is_available() or torch.cuda.device_count() == 0:
        return GpuHost(0, 0)
    count = torch.cuda.device_count()
    return GpuHost(count, min(torch.cuda.get_device_properties(i).total_memory for i in range(count)))


def device_slots(host: GpuHost, gpus_per_run: int, jobs: int | None, runs: int) -> list[str | None]:
    """One entry per parallel run: the ``CUDA_VISIBLE_DEVICES`` of its GPUs ("0", "2,3"), or None on a CPU host
    (then one run per core, or ``jobs``)."""
    if gpus_per_run < 1:
        raise ConfigError(f"--gpus-per-run {gpus_per_run} is not allowed: give >= 1")
    if host.count == 0:
        if gpus_per_run > 1:
            raise ConfigError(f"--gpus-per-run {gpus_per_run} needs GPUs, and this host has none")
        return [None] * (jobs or max(1, min(runs, os.cpu_count() or 1)))
    if gpus_per_run > host.count:
        raise ConfigError(f"--gpus-per-run {gpus_per_run} is more than the {host.count} GPUs this host has")
    groups = host.count // gpus_per_run
    if jobs is not None and jobs > groups:
        raise ConfigError(
            f"--jobs {jobs} with --gpus-per-run {gpus_per_run} needs {jobs * gpus_per_run} GPUs; this host has "
            f"{host.count}: runs never share a GPU"
        )
    groups = min(groups, jobs or groups, max(1, runs))
    return [",".join(str(g * gpus_per_run + i) for i in range(gpus_per_run)) for g in range(groups)]


def sample_bytes(model: dict[str, Any], block_size: int, vocab_size: int) -> int:
    """Estimated training memory of one block (bf16 activations with a fused attention kernel: ~34·h bytes per
    token and layer; the logits, their gradient and the loss's float32 chunk: ~6 bytes per token and id)."""
    from ..training.modeling import PRESETS

    dims = {**PRESETS.get(model.get("model_preset", "tiny"), {}), **model}
    return block_size * (34 * dims["n_layer"] * dims["n_embd"] + 6 * vocab_size)


def parameter_count(model: dict[str, Any], block_size: int, vocab_size: int) -> int:
    """GPT-2's parameters with untied embeddings: 12·L·h² in the blocks, V·h twice, T·h positions."""
    from ..training.modeling import PRESETS

    dims = {**PRESETS.get(model.get("model_preset", "tiny"), {}), **model}
    h, layers = dims["n_embd"], dims["n_layer"]
    return 12 * layers * h * h + 2 * vocab_size * h + block_size * h


def fit_batch(
    batch: int,
    processes: int,
    memory: int,
    model: dict[str, Any],
    block_size: int,
    vocab_size: int,
    per_device: int | None = None,
) -> tuple[int, int]:
    """``(per_device_train_batch_size, gradient_accumulation_steps)`` with per-device × accumulation × processes =
    ``batch``. ``per_device`` given: checked; else the largest power of two that fits ``memory`` (bytes per GPU) by
    `sample_bytes`, after the weights, gradients and Adam states (16 bytes per parameter)."""
    if batch % processes:
        raise ConfigError(f"the global batch {batch} does not split over {processes} processes: use another count")
    per_process = batch // processes
    if per_device is not None:
        if per_device < 1 or per_process % per_device:
            raise ConfigError(
                f"--per-device-batch {per_device} is not allowed: it must divide {per_process} (the batch of "
                f"{batch} over {processes} process(es))"
            )
        return per_device, per_process // per_device
    free = MEMORY_SHARE * memory - 16 * parameter_count(model, block_size, vocab_size)
    fits = int(free // sample_bytes(model, block_size, vocab_size))
    if fits < 1:
        raise ConfigError(
            f"one block of {block_size} tokens does not fit the GPU's {memory / 2**30:.0f} GiB by the estimate: "
            "give --per-device-batch (and a smaller model or vocabulary)"
        )
    size = 1
    while size * 2 <= min(fits, per_process) and per_process % (size * 2) == 0:
        size *= 2
    return size, per_process // size


def plan_devices(
    scale: Any,
    runs: list[Any],
    jobs: int | None,
    gpus_per_run: int = 1,
    per_device_batch: int | None = None,
    host: GpuHost | None = None,
) -> tuple[list[str | None], tuple[int, int] | None]:
    """The device slots of the parallel runs and, on GPUs, the batch split every run uses (the scale's global
    batch over ``gpus_per_run`` processes, fitted to the GPU's memory unless ``per_device_batch`` is given)."""
    host = host or gpu_host()
    slots = device_slots(host, gpus_per_run, jobs, len(runs))
    if host.count == 0:
        if per_device_batch is not None:
            raise ConfigError("--per-device-batch applies to GPU hosts: on CPUs every run takes the scale's batch")
        return slots, None
    vocab = scale.vocab_size * max(r.num_languages for r in runs)
    split = fit_batch(scale.batch, gpus_per_run, host.memory, scale.model, scale.block_size, vocab, per_device_batch)
    return slots, split


def launch_command(argv: list[str], gpus_per_run: int, port: int) -> list[str]:
    """The command of one run: the training module, or ``accelerate launch`` over ``gpus_per_run`` GPUs (its own
    rendezvous ``port``, so parallel runs do not collide)."""
    if gpus_per_run == 1:
        return [sys.executable, "-m", "hf_clonelang.commands.train", *argv]
    launch = [
        "--multi_gpu",
        "--num_processes",
        str(gpus_per_run),
        "--num_machines",
        "1",
        "--main_process_port",
        str(port),
    ]
    return [sys.executable, "-m", "accelerate.commands.launch", *launch, "-m", "hf_clonelang.commands.train", *argv]
