"""The reproduction grid at a test-only scale of seconds, and `hf-clonelang align` on one of its runs."""

import json
import re
from pathlib import Path

import pytest

from hf_clonelang import ConfigError
from hf_clonelang.commands.cli import main
from hf_clonelang.reproduction.arguments import ReproduceArguments
from hf_clonelang.reproduction.grid import run_grid
from hf_clonelang.reproduction.paper import PAPER_DATA
from hf_clonelang.reproduction.plan import REAL_FRACTIONS, cloned_runs, mono_fractions, real_runs
from hf_clonelang.reproduction.scales import SCALES


def _grid(out, **kwargs):
    """The test-scale grid in ``out`` (two parallel runs), with ``kwargs`` as further `ReproduceArguments`."""
    return run_grid(ReproduceArguments(output=str(out), scale="test", jobs=2, **kwargs))


@pytest.fixture(scope="module")
def finished_grid(tmp_path_factory):
    out = tmp_path_factory.mktemp("grid") / "g"
    return out, _grid(out, lengths="1,2")


def _table(report, heading):
    section = report.split(heading, 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("|") and not line.startswith("|---")][1:]


@pytest.mark.slow  # a whole small grid, trained and analysed
def test_the_report_has_every_table_filled(finished_grid):
    out, results = finished_grid
    report = (out / "report.md").read_text()
    mono = _table(report, "## Monolingual runs")
    assert len(mono) == len(mono_fractions(SCALES["test"], (1, 2))) == len(SCALES["test"].fractions) + 1  # + 2x
    number = r"(?:[\d.]+|inf)"  # the test scale's power law is poor: it may miss a point completely
    row = rf"\| [\d.]+ \| [\d,]+ \| [\d.]+ \| {number} \| [+-]{number}% \|"
    assert all(re.fullmatch(row, r) for r in mono), mono
    main_rows = _table(report, "## Perplexity and token efficiency")
    names = [(row.split("|")[1].strip().split(" (")[0], row.split("|")[2].strip()) for row in main_rows]
    assert names == [
        (n, length) for length in ("1×", "2×") for n in ("90/10", "50/50", "schedule 0.1_0.9")
    ]  # by p(L2)
    for row in main_rows:
        cells = [c.strip() for c in row.split("|")[3:10]]
        assert all(re.match(r"^\d+\.\d+", c) for c in cells), row  # PPL, TEff by both estimators, MLPE
    lengths = _table(report, "## Longer training")
    assert [row.split("|")[1].strip() for row in lengths] == ["1×", "2×"]
    assert all(re.search(r"\| (yes|no) \(L1 [+-]\d[^|]*, L2 [+-]\d", row) for row in lengths), lengths
    align_rows = _table(report, "### Per layer")
    assert len(align_rows) == 2 + 1 + 1  # embeddings, 2 blocks, mean
    assert all("–" not in row for row in align_rows[1:])  # gradients exist for every block
    assert len(_table(report, "## Alignment")) >= 6  # every bilingual setting at both lengths
    for name in ("results.json", "power_law.png", "ppl_vs_p.png", "alignment_layers.png", "lengths.png"):
        assert (out / name).is_file(), name
    saved = json.loads((out / "results.json").read_text())
    assert set(saved["runs"]) == {r.name for r in cloned_runs(SCALES["test"], lengths=(1, 2)) if r.kind == "multi"}
    assert set(saved["fits"]) == {"power-law", "loglog-interpolation"}
    teff = saved["runs"]["bi-90-10-x2-s0"]["languages"]["L2"]["teff"]
    assert set(teff) == {"power-law", "loglog-interpolation"}
    assert saved["runs"]["bi-90-10-x2-s0"]["languages"]["L2"]["tokens"] == 2 * 30 * 8 * 32 // 10  # 2x the budget
    assert saved["ppl"]["key"] == "test_L{k}_ppl" and "windows of 32 tokens advanced by 8" in saved["ppl"]["protocol"]
    assert saved["runs"]["bi-90-10-s0"]["alignment"]["split"] == "test"  # aligned on text training never read
    card = (out / "runs" / "bi-90-10-s0" / "README.md").read_text()
    assert "TEff (power law)" in card and "TEff (log-log interpolation)" in card
    assert (
        saved["runs"]["bi-90-10-s0"]["languages"]["L2"]["tokens"]
        == results["runs"]["bi-90-10-s0"]["languages"]["L2"]["tokens"]
    )


