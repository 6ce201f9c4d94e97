"""Readings of the text: the specification's criteria, proportionality (3.5), notice against the agreement (3.8),
monitoring within the agreement (3.7), what would change an outcome (to_meet), and the explanation's wording.
Every example runs on every engine (``decide`` compares them)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import commissioning_rules as cr
from commissioning_rules.calendar import add_months, latest_start
from commissioning_rules.models.case import ChartCriterion
from commissioning_rules.testing import strategies
from gate_cases import SMALL_COMPLIANT_ORGANISATION, compliant_case, statuses
from sourcing_cases import decide

ROWS = [c.value for c in ChartCriterion]

# --- the criteria set out in the specification (3.5) ---------------------------------------------------------


def test_by_default_every_chart_row_is_set_out():
    assert statuses(decide(compliant_case())) == {row: "met" for row in ROWS}


@pytest.mark.parametrize("left_out", ["insurance", "disclosure_and_barring"])
def test_a_row_the_specification_leaves_out_is_not_applicable_even_where_it_would_fail(left_out):
    kept = [row for row in ROWS if row != left_out]
    failing = {"insurance": {"insurance": []}, "disclosure_and_barring": {"staff_dbs_checked": False}}[left_out]
    assert not decide(compliant_case(failing)).eligibility.eligible  # the boundary: set out, it fails
    decision = decide(compliant_case(failing, {"specification_criteria": kept}))
    assert decision.eligibility.eligible and statuses(decision)[left_out] == "not_applicable"
    row = next(c for c in decision.eligibility.criteria if c.criterion == left_out)
    assert row.reasons == [f"the specification or grant application document does not set out the "
                           f"{left_out.replace('_', ' ')} criterion (criteria it sets out: "
                           + ", ".join(r.replace("_", " ") for r in kept) + ")"]


def test_additional_criteria_apply_whatever_rows_are_set_out():
    service = {"specification_criteria": [], "additional_criteria": [{"id": "q", "description": "Quality mark", "met": False}]}
    decision = decide(compliant_case({}, service))
    assert set(statuses(decision).values()) == {"not_applicable", "not_met"} and statuses(decision)["q"] == "not_met"
    assert decision.eligibility.criteria[-1].to_meet == ["q met: Quality mark"]


# --- proportionate and relevant (3.5) ------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "applies"), [("sole_trader", False), ("individual", False), ("charity", True),
                                               ("company", True), ("community_group", True), (None, True)])
def test_charity_or_company_law_is_not_asked_of_a_sole_trader_or_an_individual(kind, applies):
    decision = decide(compliant_case({"kind": kind, "meets_accounting_law": False}))
    outcome = "not_met" if applies else "not_applicable"
    assert f"financial_systems.accounting_law.{outcome}" in [f.rule for f in decision.findings]


@pytest.mark.parametrize(("kind", "applies"), [("company", False), ("community_interest_company", False),
                                               ("public_body", False), ("sole_trader", False), ("charity", True),
                                               ("cooperative", True), ("association", True), (None, True)])
def test_an_annual_general_meeting_is_not_asked_of_a_company_or_public_body(kind, applies):
    decision = decide(compliant_case({"kind": kind, "annual_general_meeting": False}))
    outcome = "not_met" if applies else "not_applicable"
    assert f"management.annual_general_meeting.{outcome}" in [f.rule for f in decision.findings]
    assert decision.eligibility.eligible is not applies


@pytest.mark.parametrize(("employs", "recruits", "applies"), [(False, False, False), (True, False, True), (False, True, True)])
def test_equality_training_needs_managers_or_staff_but_the_policy_is_for_all(employs, recruits, applies):
    organisation = {**SMALL_COMPLIANT_ORGANISATION, "employs_staff": employs, "will_recruit_for_service": recruits,
                    "equality_training": False, "equality_policy": True}
    decision = decide({"as_of": "2026-04-01", "organisation": organisation,
                       "service": {"works_with_children": False, "works_with_vulnerable_adults": False}})
    fired = [f.rule for f in decision.findings]
    assert ("equality.training.not_met" if applies else "equality.training.not_applicable") in fired
    assert "equality.written_policy.met" in fired


def test_an_unstated_turnover_is_worded_as_unstated():
    decision = decide(compliant_case({"annual_turnover": None, "accounts": "none"}))
    (reason,) = [f.because for f in decision.findings if f.rule.startswith("financial_systems.published_accounts")]
    assert reason.startswith("annual turnover is not stated") and "not stated is above" not in reason
    stated = decide(compliant_case({"annual_turnover": "5000.01", "accounts": "none"}))
    assert not [f for f in stated.findings if "or not stated" in f.because]


# --- what would meet a criterion, and give a route -----------------------------------------------------------


@settings(max_examples=40, derandomize=True)
@given(case=strategies.cases(require=("organisation",), exclude=("award", "review", "options", "delivery", "provision", "departure")))
def test_every_criterion_not_met_says_what_would_meet_it_and_no_other_does(case):
    for row in decide(case.model_dump(mode="json")).eligibility.criteria:
        assert bool(row.to_meet) == (row.status.value == "not_met"), row


def test_to_meet_is_read_from_the_failing_conditions():
    decision = decide(compliant_case({"accounts": "unexamined", "insurance": ["public_liability"]}))
    needs = {c.criterion: c.to_meet for c in decision.eligibility.criteria if c.to_meet}
    assert needs == {
        "financial_systems": ["accounts: audited or independently examined"],
        "insurance": ["insurance: employers liability", "insurance: property and equipment", "insurance: vehicle"],
    }


def test_what_would_meet_a_requirement_read_from_the_model_is_what_the_plain_values_give():
    """The words say what each requirement's ``satisfied`` condition (and each route's row) needs, read straight from the case's model
    (as the compiled engine reads it) and, for a fact made by hand, from its values: the same on random cases
    (money either side of each threshold, every parameter date), met or not."""
    from commissioning_rules.engine.values import Fact, encode
    from commissioning_rules.facts import plain_case_facts
    from commissioning_rules.parameters import resolve
    from commissioning_rules.rules import external_route
    from commissioning_rules.rules.organisation_criteria import REQUIREMENTS
    from commissioning_rules.rules.to_meet import needed, needed_of
    from commissioning_rules.testing.samples import random_cases

    policy = cr.Policy.default()
    said = 0
    for case in random_cases(1_500, seed=21):
        resolved = resolve(policy.parameters, policy.parameters, case.as_of)
        encoded = {name: encode(value.value) for name, value in resolved.values.items()}
        fact = plain_case_facts(case)[0]
        by_hand = Fact("case", "case", fact.values)
        for requirement in REQUIREMENTS:
            expected = needed(requirement.satisfied, fact.values, encoded, resolved.shown)
            assert needed_of(requirement.satisfied, fact, encoded, resolved.shown) == expected, requirement.name
            assert needed_of(requirement.satisfied, by_hand, encoded, resolved.shown) == expected
            said += bool(expected)
        for row in external_route.RULES:  # what each route's row needs, for a case given no route
            assert needed_of(row.when, fact, {}, str) == needed(row.when, fact.values, {}, str), row.id
    assert said > 1_000  # requirements not met, in words, were compared too


def test_no_route_says_what_each_route_needs():
    provision = {"for_council_direct_benefit": False, "funds_available": False, "in_kind_resource": "none",
                 "funding_purpose": "specific_project", "aligned_to_council_outcomes": True}
    route = decide({"as_of": "2026-04-01", "provision": provision}).route
    assert route.route == "none"
    assert route.to_meet == [
        "procurement: for council direct benefit: yes; funds available: yes",
        "grant: funds available: yes",
        "grant in kind: in kind resource: accommodation or equipment or other; funding purpose: core costs or overall activities",
    ]
    assert decide({"as_of": "2026-04-01", "provision": {**provision, "funds_available": True}}).route.to_meet == []


# --- notice against the agreement (3.8) ----------------------------------------------------------------------

REVIEW = {"outcomes_met": "partly", "need_continues": True, "still_a_priority": True, "better_route_available": False}


def notice_case(ends_on: str, served: str | None = None, time_limited: bool = False) -> dict:
    return {"as_of": "2026-04-01", "review": {**REVIEW, "notice_served_on": served},
            "award": {"route": "grant", "value": "1000.00", "starts_on": "2025-01-01", "ends_on": ends_on, "time_limited": time_limited}}


@pytest.mark.parametrize(("ends_on", "serve_by"), [("2027-05-31", "2027-02-28"), ("2027-02-28", "2026-11-30"),
                                                   ("2028-02-29", "2027-11-30"), ("2027-06-15", "2027-03-15")])
def test_serve_by_is_the_latest_date_notice_ends_by_the_agreement(ends_on, serve_by):
    assert decide(notice_case(ends_on)).notice.serve_by == dt.date.fromisoformat(serve_by)
    on_time = decide(notice_case(ends_on, serve_by))
    late = decide(notice_case(ends_on, (dt.date.fromisoformat(serve_by) + dt.timedelta(days=1)).isoformat()))
    assert "notice_past_agreement_end" not in [a.id for a in on_time.advisories]
    (advisory,) = [a for a in late.advisories if a.id == "notice_past_agreement_end"]
    assert advisory.section == "3.8" and serve_by in advisory.message and late.notice.ends_on > on_time.notice.ends_on


def test_a_time_limited_award_without_notice_is_served_by_its_end():
    notice = decide(notice_case("2027-05-31", time_limited=True)).notice
    assert notice.time_limited and notice.serve_by == add_months(dt.date(2027, 5, 31), -notice.months)


@settings(max_examples=200, derandomize=True)
@given(end=st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31)), months=st.integers(0, 24))
def test_latest_start_is_the_last_day_that_still_ends_in_time(end, months):
    start = latest_start(end, months)
    assert add_months(start, months) <= end < add_months(start + dt.timedelta(days=1), months)


# --- monitoring within the agreement (3.7) -------------------------------------------------------------------


def monitoring_case(starts_on: str, ends_on: str | None, value: str = "30000.00") -> dict:
    return {"as_of": "2026-04-01", "award": {"route": "grant", "value": value, "starts_on": starts_on, "ends_on": ends_on}}


@pytest.mark.parametrize(("ends_on", "interval", "first"), [
    ("2026-05-15", 1, "2026-05-01"),   # 1½ months: one whole month
    ("2026-04-20", 1, "2026-04-20"),   # under a month: the report is due at the end
    ("2026-09-30", 5, "2026-09-01"),   # a day short of six months
    ("2026-10-01", 6, "2026-10-01"),   # six months exactly: the level's own interval
    ("2027-03-31", 6, "2026-10-01"),
    (None, 6, "2026-10-01"),           # no end given: no cap
])
def test_a_short_agreement_gets_a_report_within_it(ends_on, interval, first):
    plan = decide(monitoring_case("2026-04-01", ends_on)).monitoring
    assert (plan.level.value, plan.reporting_interval_months, plan.first_report_due) == ("standard", interval, dt.date.fromisoformat(first))


@settings(max_examples=150, derandomize=True)
@given(start=st.dates(dt.date(2015, 1, 1), dt.date(2030, 12, 31)), days=st.integers(0, 800),
       value=st.sampled_from(["100.00", "30000.00", "250000.00"]))
def test_every_funded_organisation_reports_within_its_agreement(start, days, value):
    end = start + dt.timedelta(days=days)
    plan = cr.evaluate(monitoring_case(start.isoformat(), end.isoformat(), value), engine="reference").monitoring
    assert start < plan.first_report_due <= end or (days == 0 and plan.first_report_due == end)
    assert plan.reporting_interval_months >= 1


# --- the explanation -----------------------------------------------------------------------------------------


def test_explain_is_short_by_default_and_verbose_on_request():
    decision = decide(compliant_case({"accounts": "none", "name": "Mousehold Youth Trust"}))
    short, verbose = decision.explain(), decision.explain(verbose=True)
    assert short.startswith("Mousehold Youth Trust: decision at 2026-04-01")
    assert "NOT ELIGIBLE: 1 organisational criterion not met" in short
    assert "To meet it, show:" in short and "accounts: audited or independently examined" in short
    assert "Rules that fired" not in short and "Parameters used" not in short
    assert "Rules that fired" in verbose and "Parameters used" in verbose and "[met] management" in verbose
    assert len(short) < len(verbose)


def test_every_section_quotes_the_sentence_it_applies():
    case = compliant_case()
    case["award"] = {"route": "procurement", "value": "60000.00"}
    text = " ".join(decide(case).explain().split())
    for sentence in ("In relation to procurement, the value of the contract will dictate the level for decision making",
                     "The monitoring requirements will be proportionate to the value and complexity of the arrangement.",
                     "The council will issue contracts or grant award letters",
                     "Whichever route is taken, applicant organisations are required to meet the organisational criteria"):
        assert sentence in text


def test_the_cli_explains_verbosely_on_request(tmp_path):
    from click.testing import CliRunner

    from commissioning_rules.cli import cli

    path = tmp_path / "case.json"
    path.write_text(cr.Case.model_validate(compliant_case()).model_dump_json())
    short = CliRunner().invoke(cli, ["evaluate", str(path), "--format", "text"])
    verbose = CliRunner().invoke(cli, ["evaluate", str(path), "--format", "text", "--verbose"])
    assert short.exit_code == verbose.exit_code == 0
    assert "Rules that fired" in verbose.output and "Rules that fired" not in short.output
