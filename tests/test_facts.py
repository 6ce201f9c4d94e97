"""A case's facts: what runs is generated from the layout once; here it is proven equal to the plain reading
(``facts._flatten``), value for value and in the same order, on random and on sparse cases: the facts and their
engine values (``case_facts`` against ``plain_case_facts``), and the values as given that fill the words
(``raw_expression``)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel

from commissioning_rules.engine.values import Fact
from commissioning_rules.facts import ABSENT, _flatten, case_facts, plain_case_facts, raw_expression
from commissioning_rules.models.case import CASE_PARTS, Case
from commissioning_rules.testing.samples import random_cases
from commissioning_rules.testing.strategies import cases


def given_values(fact: Fact) -> dict[str, Any]:
    """Each path's value as the case gives it, read plainly: what a word template may show."""
    raw: dict[str, Any] = {}
    if fact.type == "case":
        for part in CASE_PARTS:
            value = getattr(fact.model, part)
            if isinstance(value, BaseModel):
                _flatten(value, f"{part}.", {}, raw, [])
    else:
        _flatten(fact.model, "", {}, raw, [])
    return raw


_READERS: dict[tuple[str, str], Any] = {}


def read(fact: Fact, path: str) -> Any:
    key = (fact.type, path)
    if key not in _READERS:
        expression = raw_expression(fact.type, path, "model", "t")
        _READERS[key] = None if expression is None else eval(f"lambda model: {expression}", {"ABSENT": ABSENT})  # noqa: S307
    reader = _READERS[key]
    return ABSENT if reader is None else reader(fact.model)


def assert_same_facts(case: Case) -> None:
    compiled, plain = case_facts(case), plain_case_facts(case)
    assert [(f.type, f.key) for f in compiled] == [(f.type, f.key) for f in plain]
    for got, expected in zip(compiled, plain):
        assert got.model is expected.model, got.key
        assert list(got.values.items()) == list(expected.values.items()), got.key
        given_here = given_values(expected)
        for path in {*given_here, *expected.values}:  # every path a template could name, given or not
            assert read(got, path) == given_here.get(path, ABSENT), (got.key, path)


def test_compiled_facts_are_the_plain_reading_on_2000_random_cases():
    for case in random_cases(2_000, seed=21):
        assert_same_facts(case)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_compiled_facts_are_the_plain_reading_on_sparse_cases(case):
    """Hypothesis leaves optional fields and parts out, which random samples rarely do."""
    assert_same_facts(case)


def test_values_are_worked_out_only_when_asked():
    case = next(c for c in random_cases(50, seed=3) if c.organisation is not None)
    fact = case_facts(case)[0]
    assert fact.values._values is None
    assert fact.values["has_organisation"] is True
    assert fact.values._values is not None


def test_a_path_no_fact_has_reads_as_absent():
    assert raw_expression("case", "has_award", "model", "t") is None
    assert raw_expression("case", "organisation.no_such_field", "model", "t") is None
    assert raw_expression("option", "organisation.kind", "model", "t") is None
