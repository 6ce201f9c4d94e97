"""3.5.1: every chart row met, not met and not applicable; the accounts threshold at its boundary (both engines)."""

from __future__ import annotations

import pytest

import commissioning_rules as cr
from gate_cases import AVAILABLE_ENGINES, compliant_case, statuses

CRITERIA = [
    "management", "financial_systems", "data_protection", "employment_practices", "insurance",
    "disclosure_and_barring", "safeguarding_policies", "safeguarding_training", "equality",
]


@pytest.fixture(params=AVAILABLE_ENGINES)
def engine(request):
    return request.param


def test_compliant_applicant_meets_every_row(engine):
    decision = cr.evaluate(compliant_case(), engine=engine)
    assert decision.eligibility.eligible
    assert [c.criterion for c in decision.eligibility.criteria] == CRITERIA
    assert set(statuses(decision).values()) == {"met"}
    assert decision.engine == engine


# (criterion, change that breaks one of its requirements, failing rule)
NOT_MET = [
    ("management", {"constitution_adopted": False}, "management.constitution.not_met"),
    ("management", {"regular_committee_meetings": False}, "management.committee_meetings.not_met"),
    ("management", {"annual_general_meeting": False}, "management.annual_general_meeting.not_met"),
    ("management", {"business_plan": "none"}, "management.business_plan.not_met"),
    ("financial_systems", {"meets_accounting_law": False}, "financial_systems.accounting_law.not_met"),
    ("financial_systems", {"internal_financial_controls": False}, "financial_systems.internal_controls.not_met"),
    ("financial_systems", {"accounts": "unexamined"}, "financial_systems.published_accounts.not_met"),
    ("data_protection", {"data_protection_compliant": False}, "data_protection.compliance.not_met"),
    ("employment_practices", {"posts_advertised": False}, "employment_practices.open_recruitment.not_met"),
    ("employment_practices", {"contracts_and_job_descriptions": False}, "employment_practices.contracts_and_job_descriptions.not_met"),
    ("insurance", {"insurance": ["employers_liability", "property_and_equipment", "vehicle"]}, "insurance.public_liability.not_met"),
    ("insurance", {"insurance": ["public_liability", "property_and_equipment", "vehicle"]}, "insurance.employers_liability.not_met"),
    ("insurance", {"insurance": ["public_liability", "employers_liability", "vehicle"]}, "insurance.property_and_equipment.not_met"),
    ("insurance", {"insurance": ["public_liability", "employers_liability", "property_and_equipment"]}, "insurance.vehicle.not_met"),
    ("disclosure_and_barring", {"staff_dbs_checked": False}, "disclosure_and_barring.staff_checked.not_met"),
    ("safeguarding_policies", {"safeguarding_adults_policy": False}, "safeguarding_policies.vulnerable_adults.not_met"),
    ("safeguarding_policies", {"child_protection_policy": False}, "safeguarding_policies.child_protection.not_met"),
    ("safeguarding_training", {"safeguarding_training_current": False}, "safeguarding_training.current_training.not_met"),
    ("equality", {"equality_policy": False}, "equality.written_policy.not_met"),
    ("equality", {"equality_training": False}, "equality.training.not_met"),
]


@pytest.mark.parametrize(("criterion", "change", "rule"), NOT_MET)
def test_each_requirement_not_met_fails_only_its_row(engine, criterion, change, rule):
    decision = cr.evaluate(compliant_case(change), engine=engine)
    assert not decision.eligibility.eligible
    assert {c for c, s in statuses(decision).items() if s == "not_met"} == {criterion}
    assert rule in [f.rule for f in decision.findings]
    row = next(c for c in decision.eligibility.criteria if c.criterion == criterion)
    assert row.reasons and row.section == "3.5.1"


