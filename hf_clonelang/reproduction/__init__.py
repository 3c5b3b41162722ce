"""The paper's experimental grid, from plan to report (``hf-clonelang reproduce``).

* `arguments.ReproduceArguments`: what a grid is (scale, data, seeds, lengths, extra run flags), where its runs go
  and which step to take; `scales`: the scales and their recipes.
* `plan`: the grid resolved into runs and their training command lines (``plan.json``); `placement`: GPUs and the
  batch split of each run.
* `local`: running the runs here, in parallel processes; `slurm`: job scripts for a cluster instead.
* `results`: the grid's analysis (``results.json``: the monolingual fits, TEff, MLPE, alignment); `paper`: the
  paper's numbers (``paper.json``); `report` and `figures`: ``report.md`` and its PNGs, for cloned and real grids.
* `grid.run_grid`: all of it, in order.

Builds on every layer below it (training for the runs' arguments, analysis for the measures, hub for the cards);
only `commands` imports it.
"""
