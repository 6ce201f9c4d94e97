"""The compiled engine: the same firings as the reference interpreter and durable-rules on generated cases, for
the default policy and a council's (added rules, overrides, disabled rules); safe from many threads at once;
nothing in rule data ever becomes code.

Sized for the suite: 5,000 random cases on the default policy and 1,000 on the council's example policy against
the reference, 500 against durable-rules too (the 2,000-case hypothesis comparison of whole Decisions is in
test_properties.py). ``benchmarks/prove_engines_agree.py`` runs the same comparison on 10⁵ cases and more.
"""

from __future__ import annotations

from dataclasses import replace
from importlib import resources

import pytest

import commissioning_rules as cr
from commissioning_rules.engine import durable_available
from commissioning_rules.engine.compiled import CompiledEngine
from commissioning_rules.engine.rule import Compare, Conclusion, Param, Rule, RuleSet, is_true
from commissioning_rules.testing.samples import engine_disagreements, random_cases
from commissioning_rules.testing.threads import released_together

DEFAULT = cr.Policy.default()
COUNCIL = cr.Policy.from_yaml(
    resources.files("commissioning_rules.examples").joinpath("council-policy.yaml").read_text("utf-8")
)


def shown(disagreements) -> list[str]:
    return [f"{engine} fired {got}, reference {expected}, on {case.model_dump_json()}" for case, engine, got, expected in disagreements]


def test_compiled_fires_what_the_reference_fires_on_5000_random_cases():
    assert shown(engine_disagreements(random_cases(5_000, seed=13), engines=("compiled",))) == []


def test_compiled_fires_what_the_reference_fires_under_a_councils_policy():
    assert any(rule.overrides for rule in COUNCIL.rules)
    assert shown(engine_disagreements(random_cases(1_000, COUNCIL, seed=14), COUNCIL, engines=("compiled",))) == []


@pytest.mark.skipif(not durable_available(), reason="durable-rules does not import on this Python")
def test_compiled_and_durable_fire_what_the_reference_fires_on_500_random_cases():
    assert shown(engine_disagreements(random_cases(500, seed=15), engines=("compiled", "durable-rules"))) == []


def test_the_comparison_catches_an_engine_one_comparison_off():
    """A compiled engine with ``gt`` read as ``gte`` on the accounts threshold differs on the sampled cases:
    the samples reach the boundary, so the comparisons above can fail."""

    def off_by_one(condition):
        if isinstance(condition, Compare):
            hit = condition.operator == "gt" and condition.operand == Param("accounts_threshold")
            return Compare(condition.path, "gte", condition.operand) if hit else condition
        return type(condition)(tuple(off_by_one(c) for c in condition.conditions))

    changed = [replace(r, when=off_by_one(r.when)) for r in DEFAULT.rules]
    assert changed != list(DEFAULT.rules)
    policy = cr.Policy("off by one", DEFAULT.rulesets, DEFAULT.parameters)
    policy._compiled["engine compiled"] = CompiledEngine(changed)
    found = next(engine_disagreements(random_cases(5_000, seed=16), policy, engines=("compiled",)), None)
    assert found is not None, "no sampled case sits on the accounts threshold"


def test_the_compiled_source_names_each_rule_and_executes_nothing_from_the_data():
    hostile = "x')\nimport os  # "
    rule = Rule(hostile, "3.5", "quoted", Compare(hostile, "eq", hostile), Conclusion("t", "o"), "because")
    param = Rule("p", "3.5", "quoted", Compare("n", "gt", Param(hostile)), Conclusion("t", "o"), "because")
    engine = CompiledEngine([rule, param])
    assert "\nimport os" not in engine.source
    from commissioning_rules.engine.values import Fact

    fact = Fact("case", "case", {hostile: hostile, "n": 3})
    assert engine.run([fact], {hostile: 2}) == [(0, 0), (1, 0)]
    assert engine.run([fact], {}) == [(0, 0)]  # a missing parameter is never compared
    compiled = DEFAULT.engine("compiled")
    assert all(repr(r.id) in compiled.source for r in DEFAULT.rules)


def test_a_missing_attribute_is_false_whatever_the_operator():
    from commissioning_rules.engine.values import Fact

    rules = [Rule(f"r.{op}", "3.5", "q", Compare("absent", op, 1), Conclusion("t", "o"), "b") for op in ("eq", "neq", "gt", "gte", "lt", "lte")]
    assert CompiledEngine(rules).run([Fact("case", "case", {})], {}) == []


def test_a_rule_set_whose_part_is_absent_costs_one_test():
    """Rules are grouped under their rule set's presence guard: each ``has_<part>`` is read once, at the top."""
    source = DEFAULT.engine("compiled").source
    top = [line for line in source.splitlines() if line.startswith("    a") and "get('has_" in line]
    assert len(top) == len(set(top)) >= 6
    ruleset = RuleSet("t", "3.7", "t", ("award",), (Rule("t.r", "3.7", "q", is_true("award.time_limited"), Conclusion("t", "o"), "b"),), lambda f, c: {})
    assert "if a0 == True:" in CompiledEngine(ruleset.rules).source


def test_many_threads_released_at_once_agree_with_one():
    """16 threads, released together by a barrier, switching every microsecond, each evaluating the same cases
    in its own order on one shared policy compiled by whichever thread comes first: every Decision equals the
    sequential one (on another instance of the same policy)."""
    cases = list(random_cases(24, seed=17))
    sequential = cr.Policy("fresh", DEFAULT.rulesets, DEFAULT.parameters)
    expected = [cr.evaluate(c, policy=sequential).model_dump_json() for c in cases]
    policy = cr.Policy("fresh", DEFAULT.rulesets, DEFAULT.parameters)
    threads = 16

    def work(n: int) -> list[str]:
        order = list(range(len(cases)))[n % len(cases):] + list(range(len(cases)))[: n % len(cases)]
        got: list[str] = [""] * len(cases)
        for i in order:
            got[i] = cr.evaluate(cases[i], policy=policy).model_dump_json()
        return got

    results = released_together(range(threads), work, threads=threads)
    assert results == [expected] * threads
    assert policy.engine("compiled") is policy.engine("compiled")  # compiled once


def test_conditions_nested_past_pythons_limits_are_refused_in_one_sentence():
    from commissioning_rules.engine.rule import AllOf, AnyOf

    condition = is_true("x")
    for _ in range(300):
        condition = AllOf((is_true("y"), AnyOf((is_true("z"), condition))))
    with pytest.raises(ValueError, match="nested too deeply to compile.*engine='reference'"):
        CompiledEngine([Rule("deep", "3.5", "q", condition, Conclusion("t", "o"), "b")])
