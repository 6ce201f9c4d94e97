"""Evaluation is pure and isolated: any order, any thread, no engine session left behind (docs/engines.md)."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest

import commissioning_rules as cr
from commissioning_rules.engine import durable_available
from commissioning_rules.engine.rule import AllOf, AnyOf, Compare, Param, all_of, any_of, is_true, not_
from gate_cases import AVAILABLE_ENGINES, compliant_case

VARIANTS = [
    {},
    {"annual_turnover": "5000.00", "accounts": "none"},
    {"annual_turnover": "5000.01", "accounts": "none"},
    {"employs_staff": False, "will_recruit_for_service": False},
    {"insurance": []},
    {"pays_living_wage": False},
    {"kind": "sole_trader", "constitution_adopted": False},
    {"handles_personal_data": False, "data_protection_compliant": False},
]
CASES = [compliant_case(v, service={"works_with_children": i % 2 == 0}) for i, v in enumerate(VARIANTS)]
CASES.append({"organisation": {}, "as_of": "2026-04-01"})


@pytest.fixture(params=AVAILABLE_ENGINES)
def engine(request):
    return request.param


def test_same_case_same_decision_whatever_came_before(engine):
    expected = [cr.evaluate(c, engine=engine) for c in CASES]
    rng = random.Random(7)
    for _ in range(5):
        order = list(range(len(CASES)))
        rng.shuffle(order)
        for i in order:
            assert cr.evaluate(CASES[i], engine=engine) == expected[i]


def test_sixteen_threads_agree_with_one(engine):
    work = [CASES[i % len(CASES)] for i in range(16 * 40)]
    expected = [cr.evaluate(c, engine=engine) for c in work]
    with ThreadPoolExecutor(max_workers=16) as pool:
        got = list(pool.map(lambda c: cr.evaluate(c, engine=engine), work))
    assert got == expected


@pytest.mark.skipif(not durable_available(), reason="durable-rules does not import on this Python")
def test_five_thousand_evaluations_leave_no_session_behind():
    from commissioning_rules.engine.durable import SESSION_POOL_SIZE

    for i in range(5000):
        cr.evaluate(CASES[i % len(CASES)], engine="durable-rules")
    compiled = cr.Policy.default().engine("durable-rules")
    assert compiled.idle_sessions() == SESSION_POOL_SIZE
    assert compiled.live_sessions() == []


@pytest.mark.skipif(not durable_available(), reason="durable-rules does not import on this Python")
def test_session_ids_hash_apart():
    from commissioning_rules.engine.durable import SESSION_POOL_SIZE, _sid_pool, fnv1a_32

    assert fnv1a_32("case-478212") == fnv1a_32("case-1221200")  # the collision the notes measured
    pool = _sid_pool(SESSION_POOL_SIZE)
    sids = [pool.get() for _ in range(SESSION_POOL_SIZE)]
    assert len({fnv1a_32(s) for s in sids}) == SESSION_POOL_SIZE


@pytest.mark.skipif(not durable_available(), reason="durable-rules does not import on this Python")
def test_an_action_that_fails_is_raised_not_swallowed(monkeypatch):
    from commissioning_rules.engine import durable
    from commissioning_rules.facts import case_facts

    class FailingHost(durable._QuietHost):
        def fired(self, sid, message):  # every rule's action, run by the engine's own loop
            raise RuntimeError("action failed on purpose")

    monkeypatch.setattr(durable, "_QuietHost", FailingHost)
    compiled = durable.DurableEngine(cr.Policy.default().rules)
    facts = case_facts(cr.Case.model_validate({"organisation": {}}))
    with pytest.raises(durable.EngineError, match="action failed on purpose"):
        compiled.run(facts, {"accounts_threshold": 500000})
    assert compiled.live_sessions() == []


def test_negation_is_exact_on_total_facts():
    condition = all_of(is_true("a"), any_of(is_true("b"), Compare("n", "gt", Param("limit"))))
    negated = not_(condition)
    assert isinstance(negated, AnyOf) and isinstance(negated.conditions[1], AllOf)
    assert negated.conditions[1].conditions[1] == Compare("n", "lte", Param("limit"))
    assert not_(negated) == condition


def test_durable_is_compiled_without_or():
    if not durable_available():
        pytest.skip("durable-rules does not import on this Python")
    import json

    from commissioning_rules.engine.durable import _definition

    assert "$or" not in json.dumps(_definition(cr.Policy.default().rules))


def test_every_fact_type_is_matched_even_when_no_policy_rule_reads_it():
    """A case whose items no rule looks at must not crash durable (MessageNotHandled, then a bad free)."""
    from commissioning_rules.policy import Policy
    from commissioning_rules.rules import organisation_criteria

    gate_only = Policy("gate only", (organisation_criteria.RULESET,), Policy.default().parameters)
    option = {"name": "a", "whole_life_cost": "1.00", "economic_value": "2.00", "social_value": "0",
              "environmental_value": "0", "meets_required_outcomes": True}
    for engine in AVAILABLE_ENGINES:
        decision = cr.evaluate({**compliant_case(), "options": [option]}, policy=gate_only, engine=engine)
        assert decision.eligibility.eligible
