"""The framework is one process: stage dependencies (3.5, 3.4.1), the route mismatch, and one definition of
"has or will have employees" — on every engine, with examples at each boundary and properties."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import commissioning_rules as cr
from commissioning_rules.check import check
from commissioning_rules.engine.rule import StageGate
from commissioning_rules.models.case import FundingPurpose, InKindResource, Route
from commissioning_rules.rules import external_route
from commissioning_rules.rules.organisation_criteria import NO_FURTHER_CONSIDERATION_SOURCE
from gate_cases import compliant_case, statuses
from sourcing_cases import assert_quoted, decide

DELIVERY = {
    "self": {"council_capacity": "full", "self_delivery_most_efficient": True, "outcomes_need_partners": False,
             "joint_commissioning_adds_value": False, "appropriate_partnership_exists": False},
    "partnership": {"council_capacity": "none", "self_delivery_most_efficient": False, "outcomes_need_partners": True,
                    "joint_commissioning_adds_value": True, "appropriate_partnership_exists": True},
    "external": {"council_capacity": "reduced", "self_delivery_most_efficient": False, "outcomes_need_partners": False,
                 "joint_commissioning_adds_value": False, "appropriate_partnership_exists": False},
}
GRANT_PROVISION = {"for_council_direct_benefit": False, "funds_available": True, "in_kind_resource": "none",
                   "funding_purpose": "core_costs", "aligned_to_council_outcomes": True}
OPTIONS = [{"name": "community partner", "whole_life_cost": "100.00", "economic_value": "150.00", "social_value": "0",
            "environmental_value": "0", "meets_required_outcomes": True}]


def whole_case(organisation: dict | None = None, *, delivery: str = "external", route: str = "grant") -> dict:
    case = compliant_case(organisation)
    case.update(delivery=DELIVERY[delivery], provision=GRANT_PROVISION, options=OPTIONS,
                award={"route": route, "value": "20000.00", "starts_on": "2026-04-01", "ends_on": "2027-03-31"})
    return case


# --- 3.5: no further consideration after a failed gate ------------------------------------------------------


def test_an_ineligible_applicant_gets_no_approval_award_terms_or_monitoring():
    decision = decide(whole_case({"staff_dbs_checked": False}))
    assert not decision.eligibility.eligible
    assert (decision.approval, decision.award_terms, decision.monitoring) == (None, None, None)
    # the council-side decisions that come before any applicant are still given
    assert decision.best_value.option == "community partner"
    assert decision.delivery.method == "external" and decision.route.route == "grant"
    (advisory,) = [a for a in decision.advisories if a.id == "no_further_consideration"]
    assert advisory.section == "3.5" and NO_FURTHER_CONSIDERATION_SOURCE in advisory.message
    assert "approval, award terms, monitoring not given" in advisory.message
    assert "no_further_consideration" in [f.rule for f in decision.findings]
    # nothing of the withheld stages is left behind: no finding, no parameter
    assert not [f for f in decision.findings if f.rule.startswith(("approval.", "award.", "monitoring."))]
    assert not [p for p in decision.parameters if p.name.startswith(("monitoring_", "procurement_", "member_"))]
    assert_quoted([NO_FURTHER_CONSIDERATION_SOURCE])


def test_the_boundary_one_requirement_shown_gives_every_stage():
    decision = decide(whole_case())
    assert decision.eligibility.eligible
    assert decision.approval and decision.award_terms and decision.monitoring
    assert "no_further_consideration" not in [a.id for a in decision.advisories]


def test_without_an_applicant_the_award_stages_are_still_given():
    case = whole_case()
    del case["organisation"], case["service"]
    decision = decide(case)
    assert decision.eligibility is None and decision.approval and decision.monitoring


# --- 3.4.1: a route only for external delivery ---------------------------------------------------------------


@pytest.mark.parametrize(("method", "route_given"), [("self", False), ("partnership", False), ("external", True)])
def test_a_route_follows_external_delivery_only(method, route_given):
    decision = decide(whole_case(delivery=method))
    assert decision.delivery.method == method
    gate = [f for f in decision.findings if f.rule == "route.follows_external_delivery"]
    if route_given:
        assert decision.route.route == "grant" and not gate
    else:
        assert decision.route is None
        assert f"delivery is {method}" in gate[0].because and gate[0].section == "3.4.1"
        assert [f.rule for f in decision.findings if f.rule.startswith(("route.", "route_mismatch."))] == [gate[0].rule]
        assert "route_mismatch" not in [a.id for a in decision.advisories]
    assert_quoted([external_route.ROUTE_STEP])


def test_without_a_delivery_decision_the_route_is_still_decided():
    case = whole_case()
    del case["delivery"]
    assert decide(case).route.route == "grant"


PROVISIONS = [
    dict(zip(("for_council_direct_benefit", "funds_available", "aligned_to_council_outcomes", "in_kind_resource",
              "funding_purpose"), values))
    for values in itertools.product((True, False), (True, False), (True, False),
                                    [r.value for r in InKindResource], [p.value for p in FundingPurpose])
]


@settings(max_examples=60, derandomize=True)
@given(provision=st.sampled_from(PROVISIONS), route=st.sampled_from([r.value for r in Route]))
def test_route_mismatch_iff_the_award_takes_another_route(provision, route):
    decision = decide({"as_of": "2026-04-01", "provision": provision, "award": {"route": route, "value": "100.00"}})
    mismatches = [a for a in decision.advisories if a.id == "route_mismatch"]
    assert len(mismatches) == (decision.route.route != route)
    if mismatches:
        assert f"the award is a {route.replace('_', ' ')}" in mismatches[0].message


@pytest.mark.parametrize(("award_route", "advised"), [("grant", False), ("procurement", True), ("grant_in_kind", True)])
def test_route_mismatch_examples(award_route, advised):
    decision = decide(whole_case(route=award_route))
    assert ("route_mismatch" in [a.id for a in decision.advisories]) is advised


# --- one definition of "has or will have employees" -------------------------------------------------------

RECRUITING = {"employs_staff": False, "will_recruit_for_service": True, "staff_dbs_checked": False,
              "safeguarding_training_current": False, "insurance": ["public_liability", "property_and_equipment", "vehicle"]}


def test_an_organisation_recruiting_for_a_childrens_service_must_vet_train_and_insure():
    decision = decide(compliant_case(RECRUITING, {"works_with_children": True, "works_with_vulnerable_adults": False}))
    failed = {c for c, s in statuses(decision).items() if s == "not_met"}
    assert failed == {"disclosure_and_barring", "safeguarding_training", "insurance"}
    fired = [f.rule for f in decision.findings]
    for rule in ("disclosure_and_barring.staff_checked.not_met", "safeguarding_training.current_training.not_met",
                 "insurance.employers_liability.not_met"):
        assert rule in fired


@pytest.mark.parametrize(("employs", "recruits", "applies"), [(True, False, True), (False, True, True),
                                                              (None, False, True), (False, None, True),
                                                              (False, False, False)])
def test_every_employee_requirement_reads_the_same_definition(employs, recruits, applies):
    decision = decide(compliant_case({**RECRUITING, "employs_staff": employs, "will_recruit_for_service": recruits,
                                      "pays_living_wage": False}))
    fired = {f.rule for f in decision.findings}
    for requirement in ("disclosure_and_barring.staff_checked", "safeguarding_training.current_training",
                        "insurance.employers_liability", "employment_practices.contracts_and_job_descriptions"):
        outcome = {r.rsplit(".", 1)[1] for r in fired if r.startswith(requirement + ".")}
        assert outcome <= {"met", "not_met"} if applies else outcome == {"not_applicable"}, (requirement, outcome)
    assert ("living_wage.encouraged" in fired) is applies


# --- the gates are data: checked, hashed, and honoured by a council's policy ---------------------------------


def test_check_reports_a_gate_on_a_stage_no_earlier_rule_set_decides():
    policy = cr.Policy.default()
    late = StageGate("late", "3.8", "quoted", after="review", attribute="outcome", allows=("extend",), because="{value}")
    rulesets = tuple(
        dataclasses.replace(rs, requires=(*rs.requires, late)) if rs.name == "approval" else rs for rs in policy.rulesets
    )
    bad = cr.Policy("gated too early", rulesets, policy.parameters)
    assert bad.version != policy.version
    assert [f.subject for f in check(bad) if f.check == "dangling_stage"] == ["late"]