@pytest.mark.slow  # a whole small grid, trained and analysed
def test_finished_runs_are_skipped_and_other_settings_refused(finished_grid):
    out, _ = finished_grid
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/all_results.json")}
    assert len(stamps) == len(cloned_runs(SCALES["test"], lengths=(1, 2)))
    _grid(out, lengths=(1, 2))  # a Python caller may give the lengths as numbers
    assert {p: p.stat().st_mtime_ns for p in out.glob("runs/*/all_results.json")} == stamps
    with pytest.raises(ConfigError, match="holds a grid of other settings"):
        _grid(out, corpus="roneneldan/TinyStories")
    with pytest.raises(ConfigError, match="--scale 'huge' is not allowed"):
        ReproduceArguments(output=str(out), scale="huge")
    with pytest.raises(ConfigError, match="extra flags none"):  # an ablation needs its own folder
        _grid(out, run_args=["--tie_word_embeddings", "true"])


@pytest.mark.slow  # a whole small grid, trained and analysed
def test_align_a_finished_run(finished_grid, tmp_path, capsys):
    out, _ = finished_grid
    target = tmp_path / "align.json"
    run, cache = str(out / "runs" / "bi-90-10-s0"), str(out / "corpus_cache")
    assert main(["align", run, "--blocks", "12", "--output", str(target), "--corpus-cache-dir", cache]) == 0
    assert "corpus_cache_dir" not in json.loads((out / "runs" / "bi-90-10-s0" / "run_info.json").read_text())["data"]
    report = json.loads(target.read_text())
    entry = report["L1-L2"]
    for key in ("hidden_cosine", "hidden_cosine_centred", "retrieval_at_1", "cka"):
        assert isinstance(entry[key], list) and len(entry[key]) == 3, key
    assert isinstance(entry["gradient_cosine_mean"], float) and entry["blocks"] == 12 and entry["split"] == "test"
    assert target.with_suffix(".png").is_file()
    assert "L1-L2" in capsys.readouterr().out
    assert main(["align", str(out / "runs" / "bi-90-10-s0"), "--languages", "1,5"]) == 2
    assert "languages=1,5 is not allowed" in capsys.readouterr().err
    assert main(["align", str(tmp_path / "nothing-here")]) == 2


@pytest.mark.slow  # a whole small grid, trained, analysed and probed
def test_probe_a_finished_grid_without_retraining(finished_grid):
    out, _ = finished_grid
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/all_results.json")}
    results = _grid(out, lengths="1,2", probe=True, report_only=True)
    assert {p: p.stat().st_mtime_ns for p in out.glob("runs/*/all_results.json")} == stamps  # nothing retrained
    probe = results["probe"]
    assert set(probe["runs"]) == set(results["runs"]) and probe["recipe"]["paper_recipe"]
    assert probe["runs"]["bi-90-10-s0"]["p_l2"] == 0.1 and probe["runs"]["sched-0.1_0.9-s0"]["p_l2"] is None
    saved = json.loads((out / "runs" / "bi-90-10-s0" / "probe.json").read_text())
    assert probe["runs"]["bi-90-10-s0"]["languages"]["L2"]["accuracy"] == saved["mean"]["L2"]["accuracy"]
    rows = _table((out / "report.md").read_text(), "## Downstream probe")
    assert len(rows) == 6  # 3 settings x 2 lengths
    row = next(r for r in rows if r.startswith("| 0.9,0.1 | 0.1 |"))
    assert row.rstrip(" |").endswith("0.71 / 0.65")  # the paper's Figure 1 (right) at p(L2) = 0.1
    assert (out / "probe_vs_p.png").is_file() and "text-classification" in (
        out / "runs" / "bi-90-10-s0" / "README.md"
    ).read_text()
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/probe.json")}
    _grid(out, lengths="1,2", probe=True, report_only=True)
    assert {p: p.stat().st_mtime_ns for p in out.glob("runs/*/probe.json")} == stamps  # probed once


