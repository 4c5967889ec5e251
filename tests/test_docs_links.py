"""The documents hold together: every relative link and named path leads somewhere real.

README.md is the front door and stays short; docs/*.md and policies/README.md carry the rest.
A link's #anchor must name a heading of its target, slugged as GitHub does (Chinese kept).
"""

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted(
    [ROOT / "README.md", ROOT / "policies" / "README.md", *(ROOT / "docs").glob("*.md")]
)
README_MAX_LINES = 160

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
# a repository path named in code, e.g. `service/push/outbox.py` or `docs/benchmarks/`
_NAMED_PATH = re.compile(r"(?:service|tests|bench|scripts|policies|docs|migrations)/[\w./-]*")
_EXTERNAL = ("http://", "https://", "mailto:")


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """The lines of a markdown file outside fenced code blocks, with their numbers."""
    lines, fenced = [], False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts by its text
    text = text.replace("`", "").replace("*", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)  # \w is Unicode: Chinese characters stay
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor the headings of a markdown file give, repeats numbered as GitHub does."""
    seen: Counter[str] = Counter()
    found = set()
    for _, line in prose_lines(path):
        match = _HEADING.match(line)
        if match is None:
            continue
        base = slug(match.group(2))
        found.add(base if seen[base] == 0 else f"{base}-{seen[base]}")
        seen[base] += 1
    return found


def broken_links(path: Path) -> list[str]:
    """What is wrong with the relative links of one document, one line each."""
    problems = []
    lines = prose_lines(path)
    text = "\n".join(line for _, line in lines)  # a link's text may wrap onto the next line
    for match in _LINK.finditer(text):
        target = match.group(1)
        if target.startswith(_EXTERNAL):
            continue
        file_part, _, anchor = target.partition("#")
        goal = (path.parent / file_part).resolve() if file_part else path
        number = lines[text.count("\n", 0, match.start(1))][0]
        where = f"{path.relative_to(ROOT)}:{number}: {target}"
        if not goal.exists():
            problems.append(f"{where}: no such file")
        elif anchor and goal.suffix == ".md" and anchor not in anchors(goal):
            problems.append(f"{where}: no heading #{anchor} in {goal.name}")
    return problems


def missing_named_paths(path: Path) -> list[str]:
    """Repository paths a document names in code (`service/...`) that do not exist."""
    problems = []
    for number, line in prose_lines(path):
        for span in _CODE_SPAN.findall(line):
            if _NAMED_PATH.fullmatch(span) and not (ROOT / span).exists():
                problems.append(f"{path.relative_to(ROOT)}:{number}: `{span}` does not exist")
    return problems


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_to_files_and_headings(document: Path) -> None:
    """Every relative link points to a file that exists, and its #anchor to a heading there."""
    assert broken_links(document) == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_paths_exist(document: Path) -> None:
    """A module or folder a document names (after a move, say) still exists under that name."""
    assert missing_named_paths(document) == []


def module_map() -> set[Path]:
    """The files and folders docs/architecture.md's module map names, as paths in the repository.

    A table row's first cell names modules in code; under a heading that names a package
    (`service/push/`) they are that package's, elsewhere they are paths from the root.
    """
    named: set[Path] = set()
    package = ROOT
    for _, line in prose_lines(ROOT / "docs" / "architecture.md"):
        heading = _HEADING.match(line)
        if heading is not None:
            found = re.search(r"`(service/\w+/)`", heading.group(2))
            package = ROOT / found.group(1) if found else ROOT
        elif line.startswith("| `"):
            for span in _CODE_SPAN.findall(line.split("|")[1]):
                named.add(package / span)
    return named


def test_module_map_matches_the_code() -> None:
    """docs/architecture.md names every module of service/, and only modules that exist."""
    named = module_map()
    missing = sorted(str(p.relative_to(ROOT)) for p in named if not p.exists())
    assert missing == [], "named in docs/architecture.md but not there"
    modules = {p for p in (ROOT / "service").rglob("*.py") if p.name != "__init__.py"}
    unnamed = sorted(
        str(p.relative_to(ROOT))
        for p in modules
        if p not in named and not any(folder in named for folder in p.parents)
    )
    assert unnamed == [], "modules of service/ missing from docs/architecture.md"


def test_readme_is_a_front_door() -> None:
    """README.md stays short: the rest lives in docs/."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"
    for script in ("demo", "test"):  # the two commands, and the scripts they run
        assert any(line.startswith(f"bash scripts/{script}.sh ") for line in lines)
        assert (ROOT / "scripts" / f"{script}.sh").exists()


def test_the_contract_copy_matches_the_contract() -> None:
    """docs/contract.md is the shared contract word for word, after its one-line note."""
    shared = ROOT.parent / "shared" / "contract.md"
    if not shared.exists():
        pytest.skip(f"no {shared} beside this clone to compare with")
    copy = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    note, blank, body = copy.split("\n", 2)
    assert note.startswith("> A copy of the interface contract") and blank == ""
    assert body == shared.read_text(encoding="utf-8")


def test_slugs_follow_github() -> None:
    """The anchor rules the link check relies on, on headings these documents use."""
    assert slug("Reading docs/fidelity.md (for policy officers)") == (
        "reading-docsfidelitymd-for-policy-officers"
    )
    assert slug("Hostile ingress (issue 11; 2026-11-30, branch `ingress`)") == (
        "hostile-ingress-issue-11-2026-11-30-branch-ingress"
    )
    assert slug("简介") == "简介"
    assert slug("县（市、区）决定") == "县市区决定"
    assert slug("`service/core/`: the platform underneath") == (
        "servicecore-the-platform-underneath"
    )
