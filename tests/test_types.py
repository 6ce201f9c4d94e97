"""The library type-checks: ``mypy --strict`` and pyright (their settings are in pyproject.toml) on ``src/``.

Both run as a user's CI would run them, in subprocesses started together (two checkers, two cores); an error
anywhere in ``src/`` fails here with the checker's own report.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


@pytest.fixture(scope="module")
def reports() -> dict[str, subprocess.CompletedProcess[str] | None]:
    commands: dict[str, list[str] | None] = {"mypy": None, "pyright": None}
    try:
        import mypy  # noqa: F401

        commands["mypy"] = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", "/dev/null",
                            str(SRC)]
    except ImportError:
        pass
    pyright = shutil.which("pyright", path=str(Path(sys.executable).parent))
    if pyright is not None:
        commands["pyright"] = [pyright, "--pythonpath", sys.executable, str(SRC)]
    running = {
        name: subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for name, command in commands.items() if command is not None
    }
    done: dict[str, subprocess.CompletedProcess[str] | None] = {name: None for name in commands}
    for name, process in running.items():
        out, _ = process.communicate(timeout=900)
        done[name] = subprocess.CompletedProcess(process.args, process.returncode, out, "")
    return done


@pytest.mark.parametrize("checker", ["mypy", "pyright"])
def test_the_type_checker_finds_nothing_in_src(reports, checker):
    report = reports[checker]
    if report is None:
        pytest.skip(f"{checker} is in the test extra: pip install -e '.[test]'")
    assert report.returncode == 0, report.stdout
