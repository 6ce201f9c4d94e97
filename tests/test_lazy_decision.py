"""A Decision decides its outcomes at once and renders its findings and parameters used on first read, whatever
does the reading: the JSON contract is the same as if they had been rendered eagerly."""

from __future__ import annotations

import copy
import json
import pickle
import threading

from pydantic import BaseModel

import commissioning_rules as cr
from commissioning_rules.models.decision import Later
from gate_cases import compliant_case

CASE = {**compliant_case({"annual_turnover": "5000.01", "accounts": "none"}), "award": {
    "route": "grant", "value": "30000.00", "complexity": "medium", "time_limited": False}}


def fresh() -> cr.Decision:
    return cr.evaluate(CASE)


def unrendered(decision: cr.Decision) -> bool:
    return any(isinstance(value, Later) for value in object.__getattribute__(decision, "__dict__").values())


def test_outcomes_are_there_and_findings_wait_until_read():
    decision = fresh()
    assert decision.eligibility is not None and decision.eligibility.eligible is False
    assert unrendered(decision)
    assert decision.findings and decision.parameters
    assert not unrendered(decision)


def test_every_way_of_reading_renders_the_same_json():
    expected = json.loads(fresh().model_dump_json())
    assert expected["findings"] and expected["parameters"]
    readers = {
        "model_dump": lambda d: d.model_dump(mode="json"),
        "dict of __dict__": lambda d: json.loads(cr.Decision.model_validate(vars(d)).model_dump_json()),
        "pickle": lambda d: json.loads(pickle.loads(pickle.dumps(d)).model_dump_json()),
        "deepcopy": lambda d: json.loads(copy.deepcopy(d).model_dump_json()),
        "model_copy": lambda d: json.loads(d.model_copy().model_dump_json()),
        "inside another model": lambda d: Wrapper(decision=d).model_dump(mode="json")["decision"],
        # equal to the Decision read back from its JSON with sources (without them, each source reads back None)
        "equality": lambda d: expected if d == cr.Decision.model_validate_json(fresh().to_json(sources=True)) else None,
    }
    for name, read in readers.items():
        assert read(fresh()) == expected, name


class Wrapper(BaseModel):
    decision: cr.Decision


def test_explain_and_repr_render_first():
    decision = fresh()
    assert "Rules that fired:" in decision.explain(verbose=True) and "financial systems" in decision.explain()
    assert "findings=[Finding(" in repr(fresh())


def test_threads_reading_one_decision_at_once_see_it_whole():
    for _ in range(5):
        decision = fresh()
        barrier = threading.Barrier(8)
        seen: list[str] = []

        def read() -> None:
            barrier.wait()
            seen.append(decision.model_dump_json())

        threads = [threading.Thread(target=read) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(set(seen)) == 1 and json.loads(seen[0])["findings"]


def test_the_engines_give_equal_decisions_rendered_or_not():
    rendered = cr.evaluate(CASE, engine="reference")
    rendered.findings  # noqa: B018 - rendered now
    assert cr.evaluate(CASE, engine="reference") == rendered


def test_threads_reading_the_same_unfinished_decisions_each_way_see_what_a_lone_reader_sees():
    """Shared decisions whose words are not yet worked out, read at once by many threads in different ways (a
    criterion's reasons, the findings, the JSON, the explanation): each part is worked out and turns into its
    public class while others read it, and every reader sees what a lone reader sees."""
    from commissioning_rules.models.decision import Eligibility
    from commissioning_rules.testing.samples import random_cases
    from commissioning_rules.testing.threads import released_together

    cases = [c for c in random_cases(40, seed=17)]
    ways = {
        "criteria": lambda d: [c.reasons for c in d.eligibility.criteria] if d.eligibility else None,
        "findings": lambda d: [(f.rule, f.because) for f in d.findings],
        "json": lambda d: d.model_dump_json(),
        "explain": lambda d: d.explain(verbose=True),
    }
    expected = {name: [read(cr.evaluate(c)) for c in cases] for name, read in ways.items()}
    shared = [cr.evaluate(c) for c in cases]
    work = [(name, i) for i in range(len(cases)) for name in ways]
    outcomes = released_together(work, lambda item: ways[item[0]](shared[item[1]]), threads=32)
    assert outcomes == [expected[name][i] for name, i in work]
    assert all(type(d) is cr.Decision and (d.eligibility is None or type(d.eligibility) is Eligibility) for d in shared)
