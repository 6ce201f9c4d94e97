"""What-if: compare finds exactly the cases a policy change moves, and says how."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import commissioning_rules as cr
from commissioning_rules.compare import compare_case, outcomes
from commissioning_rules.engine import durable_available

DEFAULT = cr.Policy.default()
RAISED = cr.Policy.from_yaml(
    """
    name: Raised threshold
    parameters:
      accounts_threshold:
        values: [{effective_from: 2014-01-01, value: "10000.00", source: what-if}]
    """,
    origin="what-if",
)
FINANCIAL = "eligibility.criteria[financial_systems].status"

BOUNDARIES = ["0.00", "4999.99", "5000.00", "5000.01", "7500.00", "9999.99", "10000.00", "10000.01", "25000.00"]
turnovers = st.one_of(
    st.sampled_from(BOUNDARIES),
    st.integers(0, 3_000_000).map(lambda pence: f"{Decimal(pence) / 100:.2f}"),
)
organisations = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["charity", "company", "community_group", "sole_trader"]),
        "meets_accounting_law": st.booleans(),
        "internal_financial_controls": st.booleans(),
        "constitution_adopted": st.booleans(),
        "business_plan": st.sampled_from(["in_place", "none"]),
        "equality_policy": st.booleans(),
        "employs_staff": st.booleans(),
    },
    optional={
        "annual_turnover": turnovers,
        "accounts": st.sampled_from(["audited", "independently_examined", "unexamined", "none"]),
        "regular_committee_meetings": st.just(True),
        "annual_general_meeting": st.just(True),
        "equality_training": st.just(True),
        "insurance": st.just(["public_liability"]),
        "handles_personal_data": st.just(False),
        "will_recruit_for_service": st.just(False),
        "owns_premises_or_equipment": st.just(False),
        "owns_or_drives_vehicles": st.just(False),
    },
)
cases = st.builds(
    lambda organisation, as_of: {"as_of": as_of, "organisation": organisation, "service": {"works_with_children": False, "works_with_vulnerable_adults": False}},
    organisations,
    st.sampled_from(["2015-01-01", "2020-01-01", "2026-04-01"]),
)


def should_move(case: dict) -> bool:
    """Independently of the rules: raising the threshold from £5,000 to £10,000 lifts the published-accounts
    requirement from turnovers in (£5,000, £10,000]; the criterion then changes from not met to met exactly
    when its other two requirements are met and the accounts were not already examined or audited."""
    org = case["organisation"]
    if "annual_turnover" not in org:
        return False  # an unstated turnover requires published accounts under both thresholds
    turnover = Decimal(org["annual_turnover"])
    return (
        Decimal("5000") < turnover <= Decimal("10000")
        and org.get("accounts") not in ("audited", "independently_examined")
        and (org["meets_accounting_law"] or org["kind"] == "sole_trader")  # neither charity nor company law binds one
        and org["internal_financial_controls"]
    )


@settings(max_examples=60, deadline=None)
@given(batch=st.lists(cases, min_size=1, max_size=40))
def test_compare_finds_exactly_the_cases_a_threshold_change_moves(batch):
    comparison = cr.compare(batch, DEFAULT, RAISED, engine="reference")
    assert comparison.cases == len(batch)
    assert comparison.changed == [i for i, case in enumerate(batch) if should_move(case)]
    for difference in comparison.differences:
        assert str(difference.change(FINANCIAL)) == f"{FINANCIAL}: not met → met"
        assert difference.rules_only_a == ["financial_systems.published_accounts.not_met"]
        assert difference.rules_only_b == ["financial_systems.published_accounts.not_applicable"]
        before = cr.evaluate(batch[difference.index], engine="reference")
        others_met = all(c.status.value != "not_met" for c in before.eligibility.criteria if c.criterion != "financial_systems")
        eligible = difference.change("eligibility.eligible")
        assert (eligible is not None) == others_met
        assert {c.path for c in difference.changes} <= {FINANCIAL, "eligibility.eligible"}


@pytest.mark.skipif(not durable_available(), reason="durable-rules does not import on this Python")
def test_both_engines_report_the_same_differences():
    organisation = {"meets_accounting_law": True, "internal_financial_controls": True, "accounts": "none", "kind": "charity"}
    batch = [{"as_of": "2025-01-01", "organisation": {**organisation, "annual_turnover": t}} for t in BOUNDARIES]
    by_engine = [cr.compare(batch, DEFAULT, RAISED, engine=e) for e in ("reference", "durable-rules")]
    assert by_engine[0].changed == by_engine[1].changed == [3, 4, 5, 6]
    assert [d.changes for d in by_engine[0].differences] == [d.changes for d in by_engine[1].differences]


@settings(max_examples=40, deadline=None)
@given(case=cases)
def test_comparing_a_policy_with_itself_finds_nothing_and_swapping_swaps_the_values(case):
    assert cr.compare(case, RAISED, RAISED, engine="reference").differences == []
    forward = compare_case(case, DEFAULT, RAISED, engine="reference")
    backward = compare_case(case, RAISED, DEFAULT, engine="reference")
    assert (forward is None) == (backward is None) == (not should_move(case))
    if forward:
        assert [(c.path, c.a, c.b) for c in forward.changes] == [(c.path, c.b, c.a) for c in backward.changes]


def test_one_case_reports_the_criterion_that_changed_and_the_rules():
    case = {"as_of": "2025-01-01", "organisation": {"annual_turnover": "7000.00", "meets_accounting_law": True, "internal_financial_controls": True}}
    comparison = cr.compare(case, DEFAULT, RAISED, engine="reference")
    assert comparison.changed == [0]
    text = str(comparison)
    assert text.startswith("1 of 1 cases decided differently by Raised threshold")
    assert f"{FINANCIAL}: not met → met" in text
    json.dumps(comparison.model_dump(mode="json"))  # the report is JSON


def test_a_disabled_advisory_is_one_change_not_one_per_field():
    quiet = cr.Policy.from_yaml("name: Quiet\ndisable: [living_wage.encouraged]\n")
    difference = compare_case({"as_of": "2025-01-01", "organisation": {"employs_staff": True}}, DEFAULT, quiet, engine="reference")
    assert [str(c) for c in difference.changes] == ["advisories[living_wage.encouraged]: given → absent"]


def test_a_case_that_fails_under_one_policy_only_is_reported_with_the_error():
    later = cr.Policy.from_yaml(
        """
        name: Later
        parameters:
          accounts_threshold:
            values: [{effective_from: 2014-01-01, value: "5000.00", source: s}]
          local_limit: {description: d, unit: GBP, section: s, values: [{effective_from: 2030-01-01, value: "1.00", source: s}]}
        rules:
          - id: financial_systems.local.not_met
            ruleset: organisation_criteria
            section: local
            source: A sentence.
            when: {gt: {organisation.annual_turnover: {param: local_limit}}}
            then: {topic: financial_systems, outcome: not_met}
            because: words
        """
    )
    difference = compare_case({"as_of": "2025-01-01", "organisation": {}}, DEFAULT, later, engine="reference")
    assert difference.error_a is None
    assert "local_limit" in difference.error_b and "2025-01-01" in difference.error_b
    assert difference.change("eligibility.eligible").b is None


def test_outcomes_leave_the_explanations_out():
    decision = cr.evaluate({"as_of": "2025-01-01", "organisation": {"annual_turnover": "7000.00"}}, engine="reference")
    flat = outcomes(decision)
    assert flat["eligibility.eligible"] is False
    assert flat[FINANCIAL] == "not_met"
    assert not any(part in path for path in flat for part in ("reasons", "findings", "because", "policy", "parameters"))


def test_cases_neither_policy_can_decide_are_listed_not_counted_as_unchanged():
    # the default policy's accounts threshold starts on 1 January 2014: an organisation case before then cannot be decided
    batch = [{"as_of": "2013-06-01", "organisation": {}}, {"as_of": "2015-01-01", "organisation": {"annual_turnover": "7000.00"}}]
    comparison = cr.compare(batch, DEFAULT, RAISED, engine="reference")
    assert [u.index for u in comparison.unevaluated] == [0]
    assert "accounts_threshold" in comparison.unevaluated[0].error
    assert comparison.cases == 2
    with pytest.raises(cr.ParameterError):
        compare_case(batch[0], DEFAULT, RAISED, engine="reference")
