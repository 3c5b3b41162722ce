"""``hf_clonelang.efficiency``: the paper's token-efficiency estimators, kept at this path for user code.

The module lives in :mod:`hf_clonelang.analysis.efficiency`; this name is the same module object, so attributes set
here (e.g. by ``monkeypatch``) are the ones the library uses.
"""

import importlib
import sys

sys.modules[__name__] = importlib.import_module(".analysis.efficiency", __package__)
