#!/usr/bin/env python
"""Zero-shot cross-lingual transfer of a classifier — the paper's GLUE experiment — from Python.

    python examples/probe_zero_shot.py runs/default                    # a run folder, a checkpoint or a Hub repo
    python examples/probe_zero_shot.py me/stories-90-10 probe.jsonl    # any labelled file or load_dataset name

The same as ``hf-clonelang probe MODEL --dataset DATA``: a head trained in L1 on the frozen model's features (the
paper's recipe, `ProbeRecipe()`), evaluated in every language, beside its ceiling, a random-init model and the
majority class (docs/probing.md).
"""

import sys

from hf_clonelang.analysis.probing import ProbeRecipe, probe_model

model, *datasets = sys.argv[1:] or ["runs/default"]
result = probe_model(model, datasets or ["embedded"], ProbeRecipe())
for lang, scores in result["mean"].items():
    print(lang, {name: round(value, 3) for name, value in scores.items()})
