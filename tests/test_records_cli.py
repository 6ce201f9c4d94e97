"""The decision-records command line: ``evaluate --record``, ``batch --record`` and ``records ...``, on SQLite and
PostgreSQL alike (``records_db``), run in process through ``cli.main`` (the same code path as the command)."""

from __future__ import annotations

import json
import sys
from importlib import resources

import pytest
from sqlalchemy import text

import commissioning_rules
from commissioning_rules import records
from commissioning_rules.cli import EXIT_OK, EXIT_REJECTED, EXIT_USAGE, main

EXAMPLES = resources.files("commissioning_rules.examples")
CASE_FILE = str(EXAMPLES.joinpath("community_lunch_club.json"))
LINES = EXAMPLES.joinpath("cases.jsonl").read_text("utf-8").splitlines()
COUNCIL_POLICY = str(EXAMPLES.joinpath("council-policy.yaml"))
ENGINE = ("--engine", "reference")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_evaluate_record_prints_the_decision_and_stores_it(records_db, capsys):
    code, plain, _ = run(capsys, "evaluate", CASE_FILE, *ENGINE)
    code, out, err = run(capsys, "evaluate", CASE_FILE, *ENGINE, "--record", records_db)
    assert code == EXIT_OK and json.loads(out) == json.loads(plain)
    record_id = err.split("recorded ")[1].split()[0]
    code, shown, _ = run(capsys, "records", "show", record_id, "--db", records_db, "--format", "json")
    # the record keeps the Decision with its sources; what was printed, without them (the default)
    assert code == EXIT_OK and json.loads(shown)["decision"] == json.loads(run(capsys, "evaluate", CASE_FILE, *ENGINE,
                                                                             "--sources")[1])
    assert '"source"' not in out
    code, text_out, _ = run(capsys, "records", "show", record_id, "--db", records_db)
    assert record_id in text_out and "NOT ELIGIBLE" in text_out
    code, listed, _ = run(capsys, "records", "list", "--db", records_db)
    assert code == EXIT_OK and record_id in listed
    code, corrected, err = run(capsys, "evaluate", CASE_FILE, *ENGINE, "--record", records_db, "--as-of", "2026-05-01",
                               "--supersedes", record_id)
    assert code == EXIT_OK
    code, listed, _ = run(capsys, "records", "list", "--db", records_db, "--format", "json")
    assert [json.loads(line)["supersedes"] for line in listed.splitlines()] == [None, record_id]


def test_a_decision_that_cannot_be_recorded_is_not_printed(capsys, tmp_path):
    code, out, err = run(capsys, "evaluate", CASE_FILE, "--record", "postgresql://council:s3cret@127.0.0.1:1/x")
    assert code == EXIT_USAGE and out == ""
    assert "postgresql+psycopg://council:***@127.0.0.1:1/x" in err and "s3cret" not in err
    code, out, err = run(capsys, "evaluate", CASE_FILE, "--record", str(tmp_path / "d.db"),
                         "--supersedes", "00000000-0000-4000-8000-000000000000")
    assert code == EXIT_USAGE and out == "" and "not recorded" in err
    code, _, err = run(capsys, "evaluate", CASE_FILE, "--supersedes", "00000000-0000-4000-8000-000000000000")
    assert code == EXIT_USAGE and "--record" in err


def test_batch_record_stores_a_record_per_good_line_and_verify_names_an_edited_one(records_db, capsys, tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join([LINES[0], "{not json", *LINES[1:]]) + "\n", "utf-8")
    output = tmp_path / "decisions.jsonl"
    code, _, err = run(capsys, "batch", str(cases), "-o", str(output), *ENGINE, "--record", records_db)
    assert code == EXIT_REJECTED and "5 evaluated, 1 rejected" in err
    written = output.read_text("utf-8").splitlines()
    assert len(written) == 6 and "error" in json.loads(written[1])
    with records.Store(records_db) as store:
        stored = list(store.records())
        expected = [commissioning_rules.evaluate(json.loads(line), engine="reference") for line in LINES]
        assert [r.decision for r in stored] == [json.loads(d.to_json(sources=True)) for d in expected]
        assert written[:1] + written[2:] == [d.to_json() for d in expected]  # the output without sources
    code, out, err = run(capsys, "records", "replay", "--all", "--db", records_db)
    assert code == EXIT_OK and out.count("identical") == 5
    assert run(capsys, "records", "verify", "--db", records_db)[0] == EXIT_OK
    with store._engine.begin() as connection:  # noqa: SLF001 - editing the database behind the store's back
        connection.execute(text("UPDATE cr_records SET decision_json = replace(decision_json, '2026-04-01', '2026-04-02') "
                                "WHERE seq = 2"))
    code, out, _ = run(capsys, "records", "verify", "--db", records_db)
    assert code == EXIT_REJECTED and stored[1].record_id in out and "BROKEN" in out
    code, out, _ = run(capsys, "records", "verify", "--db", records_db, "--format", "json")
    assert json.loads(out)["problems"][0]["entry_id"] == stored[1].record_id


