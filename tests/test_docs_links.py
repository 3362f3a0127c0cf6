"""Every relative link in the user-facing documents resolves: the file or folder exists, and
an `#anchor` names a heading of the target (GitHub's slugs)."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ["README.md", "CHANGELOG.md", "lfm3d_net/models/MODEL_CARD.md", "training/results/README.md",
        *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return {_slug(m) for m in re.findall(r"^#+\s+(.*)$", text, flags=re.M)}


def relative_links(path: Path) -> list[str]:
    """The relative link targets of a markdown file (fenced code left out)."""
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]


@pytest.mark.parametrize("doc", [d for d in DOCS if (ROOT / d).is_file()])
def test_relative_links_resolve(doc):
    src = ROOT / doc
    broken = []
    for target in relative_links(src):
        file, _, anchor = target.partition("#")
        dest = (src.parent / file).resolve() if file else src
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.is_file() and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(target)
    assert not broken, f"{doc}: broken links {broken}"
