"""Downstream probing of a trained model: train a classifier in one language, evaluate it in every language.

The paper's recipe is the default (`recipe.ProbeRecipe`): the language model frozen, a dropout-0.1 linear head on
the last block's output (before the final norm) at the final position of inputs padded to 128 tokens without a
mask. Modules: `recipe` (the settings), `tasks` (labelled data from any `load_dataset` source, checked),
`inputs` (texts to each language's ids), `heads` (the classifier, on features or on the model), `fit` (training
with `transformers.Trainer`), `probe` (the whole measurement with its controls: `probe_model`), `outputs`
(``probe.json``, the plot and the card's entries).
"""

from .probe import load_probed_model, probe_model
from .recipe import ProbeRecipe
from .tasks import TaskOptions

__all__ = ["ProbeRecipe", "TaskOptions", "load_probed_model", "probe_model"]
