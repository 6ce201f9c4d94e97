"""The README's shell blocks are real: the demo command runs, and every command line of the "Command line" block
names a command the program has, with options that command takes (the Python blocks run in test_doc_examples;
the test command is the one CI runs; the docs build runs in test_docs)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click

from commissioning_rules.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")
SHELL_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _options(command: click.Command) -> set[str]:
    return {name for param in command.params for name in (*param.opts, *param.secondary_opts)}


def test_the_demo_command_runs_the_bundled_case_and_explains_it():
    (block, *_) = SHELL_BLOCK.findall(_section("Set up and run"))
    (line,) = [line for line in block.splitlines() if "-m commissioning_rules" in line]
    assert line.rstrip().endswith(".venv/bin/python -m commissioning_rules")  # no command: the demo
    result = subprocess.run([sys.executable, "-m", "commissioning_rules"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "decision at" in result.stdout and "3.5.1" in result.stdout


def test_every_command_line_of_the_readme_is_a_command_with_options_it_takes():
    (block,) = SHELL_BLOCK.findall(_section("Command line"))
    lines = [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]
    assert len(lines) >= 10
    problems = []
    for line in lines:
        words = line.split()
        assert words[0] == "commissioning-rules", line
        name = words[1].strip("[]")
        command = cli.commands.get(name)
        if command is None:
            problems.append(f"{line}: no command {name!r}")
            continue
        commands = [command]
        if isinstance(command, click.Group):  # `records list|show|...`: each alternative is a subcommand
            alternatives = words[2].split("|")
            commands = [command.commands[a] for a in alternatives if a in command.commands]
            problems += [f"{line}: no subcommand {a!r}" for a in alternatives if a not in command.commands]
        given = {token.split("=", 1)[0] for token in re.findall(r"(?<![\w/])--?[a-z][\w-]*", line)}
        for sub in commands:
            unknown = sorted(given - _options(sub) - {"-h", "--help"})
            if unknown:
                problems.append(f"{line}: {sub.name} takes no {', '.join(unknown)}")
    assert not problems, "\n".join(problems)
