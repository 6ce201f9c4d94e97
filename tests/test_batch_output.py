"""``batch`` never destroys its input, flushes as it goes, can be resumed, and takes its workers down with it.

Most tests run the command in this process on real files (:func:`invoke`); the two that are about processes
(flushing while a run waits, workers of a killed parent) run it as a subprocess, with timeouts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import pytest

EXAMPLES = resources.files("commissioning_rules.examples")
GOOD_LINES = EXAMPLES.joinpath("cases.jsonl").read_text("utf-8").splitlines()
#: Good lines and bad ones (an error record must resume as exactly as a Decision).
MIXED = GOOD_LINES + ["", "{not json", json.dumps({"organisation": {"kind": "guild"}})]
COMMAND = [sys.executable, "-m", "commissioning_rules.cli", "batch"]
SETTINGS = ["--engine", "reference", "--as-of", "2026-04-01"]


def invoke(monkeypatch, capsys, *args: str, stdin: Path | None = None, stdout=None) -> tuple[int, str]:
    """``commissioning-rules batch ARGS`` in this process, with real files as stdin and stdout when given."""
    from commissioning_rules.cli import main

    with monkeypatch.context() as patch:
        if stdin is not None:
            patch.setattr(sys, "stdin", stdin.open("r", encoding="utf-8"))
        if stdout is not None:
            patch.setattr(sys, "stdout", stdout)
        code = main(["batch", *args])
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("batch") / "cases.jsonl"
    path.write_text("\n".join(MIXED * 30) + "\n", "utf-8")
    return path


@pytest.fixture(scope="module")
def whole(cases) -> bytes:
    """The output of an uninterrupted run."""
    from commissioning_rules.cli import main

    out = cases.with_name("whole.jsonl")
    assert main(["batch", str(cases), "-o", str(out), *SETTINGS]) == 1  # some lines are bad on purpose
    return out.read_bytes()


# --- the input is never written over --------------------------------------------------------------------


@pytest.mark.parametrize("how", ["stdin", "link", "stdout-append"])
def test_the_input_is_never_the_output_whatever_its_name(monkeypatch, capsys, cases, tmp_path, how):
    before = cases.read_bytes()
    if how == "stdin":  # batch - -o FILE < FILE
        code, err = invoke(monkeypatch, capsys, "-", "-o", str(cases), *SETTINGS, stdin=cases)
    elif how == "link":
        link = tmp_path / "another-name.jsonl"
        os.link(cases, link)
        code, err = invoke(monkeypatch, capsys, str(cases), "-o", str(link), *SETTINGS)
    else:  # batch FILE >> FILE
        with cases.open("a", encoding="utf-8") as stdout:
            code, err = invoke(monkeypatch, capsys, str(cases), *SETTINGS, stdout=stdout)
    assert code == 2 and "is the input" in err
    assert cases.read_bytes() == before


def test_overwriting_an_existing_output_is_the_default_and_can_be_refused(monkeypatch, capsys, cases, whole, tmp_path):
    from click.testing import CliRunner

    from commissioning_rules.cli import cli

    out = tmp_path / "decisions.jsonl"
    out.write_bytes(b"an earlier run\n")
    code, err = invoke(monkeypatch, capsys, str(cases), "-o", str(out), "--no-overwrite", *SETTINGS)
    assert code == 2 and "exists" in err
    assert out.read_bytes() == b"an earlier run\n"
    assert invoke(monkeypatch, capsys, str(cases), "-o", str(out), *SETTINGS)[0] == 1
    assert out.read_bytes() == whole
    help_text = CliRunner().invoke(cli, ["batch", "--help"]).output
    assert "--overwrite / --no-overwrite" in help_text and "--resume" in help_text


# --- resuming ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [0, 1, 7, 119, 120, 239], ids=lambda c: f"after-{c}-lines")
def test_resume_finishes_a_cut_short_output_byte_for_byte(monkeypatch, capsys, cases, whole, tmp_path, cut):
    lines = whole.splitlines(keepends=True)
    out = tmp_path / "cut.jsonl"
    out.write_bytes(b"".join(lines[:cut]) + lines[cut][: len(lines[cut]) // 2])  # complete lines, half the next
    code, err = invoke(monkeypatch, capsys, str(cases), "-o", str(out), "--resume", *SETTINGS)
    assert code == 1, err
    assert out.read_bytes() == whole
    bad = sum(1 for line in lines if line.startswith(b'{"error":'))
    assert err.strip().endswith(f"{len(lines) - bad} evaluated, {bad} rejected")


def test_resume_of_a_finished_or_missing_output_is_the_whole_run(monkeypatch, capsys, cases, whole, tmp_path):
    out = tmp_path / "decisions.jsonl"
    assert invoke(monkeypatch, capsys, str(cases), "-o", str(out), "--resume", *SETTINGS)[0] == 1  # not there yet
    assert out.read_bytes() == whole
    assert invoke(monkeypatch, capsys, str(cases), "-o", str(out), "--resume", *SETTINGS)[0] == 1  # all there
    assert out.read_bytes() == whole


def test_resume_refuses_an_output_that_is_not_this_batchs(monkeypatch, capsys, cases, tmp_path):
    out = tmp_path / "other.jsonl"
    out.write_bytes(b"{}\n" * (len(MIXED) * 30 + 1))
    code, err = invoke(monkeypatch, capsys, str(cases), "-o", str(out), "--resume", *SETTINGS)
    assert code == 2 and "input fewer" in err
    out.write_bytes(b"not a record\n")
    code, err = invoke(monkeypatch, capsys, str(cases), "-o", str(out), "--resume", *SETTINGS)
    assert code == 2 and "not a batch record" in err and out.read_bytes() == b"not a record\n"
    assert invoke(monkeypatch, capsys, str(cases), "--resume", *SETTINGS)[0] == 2  # stdout cannot be resumed


# --- flushing and the end of a run ----------------------------------------------------------------------


def test_a_finished_line_reaches_the_file_within_a_second_while_the_run_goes_on(tmp_path):
    out = tmp_path / "decisions.jsonl"
    batch = subprocess.Popen([*COMMAND, "-", "-o", str(out), *SETTINGS], stdin=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        batch.stdin.write(GOOD_LINES[0].encode() + b"\n")
        batch.stdin.flush()  # the run now waits for its next line: only the flusher can write this one out
        deadline = time.monotonic() + 60  # a loaded machine may take a while to start Python
        while time.monotonic() < deadline and not (out.exists() and out.read_bytes().endswith(b"\n")):
            time.sleep(0.05)
        assert out.read_bytes().count(b"\n") == 1
        assert json.loads(out.read_bytes())["as_of"] == "2026-04-01"
        assert batch.poll() is None  # still running: the line was flushed, not written at exit
    finally:
        batch.stdin.close()
        batch.wait(timeout=60)
    assert batch.returncode == 0


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found.update(int(c) for c in children)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads a process's children from /proc")
def test_workers_end_with_a_killed_parent_and_what_was_flushed_is_right(monkeypatch, capsys, cases, whole, tmp_path):
    big = tmp_path / "big.jsonl"
    big.write_bytes(cases.read_bytes() * 60)  # 14,400 lines (seconds of work): still running when it is killed
    out = tmp_path / "killed.jsonl"
    batch = subprocess.Popen([*COMMAND, str(big), "-o", str(out), "--workers", "2", *SETTINGS],
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        workers: set[int] = set()
        while time.monotonic() < deadline and (len(workers) < 2 or not out.exists() or not out.stat().st_size):
            workers = {c for c in _children(batch.pid) if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()}
            time.sleep(0.02)
        assert len(workers) == 2 and out.stat().st_size, "the batch did not get going"
    finally:
        batch.send_signal(signal.SIGKILL)
        batch.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers), "worker processes outlived their killed parent"
    done = out.read_bytes()
    kept = done[: done.rfind(b"\n") + 1].splitlines(keepends=True)
    assert 0 < len(kept) < 60 * len(MIXED) * 30  # killed part-way, with finished lines already in the file
    first = tmp_path / "first.jsonl"
    first.write_bytes(b"".join(big.read_bytes().splitlines(keepends=True)[: len(kept)]))
    expected = tmp_path / "expected.jsonl"
    invoke(monkeypatch, capsys, str(first), "-o", str(expected), *SETTINGS)
    assert b"".join(kept) == expected.read_bytes()  # what was flushed is what an uninterrupted run writes