# Proportionality (3.5): what makes a row not applicable, with the requirements it would otherwise fail.
NOT_APPLICABLE = [
    ("data_protection", {"handles_personal_data": False, "data_protection_compliant": False}, {}),
    (
        "employment_practices",
        {"employs_staff": False, "will_recruit_for_service": False, "posts_advertised": False,
         "contracts_and_job_descriptions": False, "insurance": ["public_liability", "property_and_equipment", "vehicle"]},
        {},
    ),
    ("disclosure_and_barring", {"staff_dbs_checked": False, "safeguarding_training_current": False,
                                "safeguarding_adults_policy": False, "child_protection_policy": False},
     {"works_with_children": False, "works_with_vulnerable_adults": False}),
    ("disclosure_and_barring", {"employs_staff": False, "will_recruit_for_service": False, "staff_dbs_checked": False,
                                "insurance": ["public_liability", "property_and_equipment", "vehicle"]}, {}),
    ("safeguarding_policies", {"safeguarding_adults_policy": False, "child_protection_policy": False},
     {"works_with_children": False, "works_with_vulnerable_adults": False}),
    ("safeguarding_training", {"safeguarding_training_current": False},
     {"works_with_children": False, "works_with_vulnerable_adults": False}),
    ("financial_systems", {"annual_turnover": "5000.00", "accounts": "none"}, {}),
]


@pytest.mark.parametrize(("criterion", "change", "service"), NOT_APPLICABLE)
def test_row_not_applicable_where_not_relevant(engine, criterion, change, service):
    decision = cr.evaluate(compliant_case(change, service), engine=engine)
    result = statuses(decision)
    if criterion == "financial_systems":  # only its accounts requirement drops out; the row is still met
        assert result[criterion] == "met"
        assert "financial_systems.published_accounts.not_applicable" in [f.rule for f in decision.findings]
    else:
        assert result[criterion] == "not_applicable"
    assert decision.eligibility.eligible


def test_insurance_covers_follow_what_is_owned_and_employed(engine):
    case = compliant_case({
        "employs_staff": False, "will_recruit_for_service": False, "owns_premises_or_equipment": False,
        "owns_or_drives_vehicles": False, "insurance": ["public_liability"],
    })
    decision = cr.evaluate(case, engine=engine)
    fired = [f.rule for f in decision.findings]
    assert "insurance.employers_liability.not_applicable" in fired
    assert "insurance.property_and_equipment.not_applicable" in fired
    assert "insurance.vehicle.not_applicable" in fired
    assert statuses(decision)["insurance"] == "met"


@pytest.mark.parametrize("kind", ["sole_trader", "individual"])
def test_a_sole_trader_or_an_individual_needs_no_constitution_or_committee(engine, kind):
    without = {"constitution_adopted": False, "regular_committee_meetings": False, "annual_general_meeting": False}
    decision = cr.evaluate(compliant_case({"kind": kind, **without}), engine=engine)
    assert statuses(decision)["management"] == "met"  # the business plan still applies
    assert decision.eligibility.eligible
    charity = cr.evaluate(compliant_case({"kind": "charity", **without}), engine=engine)
    assert statuses(charity)["management"] == "not_met"  # the same answers fail a body that has a committee


@pytest.mark.parametrize(
    ("turnover", "accounts", "eligible", "outcome"),
    [
        ("5000.00", "none", True, "not_applicable"),
        ("5000.00", "unexamined", True, "not_applicable"),
        ("5000.01", "none", False, "not_met"),
        ("5000.01", "unexamined", False, "not_met"),
        ("5000.01", "independently_examined", True, "met"),
        ("5000.01", "audited", True, "met"),
        ("0", "none", True, "not_applicable"),
    ],
)
def test_accounts_threshold_boundary(engine, turnover, accounts, eligible, outcome):
    decision = cr.evaluate(compliant_case({"annual_turnover": turnover, "accounts": accounts}), engine=engine)
    assert decision.eligibility.eligible is eligible
    assert f"financial_systems.published_accounts.{outcome}" in [f.rule for f in decision.findings]
    used = {p.name: p for p in decision.parameters}
    assert used["accounts_threshold"].value == "£5,000.00"


def test_unstated_turnover_requires_accounts(engine):
    organisation = compliant_case()["organisation"]
    del organisation["annual_turnover"]
    decision = cr.evaluate({"organisation": {**organisation, "accounts": "none"}}, as_of="2026-04-01", engine=engine)
    assert statuses(decision)["financial_systems"] == "not_met"


