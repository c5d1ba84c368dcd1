"""The documentation is whole inside the repository.

Every link of README.md, CHANGELOG.md and docs/ points at a file of the
repository that exists (no web addresses, nothing outside the clone), and
every page under docs/ is reachable from docs/index.md through the toctrees.
CI's ``sphinx-build -W`` checks the built site too; this checks the sources,
README.md included, which Sphinx does not build.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted(DOCS.rglob("*.md"))]
PAGES = [page for page in PAGES if "_build" not in page.parts]

# [text](target) and ![alt](target); the target ends at the first space or ')'.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?[^)]*\)")
WEB = re.compile(r"\b(?:https?|ftp)://|\bwww\.", re.IGNORECASE)
TOCTREE = re.compile(r"^```\{toctree\}\n(.*?)^```", re.MULTILINE | re.DOTALL)


def ids(pages: list[Path]) -> list[str]:
    return [str(page.relative_to(ROOT)) for page in pages]


def without_code(text: str) -> str:
    """The text outside fenced code blocks and inline code spans."""
    text = re.sub(r"^(`{3,}).*?^\1[ \t]*$", "", text, flags=re.MULTILINE | re.DOTALL)
    return re.sub(r"`[^`\n]*`", "", text)


@pytest.mark.parametrize("page", PAGES, ids=ids(PAGES))
def test_no_web_addresses(page: Path) -> None:
    found = WEB.findall(page.read_text(encoding="utf-8"))
    assert not found, f"{page.relative_to(ROOT)} points outside the repository: {found}"


@pytest.mark.parametrize("page", PAGES, ids=ids(PAGES))
def test_links_reach_files_of_the_repository(page: Path) -> None:
    broken = []
    for target in LINK.findall(without_code(page.read_text(encoding="utf-8"))):
        path = target.split("#", 1)[0]
        if not path:
            continue  # an anchor on the same page
        resolved = (page.parent / path).resolve()
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: broken links {broken}"


def toctree_children(page: Path) -> list[Path]:
    children = []
    for block in TOCTREE.findall(page.read_text(encoding="utf-8")):
        for line in block.splitlines():
            entry = line.strip()
            if entry and not entry.startswith(":"):
                children.append((page.parent / f"{entry}.md").resolve())
    return children


def test_every_page_is_reachable_from_the_index() -> None:
    seen: set[Path] = set()
    todo = [(DOCS / "index.md").resolve()]
    while todo:
        page = todo.pop()
        if page in seen:
            continue
        assert page.exists(), f"a toctree names {page.relative_to(ROOT)}, which does not exist"
        seen.add(page)
        todo.extend(toctree_children(page))
    pages = {page.resolve() for page in PAGES if DOCS in page.parents}
    unreachable = sorted(str(page.relative_to(ROOT)) for page in pages - seen)
    assert not unreachable, f"pages no toctree reaches: {unreachable}"