def test_dry_run_writes_the_papers_recipe_and_trains_nothing(tmp_path, capsys):
    out = tmp_path / "plan"
    extra = ["--", "--tie_word_embeddings", "true"]
    assert main(["reproduce", "--scale", "small", "--output", str(out), "--dry-run", "--lengths", "1,2", *extra]) == 0
    assert not (out / "runs").exists() and not (out / "corpus_cache").exists()
    plan = json.loads((out / "plan.json").read_text())
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == len(plan["runs"]) + 1 and printed[-1].startswith("plan: ")
    names = [r["name"] for r in plan["runs"]]
    assert {"mono-0.05", "mono-3", "bi-50-50-s0", "bi-90-10-x2-s0", "sched-0.1_0.9-x2-s0"} <= set(names)
    run = next(r for r in plan["runs"] if r["name"] == "bi-90-10-s0")
    training, model, corpus = run["args"]["training"], run["args"]["model"], run["args"]["corpus"]
    paper = PAPER_DATA["setup"]  # the paper's setup: Languini GPT small and its recipe
    recipe = {
        "learning_rate": paper["learning_rate"], "warmup_steps": paper["warmup_steps"],
        "lr_scheduler_type": "cosine_with_min_lr",
        "lr_scheduler_kwargs": {"min_lr_rate": round(paper["final_learning_rate"] / paper["learning_rate"], 12)},
        "cosine_spans_warmup": True, "adam_beta1": paper["adam_betas"][0], "adam_beta2": paper["adam_betas"][1],
        "adam_epsilon": paper["adam_epsilon"], "weight_decay": paper["weight_decay"],
        "max_grad_norm": paper["grad_clip_norm"], "max_steps": paper["steps"],
        "per_device_train_batch_size": paper["batch"], "language_schedule": "0.9,0.1", "num_languages": 2, "seed": 0,
    }  # fmt: skip
    assert {k: training[k] for k in recipe} == recipe
    assert (
        run["command"].endswith("--tie_word_embeddings true") and run["command"] == printed[names.index(run["name"])]
    )
    assert {k: model[k] for k in paper["model"]} == paper["model"]
    assert model["vocab_size"] == 2 * paper["vocab_size"] - 1  # every id but padding cloned
    assert model["tie_word_embeddings"] is True  # the extra flag reached every run
    assert "clonelang_input_embedding_scale" not in model  # √h is folded into untied embeddings only
    assert (corpus["vocab_size"], corpus["block_size"]) == (paper["vocab_size"], paper["block_size"])
    assert not corpus["share_special_tokens"]
    medium = json.loads(
        json.dumps(main(["reproduce", "--scale", "medium", "--output", str(tmp_path / "m"), "--dry-run"]))
    )
    assert medium == 0
    m = json.loads((tmp_path / "m" / "plan.json").read_text())["runs"][-1]["args"]["training"]
    assert (m["per_device_train_batch_size"], m["max_steps"]) == (256, 9132)


def test_reproduce_refuses_bad_extra_flags_and_lengths(tmp_path, capsys):
    out = str(tmp_path / "g")
    assert main(["reproduce", "--scale", "test", "--output", out, "--dry-run", "--", "--max_steps", "5"]) == 2
    assert "extra run flag --max_steps is not allowed" in capsys.readouterr().err
    assert main(["reproduce", "--scale", "test", "--output", out, "--dry-run", "--", "--no_such_flag", "1"]) == 2
    assert "no_such_flag" in capsys.readouterr().err
    accumulate = ["--", "--gradient_accumulation_steps", "2"]  # 2 x 8 blocks per step: T and TEff would be off
    assert main(["reproduce", "--scale", "test", "--output", out, "--dry-run", *accumulate]) == 2
    assert "keep per_device_train_batch_size x gradient_accumulation_steps = 8" in capsys.readouterr().err
    split = [*accumulate, "--per-device-train-batch-size=4"]  # the same 8 blocks per step, in two halves
    assert main(["reproduce", "--scale", "test", "--output", str(tmp_path / "split"), "--dry-run", *split]) == 0
    capsys.readouterr()
    assert main(["reproduce", "--scale", "test", "--output", out, "--lengths", "1,0"]) == 2
    assert "--lengths=1.0,0.0 is not allowed" in capsys.readouterr().err
    assert main(["reproduce", "--scale", "test", "--output", out, "--jobs", "0"]) == 2
    assert not (tmp_path / "g").exists()


def test_both_better_names_each_languages_margin():
    from hf_clonelang.reproduction.report import _both_better

    base = {"ppl_L1": {"mean": 34.0, "std": 0.3}, "ppl_L2": {"mean": 34.0, "std": 0.4}}
    schedule = {"ppl_L1": {"mean": 38.0, "std": 0.0}, "ppl_L2": {"mean": 33.0, "std": 0.3}}
    # L1 is 4 worse (4 / 0.3 sd), L2 is 1 better (1 / hypot(0.3, 0.4) = 2 sd): not better on both
    assert _both_better(schedule, base) == "no (L1 -4.00 (-13.3 sd), L2 +1.00 (+2.0 sd))"
    one_seed = {"ppl_L1": {"mean": 30.0}, "ppl_L2": {"mean": 33.5}}
    assert _both_better(one_seed, {"ppl_L1": {"mean": 34.0}, "ppl_L2": {"mean": 34.0}}) == "yes (L1 +4.00, L2 +0.50)"


