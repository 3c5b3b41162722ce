"""`ReproduceArguments` through the machinery of every command: the command line's defaults are the dataclass's,
both spellings, a config file that the command line overrides (run flags too), and bad values refused at once."""

import json

import pytest

from hf_clonelang.commands.cli import main
from hf_clonelang.commands.reproduce import parse_reproduce_args
from hf_clonelang.reproduction.arguments import ReproduceArguments


def test_the_command_lines_defaults_are_the_dataclasses():
    assert parse_reproduce_args(["--output", "g"]) == ReproduceArguments(output="g")
    args = ReproduceArguments(output="g", seeds=(0, 1), lengths=[1, 2.5])  # Python callers may give numbers
    assert (args.seeds, args.seed_values, args.lengths, args.length_values) == ("0,1", (0, 1), "1,2.5", (1.0, 2.5))


@pytest.mark.parametrize(
    "flags",
    [
        ["--dry-run", "--ten-languages", "--align-blocks", "4", "--gpus-per-run", "2", "--report-only"],
        ["--dry_run", "--ten_languages", "--align_blocks", "4", "--gpus_per_run", "2", "--report_only"],
    ],
)
def test_both_spellings(flags):
    args = parse_reproduce_args(["--output", "o", *flags])
    assert args.dry_run and args.ten_languages and args.align_blocks == 4 and args.gpus_per_run == 2
    assert args.step == "report"


def test_a_config_file_with_command_line_overrides(tmp_path):
    cfg = tmp_path / "grid.yaml"
    cfg.write_text(
        "output: from-file\nscale: test\nseeds: 0,1\nlengths: 1,2\nrun_args: [--tie_word_embeddings, true]\n"
    )
    args = parse_reproduce_args(["--config", str(cfg), "--seeds", "3", "--", "--logging_steps", "5"])
    assert (args.output, args.scale, args.seeds, args.lengths) == ("from-file", "test", "3", "1,2")  # the flag wins
    assert args.run_args == ["--tie_word_embeddings", "true", "--logging_steps", "5"]  # the file's, then after --
    positional = parse_reproduce_args([str(cfg)])  # a lone config file, as the training script takes it
    assert positional.seeds == "0,1" and positional.run_args == ["--tie_word_embeddings", "true"]


def test_a_config_file_plans_the_same_grid_as_its_flags(tmp_path, capsys):
    out = str(tmp_path / "g")
    flags = ["--scale", "test", "--seeds", "0,1", "--lengths", "1,2", "--output", out, "--dry-run"]
    assert main(["reproduce", *flags, "--", "--tie_word_embeddings", "true"]) == 0
    by_flags = (tmp_path / "g" / "plan.json").read_bytes()
    cfg = tmp_path / "grid.json"
    cfg.write_text(json.dumps({"scale": "test", "seeds": "0,1", "lengths": "1,2", "output": "elsewhere",
                               "run_args": ["--tie_word_embeddings", "true"]}))  # fmt: skip
    assert main(["reproduce", "--config", str(cfg), "--output", out, "--dry-run"]) == 0
    assert (tmp_path / "g" / "plan.json").read_bytes() == by_flags
    assert not (tmp_path / "elsewhere").exists()
    runs = json.loads(by_flags)["runs"]
    assert len(runs) == 5 + 2 * 2 * 3 and all(r["command"].endswith("--tie_word_embeddings true") for r in runs)
    capsys.readouterr()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--prepare-only", "--report-only"], "--prepare-only and --report-only are not allowed together"),
        (["--seeds", "0,x"], "--seeds='0,x' is not allowed: give a comma-separated list of integers"),
        (["--lengths", "1,two"], "--lengths='1,two' is not allowed: give a comma-separated list of numbers"),
        (["--launcher", "k8s"], "--launcher 'k8s' is not allowed: use local or slurm"),
        (["--languages", "en=a.txt,fr=b.txt", "--ten-languages"], "--languages brings each language's text"),
        (["--config", "{tmp}/bad.yaml"], "run_args in {tmp}/bad.yaml must be a list of flags and values"),
        (["--config", "{tmp}/typo.yaml"], "unknown arguments: --sead 1"),
    ],
)
def test_bad_values_end_in_one_line_before_any_work(flags, message, tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("run_args: --tie_word_embeddings true\n")
    (tmp_path / "typo.yaml").write_text("sead: 1\n")
    argv = ["reproduce", "--output", str(tmp_path / "g"), *(f.replace("{tmp}", str(tmp_path)) for f in flags)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"hf-clonelang reproduce: error: {message.replace('{tmp}', str(tmp_path))}"), err
    assert not (tmp_path / "g").exists()
