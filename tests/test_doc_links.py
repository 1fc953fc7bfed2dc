"""Every relative link in README.md and doc/*.md reaches a file of the checkout, and
every #anchor a heading of that file (issue 16.7): a newcomer reads these offline,
and a section moved or renamed must not leave a dead link behind."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "doc").glob("*.md"))]
FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)


def _prose(text: str) -> str:
    """The page without fenced code blocks and inline code spans (links there are examples)."""
    return re.sub(r"`[^`\n]*`", "", FENCE.sub("", text))


def _slug(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped (not - or _), spaces to -."""
    text = re.sub(r"`|\*\*|\*|<[^>]+>", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        slug = _slug(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def _relative_links(page: Path) -> list[str]:
    return [target for target in LINK.findall(_prose(page.read_text(encoding="utf-8")))
            if not re.match(r"[a-z][a-z0-9+.-]*:", target, re.I)]   # http:, https:, mailto: leave the checkout


def test_the_slug_rule_is_githubs() -> None:
    assert _slug("Troubleshooting & Support") == "troubleshooting--support"
    assert _slug("app.config keys") == "appconfig-keys"
    assert _slug("Function - OpenC2: Send Command") == "function---openc2-send-command"
    assert _slug("errors — `fn_openc2.lib.errors`") == "errors--fn_openc2liberrors"


def test_the_pages_have_relative_links() -> None:
    assert len(_relative_links(ROOT / "README.md")) >= 20   # the table of contents alone


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in _relative_links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.is_relative_to(ROOT) or not file.exists():
            broken.append(f"{target}: no such file in the checkout")
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(f"{target}: no heading with that anchor in {file.relative_to(ROOT)}")
    assert broken == [], f"{page.relative_to(ROOT)}: {broken}"
