"""The reproduction grid at a test-only scale of seconds, and `hf-clonelang align` on one of its runs."""

import json
import re

import pytest

from hf_clonelang import ConfigError
from hf_clonelang.cli import main
from hf_clonelang.reproduce import SCALES, grid, run_grid


@pytest.fixture(scope="module")
def finished_grid(tmp_path_factory):
    out = tmp_path_factory.mktemp("grid") / "g"
    return out, run_grid("test", "embedded", out, jobs=2)


def _table(report, heading):
    section = report.split(heading, 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("|") and not line.startswith("|---")][1:]


def test_the_report_has_every_table_filled(finished_grid):
    out, results = finished_grid
    report = (out / "report.md").read_text()
    mono = _table(report, "## Monolingual runs")
    assert len(mono) == len(SCALES["test"].fractions)
    assert all(re.fullmatch(r"\| [\d.]+ \| [\d,]+ \| [\d.]+ \| [\d.]+ \|", row) for row in mono), mono
    main_rows = _table(report, "## Perplexity and token efficiency")
    assert [row.split("|")[1].strip().split(" (")[0] for row in main_rows] == ["50/50", "90/10", "schedule 0.1_0.9"]
    for row in main_rows:
        cells = [c.strip() for c in row.split("|")[2:8]]
        assert all(re.match(r"^\d+\.\d+", c) for c in cells), row  # PPL, TEff and MLPE for both languages
    align_rows = _table(report, "## Alignment per layer")
    assert len(align_rows) == 2 + 1 + 1  # embeddings, 2 blocks, mean
    assert all("–" not in row for row in align_rows[1:])  # gradients exist for every block
    for name in ("results.json", "power_law.png", "ppl_vs_p.png", "alignment_layers.png"):
        assert (out / name).is_file(), name
    saved = json.loads((out / "results.json").read_text())
    assert set(saved["runs"]) == {r.name for r in grid(SCALES["test"]) if r.kind == "multi"}
    assert (
        saved["runs"]["bi-90-10-s0"]["languages"]["L2"]["tokens"]
        == results["runs"]["bi-90-10-s0"]["languages"]["L2"]["tokens"]
    )


def test_finished_runs_are_skipped_and_other_settings_refused(finished_grid):
    out, _ = finished_grid
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/all_results.json")}
    assert len(stamps) == len(grid(SCALES["test"]))
    run_grid("test", "embedded", out, jobs=2)
    assert {p: p.stat().st_mtime_ns for p in out.glob("runs/*/all_results.json")} == stamps
    with pytest.raises(ConfigError, match="holds a grid of other settings"):
        run_grid("test", "roneneldan/TinyStories", out)
    with pytest.raises(ConfigError, match="--scale 'huge' is not allowed"):
        run_grid("huge", "embedded", out)


def test_align_a_finished_run(finished_grid, tmp_path, capsys):
    out, _ = finished_grid
    target = tmp_path / "align.json"
    assert main(["align", str(out / "runs" / "bi-90-10-s0"), "--blocks", "12", "--output", str(target)]) == 0
    report = json.loads(target.read_text())
    entry = report["L1-L2"]
    for key in ("hidden_cosine", "hidden_cosine_centred", "retrieval_at_1", "cka"):
        assert isinstance(entry[key], list) and len(entry[key]) == 3, key
    assert isinstance(entry["gradient_cosine_mean"], float) and entry["blocks"] == 12
    assert target.with_suffix(".png").is_file()
    assert "L1-L2" in capsys.readouterr().out
    assert main(["align", str(out / "runs" / "bi-90-10-s0"), "--languages", "1,5"]) == 2
    assert "languages=1,5 is not allowed" in capsys.readouterr().err
    assert main(["align", str(tmp_path / "nothing-here")]) == 2
