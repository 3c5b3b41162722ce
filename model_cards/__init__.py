"""The Jinja2 templates of what hf_clonelang writes for people to read: a run's model card (``model_card.md``), a
corpus's dataset card (``dataset_card.md``) and a reproduction grid's reports (``report.md`` for cloned languages,
``report_real.md`` for real ones). They hold the prose and the layout; the numbers come formatted from Python.

The folder is installed as ``hf_clonelang.model_cards``; `read_template` is the one way the package reads them.
"""

from functools import cache
from importlib import resources

TEMPLATES = ("model_card.md", "dataset_card.md", "report.md", "report_real.md")


@cache
def read_template(name: str) -> str:
    """The text of the template ``name`` (one of `TEMPLATES`)."""
    if name not in TEMPLATES:
        raise ValueError(f"template {name!r} is not allowed: use one of {', '.join(TEMPLATES)}")
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
