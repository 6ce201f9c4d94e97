"""3.4.2 Types of external provision: the route table is complete and unique for all 96 inputs, on every engine,
and each route carries the chart's process, agreement and sanctions."""

from __future__ import annotations

import itertools

import pytest

from commissioning_rules.models.case import FundingPurpose, InKindResource, Route
from commissioning_rules.rules import external_route
from commissioning_rules.rules.external_route import ROUTE_TERMS
from sourcing_cases import assert_quoted, decide, fired, rows_holding

AS_OF = "2026-04-01"
#: The whole finite input domain: 2^3 yes/no facts x 4 in-kind resources x 3 funding purposes.
DOMAIN = [
    {
        "for_council_direct_benefit": direct,
        "funds_available": funds,
        "aligned_to_council_outcomes": aligned,
        "in_kind_resource": resource.value,
        "funding_purpose": purpose.value,
    }
    for direct, funds, aligned in itertools.product((False, True), repeat=3)
    for resource in InKindResource
    for purpose in FundingPurpose
]


def chart(p: dict) -> str:
    """Chart 3.4.2's "Appropriate" column read as a first-hit list, written independently of the table."""
    if p["for_council_direct_benefit"]:
        return "procurement" if p["funds_available"] else "none"
    if not p["aligned_to_council_outcomes"]:
        return "none"
    if p["funds_available"]:
        return "grant" if p["funding_purpose"] in ("specific_project", "core_costs") else "none"
    if p["in_kind_resource"] != "none" and p["funding_purpose"] != "specific_project":
        return "grant_in_kind"
    return "none"


def test_the_domain_is_every_input():
    assert len(DOMAIN) == 96 == len({tuple(sorted(p.items())) for p in DOMAIN})


def test_exactly_one_row_holds_for_every_input():
    """Unique hit policy, proved on the rule data itself."""
    for p in DOMAIN:
        matching = rows_holding(external_route.RULESET, {"provision": p})
        assert len(matching) == 1, (p, matching)


@pytest.mark.parametrize("p", DOMAIN, ids=lambda p: "-".join(str(v) for v in p.values()))
def test_every_input_gets_exactly_one_route_on_every_engine(p):
    decision = decide({"as_of": AS_OF, "provision": p})
    assert len(fired(decision, "route.")) == 1
    route = decision.route
    assert route.route == chart(p)
    assert route.reasons and all(reason for reason in route.reasons)
    if route.route == "none":
        assert route.process == [] and route.agreement is None and route.non_compliance is None
    else:
        assert [s.id for s in route.process] == [s.id for s in ROUTE_TERMS[Route(route.route)].process]


def test_every_row_is_reachable():
    rows = {fired(decide({"as_of": AS_OF, "provision": p}), "route.")[0] for p in DOMAIN}
    assert rows == {rule.id for rule in external_route.RULES}


def _case(direct=False, funds=True, aligned=True, resource="none", purpose="specific_project") -> dict:
    return {
        "as_of": AS_OF,
        "provision": {
            "for_council_direct_benefit": direct,
            "funds_available": funds,
            "aligned_to_council_outcomes": aligned,
            "in_kind_resource": resource,
            "funding_purpose": purpose,
        },
    }


@pytest.mark.parametrize(
    ("case", "row", "route"),
    [
        (_case(direct=True, aligned=False), "route.procurement", "procurement"),
        (_case(direct=True, funds=False, resource="accommodation"), "route.none_no_funds_to_buy", "none"),
        (_case(aligned=False), "route.none_not_aligned", "none"),
        (_case(purpose="core_costs"), "route.grant", "grant"),
        (_case(purpose="specific_project", resource="equipment"), "route.grant", "grant"),
        (_case(purpose="overall_activities"), "route.none_funds_for_overall_activities", "none"),
        (_case(funds=False, resource="accommodation", purpose="overall_activities"), "route.grant_in_kind", "grant_in_kind"),
        (_case(funds=False, resource="other", purpose="core_costs"), "route.grant_in_kind", "grant_in_kind"),
        (_case(funds=False, resource="equipment", purpose="specific_project"), "route.none_in_kind_for_project", "none"),
        (_case(funds=False, resource="none", purpose="overall_activities"), "route.none_nothing_to_offer", "none"),
    ],
)
def test_each_row_by_example(case, row, route):
    decision = decide(case)
    assert fired(decision, "route.") == [row]
    assert decision.route.route == route
    assert next(f for f in decision.findings if f.rule == row).section == "3.4.2"


def test_procurement_is_a_contract_with_sanctions_and_the_charts_seven_steps():
    route = decide(_case(direct=True)).route
    assert (route.agreement, route.legally_binding) == ("contract", True)
    assert "retrospective recovery of costs" in route.non_compliance
    assert [s.id for s in route.process] == [
        "procurement.specification",
        "procurement.advertise",
        "procurement.panel_assessment",
        "procurement.purchase_order",
        "procurement.contract",
        "procurement.manage_delivery",
        "procurement.performance_review",
    ]
    assert route.process[0].text == "Draw up specification and tender document."


def test_a_grant_is_an_award_letter_not_a_contract_and_non_compliance_stops_payments():
    route = decide(_case(purpose="core_costs")).route
    assert (route.agreement, route.legally_binding) == ("grant award letter", False)
    assert "no future payments" in route.non_compliance
    assert [s.id for s in route.process] == [
        "grant.advertise",
        "grant.panel_assessment",
        "grant.conditions",
        "grant.award_letter",
        "grant.performance_management",
    ]


def test_a_grant_in_kind_is_detailed_in_an_award_letter():
    route = decide(_case(funds=False, resource="accommodation", purpose="overall_activities")).route
    assert route.agreement == "award letter"
    assert [(s.id, s.text) for s in route.process] == [
        ("grant_in_kind.award_letter", "Arrangements will be detailed within an award letter.")
    ]
    assert route.legally_binding is None and route.non_compliance is None  # the chart says neither


def test_process_step_ids_are_unique_and_name_their_route():
    ids = [step.id for terms in ROUTE_TERMS.values() for step in terms.process]
    assert len(ids) == len(set(ids))
    assert all(step.id.startswith(f"{route.value}.") for route, terms in ROUTE_TERMS.items() for step in terms.process)
    assert set(ROUTE_TERMS) == set(Route)


def test_the_process_json_is_a_list_of_id_and_text():
    dumped = decide(_case(direct=True)).model_dump(mode="json")["route"]
    assert dumped["route"] == "procurement"
    assert dumped["process"][1] == {"id": "procurement.advertise", "text": "Advertise opportunity and invite competition."}


def test_every_step_and_consequence_quotes_the_chart():
    assert_quoted(step.text for terms in ROUTE_TERMS.values() for step in terms.process)
    assert_quoted(terms.non_compliance for terms in ROUTE_TERMS.values() if terms.non_compliance)
