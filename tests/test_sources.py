"""Sources only when asked: a Decision cites each rule by id and section; the sentence it quotes lives once in the
rule catalogue, and the JSON carries it (and where each parameter's value comes from) only when asked.

Asked for with ``to_json(sources=True)`` or ``with sources_included():`` in Python, ``--sources`` on the command
line, ``?sources=true`` over HTTP; the two forms differ in exactly each finding's and each parameter's ``source``.
A decision record always keeps the Decision with its sources, so a replay compares like with like; ``explain()``
always quotes. The choice is a context variable: it must not leak between threads, tasks or requests."""

from __future__ import annotations

import asyncio
import json
import sys
from importlib import resources
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import commissioning_rules as cr
from commissioning_rules.batch import evaluate_lines
from commissioning_rules.catalogue import catalogue
from commissioning_rules.cli import EXIT_OK, main
from commissioning_rules.schema import decision_schema
from commissioning_rules.testing.threads import released_together

EXAMPLES = resources.files("commissioning_rules.examples")
CASE_FILE = str(EXAMPLES.joinpath("community_lunch_club.json"))
CASE = json.loads(EXAMPLES.joinpath("community_lunch_club.json").read_text("utf-8"))
LINES = EXAMPLES.joinpath("cases.jsonl").read_text("utf-8").splitlines()
DECISIONS = [cr.evaluate(json.loads(line)) for line in LINES]
CATALOGUE = catalogue(cr.Policy.default())
#: Each rule's and stage gate's quoted sentence, and each parameter value's source, from the rule catalogue.
QUOTED = {rule["id"]: rule["source"] for ruleset in CATALOGUE["rulesets"] for rule in ruleset["rules"]} | {
    gate["id"]: gate["source"] for gate in CATALOGUE["gates"]}
PARAMETER_SOURCES = {(name, value["effective_from"]): value["source"]
                     for name, parameter in CATALOGUE["parameters"].items() for value in parameter["values"]}


def source_keys(data: Any, path: str = "") -> list[str]:
    """Every path at which a ``source`` key appears, anywhere in JSON data."""
    if isinstance(data, dict):
        here = [f"{path}.source"] if "source" in data else []
        return here + [p for k, v in data.items() for p in source_keys(v, f"{path}.{k}")]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in source_keys(v, f"{path}[{i}]")]
    return []


def without_sources(data: dict) -> dict:
    """JSON with sources, with every finding's and parameter's ``source`` taken out by hand."""
    data = json.loads(json.dumps(data))
    for key in ("findings", "parameters"):
        for item in data[key]:
            del item["source"]
    return data


def assert_sourced(data: dict) -> None:
    """Every finding quotes its rule's sentence as the catalogue does; every parameter names the catalogue's source."""
    assert data["findings"] and data["parameters"]
    assert all(f["source"] == QUOTED[f["rule"]] and f["source"] for f in data["findings"])
    assert all(p["source"] == PARAMETER_SOURCES[p["name"], p["effective_from"]] for p in data["parameters"])


@pytest.mark.parametrize("decision", DECISIONS, ids=[f"line {i}" for i in range(1, len(DECISIONS) + 1)])
def test_the_default_json_has_no_source_and_asking_adds_exactly_the_catalogue_sentences(decision):
    default = decision.to_json()
    assert default == decision.model_dump_json()  # the default is the contract, to the byte
    assert source_keys(json.loads(default)) == source_keys(decision.model_dump(mode="json")) == []
    assert source_keys(decision.model_dump()) == []
    full = decision.to_json(sources=True)
    with cr.sources_included():
        assert full == decision.model_dump_json()
        assert decision.model_dump(mode="json") == json.loads(full)
    assert_sourced(json.loads(full))
    assert json.loads(default) == without_sources(json.loads(full))  # they differ in exactly those keys
    assert decision.to_json() == default  # nothing stays switched on after the block
    for text in (default, full):
        assert list(Draft202012Validator(decision_schema()).iter_errors(json.loads(text))) == []
    assert len(full) > len(default)


