"""Decisions without sources: each rule cited by its id, the sentence it quotes left in the rule catalogue.

The default is the JSON contract in full; ``to_json(sources=False)``, ``--no-sources`` and ``?sources=false``
leave out exactly each finding's and each parameter's ``source``. A decision record always keeps the full
Decision, so replay compares like with like."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from jsonschema import Draft202012Validator

import commissioning_rules as cr
from commissioning_rules.batch import evaluate_lines
from commissioning_rules.catalogue import catalogue
from commissioning_rules.cli import EXIT_OK, main
from commissioning_rules.schema import decision_schema

EXAMPLES = resources.files("commissioning_rules.examples")
CASE_FILE = str(EXAMPLES.joinpath("community_lunch_club.json"))
CASE = json.loads(EXAMPLES.joinpath("community_lunch_club.json").read_text("utf-8"))
LINES = EXAMPLES.joinpath("cases.jsonl").read_text("utf-8").splitlines()


def without_sources(data: dict) -> dict:
    """The full JSON with every finding's and parameter's ``source`` taken out by hand."""
    data = json.loads(json.dumps(data))
    for key in ("findings", "parameters"):
        for item in data[key]:
            del item["source"]
    return data


def test_without_sources_leaves_out_exactly_the_sources_and_stays_valid():
    decision = cr.evaluate(CASE)
    full = decision.to_json()
    assert full == decision.model_dump_json()  # the default is the contract, to the byte
    compact = decision.to_json(sources=False)
    assert json.loads(compact) == without_sources(json.loads(full))
    assert len(compact) < len(full)
    assert list(Draft202012Validator(decision_schema()).iter_errors(json.loads(compact))) == []
    read_back = cr.Decision.model_validate_json(compact)
    assert read_back.to_json(sources=False) == compact and "Rules that fired:" in read_back.explain(verbose=True)
    quoted = {r["id"]: r["source"] for rs in catalogue(cr.Policy.default())["rulesets"] for r in rs["rules"]}
    assert all(quoted[f.rule] == f.source for f in decision.findings if f.rule in quoted)  # cited by id


def test_batch_lines_without_sources_in_one_process_or_two():
    expected = [cr.evaluate(json.loads(line)).to_json(sources=False) for line in LINES]
    for workers in (1, 2):
        got = [text for text, _ in evaluate_lines(LINES, workers=workers, as_json=True, sources=False)]
        assert got == expected


def test_the_command_line_writes_without_sources_and_records_keep_them(capsys, tmp_path):
    pytest.importorskip("sqlalchemy", reason="the records extra is not installed")
    assert main(["evaluate", CASE_FILE, "--no-sources"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == without_sources(cr.evaluate(CASE).model_dump(mode="json"))
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(LINES) + "\n", "utf-8")
    output, db = tmp_path / "out.jsonl", str(tmp_path / "d.db")
    assert main(["batch", str(cases), "-o", str(output), "--no-sources", "--record", db]) == EXIT_OK
    written = [json.loads(line) for line in output.read_text("utf-8").splitlines()]
    assert written == [json.loads(cr.evaluate(json.loads(line)).to_json(sources=False)) for line in LINES]
    from commissioning_rules import records

    with records.Store(db) as store:
        assert [without_sources(r.decision) for r in store.records()] == written
    capsys.readouterr()
    assert main(["records", "replay", "--all", "--db", db, "--format", "json"]) == EXIT_OK
    assert [json.loads(line)["identical"] for line in capsys.readouterr().out.splitlines()] == [True] * len(LINES)


def test_the_service_answers_without_sources_when_asked():
    pytest.importorskip("fastapi", reason="the server extra is not installed")
    from fastapi.testclient import TestClient

    from commissioning_rules.server import Settings, create_app

    with TestClient(create_app(Settings.build())) as client:
        one = client.post("/v1/decisions?sources=false", json=CASE)
        assert one.status_code == 200 and one.text == cr.evaluate(CASE).to_json(sources=False)
        lines = client.post("/v1/decisions:batch?sources=false", content="\n".join(LINES).encode(),
                            headers={"content-type": "application/x-ndjson"})
        assert lines.text.splitlines() == [cr.evaluate(json.loads(line)).to_json(sources=False) for line in LINES]
