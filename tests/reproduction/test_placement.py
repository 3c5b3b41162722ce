"""Where a grid's runs go on a GPU host, simulated on the CPU: one run per GPU or a group of GPUs per run (with
accelerate launch inside), never two runs on one GPU, and the scale's global batch kept exactly by gradient
accumulation; CPU hosts as before."""

import json
from pathlib import Path

import pytest

from hf_clonelang import ConfigError
from hf_clonelang.commands.cli import main
from hf_clonelang.reproduction import placement
from hf_clonelang.reproduction.placement import GpuHost, device_slots, fit_batch, launch_command, plan_devices
from hf_clonelang.reproduction.plan import cloned_runs
from hf_clonelang.reproduction.scales import SCALES

H100 = GpuHost(count=4, memory=80 * 2**30)


def test_runs_get_gpus_of_their_own():
    assert device_slots(H100, 1, None, 10) == ["0", "1", "2", "3"]
    assert device_slots(H100, 2, None, 10) == ["0,1", "2,3"]
    assert device_slots(H100, 1, None, 2) == ["0", "1"]  # no more slots than runs
    assert device_slots(GpuHost(0, 0), 1, 2, 10) == [None, None]  # CPU: one 1-thread run per job, as before
    with pytest.raises(ConfigError, match="--jobs 3 with --gpus-per-run 2 needs 6 GPUs; this host has 4"):
        device_slots(H100, 2, 3, 10)
    with pytest.raises(ConfigError, match="--gpus-per-run 2 needs GPUs, and this host has none"):
        device_slots(GpuHost(0, 0), 2, None, 10)


@pytest.mark.parametrize("processes", [1, 2, 4])
@pytest.mark.parametrize("languages", [2, 10])
def test_the_global_batch_is_kept_exactly(processes, languages):
    scale = SCALES["small"]
    per_device, accumulation = fit_batch(
        scale.batch, processes, H100.memory, scale.model, scale.block_size, scale.vocab_size * languages
    )
    assert per_device * accumulation * processes == scale.batch == 128
    assert per_device & (per_device - 1) == 0  # a power of two
    if languages == 10 and processes == 1:
        assert accumulation > 1  # 164k-id logits of 128 x 512 tokens do not fit one step on one 80 GB GPU
    assert fit_batch(128, processes, H100.memory, scale.model, 512, 32768, per_device=8) == (8, 128 // processes // 8)
    with pytest.raises(ConfigError, match="--per-device-batch 48 is not allowed: it must divide"):
        fit_batch(128, processes, H100.memory, scale.model, 512, 32768, per_device=48)


def test_a_run_on_several_gpus_is_an_accelerate_launch():
    scale = SCALES["mini"]
    runs = cloned_runs(scale)
    slots, split = plan_devices(scale, runs, None, gpus_per_run=2, host=H100)
    assert slots == ["0,1", "2,3"] and split[0] * split[1] * 2 == scale.batch
    argv = runs[-1].args(scale, [], Path("g"), Path("c"), batch=split)
    command = launch_command(argv, 2, port=29501)
    assert command[1:3] == ["-m", "accelerate.commands.launch"] and "--main_process_port" in command
    assert command[command.index("--num_processes") + 1] == "2" and "hf_clonelang.commands.train" in command
    assert argv[argv.index("--per_device_train_batch_size") + 1] == str(split[0])
    assert argv[argv.index("--gradient_accumulation_steps") + 1] == str(split[1])
    assert launch_command(argv, 1, port=0)[1:3] == ["-m", "hf_clonelang.commands.train"]
    assert plan_devices(scale, runs, 2, host=GpuHost(0, 0)) == ([None, None], None)  # CPU hosts: unchanged


def test_the_plan_of_a_gpu_host_keeps_the_papers_batch(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(placement, "gpu_host", lambda: H100)
    out = tmp_path / "plan"
    assert main(["reproduce", "--scale", "mini", "--gpus-per-run", "2", "--output", str(out), "--dry-run"]) == 0
    plan = json.loads((out / "plan.json").read_text())
    for run in plan["runs"]:
        training = run["args"]["training"]
        steps = training["per_device_train_batch_size"] * training["gradient_accumulation_steps"] * 2
        assert steps == SCALES["mini"].batch and "accelerate.commands.launch" in run["command"]
    capsys.readouterr()
    assert main(["reproduce", "--scale", "mini", "--output", str(out), "--dry-run", "--per-device-batch", "3"]) == 2
    assert "--per-device-batch 3 is not allowed: it must divide 128" in capsys.readouterr().err