@pytest.mark.parametrize("verbose", [False, True])
def test_explain_quotes_the_framework_whatever_the_json_leaves_out(verbose):
    decision = cr.evaluate(CASE)
    assert source_keys(json.loads(decision.to_json())) == []
    text = decision.explain(verbose=verbose)
    flat = " ".join(text.split())
    assert [f.rule for f in decision.findings if f.source and " ".join(f.source.split()) in flat]  # it quotes
    assert text == cr.Decision.model_validate_json(decision.to_json(sources=True)).explain(verbose=verbose)
    # read back from the JSON without sources, a decision has none to quote: its rules are cited by id
    read_back = cr.Decision.model_validate_json(decision.to_json())
    assert all(f.source is None for f in read_back.findings) and read_back.explain(verbose=verbose) != text
    assert read_back.to_json() == decision.to_json()


def test_the_block_is_undone_on_error_and_nests():
    decision = DECISIONS[0]
    with pytest.raises(RuntimeError), cr.sources_included():
        raise RuntimeError("boom")
    assert source_keys(decision.model_dump(mode="json")) == []
    with cr.sources_included():
        with cr.sources_included():
            pass
        assert source_keys(decision.model_dump(mode="json"))  # the inner block restored the outer one's choice
    assert source_keys(decision.model_dump(mode="json")) == []


def test_the_choice_does_not_leak_between_threads():
    """Threads released at once by a barrier, every other one asking for sources, the switch interval short so
    they interleave inside serialisation: each gets exactly what it asked for, as a sequential run does."""
    decision = DECISIONS[-1]

    def dump(asked: bool) -> str:
        if not asked:
            return decision.model_dump_json()
        with cr.sources_included():
            return decision.model_dump_json()

    asks = [i % 2 == 1 for i in range(16 * 6)]  # thread t takes items t, t + 16, ...: each thread asks alike
    assert released_together(asks, dump, threads=16) == [dump(asked) for asked in asks]
    assert len({dump(False), dump(True)}) == 2


def test_the_choice_does_not_leak_between_asyncio_tasks():
    decision = DECISIONS[0]
    expected = {False: decision.to_json(), True: decision.to_json(sources=True)}

    async def one(asked: bool) -> str:
        if asked:
            with cr.sources_included():
                await asyncio.sleep(0)  # the other tasks run while this one is inside its block
                return decision.model_dump_json()
        await asyncio.sleep(0)
        return decision.model_dump_json()

    async def run() -> list[str]:
        return await asyncio.gather(*(one(i % 2 == 1) for i in range(20)))

    assert asyncio.run(run()) == [expected[i % 2 == 1] for i in range(20)]


def test_batch_lines_without_sources_unless_asked_in_one_process_or_two():
    for workers in (1, 2):
        assert [text for text, _ in evaluate_lines(LINES, workers=workers, as_json=True)] == [
            d.to_json() for d in DECISIONS]
        assert [text for text, _ in evaluate_lines(LINES, workers=workers, as_json=True, sources=True)] == [
            d.to_json(sources=True) for d in DECISIONS]


def test_the_command_line_writes_sources_only_when_asked(capsys):
    assert main(["evaluate", CASE_FILE]) == EXIT_OK
    default = capsys.readouterr().out
    assert main(["evaluate", CASE_FILE, "--no-sources"]) == EXIT_OK
    assert capsys.readouterr().out == default
    assert main(["evaluate", CASE_FILE, "--sources"]) == EXIT_OK
    full = json.loads(capsys.readouterr().out)
    assert source_keys(json.loads(default)) == [] and json.loads(default) == without_sources(full)
    assert_sourced(full)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_batch_record_keeps_the_sources_the_output_leaves_out(capsys, tmp_path, workers):
    pytest.importorskip("sqlalchemy", reason="the records extra is not installed")
    from commissioning_rules import records

    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join([LINES[0], "{not json", *LINES[1:]]) + "\n", "utf-8")
    db = str(tmp_path / "d.db")
    expected = {False: [d.to_json() for d in DECISIONS], True: [d.to_json(sources=True) for d in DECISIONS]}
    for flag, sources in (("--no-sources", False), ("--sources", True)):
        output = tmp_path / f"out{flag}.jsonl"
        main(["batch", str(cases), "-o", str(output), flag, "--record", db, "--workers", str(workers)])
        written = output.read_text("utf-8").splitlines()
        assert '"error"' in written.pop(1) and written == expected[sources]
    with records.Store(db) as store:
        kept = [r.decision for r in store.records()]
    assert kept == [json.loads(text) for text in expected[True]] * 2
    for data in kept:
        assert_sourced(data)
    capsys.readouterr()
    assert main(["records", "replay", "--all", "--db", db, "--format", "json"]) == EXIT_OK
    assert [json.loads(line)["identical"] for line in capsys.readouterr().out.splitlines()] == [True] * len(kept)


