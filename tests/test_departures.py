"""1.3: departures from the framework — exhaustive on both engines, the "other" reason, and no side effects."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from pydantic import ValidationError
from hypothesis import strategies as st

import commissioning_rules as cr
from commissioning_rules.engine import durable_available
from commissioning_rules.models.case import DepartureReason
from commissioning_rules.rules import DEFAULT_RULESETS, departures

ENGINES = ["reference", "compiled"] + (["durable-rules"] if durable_available() else [])
AS_OF = dt.date(2026, 4, 1)
POLICY_TEXT = Path(__file__).resolve().parents[1] / "docs" / "framework" / "commissioning-framework-2014.txt"


def decide(reason: str, documented: bool, engine: str = "reference", **rest):
    return cr.evaluate({"departure": {"reason": reason, "documented": documented}, **rest}, as_of=AS_OF, engine=engine)


def expected(reason: DepartureReason, documented: bool) -> tuple[bool, str]:
    """The documented table (module docstring), written independently of the rules."""
    if not documented:
        return False, "not_documented"
    if reason is DepartureReason.other:
        return True, "other_exceptional_reason"
    return True, "named_example"


@pytest.mark.parametrize("engine", ENGINES)
def test_every_departure_gets_exactly_one_decision_by_exhaustive_enumeration(engine):
    for reason, documented in itertools.product(DepartureReason, (False, True)):
        decision = decide(reason.value, documented, engine)
        rows = [f.rule for f in decision.findings if f.rule.startswith("departure.")]
        permitted, basis = expected(reason, documented)
        assert len(rows) == 1 and rows[0].endswith(basis), (reason, documented)
        assert decision.departure.model_dump() == {"permitted": permitted, "reason": reason.value, "basis": basis}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("reason", ["legislation", "funding_guidelines"])
def test_a_documented_departure_for_a_named_example_is_permitted(engine, reason):
    decision = decide(reason, True, engine)
    assert decision.departure.permitted and decision.departure.basis == "named_example"
    assert decision.advisories == []


@pytest.mark.parametrize("engine", ENGINES)
def test_a_documented_other_reason_is_permitted_because_eg_gives_examples_but_is_flagged(engine):
    decision = decide("other", True, engine)
    assert decision.departure.permitted and decision.departure.basis == "other_exceptional_reason"
    (advisory,) = decision.advisories
    assert advisory.section == "1.3" and "exceptional" in advisory.message and "documentation" in advisory.message
    (finding,) = [f for f in decision.findings if f.rule.startswith("departure.")]
    assert " eg legislative or specific funding guidelines " in finding.source


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("reason", [r.value for r in DepartureReason])
def test_an_undocumented_departure_is_never_permitted(engine, reason):
    decision = decide(reason, False, engine)
    assert not decision.departure.permitted and decision.departure.basis == "not_documented"
    (finding,) = [f for f in decision.findings if f.rule.startswith("departure.")]
    assert finding.source == departures.DOCUMENTED and finding.section == "1.3"
    assert decision.advisories == []


def test_departures_run_first():
    assert DEFAULT_RULESETS[0] is departures.RULESET


other_parts = st.fixed_dictionaries(
    {},
    optional={
        "award": st.fixed_dictionaries(
            {
                "route": st.sampled_from(["procurement", "grant", "grant_in_kind"]),
                "value": st.decimals(min_value=0, max_value=10**7, places=2).map(str),
                "complexity": st.sampled_from(["low", "medium", "high"]),
                "time_limited": st.booleans(),
                "provider_tools": st.lists(st.sampled_from(["outcome_star", "soul", "other_robust"]), unique=True),
            }
        ),
        "review": st.fixed_dictionaries(
            {
                "outcomes_met": st.sampled_from(["met", "partly", "not_met"]),
                "need_continues": st.booleans(),
                "still_a_priority": st.booleans(),
                "better_route_available": st.booleans(),
            }
        ),
    },
)


@settings(max_examples=100, deadline=None)
@given(rest=other_parts, reason=st.sampled_from([r.value for r in DepartureReason]), documented=st.booleans())
def test_a_departure_decides_nothing_else(rest, reason, documented):
    without = cr.evaluate(rest, as_of=AS_OF, engine="reference").model_dump(exclude={"findings", "parameters", "advisories"})
    with_departure = decide(reason, documented, **rest).model_dump(exclude={"findings", "parameters", "advisories", "departure"})
    without.pop("departure")
    assert with_departure == without


@pytest.mark.skipif(not durable_available(), reason="durable-rules does not import on this Python")
@settings(max_examples=100, deadline=None)
@given(rest=other_parts, reason=st.sampled_from([r.value for r in DepartureReason]), documented=st.booleans())
def test_both_engines_agree_with_a_departure_beside_other_parts(rest, reason, documented):
    reference = decide(reason, documented, "reference", **rest).model_dump(exclude={"engine"})
    durable = decide(reason, documented, "durable-rules", **rest).model_dump(exclude={"engine"})
    assert reference == durable


def test_bad_reason_is_rejected_naming_the_field():
    with pytest.raises(ValidationError) as raised:
        decide("convenience", True)
    assert "departure.reason" in str(raised.value)