def test_every_failure_is_reported_not_just_the_first(engine):
    decision = cr.evaluate({"organisation": {}, "service": {}}, as_of="2026-04-01", engine=engine)
    assert not decision.eligibility.eligible
    assert set(statuses(decision).values()) == {"not_met"}
    assert len([f for f in decision.findings if f.rule.endswith(".not_met")]) >= 18


def test_additional_criteria_are_rows_of_their_own(engine):
    service = {"additional_criteria": [
        {"id": "sustainability", "description": "Long-term sustainability plan", "met": True},
        {"id": "quality_mark", "description": "Holds a recognised quality mark", "met": False},
    ]}
    decision = cr.evaluate(compliant_case(service=service), engine=engine)
    result = statuses(decision)
    assert result["sustainability"] == "met" and result["quality_mark"] == "not_met"
    assert not decision.eligibility.eligible
    assert [f.subject for f in decision.findings if f.rule.startswith("additional_criterion")] == [
        "service.additional_criteria[0]", "service.additional_criteria[1]",
    ]


def test_living_wage_is_an_advisory_not_a_criterion(engine):
    paying = cr.evaluate(compliant_case({"pays_living_wage": True}), engine=engine)
    not_paying = cr.evaluate(compliant_case({"pays_living_wage": False}), engine=engine)
    assert paying.eligibility == not_paying.eligibility
    assert not paying.advisories
    assert [a.section for a in not_paying.advisories] == ["2.3"]
    assert "£13.45" in not_paying.advisories[0].message


def test_findings_cite_section_quote_and_facts(engine):
    decision = cr.evaluate(compliant_case({"annual_turnover": "7500.00", "accounts": "none"}), engine=engine)
    finding = next(f for f in decision.findings if f.rule == "financial_systems.published_accounts.not_met")
    assert finding.section == "3.5.1"
    assert "Organisations with an annual turnover of above £5,000 must publish" in finding.source
    assert "£7,500.00" in finding.because and "£5,000.00" in finding.because
    text = decision.explain()
    assert "NOT ELIGIBLE" in text and "financial systems" in text and finding.source in " ".join(text.split())


def test_cited_law_follows_as_of(engine):
    def law(as_of):
        d = cr.evaluate(compliant_case(as_of=as_of), engine=engine)
        return next(p.value for p in d.parameters if p.name == "data_protection_law")

    assert law("2017-06-01") == "Data Protection Act 1998"
    assert law("2019-06-01").startswith("Data Protection Act 2018")
    assert law("2026-04-01").startswith("UK GDPR")


def test_json_contract_keys(engine):
    with cr.sources_included():  # read back whole below: without its sources, each would read back None
        data = cr.evaluate(compliant_case(), engine=engine).model_dump(mode="json")
    for key in ("as_of", "policy", "eligibility", "delivery", "route", "approval", "monitoring", "notice", "review",
                "departure", "best_value", "advisories", "findings"):
        assert key in data
    assert set(data["eligibility"]) == {"eligible", "criteria", "organisation"}
    assert set(data["eligibility"]["criteria"][0]) >= {"criterion", "status", "reasons", "section"}
    assert set(data["findings"][0]) >= {"rule", "section", "because"}
    assert cr.Decision.model_validate(data) == cr.evaluate(compliant_case(), engine=engine)


def test_case_model_and_dict_give_the_same_decision(engine):
    case = compliant_case()
    assert cr.evaluate(cr.Case.model_validate(case), engine=engine) == cr.evaluate(case, engine=engine)


def test_parameter_without_value_at_as_of_is_a_clear_error(engine):
    with pytest.raises(cr.ParameterError, match="accounts_threshold.*no value in force at 2010-01-01"):
        cr.evaluate(compliant_case(as_of="2010-01-01"), engine=engine)


def test_additional_criteria_keep_their_order_and_ids_that_look_like_engine_keys(engine):
    ids = ["sid", "id", "session-0", "t"]
    service = {"additional_criteria": [{"id": i, "description": "d", "met": n % 2 == 1} for n, i in enumerate(ids)]}
    decision = cr.evaluate(compliant_case(service=service), engine=engine)
    rows = decision.eligibility.criteria[-4:]
    assert [(r.criterion, r.status.value) for r in rows] == [
        ("sid", "not_met"), ("id", "met"), ("session-0", "not_met"), ("t", "met"),
    ]
