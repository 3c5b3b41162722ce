"""The grid on a SLURM cluster: ``reproduce --launcher slurm`` writes valid bash job scripts that name every run
once (a job array, resumable), the corpus and report steps, and their submission with dependencies."""

import re
import subprocess

from hf_clonelang.commands.cli import main
from hf_clonelang.reproduction.plan import cloned_runs
from hf_clonelang.reproduction.scales import SCALES


def test_the_slurm_scripts_are_valid_bash_and_name_every_run_once(tmp_path, capsys):
    out = tmp_path / "g"
    slurm = ["--launcher", "slurm", "--gpus-per-run", "2", "--partition", "gpu", "--time", "24:00:00"]
    argv = [
        "reproduce",
        "--scale",
        "small",
        "--seeds",
        "0,1",
        "--output",
        str(out),
        *slurm,
        "--",
        "--logging_steps",
        "50",
    ]
    assert main(argv) == 0
    assert "submit with: bash" in capsys.readouterr().out
    folder = out / "slurm"
    for name in ("prepare.sbatch", "runs.sbatch", "report.sbatch", "submit.sh"):
        proc = subprocess.run(["bash", "-n", str(folder / name)], capture_output=True, text=True)
        assert proc.returncode == 0, (name, proc.stderr)  # valid bash
    runs = (folder / "runs.sbatch").read_text()
    names = [r.name for r in cloned_runs(SCALES["small"], seeds=(0, 1))]
    listed = re.search(r"RUNS=\(\n(.*?)\n\)", runs, re.S).group(1).split()
    assert listed == names and len(set(listed)) == len(listed)  # every run, once, in array order
    assert f"#SBATCH --array=0-{len(names) - 1}" in runs and "#SBATCH --gres=gpu:2" in runs
    assert "#SBATCH --partition=gpu" in runs and "#SBATCH --time=24:00:00" in runs
    assert "accelerate.commands.launch --num_processes 2 --num_machines 1 --multi_gpu" in runs
    assert "--resume_from_checkpoint true" in runs and "all_results.json" in runs  # resumable, finished skipped
    args = re.search(r"ARGS=\(\n(.*?)\n\)", runs, re.S).group(1).splitlines()
    assert len(args) == len(names) and all("--logging_steps 50" in a for a in args)
    assert all("--gradient_accumulation_steps" in a for a in args)
    report = (folder / "report.sbatch").read_text()
    assert "--report-only -- --logging_steps 50" in report  # the step flag before the run flags
    assert "--prepare-only" in (folder / "prepare.sbatch").read_text()
    submit = (folder / "submit.sh").read_text()
    assert submit.count("sbatch --parsable") == 3 and "--dependency=afterok:$RUNS" in submit
    assert not (out / "runs").exists()  # nothing trained here
    capsys.readouterr()
    step = ["reproduce", "--scale", "small", "--seeds", "0,1", "--output", str(out), "--gpus-per-run", "2"]
    assert main([*step, "--report-only", "--", "--logging_steps", "50"]) == 2  # the same grid, as recorded ...
    assert f"{len(names)} run(s) are not finished" in capsys.readouterr().err  # ... waiting for its runs


def test_dry_run_shows_the_scripts_and_writes_only_the_plan(tmp_path, capsys):
    out = tmp_path / "g"
    assert main(["reproduce", "--scale", "test", "--output", str(out), "--launcher", "slurm", "--dry-run"]) == 0
    shown = capsys.readouterr().out
    assert "# ---- runs.sbatch" in shown and "#SBATCH --array=0-" in shown
    assert sorted(p.name for p in out.iterdir()) == ["plan.json"]


def test_the_report_step_waits_for_every_run(tmp_path, capsys):
    out = tmp_path / "g"
    assert main(["reproduce", "--scale", "test", "--output", str(out), "--report-only"]) == 2
    assert "run(s) are not finished" in capsys.readouterr().err


def test_the_report_step_probes_when_the_grid_does(tmp_path, capsys):
    out = tmp_path / "g"
    task = tmp_path / "task.csv"
    task.write_text("text,label\n" + "".join(f"text {i},{i % 2}\n" for i in range(40)))
    argv = ["reproduce", "--scale", "test", "--output", str(out), "--launcher", "slurm", "--probe"]
    assert main([*argv, "--probe_dataset", str(task)]) == 0
    report = (out / "slurm" / "report.sbatch").read_text()
    assert f"--probe --probe_dataset {task} --report-only" in report  # the report step probes the same tasks
    capsys.readouterr()
    assert main([*argv, "--probe_dataset", str(tmp_path / "missing.csv")]) == 2  # checked before any job is written
    assert f"--dataset '{tmp_path / 'missing.csv'}' does not exist" in capsys.readouterr().err
