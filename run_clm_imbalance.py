#!/usr/bin/env python
"""Train a causal LM on cloned languages with a language schedule — the main job of hf_clonelang.

    accelerate launch run_clm_imbalance.py                                   # embedded corpus, 90/10, tiny GPT-2
    accelerate launch run_clm_imbalance.py --language_schedule 0.1_0.9 --output_dir runs/sched
    accelerate launch run_clm_imbalance.py config.yaml                       # all arguments from one file
    accelerate launch --multi_gpu --num_processes 2 run_clm_imbalance.py --use_cpu   # two CPU processes (gloo)

`python run_clm_imbalance.py --help` lists every argument. The wiring lives in `hf_clonelang.commands.train`.
"""

from hf_clonelang.commands.train import cli

if __name__ == "__main__":
    cli()