def test_batch_record_in_worker_processes_under_a_council_policy_replays_identically(capsys, tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(LINES) + "\n", "utf-8")
    db = str(tmp_path / "d.db")
    code, _, _ = run(capsys, "batch", str(cases), "-o", str(tmp_path / "out.jsonl"), "--workers", "2",
                     "--policy", COUNCIL_POLICY, *ENGINE, "--record", db)
    assert code == EXIT_OK
    code, out, _ = run(capsys, "records", "replay", "--all", "--db", db, "--format", "json")
    assert code == EXIT_OK and [json.loads(line)["identical"] for line in out.splitlines()] == [True] * len(LINES)


def test_export_and_purge(capsys, tmp_path):
    db = str(tmp_path / "d.db")
    for _ in range(2):
        run(capsys, "evaluate", CASE_FILE, *ENGINE, "--record", db)
    code, out, _ = run(capsys, "records", "purge", "--db", db, "--before", "2999-01-01", "--reason", "x")
    assert code == EXIT_USAGE  # the future
    code, out, _ = run(capsys, "records", "purge", "--db", db, "--before", "2026-11-25T12:00:00", "--reason", "x")
    assert code == EXIT_USAGE and "time zone" in _
    code, out, _ = run(capsys, "records", "purge", "--db", db, "--before", "2000-01-01", "--reason", "x")
    assert code == EXIT_OK and "no records" in out
    now = records.model.utc_text(records.model.now_utc())
    code, out, _ = run(capsys, "records", "purge", "--db", db, "--before", now, "--reason", "retention: 6 years")
    assert code == EXIT_OK and "2 records" in out and "--yes" in out
    code, out, _ = run(capsys, "records", "purge", "--db", db, "--before", now, "--reason", "retention: 6 years",
                       "--yes")
    assert code == EXIT_OK and "purged 2 records" in out
    run(capsys, "evaluate", CASE_FILE, *ENGINE, "--record", db)
    assert run(capsys, "records", "verify", "--db", db)[0] == EXIT_OK
    export = tmp_path / "export.jsonl"
    assert run(capsys, "records", "export", "--db", db, "-o", str(export))[0] == EXIT_OK
    entries = [json.loads(line) for line in export.read_text("utf-8").splitlines()]
    assert [e["kind"] for e in entries] == ["purge", "record", "head"]
    assert entries[0]["reason"] == "retention: 6 years" and entries[0]["count"] == 2
    assert entries[2]["seq"] == 4 and entries[2]["entry_hash"] == entries[1]["entry_hash"]
    assert records.model.sha256(entries[1]["decision_json"]) == entries[1]["decision_sha256"]


@pytest.mark.parametrize("args", [
    ("records", "show", "not-an-id"),
    ("records", "show", "00000000-0000-4000-8000-000000000000"),
    ("records", "replay"),
    ("records", "list", "--since", "yesterday"),
])
def test_records_usage_errors_exit_2_with_a_sentence(capsys, tmp_path, args):
    code, _, err = run(capsys, *args, "--db", str(tmp_path / "d.db"))
    assert code == EXIT_USAGE and "Error" in err and "Traceback" not in err


def test_without_the_records_extra_the_command_names_the_install(capsys, monkeypatch, tmp_path):
    for name in [m for m in sys.modules if m == "sqlalchemy" or m.startswith(("commissioning_rules.records",))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)  # as if not installed
    monkeypatch.delattr(commissioning_rules, "records")
    code, out, err = run(capsys, "evaluate", CASE_FILE, "--record", str(tmp_path / "d.db"))
    assert code == EXIT_USAGE and out == ""
    assert "pip install 'commissioning-rules[records]'" in err and "Traceback" not in err
