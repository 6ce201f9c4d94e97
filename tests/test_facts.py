"""A case's facts: the compiled reading (``case_facts``, generated code) is the plain reading
(``plain_case_facts``, field by field), value for value, in the same order, with the same display."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from pydantic import BaseModel

from commissioning_rules.facts import _flatten, case_facts, plain_case_facts
from commissioning_rules.models.case import CASE_PARTS, Case
from commissioning_rules.testing.samples import random_cases
from commissioning_rules.testing.strategies import cases


def _plain_raw(fact) -> dict:
    """The values as given, read plainly (``_flatten``'s own reading)."""
    raw: dict = {}
    if fact.type == "case":
        for part in CASE_PARTS:
            value = getattr(fact.model, part)
            if isinstance(value, BaseModel):
                _flatten(value, f"{part}.", {}, raw, [])
    else:
        _flatten(fact.model, "", {}, raw, [])
    return raw


def assert_same_facts(case: Case) -> None:
    compiled, plain = case_facts(case), plain_case_facts(case)
    assert [(f.type, f.key) for f in compiled] == [(f.type, f.key) for f in plain]
    for got, expected in zip(compiled, plain):
        assert got.model is expected.model, got.key
        assert list(got.values.items()) == list(expected.values.items()), got.key
        assert list(got.display.raw.items()) == list(_plain_raw(expected).items()), got.key


def test_compiled_facts_are_the_plain_reading_on_2000_random_cases():
    for case in random_cases(2_000, seed=21):
        assert_same_facts(case)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_compiled_facts_are_the_plain_reading_on_sparse_cases(case):
    """Hypothesis leaves optional fields and parts out, which random samples rarely do."""
    assert_same_facts(case)


def test_values_and_display_are_read_from_the_case_only_when_asked():
    case = next(c for c in random_cases(50, seed=3) if c.organisation is not None)
    fact = case_facts(case)[0]
    assert fact.values._values is None and fact.display._raw is None
    assert fact.values["has_organisation"] is True
    assert fact.display.get("organisation.annual_turnover", "x").startswith(("£", "not stated"))
    assert fact.display.get("has_award", "not described") == "not described"