def test_the_service_answers_with_sources_only_when_asked_and_records_keep_them(tmp_path):
    pytest.importorskip("fastapi", reason="the server extra is not installed")
    pytest.importorskip("sqlalchemy", reason="the records extra is not installed")
    from fastapi.testclient import TestClient

    from commissioning_rules import records
    from commissioning_rules.server import Settings, create_app

    db = str(tmp_path / "d.db")
    body, ndjson = "\n".join(LINES).encode(), {"content-type": "application/x-ndjson"}
    with TestClient(create_app(Settings.build(records=db))) as client:
        for query, sources in (("", False), ("?sources=false", False), ("?sources=true", True)):
            one = client.post(f"/v1/decisions{query}", json=CASE)
            data = json.loads(one.text)
            assert one.status_code == 201 and data.pop("record_id")
            assert data == json.loads(cr.evaluate(CASE).to_json(sources=sources))
            lines = client.post(f"/v1/decisions:batch{query}", content=body, headers=ndjson)
            got = [json.loads(line) for line in lines.text.splitlines()]
            assert all(item.pop("record_id") for item in got)
            assert got == [json.loads(d.to_json(sources=sources)) for d in DECISIONS]
        # every finding's id is looked up in the catalogue, a rule's or a stage gate's, to the sentence it quotes
        cited = {f.rule: f.source for d in DECISIONS for f in d.findings}
        assert cited.keys() & {gate["id"] for gate in CATALOGUE["gates"]}  # a gate's finding among them
        for rule_id, sentence in cited.items():
            entry = client.get(f"/v1/rules/{rule_id}").json()
            assert (entry["rule"] if "rule" in entry else entry["gate"])["source"] == sentence
    with records.Store(db) as store:
        kept = [r.decision for r in store.records()]
    assert len(kept) == 3 * (1 + len(LINES))
    for data in kept:
        assert_sourced(data)


def test_concurrent_requests_each_get_what_they_asked_for():
    pytest.importorskip("fastapi", reason="the server extra is not installed")
    import httpx

    from commissioning_rules.server import Settings, create_app

    expected = {False: cr.evaluate(CASE).to_json(), True: cr.evaluate(CASE).to_json(sources=True)}
    batch = "\n".join(LINES).encode()
    expected_batch = {s: "".join(d.to_json(sources=s) + "\n" for d in DECISIONS) for s in (False, True)}

    async def run() -> None:
        app = create_app(Settings.build())
        transport = httpx.ASGITransport(app=app)
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport,
                                                                       base_url="http://test") as client:
            asked = [i % 2 == 1 for i in range(24)]
            ones = [client.post("/v1/decisions", params={"sources": str(s).lower()}, json=CASE) for s in asked]
            batches = [client.post("/v1/decisions:batch", params={"sources": str(s).lower()}, content=batch,
                                   headers={"content-type": "application/x-ndjson"}) for s in asked[:8]]
            answers = await asyncio.gather(*ones, *batches)
            assert [a.text for a in answers[:len(asked)]] == [expected[s] for s in asked]
            assert [a.text for a in answers[len(asked):]] == [expected_batch[s] for s in asked[:8]]

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # the thread pool's threads interleave inside serialisation
    try:
        asyncio.run(run())
    finally:
        sys.setswitchinterval(interval)


def test_a_data_test_may_pin_the_sentence_a_finding_quotes(tmp_path):
    from commissioning_rules.testing import data_tests

    finding = cr.evaluate(CASE).findings[0]
    for name, sentence, passes in (("right", finding.source, True), ("wrong", "Another sentence.", False)):
        expect = {"findings": [{"rule": finding.rule, "source": sentence}]}
        (tmp_path / f"{name}.json").write_text(json.dumps({"case": CASE, "expect": expect}), "utf-8")
        [result] = data_tests.run_data_tests(tmp_path / f"{name}.json")
        assert result.passed is passes, result
