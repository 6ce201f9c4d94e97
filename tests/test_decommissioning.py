"""3.8: the review outcome (exhaustively, on both engines), notice and its end date (against dateutil), duties."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from calendar import isleap
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

import commissioning_rules as cr
from commissioning_rules.calendar import add_months, days_in_month
from commissioning_rules.engine import durable_available
from commissioning_rules.models.case import OutcomesMet
from commissioning_rules.parameters import ParameterValue, default_parameters
from commissioning_rules.rules import DEFAULT_RULESETS

ENGINES = ["reference", "compiled"] + (["durable-rules"] if durable_available() else [])
AS_OF = dt.date(2026, 4, 1)
POLICY_TEXT = Path(__file__).resolve().parents[1] / "docs" / "framework" / "commissioning-framework-2014.txt"
BOOLS = (False, True)
#: The award's time limit as a case states it: no award described, an open-ended award, a time-limited one.
TIME_LIMITS = (None, False, True)


def review(outcomes_met="met", need=True, priority=True, better=False, served=None) -> dict:
    body = {
        "outcomes_met": outcomes_met,
        "need_continues": need,
        "still_a_priority": priority,
        "better_route_available": better,
    }
    if served is not None:
        body["notice_served_on"] = served
    return body


def case(time_limited=None, **review_fields) -> dict:
    built = {"review": review(**review_fields)}
    if time_limited is not None:
        built["award"] = {"route": "grant", "value": "12000.00", "time_limited": time_limited}
    return built


def decide(built: dict, engine: str = "reference", as_of: dt.date = AS_OF, policy=None):
    return cr.evaluate(built, as_of=as_of, engine=engine, policy=policy)


def expected_outcome(outcomes_met: OutcomesMet, need: bool, priority: bool, better: bool) -> tuple[str, str]:
    """The documented table (module docstring), written independently of the rules."""
    if not need:
        return "decommission", "need_ended"
    if not priority:
        return "decommission", "not_a_priority"
    if better:
        return "re_commission", "better_route"
    if outcomes_met is OutcomesMet.met:
        return "extend", "outcomes_met"
    return "re_commission", "outcomes_not_fully_met"


# --- the review outcome: complete and unambiguous ------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_every_review_gets_exactly_one_outcome_by_exhaustive_enumeration(engine):
    seen = set()
    for met, need, priority, better, time_limited in itertools.product(OutcomesMet, BOOLS, BOOLS, BOOLS, TIME_LIMITS):
        decision = decide(case(time_limited, outcomes_met=met.value, need=need, priority=priority, better=better), engine)
        rows = [f.rule for f in decision.findings if f.rule.startswith("review.")]
        outcome, reason = expected_outcome(met, need, priority, better)
        assert rows == [f"review.{outcome}.{reason}"], (met, need, priority, better)
        assert (decision.review.outcome, decision.review.reason) == (outcome, reason)
        # notice exactly when funding ends, and then exactly one period
        periods = [f.rule for f in decision.findings if f.rule in ("notice.ordinary", "notice.time_limited")]
        if outcome == "extend":
            assert decision.notice is None and periods == []
        else:
            assert periods == ["notice.time_limited" if time_limited else "notice.ordinary"]
            assert decision.notice.months == (0 if time_limited else 3)
            assert decision.notice.time_limited is bool(time_limited)
            assert len(decision.notice.duties) == 3
        seen.add(outcome)
    assert seen == {"extend", "re_commission", "decommission"}


def test_each_row_has_an_example():
    examples = {
        ("met", False, True, False): ("decommission", "need_ended"),
        ("met", True, False, False): ("decommission", "not_a_priority"),
        ("met", True, True, True): ("re_commission", "better_route"),
        ("met", True, True, False): ("extend", "outcomes_met"),
        ("partly", True, True, False): ("re_commission", "outcomes_not_fully_met"),
        ("not_met", True, True, False): ("re_commission", "outcomes_not_fully_met"),
    }
    for (met, need, priority, better), (outcome, reason) in examples.items():
        decision = decide(case(outcomes_met=met, need=need, priority=priority, better=better))
        assert (decision.review.outcome, decision.review.reason) == (outcome, reason)


def test_not_a_priority_cites_section_2_2_and_the_cycle_rows_cite_3_8():
    decision = decide(case(priority=False))
    (finding,) = [f for f in decision.findings if f.rule.startswith("review.")]
    assert finding.section == "2.2" and "according to our priorities" in finding.source
    decision = decide(case(better=True))
    (finding,) = [f for f in decision.findings if f.rule.startswith("review.")]
    assert finding.section == "3.8" and "extend, re-commission or decommission" in finding.source


# --- notice ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("served", "ends_on"),
    [
        ("2025-11-30", "2026-02-28"),  # month end: 30 Nov + 3 months
        ("2023-11-30", "2024-02-29"),  # leap year
        ("2025-11-29", "2026-02-28"),
        ("2023-11-29", "2024-02-29"),
        ("2025-12-31", "2026-03-31"),
        ("2026-03-31", "2026-06-30"),
        ("2026-01-15", "2026-04-15"),
        ("2099-11-30", "2100-02-28"),  # 2100 is not a leap year
        ("2399-11-30", "2400-02-29"),  # 2400 is
    ],
)
def test_ordinary_notice_ends_three_calendar_months_later_clamped_to_month_end(engine, served, ends_on):
    decision = decide(case(need=False, served=served), engine)
    assert decision.notice.months == 3
    assert decision.notice.ends_on == dt.date.fromisoformat(ends_on)
    assert not decision.notice.time_limited


@pytest.mark.parametrize("engine", ENGINES)
def test_time_limited_awards_get_the_reduced_notice(engine):
    decision = decide(case(True, need=False, served="2026-01-31"), engine)
    assert decision.notice.months == 0 and decision.notice.time_limited
    assert decision.notice.ends_on == dt.date(2026, 1, 31)
    assert {p.name: p.placeholder for p in decision.parameters}["notice_time_limited_months"] is True


@pytest.mark.parametrize("engine", ENGINES)
def test_an_award_not_described_or_not_time_limited_gets_the_ordinary_notice(engine):
    for time_limited in (None, False):
        decision = decide(case(time_limited, need=False), engine)
        assert decision.notice.months == 3 and decision.notice.ends_on is None


def test_no_notice_when_the_agreement_is_extended():
    decision = decide(case(served="2026-01-01"))
    assert decision.review.outcome == "extend" and decision.notice is None
    assert not [f for f in decision.findings if f.rule.startswith("notice.")]


def test_notice_duties_name_the_best_value_guidance_in_force():
    expected = {
        dt.date(2014, 6, 1): "Best Value Statutory Guidance (2011)",
        dt.date(2015, 3, 30): "Best Value Statutory Guidance (2011)",
        dt.date(2016, 1, 1): "Revised Best Value Statutory Guidance (2015)",
        dt.date(2024, 5, 8): "Best value standards and intervention",
    }
    for as_of, guidance in expected.items():
        duties = decide(case(need=False), as_of=as_of).notice.duties
        assert duties[0] == "engage the provider and service users as early as possible"
        assert guidance in duties[1]
        assert "phasing out" in duties[2]


def test_notice_past_the_last_representable_date_is_advised_not_raised():
    decision = decide(case(need=False, served="9999-11-15"))
    assert decision.notice.months == 3 and decision.notice.ends_on is None
    assert [a.id for a in decision.advisories] == ["notice.ends_on_unrepresentable"]


# --- calendar months: the month moves on by n, the day is clamped -------------------------------------------------------

MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def shortest_span(months: int) -> int:
    """The fewest days any ``months`` consecutive calendar months can hold (February of a common year)."""
    return min(sum(MONTH_DAYS[(start + i) % 12] for i in range(months)) for start in range(12))


served_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9000, 12, 31))
month_counts = st.integers(min_value=0, max_value=120)
#: Month ends and the days near them, where clamping happens, are drawn often.
#: Century and leap years (1900 and 2100 are not leap years, 2000 and 2400 are) are drawn often too.
years = st.one_of(st.integers(1900, 9000), st.sampled_from([1900, 2000, 2023, 2024, 2100, 2400, 2800, 2900]))
edge_dates = st.builds(
    lambda year, month, back: dt.date(year, month, days_in_month(year, month) - back),
    years, st.integers(1, 12), st.integers(0, 3),
)


@settings(max_examples=2000, deadline=None)
@given(start=st.one_of(served_dates, edge_dates), months=month_counts)
def test_the_end_is_never_before_the_served_date_plus_the_periods_shortest_span(start, months):
    end = add_months(start, months)
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == months  # n calendar months on
    assert (end - start).days >= shortest_span(months)
    assert end.day == min(start.day, MONTH_DAYS[end.month - 1] + (end.month == 2 and isleap(end.year)))


def test_add_months_examples_and_overflow():
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2026, 5, 31), -3) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 5, 17), 0) == dt.date(2026, 5, 17)
    assert shortest_span(3) == 89 and shortest_span(1) == 28 and shortest_span(12) == 365
    with pytest.raises(OverflowError):
        add_months(dt.date(9999, 12, 1), 1)


def _policy_with_notice(months: int) -> cr.Policy:
    parameters = dict(default_parameters())
    parameters["notice_ordinary_months"] = dataclasses.replace(
        parameters["notice_ordinary_months"], values=(ParameterValue(dt.date(2014, 1, 1), months, "a test's own value"),)
    )
    return cr.Policy(f"notice {months}", DEFAULT_RULESETS, parameters)


@settings(max_examples=300, deadline=None)
@given(served=st.one_of(served_dates, edge_dates), months=st.integers(min_value=0, max_value=24))
def test_a_councils_own_notice_period_ends_on_the_right_day(served, months):
    decision = decide(case(False, need=False, served=served.isoformat()), policy=_policy_with_notice(months))
    assert decision.notice.months == months
    assert decision.notice.ends_on == served + relativedelta(months=months)
    assert (decision.notice.ends_on - served).days >= shortest_span(months)


# --- both engines agree -----------------------------------------------------------------------------

reviews = st.fixed_dictionaries(
    {
        "outcomes_met": st.sampled_from([o.value for o in OutcomesMet]),
        "need_continues": st.booleans(),
        "still_a_priority": st.booleans(),
        "better_route_available": st.booleans(),
    },
    optional={"notice_served_on": st.one_of(served_dates, edge_dates).map(dt.date.isoformat)},
)
awards = st.fixed_dictionaries(
    {
        "route": st.sampled_from(["procurement", "grant", "grant_in_kind"]),
        "value": st.decimals(min_value=0, max_value=10**7, places=2).map(str),
        "complexity": st.sampled_from(["low", "medium", "high"]),
        "time_limited": st.booleans(),
        "provider_tools": st.lists(st.sampled_from(["outcome_star", "soul", "other_robust"]), unique=True),
        "other_public_funder_monitoring": st.booleans(),
    }
)
departures = st.fixed_dictionaries(
    {"reason": st.sampled_from(["legislation", "funding_guidelines", "other"]), "documented": st.booleans()}
)
after_award = st.fixed_dictionaries({"review": reviews}, optional={"award": awards, "departure": departures})
as_of_dates = st.dates(min_value=dt.date(2014, 1, 1), max_value=dt.date(2035, 12, 31))


@pytest.mark.skipif(not durable_available(), reason="durable-rules does not import on this Python")
@settings(max_examples=300, deadline=None)
@given(generated=after_award, as_of=as_of_dates)
def test_both_engines_agree_on_generated_cases_after_the_award(generated, as_of):
    reference = decide(generated, "reference", as_of).model_dump(exclude={"engine"})
    durable = decide(generated, "durable-rules", as_of).model_dump(exclude={"engine"})
    assert reference == durable


# --- sources ------------------------------------------------------------------------------------------


