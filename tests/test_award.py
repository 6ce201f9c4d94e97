"""3.6 Awarding contracts, grants or grants in kind: the agreement document and what it must set out."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commissioning_rules.models.case import Complexity, Route
from sourcing_cases import decide, fired

TERM_IDS = ["role_and_obligations", "terms_and_conditions", "expected_outcomes", "basis_of_payment", "risk_management", "full_cost_recovery"]
PAYMENT_TERMS = {"basis_of_payment", "risk_management", "full_cost_recovery"}


def case(route: str, value: str = "12000.00") -> dict:
    return {"as_of": "2026-04-01", "award": {"route": route, "value": value}}


@pytest.mark.parametrize(
    ("route", "agreement"),
    [("procurement", "contract"), ("grant", "grant award letter"), ("grant_in_kind", "award letter")],
)
def test_the_agreement_document_follows_the_route(route, agreement):
    decision = decide(case(route))
    assert decision.award_terms.agreement == agreement
    assert fired(decision, "award.agreement.") == [f"award.agreement.{route}"]


@pytest.mark.parametrize("route", ["procurement", "grant"])
def test_a_paid_award_sets_out_every_term_of_36(route):
    terms = decide(case(route)).award_terms.terms
    assert [t.id for t in terms] == TERM_IDS
    assert all(t.required for t in terms)
    assert "full cost recovery" in next(t for t in terms if t.id == "full_cost_recovery").text


def test_a_grant_in_kind_sets_out_no_payment_terms_and_says_why():
    terms = {t.id: t for t in decide(case("grant_in_kind")).award_terms.terms}
    assert list(terms) == TERM_IDS
    assert {i for i, t in terms.items() if not t.required} == PAYMENT_TERMS
    assert all("resources, not funds" in terms[i].reason for i in PAYMENT_TERMS)
    assert terms["role_and_obligations"].required and terms["terms_and_conditions"].required


def test_no_award_no_terms():
    decision = decide({"as_of": "2026-04-01"})
    assert decision.award_terms is None and not fired(decision, "award.")


@settings(max_examples=100, deadline=None)
@given(
    route=st.sampled_from(list(Route)),
    value=st.integers(min_value=0, max_value=10**9).map(lambda p: f"{p // 100}.{p % 100:02d}"),
    complexity=st.sampled_from(list(Complexity)),
    time_limited=st.booleans(),
)
def test_every_award_gets_one_agreement_and_each_term_once(route, value, complexity, time_limited):
    decision = decide(
        {"as_of": "2026-04-01", "award": {"route": route.value, "value": value, "complexity": complexity.value, "time_limited": time_limited}}
    )
    assert len(fired(decision, "award.agreement.")) == 1
    assert [t.id for t in decision.award_terms.terms] == TERM_IDS
    assert all(t.required for t in decision.award_terms.terms if t.id not in PAYMENT_TERMS)


