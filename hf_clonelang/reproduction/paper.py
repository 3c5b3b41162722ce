"""The paper's reference numbers, as ``paper.json`` (beside this module) holds them, each with its source in the
paper: what the reports set beside ours. Only numbers computed the way ours are compared cell by cell (the report
templates say which estimator and protocol each column uses)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

PAPER_DATA: dict[str, Any] = json.loads(
    resources.files("hf_clonelang.reproduction").joinpath("paper.json").read_text(encoding="utf-8")
)
"""The paper's reference numbers (GPT small) as ``paper.json`` holds them, each with its source in the paper."""


def _paper_tables(data: dict[str, Any]) -> tuple[dict[str, Any], dict[float, dict[str, tuple[float, ...]]]]:
    """`PAPER` and `PAPER_LENGTHS` from ``paper.json``: the numbers the report compares with, without the sources."""
    paper: dict[str, Any] = {
        "monolingual": {p["fraction"]: p["ppl"] for p in data["monolingual"] if not p.get("approximate")},
    }
    for schedule, row in data["settings"].items():
        paper[schedule] = {"ppl": tuple(row["ppl"]), "teff": tuple(row["teff"])}
    for measure, entry in data["alignment"].items():
        paper[measure] = dict(entry["by_setting"])
    lengths = {
        float(row["length"]): {schedule: tuple(ppl) for schedule, ppl in row["ppl"].items()} for row in data["lengths"]
    }
    return paper, lengths


PAPER, PAPER_LENGTHS = _paper_tables(PAPER_DATA)
"""``PAPER``: GPT small at 1× (1.2B tokens): monolingual PPL by fraction (Table 1), PPL and TEff (L1, L2) by setting
(Table 1; TEff from the paper's power law), mean hidden cosine (Table 2) and gradient cosine (Figure 11) by setting:
``gradient_cosine_mean`` over the tensors whose gradient is defined (without the key-bias row, as ours),
``gradient_cosine_mean_all_tensors`` over all its cells.
``PAPER_LENGTHS``: PPL (L1, L2) by setting at 2× / 3× the tokens (Table 1) and 4× (read off Figure 2, approximate)."""

PAPER_REAL: dict[str, Any] = PAPER_DATA["real_languages"]
"""English and French (Section 5): PPL and TEff by vocabulary mode and p(FR) (Table 3), alignment (Table 4)."""
