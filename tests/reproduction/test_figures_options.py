"""The paper's figures as grid options: the share sweep, the anchor sweep and longer runs on fewer seeds in the
plan, and the clone-embedding measure behind Figures 6 and 7."""

from pathlib import Path

import numpy as np
import pytest

from hf_clonelang import ConfigError
from hf_clonelang.reproduction.arguments import ReproduceArguments
from hf_clonelang.reproduction.embeddings import clone_similarity
from hf_clonelang.reproduction.plan import cloned_runs, real_runs
from hf_clonelang.reproduction.scales import PAPER_CLONE_FRACTIONS, SCALES


def test_the_share_and_anchor_sweeps_add_their_runs_once():
    scale = SCALES["test"]
    runs = {r.name: r for r in cloned_runs(scale, (0, 1), lengths=(1, 4), shares=(0.05, 0.1, 0.5), long_seeds=1,
                                            clone_fractions=PAPER_CLONE_FRACTIONS)}  # fmt: skip
    assert runs["bi-95-5-s1"].schedule == "0.95,0.05" and runs["bi-95-5-s0"].steps == scale.steps
    assert "bi-90-10-s0" in runs and not any(
        n.startswith(("bi-90-10-s", "bi-50-50-s")) and "x" in n and n.endswith("s1") for n in runs
    )  # 0.1 and 0.5 are Table 1's own runs; longer runs take the first seed only
    assert {"bi-50-50-x4-s0", "bi-90-10-x4-s0", "sched-0.1_0.9-x4-s0"} <= set(runs)
    assert not any(n.startswith("bi-95-5-x") for n in runs)  # the sweep is at 1x
    anchored = [r for r in runs.values() if r.clone_fraction != 1]
    assert len(anchored) == 2 * (len(PAPER_CLONE_FRACTIONS) - 1) and {r.seed for r in anchored} == {0}
    flags = runs["anchor-frequent-0.2-s0"].args(scale, [], Path("/g"), Path("/g/cache"))
    assert flags[flags.index("--clone_fraction") + 1] == "0.2" and flags[flags.index("--anchors") + 1] == "frequent"
    assert runs["anchor-frequent-0.2-s0"].schedule == "0.5,0.5"
    assert {"mono-0.6", "mono-0.7", "mono-0.8", "mono-0.9"} <= set(runs)  # Figure 8's reference lines
    real = {r.name for r in real_runs(scale, ["en", "fr"], (0,), shares=(0.05, 0.1, 0.95))}
    assert {"disjoint-p5-s0", "anchored-p95-s0", "disjoint-p10-s0"} <= real and "disjoint-p10-s0" in real


def test_sweep_options_are_checked():
    with pytest.raises(ConfigError, match="--shares=0.05,1.2 is not allowed"):
        ReproduceArguments(output="g", shares="0.05,1.2")
    with pytest.raises(ConfigError, match="--clone_fractions is given without --anchor_sweep"):
        ReproduceArguments(output="g", clone_fractions="0.5")
    with pytest.raises(ConfigError, match="--anchor_sweep is for cloned languages"):
        ReproduceArguments(output="g", languages="en=a.txt,fr=b.txt", anchor_sweep=True)
    assert ReproduceArguments(output="g", anchor_sweep=True).clone_fraction_values == PAPER_CLONE_FRACTIONS


def test_clone_similarity_bins_by_count_and_leaves_unseen_tokens_out():
    rng = np.random.default_rng(0)
    table = rng.normal(size=(20, 8))
    table[10:20] = table[0:10] + 0.01 * rng.normal(size=(10, 8))  # tokens 0..9 and their clones 10..19: alike
    table[19] = -table[9]  # ... but the last pair is opposite
    counts = np.array([1, 2, 3, 5, 10, 100, 1000, 0, 0, 7])
    out = clone_similarity(table, np.arange(10), np.arange(10, 20), counts)
    assert out["tokens_seen"] == 8 and out["seen"] == pytest.approx((7 - 1) / 8, abs=0.01)  # tokens 7, 8 unseen
    assert abs(out["all_pairs_baseline"]) < 0.5 and out["overall"] == pytest.approx((9 - 1) / 10, abs=0.01)
    edges = [b["min_count"] for b in out["by_count"]]
    assert edges[0] == 1.0 and all(np.isclose(np.log10(e) * 4, round(np.log10(e) * 4)) for e in edges)
    assert sum(b["tokens"] for b in out["by_count"]) == 8
    last = next(b for b in out["by_count"] if b["min_count"] <= 7 < b["max_count"])
    assert last["cosine"] == pytest.approx(-1, abs=0.01)  # the opposite pair, alone in its bin