def test_plots_leave_the_users_matplotlib_backend_alone(tmp_path):
    """A notebook user's backend must survive a plot: the figures are drawn without pyplot."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from hf_clonelang.analysis.plots import plot_eval_losses\n"
        "history = [{'step': s, 'eval_L1_loss': 3.0 / (s + 1), 'eval_L2_loss': 4.0 / (s + 1)} for s in range(5)]\n"
        f"assert plot_eval_losses(history, {str(tmp_path / 'loss.png')!r}) is not None\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "loss.png").stat().st_size > 1000


def test_the_real_language_grid_names_every_run_once():
    runs = real_runs(SCALES["cpu-tiny"], ["en", "fr"], seeds=(0, 1))
    assert len({r.name for r in runs}) == len(runs) == 2 * len(REAL_FRACTIONS) + 2 * 2 * 4
    mono = [r for r in runs if r.kind == "mono"]
    assert {(r.language, r.schedule) for r in mono} == {(1, "1,0"), (2, "0,1")}  # one curve per language
    assert all(r.vocab_mode == "disjoint" for r in mono)
    multi = [r for r in runs if r.kind == "multi"]
    assert {(r.vocab_mode, r.schedule) for r in multi} == {
        (m, s) for m in ("disjoint", "anchored") for s in ("0.9,0.1", "0.5,0.5", "0.1,0.9", "0.1_0.9")
    }
    argv = multi[-1].args(SCALES["cpu-tiny"], ["--language", "en=a", "--language", "fr=b"], Path("g"), Path("c"))
    assert argv[argv.index("--vocab_mode") + 1] == "anchored" and "--max_documents" not in argv
    longer = real_runs(SCALES["cpu-tiny"], ["en", "fr"], lengths=(1, 2))
    assert {r.fraction for r in longer if r.kind == "mono"} == set(REAL_FRACTIONS) | {1.5, 2.0}


@pytest.mark.slow  # a whole small real-language grid, trained and analysed
def test_a_real_language_grid_end_to_end(tmp_path):
    from real_texts import write_texts

    en, fr, pairs = write_texts(tmp_path)
    out = tmp_path / "g"
    results = _grid(out, languages=f"en={en},fr={fr}", pairs=pairs, align_blocks=6)
    assert results["languages"] == ["en", "fr"] and set(results["monolingual"]) == {"en", "fr"}
    assert len(results["settings"]) == 8 and all("hidden_cosine_mean" in s for s in results["settings"].values())
    run = results["runs"]["anchored-p10-s0"]
    assert run["alignment"]["matching"] == "hungarian" and run["alignment"]["pairs"] == 6
    report = (out / "report.md").read_text()
    assert "| anchored | p(fr) = 0.1 | 1 |" in report and "22.48 / 29.04" in report  # beside the paper's Table 3
    assert (out / "ppl_vs_p.png").is_file() and (out / "power_law_fr.png").is_file()
    efficiency = json.loads((out / "runs" / "disjoint-p90-s0" / "efficiency.json").read_text())
    assert set(efficiency["fits"]) == {"L1", "L2"} and "power-law" in efficiency["L2"]


@pytest.mark.slow  # a small grid with the share sweep, the anchor sweep and the embedding measures
def test_the_papers_figures_at_the_test_scale(tmp_path):
    out = tmp_path / "fig"
    results = _grid(out, shares="0.05,0.3", anchor_sweep=True, clone_fractions="1,0.5", embedding_similarity=True)
    report = (out / "report.md").read_text()
    names = [row.split("|")[1].strip().split(" (")[0] for row in _table(report, "## Perplexity and token efficiency")]
    assert names[:4] == ["95/5", "90/10", "70/30", "50/50"]  # the sweep by p(L2), Table 1's settings among it
    emb = results["runs"]["bi-95-5-s0"]["embeddings"]
    saved = json.loads((out / "runs" / "bi-95-5-s0" / "all_results.json").read_text())
    assert emb["stream"]["tokens"] == saved["train_tokens_L1"] + saved["train_tokens_L2"]  # the run's own stream
    assert emb["word2vec"]["settings"]["vector_size"] == 32 and emb["word2vec"]["settings"]["window"] == 5
    assert {"input", "output"} <= set(emb["transformer"]) and emb["transformer"]["input"]["by_count"]
    assert len(_table(report, "## Embedding similarity")) == 5  # one row per bilingual setting at 1x
    anchors = _table(report, "## Anchors")
    assert [row.split("|")[1].strip() for row in anchors] == ["frequent", "random"]
    assert all(row.split("|")[3].strip() == "0.5" for row in anchors)
    assert set(results["anchors"]) and not any(r.startswith("anchor-") for r in results["runs"])
    for name in ("teff_vs_p.png", "embeddings_vs_p.png", "embeddings_by_count.png", "anchors.png"):
        assert (out / name).is_file(), name
