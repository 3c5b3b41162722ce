"""README.md and docs/: a short front page with the CI commands, and no link that points nowhere."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
CI_COMMANDS = (
    'pip install -e ".[test]" && python -m pytest',
    "pip install -e . && accelerate launch run_clm_imbalance.py",
)

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)
_FORBIDDEN = (re.compile(r"(?<![\w.-])notes/[^\s`)]*\.md"), re.compile(r"\.\./shared/"))


def _prose(text: str) -> str:
    """The text without fenced code blocks (links inside them are not links)."""
    return _FENCE.sub("", text)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup and punctuation dropped, lower case, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = re.sub(r"[`*_~]|<[^>]+>", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for match in _HEADING.finditer(_prose(path.read_text(encoding="utf-8"))):
        slug = _slug(match.group(2))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def _relative_links(path: Path) -> list[str]:
    links = _LINK.findall(_prose(path.read_text(encoding="utf-8")))
    return [t for t in links if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I)]  # http:, https:, mailto: ...


def test_the_docs_exist():
    names = {p.name for p in DOCS}
    expected = {"training.md", "corpora.md", "analysis.md", "reproduction.md", "results.md", "hub.md"}
    assert expected | {"benchmarks.md", "development.md"} <= names


def test_readme_is_a_short_front_page():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines: move detail into docs/"


@pytest.mark.parametrize("command", CI_COMMANDS)
def test_readme_keeps_the_ci_commands_verbatim(command):
    assert command in README.read_text(encoding="utf-8"), f".ci/run greps README.md for: {command}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page):
    broken = []
    for target in _relative_links(page):
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
            continue
        if ROOT not in dest.parents and dest != ROOT:
            broken.append(f"{target}: outside the repository")
            continue
        if anchor and dest.suffix == ".md" and anchor.lower() not in _anchors(dest):
            broken.append(f"{target}: no heading with anchor #{anchor} in {dest.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_path_outside_the_repository(page):
    text = page.read_text(encoding="utf-8")  # code spans, links and code blocks alike
    bad = [m.group(0) for f in _FORBIDDEN for m in f.finditer(text)]
    assert not bad, f"{page.relative_to(ROOT)} points outside the repository: {bad}"


def test_the_checks_catch_what_they_should(tmp_path):
    assert _slug("Results at `cpu-tiny`") == "results-at-cpu-tiny"
    assert _slug("Where the small runs agree with the paper, and where not") == (
        "where-the-small-runs-agree-with-the-paper-and-where-not"
    )
    assert _slug("The paper's model and vocabulary") == "the-papers-model-and-vocabulary"
    page = tmp_path / "page.md"
    page.write_text("# A\n\n## A\n\n[x](other.md#a) `notes/cpu-scale.md`\n\n```\n[y](gone.md)\n```\n")
    assert _anchors(page) == {"a", "a-1"}
    assert _relative_links(page) == ["other.md#a"]
    assert any(f.search("notes/cpu-scale.md") for f in _FORBIDDEN)
    assert any(f.search("../shared/data/x.txt.gz") for f in _FORBIDDEN)
