"""Every Python code block of README.md and docs/**/*.md runs as written, in the test suite.

A block runs on its own (a fresh namespace, in an empty temporary folder), unless the page declares otherwise,
in an HTML comment the reader of the rendered page does not see:

* ``<!-- example: continues -->`` just before a block: it runs after the block before it, in its namespace
  (a declared sequence: ``case`` defined in one block, used in the next);
* ``<!-- examples: one sequence -->`` anywhere on a page: all its blocks run in order, in one namespace;
* ``<!-- example: file NAME -->`` just before a block of another language (YAML, JSON …): its text is written
  to ``NAME`` in the temporary folder before the page's Python blocks run (a policy file the code loads).

A failure's traceback points at the page and its line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"(?:^<!--\s*(?P<marker>[^>]*?)\s*-->\n)?^```(?P<language>\w*)\n(?P<code>.*?)^```", re.MULTILINE | re.DOTALL)
SEQUENCE = "<!-- examples: one sequence -->"


def _runs(page: Path) -> tuple[list[list[tuple[int, str]]], dict[str, str]]:
    """The page's Python blocks grouped into runs (each block with its first line), and the files it declares."""
    text = page.read_text("utf-8")
    runs: list[list[tuple[int, str]]] = []
    files: dict[str, str] = {}
    whole_page = SEQUENCE in text
    for match in BLOCK.finditer(text):
        marker = (match.group("marker") or "").strip()
        line = text.count("\n", 0, match.start("code"))
        if match.group("language") != "python":
            if marker.startswith("example: file "):
                files[marker.removeprefix("example: file ").strip()] = match.group("code")
            continue
        block = (line, match.group("code"))
        if runs and (whole_page or marker == "example: continues"):
            runs[-1].append(block)
        else:
            assert marker in ("", "example: continues"), f"{page.name}:{line}: unknown example marker {marker!r}"
            runs.append([block])
    return runs, files


CASES = [
    pytest.param(page, index, id=f"{page.relative_to(ROOT)}:{run[0][0] + 1}")
    for page in PAGES
    for index, run in enumerate(_runs(page)[0])
]


def test_the_runner_finds_the_guides_blocks():
    pages = {param.values[0].name for param in CASES}
    assert {"README.md", "index.md", "screening.md", "adopting.md", "property-testing.md"} <= pages


@pytest.mark.parametrize(("page", "index"), CASES)
def test_the_code_block_runs_as_written(page: Path, index: int, tmp_path, monkeypatch):
    runs, files = _runs(page)
    for name, text in files.items():
        (tmp_path / name).write_text(text, "utf-8")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"doc_example_{page.stem}"}
    source = page.read_text("utf-8")
    for line, code in runs[index]:
        # pad with the lines before the block, so a traceback points at the page's own line
        exec(compile("\n" * line + code, str(page.relative_to(ROOT)), "exec"), namespace)  # noqa: S102
    assert source  # the page was read (the block's own assertions are the test)
