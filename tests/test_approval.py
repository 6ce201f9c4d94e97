"""3.5 (last paragraph) Who decides: a panel for grants (cabinet told); for procurement the value sets the level and
the procedure, under the regime and threshold in force at as_of. Bands are effective-dated parameters."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import commissioning_rules as cr
from commissioning_rules.engine.rule import Compare, Param
from commissioning_rules.parameters import ParameterValue
from commissioning_rules.rules import approval
from sourcing_cases import decide, fired

PARAMETERS = cr.Policy.default().parameters
#: Dates the regime or the threshold changes, and the days either side.
CHANGES = sorted(
    {v.effective_from for name in ("procurement_regime", "sub_central_services_threshold") for v in PARAMETERS[name].values}
)
FIRST_DAY = dt.date(2014, 1, 1)  # the framework's year: every procurement parameter has a value from here


def procurement(value: str | Decimal, as_of: str | dt.date = "2026-04-01") -> dict:
    return {"as_of": str(as_of), "award": {"route": "procurement", "value": str(value)}}


def parameter(name: str, on: dt.date):
    return PARAMETERS[name].at(on).value


@pytest.mark.parametrize("route", ["grant", "grant_in_kind"])
def test_grants_are_assessed_by_a_panel_and_cabinet_is_notified(route):
    decision = decide({"as_of": "2026-04-01", "award": {"route": route, "value": "500000.00"}})
    assert fired(decision, "approval.") == ["approval.grant_panel"]
    a = decision.approval
    assert (a.decided_by, a.notified) == ("panel", ["cabinet"])
    assert (a.procedure, a.regime, a.threshold, a.reaches_threshold, a.placeholders) == (None, None, None, None, [])
    approval_parameters = {name for rule in approval.RULESET.rules for name in rule.cites}
    # nothing set by the council decided a grant's approval
    assert [p for p in decision.parameters if p.name in approval_parameters] == []


@pytest.mark.parametrize(
    ("value", "procedure", "decided_by"),
    [
        ("0.00", "direct_purchase", "officer"),
        ("24999.99", "direct_purchase", "officer"),
        ("25000.00", "three_quotes", "officer"),
        ("100000.00", "three_quotes", "officer"),
        ("100000.01", "formal_tender", "elected_member"),
        ("5000000.00", "formal_tender", "elected_member"),
    ],
)
def test_procurement_value_bands(value, procedure, decided_by):
    """Norwich's bands: under £25,000 direct purchase; £25,000 to £100,000 three quotes; over £100,000 tender."""
    decision = decide(procurement(value))
    assert decision.approval.procedure == procedure
    assert decision.approval.decided_by == decided_by
    assert decision.approval.notified == []
    assert fired(decision, f"approval.{procedure}") == [f"approval.{procedure}"]


def test_the_placeholder_member_threshold_is_declared_where_it_decides():
    decision = decide(procurement("60000.00"))
    assert decision.approval.placeholders == ["member_decision_threshold"]
    used = {p.name: p for p in decision.parameters}
    assert used["member_decision_threshold"].placeholder is True
    assert used["procurement_quotes_threshold"].placeholder is False
    assert "placeholder" in decision.explain()


@pytest.mark.parametrize(
    ("as_of", "regime"),
    [
        ("2014-06-01", "Public Contracts Regulations 2006"),
        ("2015-02-25", "Public Contracts Regulations 2006"),
        ("2015-02-26", "Public Contracts Regulations 2015"),
        ("2025-02-23", "Public Contracts Regulations 2015"),
        ("2025-02-24", "Procurement Act 2023"),
    ],
)
def test_the_regime_in_force_at_as_of(as_of, regime):
    assert decide(procurement("1000.00", as_of)).approval.regime == regime


def test_the_same_value_either_side_of_a_threshold_change():
    """£210,000 was below the threshold on 31 December 2025 (£214,904) and reaches it on 1 January 2026 (£207,720)."""
    before, after = (decide(procurement("210000.00", on)).approval for on in ("2025-12-31", "2026-01-01"))
    assert (before.threshold, before.reaches_threshold) == (Decimal("214904.00"), False)
    assert (after.threshold, after.reaches_threshold) == (Decimal("207720.00"), True)
    assert before.regime == after.regime == "Procurement Act 2023"


def test_reaching_the_threshold_is_at_or_above_it():
    at = decide(procurement("207720.00", "2026-01-01")).approval
    below = decide(procurement("207719.99", "2026-01-01")).approval
    assert (at.reaches_threshold, below.reaches_threshold) == (True, False)


VAT_INCLUSIVE_FROM = dt.date(2022, 1, 1)


