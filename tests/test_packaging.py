"""The package as a user installs it: licence, version, the optional durable-rules extra, the public names."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import commissioning_rules as cr
from commissioning_rules.engine import DURABLE_INSTALL, ENGINES, EngineUnavailable, durable_available

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
PROJECT = PYPROJECT["project"]
#: Makes the durable-rules distribution's two modules fail to import, as they do where the extra is not installed
#: (engine/durable.py imports its C extension, durable_rules_engine, first).
WITHOUT_DURABLE = "import sys; sys.modules['durable_rules_engine'] = sys.modules['durable'] = None; "


def requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s;<>=!~\[]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_licence_is_mit_as_an_spdx_expression_with_its_file():
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text("utf-8").startswith("MIT License")
    assert not any(c.startswith("License ::") for c in PROJECT["classifiers"])  # PEP 639: the expression only
    # setuptools builds the SPDX form from 77.0.3 on: the build system must ask for at least that.
    (setuptools,) = [r for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")]
    minimum = tuple(int(p) for p in re.search(r">=([\d.]+)", setuptools).group(1).split("."))
    assert minimum >= (77, 0, 3)
    assert importlib.metadata.metadata("commissioning-rules")["License-Expression"] == "MIT"


def test_the_version_is_written_once_and_the_changelog_follows_keep_a_changelog():
    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    assert importlib.metadata.version("commissioning-rules") == cr.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text("utf-8")
    assert "https://keepachangelog.com/" in changelog
    releases = re.findall(r"^## \[([^\]]+)\]", changelog, flags=re.MULTILINE)
    assert releases and (releases[0] == "Unreleased" or releases[0] == cr.__version__)
    assert re.search(r"^### (Added|Changed|Fixed|Removed|Deprecated|Security)$", changelog, flags=re.MULTILINE)
    version_classifiers = {c.rsplit(" ", 1)[1] for c in PROJECT["classifiers"] if re.match(r"Programming Language :: Python :: 3\.\d+$", c)}
    assert version_classifiers == {"3.11", "3.12", "3.13"}


def test_durable_rules_is_the_durable_extra_and_the_test_extra_installs_it():
    assert "durable-rules" not in requirement_names(PROJECT["dependencies"])
    assert requirement_names(PROJECT["optional-dependencies"]["durable"]) == {"durable-rules"}
    (own,) = [r for r in PROJECT["optional-dependencies"]["test"] if r.startswith("commissioning-rules[")]
    assert "durable" in own.removeprefix("commissioning-rules[").rstrip("]").split(",")
    readme = (ROOT / "README.md").read_text("utf-8")
    assert '.venv/bin/pip install -q ".[durable]"' in readme and '-e ".[test]"' in readme


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="durable-rules does not import on 3.13: tested below")
def test_where_the_extra_is_installed_durable_rules_runs():
    assert durable_available() and cr.evaluate({}, engine="durable-rules").engine == "durable-rules"


def test_without_durable_rules_the_reference_interpreter_runs_and_asking_for_durable_says_what_to_install(tmp_path):
    script = WITHOUT_DURABLE + (
        "import commissioning_rules as cr\n"
        "print(cr.evaluate({}).engine)\n"
        "try:\n"
        "    cr.evaluate({}, engine='durable-rules')\n"
        "except cr.EngineUnavailable as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    default, message = result.stdout.splitlines()
    assert default == "compiled"
    if sys.version_info >= (3, 13):
        assert "Python 3.13" in message and "'compiled'" in message
    else:
        assert DURABLE_INSTALL in message and "'compiled'" in message


def test_the_command_line_reports_a_missing_engine_in_one_sentence_with_exit_status_2(tmp_path):
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"as_of": "2026-04-01"}), "utf-8")
    script = WITHOUT_DURABLE + "from commissioning_rules.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run([sys.executable, "-c", script, "evaluate", str(case), "--engine", "durable-rules"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert (DURABLE_INSTALL in result.stderr) or sys.version_info >= (3, 13)


def test_an_unknown_engine_is_a_value_error_naming_the_engines():
    with pytest.raises(ValueError, match="drools") as raised:
        cr.evaluate({}, engine="drools")  # type: ignore[arg-type]
    assert all(name in str(raised.value) for name in ENGINES)
    assert issubclass(EngineUnavailable, RuntimeError)
