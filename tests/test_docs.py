"""The project's documents as a new user finds them in a fresh clone.

Every relative link in every Markdown file leads to a file of the checkout (and to a heading of
it, when it names one); no relative link leaves the repository; the command-line reference is
what the commands print today; and every library the panel needs at run time is under a licence
the project's own (GPL-3.0-or-later, LICENSE) can be combined with.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".venv", ".git", "node_modules", "build", "var", "mailadmin.egg-info", ".ruff_cache", ".pytest_cache"}
# [text](target "title") and [label]: target; images too. Code spans and fenced blocks are removed first.
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s+.*)?$", re.M)
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"`+[^`\n]*`+")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def markdown_files() -> list[Path]:
    found = []
    for path in ROOT.rglob("*.md"):
        if not SKIP_DIRS & set(path.relative_to(ROOT).parts):
            found.append(path)
    return sorted(found)


def links(text: str) -> list[str]:
    text = CODE_SPAN.sub("", FENCE.sub("", text))
    return INLINE.findall(text) + REFERENCE.findall(text)


def slug(heading: str) -> str:
    """The anchor GitHub (and most Markdown renderers) give a heading."""
    text = CODE_SPAN.sub(lambda m: m.group(0).strip("`"), heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).lower()
    text = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text())):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def test_the_documents_the_readme_promises_are_in_the_checkout():
    for name in (
        "README.md",
        "LICENSE",
        "CHANGELOG.md",
        "CONTRIBUTING.md",
        "SECURITY.md",
        "docs/architecture.md",
        "docs/cli.md",
    ):
        assert (ROOT / name).is_file(), f"{name} is missing"
    readme = (ROOT / "README.md").read_text()
    for name in ("LICENSE", "CHANGELOG.md", "CONTRIBUTING.md", "docs/architecture.md", "docs/cli.md"):
        assert f"]({name})" in readme, f"README.md does not link {name}"


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_into_the_checkout(path):
    problems = []
    for target in links(path.read_text()):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto: ... (upstream projects)
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if ROOT not in dest.parents and dest != ROOT:
            problems.append(f"{target}: outside the repository")
        elif not dest.exists():
            problems.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append(f"{target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert not problems, f"{path.relative_to(ROOT)}:\n" + "\n".join(problems)


def test_the_link_checker_sees_a_broken_link(tmp_path):
    """The checker itself: a link to a missing file, a missing heading and outside the checkout."""
    text = "See [a](missing.md), [b](#nowhere) and [c](../../elsewhere.md), `[d](in-code.md)`.\n\n# Here\n"
    assert links(text) == ["missing.md", "#nowhere", "../../elsewhere.md"]
    page = tmp_path / "page.md"
    page.write_text(text)
    assert anchors(page) == {"here"}
    assert slug("The lookup contract (version 1, kept for one release)") == (
        "the-lookup-contract-version-1-kept-for-one-release"
    )


def test_the_cli_reference_is_what_the_commands_print():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import cli_reference
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    expected = cli_reference.generate()
    assert (ROOT / "docs" / "cli.md").read_text() == expected, (
        "docs/cli.md is stale: run .venv/bin/python scripts/cli_reference.py --write"
    )


# Licences a GPL-3.0-or-later program may be combined with (the FSF's list of GPLv3-compatible
# licences), as the packages name them in their metadata (SPDX expression, License field or
# trove classifier). GPL-2.0-only and the original four-clause BSD are not among them.
COMPATIBLE = {
    "mit", "mit-0", "mit license", "isc", "isc license (iscl)", "bsd", "bsd license", "bsd-2-clause",
    "bsd-3-clause", "apache-2.0", "apache 2.0", "apache software license", "apache license 2.0",
    "psf-2.0", "psfl", "python software foundation license", "lgpl-3.0-only", "lgpl-3.0-or-later",
    "gpl-2.0-or-later", "gpl-3.0-only", "gpl-3.0-or-later", "mpl-2.0", "zlib", "unlicense", "cc0-1.0",
}  # fmt: skip


def compatible(expression: str) -> bool:
    """An SPDX-like expression: every AND part compatible, at least one OR alternative."""
    expression = expression.strip().strip("()").strip()
    if " OR " in expression:
        return any(compatible(part) for part in expression.split(" OR "))
    if " AND " in expression:
        return all(compatible(part) for part in expression.split(" AND "))
    return expression.lower() in COMPATIBLE


def licences(dist: metadata.Distribution) -> list[str]:
    m = dist.metadata
    names = []
    if m.get("License-Expression"):
        names.append(m["License-Expression"])
    field = (m.get("License") or "").strip()
    if field and "\n" not in field and len(field) < 60:  # a name, not the licence's whole text
        names.append(field)
    names += [c.split(" :: ")[-1] for c in m.get_all("Classifier") or [] if c.startswith("License :: ")]
    return [n for n in names if n.lower() not in ("osi approved", "unknown", "other/proprietary license")]


def runtime_closure() -> dict[str, metadata.Distribution]:
    """The distributions the panel needs at run time: pyproject's dependencies and theirs."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    todo = [Requirement(r) for r in project["dependencies"]]
    found: dict[str, metadata.Distribution] = {}
    while todo:
        req = todo.pop()
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        name = req.name.lower().replace("_", "-")
        extras = req.extras
        if name in found and not extras:
            continue
        dist = metadata.distribution(name)
        found[name] = dist
        for sub in dist.requires or []:
            sub_req = Requirement(sub)
            wanted = not sub_req.marker or sub_req.marker.evaluate({"extra": ""})
            wanted = wanted or any(sub_req.marker.evaluate({"extra": e}) for e in extras)
            if wanted:
                todo.append(Requirement(str(sub_req).split(";")[0]))
    return found


def test_every_runtime_dependency_may_be_combined_with_the_projects_licence():
    assert (
        (ROOT / "LICENSE")
        .read_text()
        .startswith("                    GNU GENERAL PUBLIC LICENSE\n                       Version 3")
    )
    closure = runtime_closure()
    assert {"django", "mysqlclient", "psycopg", "argon2-cffi"} <= set(closure)
    problems = {}
    for name, dist in sorted(closure.items()):
        names = licences(dist)
        if not names or not any(compatible(n) for n in names):
            problems[name] = names or "no licence in its metadata"
    assert not problems, f"not known to be GPL-3.0-compatible: {problems}"
    assert not compatible("GPL-2.0-only") and not compatible("BSD-4-Clause") and compatible("MIT OR GPL-2.0-only")
