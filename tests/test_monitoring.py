"""3.7, 3.7.1, 3.7.2: the monitoring plan — examples for every branch, the monotonicity property, engines agree."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import commissioning_rules as cr
from commissioning_rules.engine import durable_available
from commissioning_rules.models.case import Complexity, ProviderTool, Route
from commissioning_rules.models.decision import MonitoringLevel
from commissioning_rules.parameters import ParameterValue, default_parameters
from commissioning_rules.rules import DEFAULT_RULESETS, monitoring

ENGINES = ["reference", "compiled"] + (["durable-rules"] if durable_available() else [])
AS_OF = dt.date(2026, 4, 1)
POLICY_TEXT = Path(__file__).resolve().parents[1] / "docs" / "framework" / "commissioning-framework-2014.txt"
COMPLEXITIES = list(Complexity)


def award(value: str = "10000.00", complexity: str = "medium", **extra) -> dict:
    return {"route": "grant", "value": value, "complexity": complexity, **extra}


def plan(engine: str, as_of: dt.date = AS_OF, policy=None, **fields):
    decision = cr.evaluate({"award": award(**fields)}, as_of=as_of, engine=engine, policy=policy)
    return decision


def fired(decision, prefix: str) -> list[str]:
    return [f.rule for f in decision.findings if f.rule.startswith(prefix)]


# --- the level: every cell of the table, and the band edges ----------------------------------------------

EXPECTED_LEVELS = {
    ("lower", "low"): "light", ("lower", "medium"): "light", ("lower", "high"): "standard",
    ("middle", "low"): "light", ("middle", "medium"): "standard", ("middle", "high"): "intensive",
    ("upper", "low"): "standard", ("upper", "medium"): "intensive", ("upper", "high"): "intensive",
}
#: A value inside each band, and the values on each side of the two edges (defaults: £25,000 and £100,000).
BAND_VALUES = {
    "lower": ["0.00", "24999.99"],
    "middle": ["25000.00", "60000.00", "100000.00"],
    "upper": ["100000.01", "5000000.00"],
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("band", "complexity"), list(EXPECTED_LEVELS))
def test_every_cell_of_the_level_table(engine, band, complexity):
    for value in BAND_VALUES[band]:
        decision = plan(engine, value=value, complexity=complexity)
        assert decision.monitoring.level == EXPECTED_LEVELS[band, complexity], value
        assert fired(decision, "monitoring.level.") == [f"monitoring.level.{band}_value.{complexity}_complexity"]


def test_the_module_table_is_the_documented_table():
    assert {(band, c.value): level.value for (band, c), level in monitoring.LEVELS.items()} == EXPECTED_LEVELS


def test_the_table_is_monotone_in_value_band_and_complexity_exhaustively():
    bands = list(monitoring.VALUE_BANDS)
    for (b1, c1), (b2, c2) in itertools.product(monitoring.LEVELS, repeat=2):
        if bands.index(b1) <= bands.index(b2) and COMPLEXITIES.index(c1) <= COMPLEXITIES.index(c2):
            assert monitoring.LEVELS[b1, c1].rank <= monitoring.LEVELS[b2, c2].rank, ((b1, c1), (b2, c2))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("level", "interval", "visits"), [("light", 12, 0), ("standard", 6, 1), ("intensive", 3, 4)]
)
def test_what_each_level_means_comes_from_its_parameters(engine, level, interval, visits):
    value = {"light": "100.00", "standard": "50000.00", "intensive": "250000.00"}[level]
    decision = plan(engine, value=value)
    assert decision.monitoring.level == level
    assert decision.monitoring.reporting_interval_months == interval
    assert decision.monitoring.visits_per_year == visits
    used = {p.name: p for p in decision.parameters}
    assert used[f"monitoring_{level}_reporting_interval"].placeholder
    bands = [used[name] for name in ("monitoring_standard_value_from", "monitoring_intensive_value_above") if name in used]
    assert bands and all(band.placeholder for band in bands)


def test_a_finding_explains_the_level_with_the_value_and_the_band():
    decision = plan("reference", value="25000.00", complexity="medium")
    (finding,) = [f for f in decision.findings if f.rule.startswith("monitoring.level.")]
    assert "£25,000.00 is from £25,000.00 to £100,000.00" in finding.because
    assert "a report every 6 months" in finding.because and "1 monitoring visits a year" in finding.because
    assert finding.source == monitoring.PROPORTIONATE


# --- what every plan holds (3.7, 3.7.1) ------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_every_plan_monitors_performance_targets_equalities_and_agreed_evaluation(engine):
    decision = plan(engine)
    assert decision.monitoring.against_performance_targets
    assert decision.monitoring.equalities_monitoring
    assert decision.monitoring.evaluation_agreed_at_outset
    by_rule = {f.rule: f for f in decision.findings}
    assert by_rule["monitoring.equalities"].section == "3.7.1"
    assert "Equality Act 2010" in by_rule["monitoring.equalities"].because
    assert by_rule["monitoring.evaluation"].source == monitoring.EVALUATION
    assert "agreed at the outset" in by_rule["monitoring.evaluation"].because
    assert by_rule["monitoring.performance_targets"].section == "3.7"


def test_no_award_no_plan():
    decision = cr.evaluate({"departure": {"reason": "legislation", "documented": True}}, as_of=AS_OF, engine="reference")
    assert decision.monitoring is None
    assert not fired(decision, "monitoring.")


# --- the provider's own tools and other funders (3.7.2) -----------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_provider_tools_are_accepted_as_evidence_where_used(engine):
    for size in range(len(ProviderTool) + 1):
        for tools in itertools.combinations([t.value for t in ProviderTool], size):
            decision = plan(engine, as_of=dt.date(2016, 1, 1), provider_tools=list(tools))
            assert decision.monitoring.provider_tools_accepted == list(tools)
            assert fired(decision, "monitoring.provider_tool.") == [f"monitoring.provider_tool.{t}" for t in tools]


@pytest.mark.parametrize("engine", ENGINES)
def test_another_public_funders_monitoring_is_considered(engine):
    assert plan(engine, other_public_funder_monitoring=True).monitoring.other_funder_monitoring_considered
    assert not plan(engine, other_public_funder_monitoring=False).monitoring.other_funder_monitoring_considered
    assert fired(plan(engine, other_public_funder_monitoring=True), "monitoring.other_funder") == ["monitoring.other_funder"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("as_of", "advised"),
    [(dt.date(2014, 6, 1), False), (dt.date(2018, 6, 30), False), (dt.date(2018, 7, 1), True), (AS_OF, True)],
)
def test_soul_after_its_closure_brings_an_advisory_that_decides_nothing(engine, as_of, advised):
    with_soul = plan(engine, as_of=as_of, provider_tools=["soul"])
    ids = [a.id for a in with_soul.advisories]
    assert ids == (["monitoring.provider_tool.soul_closed"] if advised else [])
    assert with_soul.monitoring.provider_tools_accepted == ["soul"]
    without = plan(engine, as_of=as_of, provider_tools=["outcome_star"])
    assert without.advisories == []
    assert with_soul.monitoring.level == without.monitoring.level


# --- properties ---------------------------------------------------------------------------------------

money = st.decimals(min_value=0, max_value=Decimal("10000000"), places=2, allow_nan=False, allow_infinity=False)
edges = st.sampled_from([Decimal(v) for values in BAND_VALUES.values() for v in values])
values = st.one_of(money, edges)
complexities = st.sampled_from(COMPLEXITIES)


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=150, deadline=None)
@given(v1=values, v2=values, c1=complexities, c2=complexities)
def test_the_level_never_gets_lighter_as_value_or_complexity_rises(engine, v1, v2, c1, c2):
    (v1, v2), (c1, c2) = sorted((v1, v2)), sorted((c1, c2), key=COMPLEXITIES.index)
    lower = plan(engine, value=str(v1), complexity=c1.value).monitoring
    higher = plan(engine, value=str(v2), complexity=c2.value).monitoring
    assert lower.level.rank <= higher.level.rank
    assert lower.reporting_interval_months >= higher.reporting_interval_months
    assert lower.visits_per_year <= higher.visits_per_year


def _policy_with(**values) -> cr.Policy:
    parameters = dict(default_parameters())
    for name, value in values.items():
        parameters[name] = dataclasses.replace(
            parameters[name], values=(ParameterValue(dt.date(2014, 1, 1), value, "a test's own value"),)
        )
    return cr.Policy("test bands", DEFAULT_RULESETS, parameters)


@settings(max_examples=150, deadline=None)
@given(standard_from=money, intensive_above=money, v1=money, v2=money, c1=complexities, c2=complexities)
def test_monotonic_under_any_bands_a_council_sets_even_overlapping_ones(standard_from, intensive_above, v1, v2, c1, c2):
    policy = _policy_with(monitoring_standard_value_from=standard_from, monitoring_intensive_value_above=intensive_above)
    (v1, v2), (c1, c2) = sorted((v1, v2)), sorted((c1, c2), key=COMPLEXITIES.index)
    lower = plan("reference", policy=policy, value=str(v1), complexity=c1.value).monitoring
    higher = plan("reference", policy=policy, value=str(v2), complexity=c2.value).monitoring
    assert lower.level.rank <= higher.level.rank
    level_rules = fired(plan("reference", policy=policy, value=str(v1), complexity=c1.value), "monitoring.level.")
    if standard_from <= intensive_above:
        assert len(level_rules) == 1  # ordered bands: the table's hit policy is unique
    else:
        assert 1 <= len(level_rules) <= 2  # overlapping bands: the heavier level was kept (above)


def test_overlapping_bands_keep_the_heavier_level():
    policy = _policy_with(monitoring_standard_value_from=Decimal("90000.00"), monitoring_intensive_value_above=Decimal("30000.00"))
    decision = plan("reference", policy=policy, value="50000.00", complexity="medium")
    assert sorted(fired(decision, "monitoring.level.")) == [
        "monitoring.level.lower_value.medium_complexity", "monitoring.level.upper_value.medium_complexity",
    ]
    assert decision.monitoring.level == "intensive"


tools = st.lists(st.sampled_from([t.value for t in ProviderTool]), unique=True)


@settings(max_examples=100, deadline=None)
@given(value=values, complexity=complexities, chosen=tools, other=st.booleans())
def test_tools_and_other_funders_change_the_evidence_never_the_level(value, complexity, chosen, other):
    bare = plan("reference", value=str(value), complexity=complexity.value).monitoring
    helped = plan(
        "reference", value=str(value), complexity=complexity.value, provider_tools=chosen,
        other_public_funder_monitoring=other,
    ).monitoring
    assert (helped.level, helped.reporting_interval_months, helped.visits_per_year) == (
        bare.level, bare.reporting_interval_months, bare.visits_per_year,
    )


awards = st.fixed_dictionaries(
    {
        "route": st.sampled_from([r.value for r in Route]),
        "value": values.map(str),
        "complexity": complexities.map(lambda c: c.value),
        "time_limited": st.booleans(),
        "provider_tools": tools,
        "other_public_funder_monitoring": st.booleans(),
    }
)
dates = st.dates(min_value=dt.date(2014, 1, 1), max_value=dt.date(2035, 12, 31))


@pytest.mark.skipif(not durable_available(), reason="durable-rules does not import on this Python")
@settings(max_examples=200, deadline=None)
@given(generated=awards, as_of=dates)
def test_both_engines_agree_on_generated_awards(generated, as_of):
    reference = cr.evaluate({"award": generated}, as_of=as_of, engine="reference").model_dump(exclude={"engine"})
    durable = cr.evaluate({"award": generated}, as_of=as_of, engine="durable-rules").model_dump(exclude={"engine"})
    assert reference == durable


# --- parameters and sources --------------------------------------------------------------------------


def _dates_of(*names):
    parameters = default_parameters()
    return sorted({v.effective_from for name in names for v in parameters[name].values})


def test_default_bands_are_ordered_and_levels_mean_more_as_they_rise_at_every_date():
    parameters = default_parameters()
    names = [f"monitoring_{level.value}_{what}" for level in MonitoringLevel for what in ("reporting_interval", "visits_per_year")]
    for when in _dates_of("monitoring_standard_value_from", "monitoring_intensive_value_above", *names):
        at = {name: parameters[name].at(when).value for name in parameters if name.startswith("monitoring_")}
        assert at["monitoring_standard_value_from"] <= at["monitoring_intensive_value_above"]
        intervals = [at[f"monitoring_{level.value}_reporting_interval"] for level in MonitoringLevel]
        visits = [at[f"monitoring_{level.value}_visits_per_year"] for level in MonitoringLevel]
        assert intervals == sorted(intervals, reverse=True) and all(i >= 1 for i in intervals)
        assert visits == sorted(visits)




def test_no_threshold_is_written_into_a_condition():
    for rule in monitoring.RULESET.rules:
        assert not re.search(r"\d{3,}", repr(rule.when)), rule.id