@pytest.mark.parametrize(("as_of", "value", "includes_vat", "reaches"), [
    # the threshold excludes VAT before 2022: a VAT-exclusive value is compared exactly
    ("2021-12-31", "189330.00", False, True), ("2021-12-31", "189329.99", False, False),
    # a VAT-inclusive value below it is below it; at or above, the VAT-exclusive value is unknown
    ("2021-12-31", "189329.99", True, False), ("2021-12-31", "189330.00", True, None),
    # from 2022 the threshold includes VAT: a VAT-inclusive value is compared exactly
    ("2022-01-01", "213477.00", True, True), ("2022-01-01", "213476.99", True, False),
    # a VAT-exclusive value reaching it reaches it; below it, the VAT-inclusive value is unknown
    ("2022-01-01", "213477.00", False, True), ("2022-01-01", "213476.99", False, None),
])
def test_the_threshold_follows_its_vat_basis(as_of, value, includes_vat, reaches):
    case = procurement(value, as_of)
    case["award"]["value_includes_vat"] = includes_vat
    decision = decide(case)
    assert decision.approval.reaches_threshold is reaches
    (finding,) = [f for f in decision.findings if f.rule.startswith("approval.threshold")]
    if reaches is None:
        assert finding.rule == "approval.threshold_basis_differs" and "state the value on the threshold's basis" in finding.because
    assert {p.name: p.value for p in decision.parameters}["sub_central_threshold_includes_vat"] == str(as_of >= "2022-01-01")


def test_a_council_sets_its_own_member_threshold():
    """The bands are parameters, not literals: another council's figure changes the decision."""
    member = PARAMETERS["member_decision_threshold"]
    own = dataclasses.replace(
        member, placeholder=False,
        values=(ParameterValue(dt.date(2014, 1, 1), Decimal("50000.00"), "Another council's standing orders"),),
    )
    policy = cr.Policy("another council", cr.Policy.default().rulesets, {**PARAMETERS, own.name: own})
    decision = decide(procurement("60000.00"), policy=policy)
    assert decision.approval.decided_by == "elected_member"
    assert decision.approval.placeholders == []
    assert cr.evaluate(procurement("60000.00")).approval.decided_by == "officer"


# --- properties -------------------------------------------------------------------------------------

pence = st.integers(min_value=0, max_value=10**9)  # up to £10 million
dates = st.one_of(
    st.dates(min_value=FIRST_DAY, max_value=dt.date(2030, 12, 31)),
    st.sampled_from(CHANGES).flatmap(lambda d: st.sampled_from([d - dt.timedelta(days=1), d])).filter(lambda d: d >= FIRST_DAY),
)


def pounds(p: int) -> Decimal:
    return Decimal(p).scaleb(-2)


@settings(max_examples=150, deadline=None)
@given(low=pence, rise=pence, as_of=dates)
def test_raising_the_value_never_lowers_the_level_or_the_procedure(low, rise, as_of):
    lower, higher = (decide(procurement(pounds(p), as_of)).approval for p in (low, low + rise))
    assert approval.LEVELS.index(higher.decided_by) >= approval.LEVELS.index(lower.decided_by)
    assert approval.PROCEDURES.index(higher.procedure) >= approval.PROCEDURES.index(lower.procedure)
    # below, undetermined (a value including VAT against a threshold excluding it), reached: never down as it rises
    rank = {False: 0, None: 1, True: 2}
    assert rank[higher.reaches_threshold] >= rank[lower.reaches_threshold]


@settings(max_examples=150, deadline=None)
@given(value=pence, first=dates, second=dates)
def test_each_date_gets_its_own_regime_and_threshold(value, first, second):
    amount = pounds(value)
    for on in (first, second):
        a = decide(procurement(amount, on)).approval
        assert a.regime == parameter("procurement_regime", on)
        assert a.threshold == parameter("sub_central_services_threshold", on)
        same_basis = on >= VAT_INCLUSIVE_FROM  # the value is stated including VAT (the default)
        assert a.reaches_threshold == (amount >= a.threshold if same_basis else False if amount < a.threshold else None)


@settings(max_examples=150, deadline=None)
@given(value=pence, as_of=dates, route=st.sampled_from(["procurement", "grant", "grant_in_kind"]))
def test_exactly_one_decider_and_at_most_one_procedure(value, as_of, route):
    decision = decide({"as_of": str(as_of), "award": {"route": route, "value": str(pounds(value))}})
    outcomes = [next(r for r in approval.RULES if r.id == f.rule).then.topic for f in decision.findings if f.rule.startswith("approval.")]
    assert outcomes.count("decided_by") == 1
    assert outcomes.count("procedure") == (1 if route == "procurement" else 0)
    assert outcomes.count("threshold") == (1 if route == "procurement" else 0)


def test_no_threshold_is_written_into_a_rule():
    """Every comparison with the award's value is against a named parameter, never a literal amount."""

    def comparisons(condition):
        if isinstance(condition, Compare):
            return [condition]
        return [c for inner in condition.conditions for c in comparisons(inner)]

    on_value = [c for rule in approval.RULES for c in comparisons(rule.when) if c.path == "award.value"]
    assert len(on_value) == 10  # bands, and the threshold on each VAT basis
    assert all(isinstance(c.operand, Param) for c in on_value)
