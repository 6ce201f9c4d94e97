"""3.5 Using assessment criteria and 3.5.1 CHART: Organisation criteria — the eligibility gate.

    "Whichever route is taken, applicant organisations are required to meet the organisational criteria set
    out in the specification or grant application document. If these criteria are not met, no further
    consideration will be given to an application. [...] at all times compliance with the organisational
    criteria will be proportionate and relevant to the organisation and the service they offer." (3.5)

Each row of chart 3.5.1 is a criterion made of requirements. A requirement applies only where the organisation
and its service make it relevant; each applicable requirement is met or not met. The aggregation is one visible
step (:func:`assemble`): a criterion is not met if any requirement is not met, met if any applies, otherwise
not applicable; the applicant is eligible iff no criterion is not met.
"""

from __future__ import annotations

from typing import Any

from dataclasses import dataclass

from commissioning_rules.engine.rule import (
    AssemblyContext,
    Conclusion,
    Condition,
    Firing,
    Param,
    Rule,
    RuleSet,
    all_of,
    any_of,
    gt,
    is_false,
    is_true,
    not_,
    one_of,
)
from commissioning_rules.models.case import Accounts, BusinessPlan, OrganisationKind
from commissioning_rules.models.decision import CriterionResult, Eligibility, Status

SECTION = "3.5.1"
ORG = "organisation"

# --- what makes a requirement relevant (3.5: "proportionate and relevant") -----------------------------

#: The service involves children (an undescribed service is read as possibly involving them).
WORKS_WITH_CHILDREN = any_of(is_false("has_service"), is_true("service.works_with_children"))
#: The service involves vulnerable adults (likewise).
WORKS_WITH_VULNERABLE_ADULTS = any_of(is_false("has_service"), is_true("service.works_with_vulnerable_adults"))
EMPLOYS_STAFF = is_true("organisation.employs_staff")
WILL_RECRUIT = is_true("organisation.will_recruit_for_service")
#: A sole trader or an individual has no constitution or committee to show.
HAS_GOVERNING_BODY = not_(one_of("organisation.kind", (OrganisationKind.sole_trader, OrganisationKind.individual)))


@dataclass(frozen=True)
class Requirement:
    """One requirement of a chart row: where it applies, what satisfies it, and why, in words."""

    criterion: str
    name: str
    source: str
    satisfied: Condition
    met: str
    not_met: str
    applies: Condition | None = None
    not_applicable: str = ""
    section: str = SECTION

    def rules(self) -> list[Rule]:
        applies = [self.applies] if self.applies is not None else []
        rule_id = f"{self.criterion}.{self.name}"

        def rule(outcome: str, when: Condition, because: str) -> Rule:
            return Rule(f"{rule_id}.{outcome}", self.section, self.source, when, Conclusion(self.criterion, outcome), because)

        made = [
            rule("met", all_of(*applies, self.satisfied), self.met),
            rule("not_met", all_of(*applies, not_(self.satisfied)), self.not_met),
        ]
        if self.applies is not None:
            made.append(rule("not_applicable", not_(self.applies), self.not_applicable))
        return made


MANAGEMENT = "Requirements: A formally adopted constitution. Regular committee meetings, including an annual general meeting. A business plan or working towards developing one."
FINANCIAL = "Compliance with all financial and accounting requirements of charity or company law. Follow good practice in relation to internal financial controls. Organisations with an annual turnover of above £5,000 must publish independently examined or audited annual accounts."
INSURANCE = "Adequate insurance for activities, events, staff, premises, equipment, vehicles including: Public liability. Employer's liability cover if staff are employed. Property and equipment insurance against fire, theft, loss, damage. Vehicle or driver insurance if vehicles are owned or driven."
EMPLOYMENT = "Where staff will be recruited to deliver services, posts will be advertised, with open and competitive interviews. Employees will be supplied with a contract and terms and conditions as well as job descriptions."
SAFEGUARDING_POLICIES = "Organisations working with vulnerable adults must have a policy and procedures in place. Organisations working with children and young people must have a child protection policy and procedures in place."
SAFEGUARDING_TRAINING = "Employees working with vulnerable adults and children and young people must have relevant and up to date training."
EQUALITY = "All organisations must have a written equality policy that complies with current legislation, and arrange appropriate training for managers and staff."

REQUIREMENTS: tuple[Requirement, ...] = (
    # Management
    Requirement(
        "management", "constitution", MANAGEMENT,
        applies=HAS_GOVERNING_BODY,
        satisfied=is_true("organisation.constitution_adopted"),
        met="the organisation has a formally adopted constitution",
        not_met="no formally adopted constitution (constitution adopted: {organisation.constitution_adopted})",
        not_applicable="a {organisation.kind} has no constitution to adopt",
    ),
    Requirement(
        "management", "committee_meetings", MANAGEMENT,
        applies=HAS_GOVERNING_BODY,
        satisfied=all_of(is_true("organisation.regular_committee_meetings"), is_true("organisation.annual_general_meeting")),
        met="regular committee meetings are held, including an annual general meeting",
        not_met="regular committee meetings including an annual general meeting are not shown (regular meetings: {organisation.regular_committee_meetings}; annual general meeting: {organisation.annual_general_meeting})",
        not_applicable="a {organisation.kind} has no committee to meet",
    ),
    Requirement(
        "management", "business_plan", MANAGEMENT,
        satisfied=one_of("organisation.business_plan", (BusinessPlan.in_place, BusinessPlan.in_development)),
        met="a business plan is {organisation.business_plan}",
        not_met="no business plan, and none in development (business plan: {organisation.business_plan})",
    ),
    # Financial systems
    Requirement(
        "financial_systems", "accounting_law", FINANCIAL,
        satisfied=is_true("organisation.meets_accounting_law"),
        met="the organisation complies with the financial and accounting requirements of charity or company law",
        not_met="compliance with the financial and accounting requirements of charity or company law is not shown (complies: {organisation.meets_accounting_law})",
    ),
    Requirement(
        "financial_systems", "internal_controls", FINANCIAL,
        satisfied=is_true("organisation.internal_financial_controls"),
        met="the organisation follows good practice in internal financial controls",
        not_met="good practice in internal financial controls is not shown (internal controls: {organisation.internal_financial_controls})",
    ),
    Requirement(
        "financial_systems", "published_accounts", FINANCIAL,
        applies=any_of(
            is_false("organisation.annual_turnover_stated"),
            gt("organisation.annual_turnover", Param("accounts_threshold")),
        ),
        satisfied=one_of("organisation.accounts", (Accounts.audited, Accounts.independently_examined)),
        met="annual turnover {organisation.annual_turnover} is above {param.accounts_threshold} and the accounts are {organisation.accounts}",
        not_met="annual turnover {organisation.annual_turnover} is above {param.accounts_threshold} (or not stated), so independently examined or audited accounts are required, but the accounts are {organisation.accounts}",
        not_applicable="annual turnover {organisation.annual_turnover} is not above {param.accounts_threshold}, so published accounts are not required",
    ),
    # Data protection
    Requirement(
        "data_protection", "compliance",
        "Compliance with the Data Protection Act (1998) in handling any personal information about individuals.",
        applies=is_true("organisation.handles_personal_data"),
        satisfied=is_true("organisation.data_protection_compliant"),
        met="the organisation handles personal information and complies with {param.data_protection_law}",
        not_met="the organisation handles personal information (handles: {organisation.handles_personal_data}) but compliance with {param.data_protection_law} is not shown",
        not_applicable="the organisation handles no personal information about individuals",
    ),
    # Employment practices
    Requirement(
        "employment_practices", "open_recruitment", EMPLOYMENT,
        applies=WILL_RECRUIT,
        satisfied=all_of(is_true("organisation.posts_advertised"), is_true("organisation.open_competitive_interviews")),
        met="staff will be recruited: posts are advertised with open and competitive interviews",
        not_met="staff will be recruited (recruiting: {organisation.will_recruit_for_service}) but advertised posts with open and competitive interviews are not shown (advertised: {organisation.posts_advertised}; open interviews: {organisation.open_competitive_interviews})",
        not_applicable="no staff will be recruited to deliver the service",
    ),
    Requirement(
        "employment_practices", "contracts_and_job_descriptions", EMPLOYMENT,
        applies=any_of(EMPLOYS_STAFF, WILL_RECRUIT),
        satisfied=is_true("organisation.contracts_and_job_descriptions"),
        met="employees are supplied with a contract, terms and conditions and job descriptions",
        not_met="the organisation has or will recruit employees (employs staff: {organisation.employs_staff}) but contracts, terms and conditions and job descriptions are not shown",
        not_applicable="the organisation employs no staff and will recruit none",
    ),
    # Insurance
    Requirement(
        "insurance", "public_liability", INSURANCE,
        satisfied=is_true("organisation.insurance.public_liability"),
        met="public liability insurance is held",
        not_met="public liability insurance is not held (covers held: {organisation.insurance})",
    ),
    Requirement(
        "insurance", "employers_liability", INSURANCE,
        applies=EMPLOYS_STAFF,
        satisfied=is_true("organisation.insurance.employers_liability"),
        met="staff are employed and employer's liability cover is held",
        not_met="staff are employed (employs staff: {organisation.employs_staff}) but employer's liability cover is not held (covers held: {organisation.insurance})",
        not_applicable="no staff are employed, so employer's liability cover is not required",
    ),
    Requirement(
        "insurance", "property_and_equipment", INSURANCE,
        applies=is_true("organisation.owns_premises_or_equipment"),
        satisfied=is_true("organisation.insurance.property_and_equipment"),
        met="premises or equipment are owned and insured against fire, theft, loss and damage",
        not_met="premises or equipment are owned (owns: {organisation.owns_premises_or_equipment}) but property and equipment insurance is not held (covers held: {organisation.insurance})",
        not_applicable="no premises or equipment are owned, so property insurance is not required",
    ),
    Requirement(
        "insurance", "vehicle", INSURANCE,
        applies=is_true("organisation.owns_or_drives_vehicles"),
        satisfied=is_true("organisation.insurance.vehicle"),
        met="vehicles are owned or driven and vehicle or driver insurance is held",
        not_met="vehicles are owned or driven (vehicles: {organisation.owns_or_drives_vehicles}) but vehicle or driver insurance is not held (covers held: {organisation.insurance})",
        not_applicable="no vehicles are owned or driven, so vehicle insurance is not required",
    ),
    # Disclosure and barring checks
    Requirement(
        "disclosure_and_barring", "staff_checked",
        "All employees working with children and vulnerable adults must be vetted through the disclosure and barring checking service.",
        applies=all_of(EMPLOYS_STAFF, any_of(WORKS_WITH_CHILDREN, WORKS_WITH_VULNERABLE_ADULTS)),
        satisfied=is_true("organisation.staff_dbs_checked"),
        met="employees working with children or vulnerable adults are vetted through the {param.barring_service}",
        not_met="employees work with children or vulnerable adults (children: {service.works_with_children}; vulnerable adults: {service.works_with_vulnerable_adults}) but vetting through the {param.barring_service} is not shown",
        not_applicable="no employees work with children or vulnerable adults (employs staff: {organisation.employs_staff}; children: {service.works_with_children}; vulnerable adults: {service.works_with_vulnerable_adults})",
    ),
    # Safeguarding policies
    Requirement(
        "safeguarding_policies", "vulnerable_adults", SAFEGUARDING_POLICIES,
        applies=WORKS_WITH_VULNERABLE_ADULTS,
        satisfied=is_true("organisation.safeguarding_adults_policy"),
        met="the organisation works with vulnerable adults and has a safeguarding policy and procedures",
        not_met="the organisation works with vulnerable adults (vulnerable adults: {service.works_with_vulnerable_adults}) but a safeguarding adults policy and procedures are not shown",
        not_applicable="the service does not involve vulnerable adults",
    ),
    Requirement(
        "safeguarding_policies", "child_protection", SAFEGUARDING_POLICIES,
        applies=WORKS_WITH_CHILDREN,
        satisfied=is_true("organisation.child_protection_policy"),
        met="the organisation works with children and young people and has a child protection policy and procedures",
        not_met="the organisation works with children and young people (children: {service.works_with_children}) but a child protection policy and procedures are not shown",
        not_applicable="the service does not involve children or young people",
    ),
    # Safeguarding training
    Requirement(
        "safeguarding_training", "current_training", SAFEGUARDING_TRAINING,
        applies=all_of(EMPLOYS_STAFF, any_of(WORKS_WITH_CHILDREN, WORKS_WITH_VULNERABLE_ADULTS)),
        satisfied=is_true("organisation.safeguarding_training_current"),
        met="employees working with children or vulnerable adults have relevant, up-to-date training",
        not_met="employees work with children or vulnerable adults but relevant, up-to-date safeguarding training is not shown (training current: {organisation.safeguarding_training_current})",
        not_applicable="no employees work with children or vulnerable adults (employs staff: {organisation.employs_staff}; children: {service.works_with_children}; vulnerable adults: {service.works_with_vulnerable_adults})",
    ),
    # Equality
    Requirement(
        "equality", "written_policy", EQUALITY,
        satisfied=is_true("organisation.equality_policy"),
        met="the organisation has a written equality policy complying with the {param.equality_law}",
        not_met="a written equality policy complying with the {param.equality_law} is not shown (equality policy: {organisation.equality_policy})",
    ),
    Requirement(
        "equality", "training", EQUALITY,
        satisfied=is_true("organisation.equality_training"),
        met="appropriate equality training is arranged for managers and staff",
        not_met="appropriate equality training for managers and staff is not shown (equality training: {organisation.equality_training})",
    ),
)

#: The rows of chart 3.5.1, in the chart's order.
CRITERIA = (
    "management",
    "financial_systems",
    "data_protection",
    "employment_practices",
    "insurance",
    "disclosure_and_barring",
    "safeguarding_policies",
    "safeguarding_training",
    "equality",
)

ADDITIONAL = "Grant or contract specific requirements may set out additional criteria in relation to quality and delivery."
ADDITIONAL_CRITERION_RULES = (
    Rule(
        "additional_criterion.met", "3.5", ADDITIONAL, is_true("met"), Conclusion("additional", "met"),
        "grant or contract specific criterion {id} ({description}) is met", subject="additional_criterion",
    ),
    Rule(
        "additional_criterion.not_met", "3.5", ADDITIONAL, is_false("met"), Conclusion("additional", "not_met"),
        "grant or contract specific criterion {id} ({description}) is not met", subject="additional_criterion",
    ),
)


def _status(outcomes: set[str]) -> Status:
    if "not_met" in outcomes:
        return Status.not_met
    if "met" in outcomes:
        return Status.met
    return Status.not_applicable


def assemble(firings: list[Firing], context: AssemblyContext) -> dict[str, Any]:
    """3.5: eligible iff every applicable criterion is met; every failure is reported, not just the first."""
    by_criterion: dict[str, list[Firing]] = {c: [] for c in CRITERIA}
    additional: dict[str, Firing] = {}
    for firing in firings:
        if firing.rule.then.topic == "additional":
            additional[firing.fact.display["id"]] = firing
        else:
            by_criterion[firing.rule.then.topic].append(firing)
    results = [
        CriterionResult(
            criterion=criterion,
            status=_status({f.rule.then.outcome for f in found}),
            reasons=[context.because(f) for f in found],
            section=SECTION,
        )
        for criterion, found in by_criterion.items()
    ]
    service = context.case.service
    results += [  # in the order the grant or contract sets them out
        CriterionResult(
            criterion=criterion.id,
            status=Status(additional[criterion.id].rule.then.outcome),
            reasons=[context.because(additional[criterion.id])],
            section="3.5",
        )
        for criterion in (service.additional_criteria if service else ())
    ]
    return {"eligibility": Eligibility(eligible=all(r.status != Status.not_met for r in results), criteria=results)}


RULESET = RuleSet(
    name="organisation_criteria",
    section="3.5.1",
    title="Organisation criteria (the eligibility gate)",
    inputs=(ORG,),
    rules=tuple(rule for requirement in REQUIREMENTS for rule in requirement.rules()) + ADDITIONAL_CRITERION_RULES,
    assemble=assemble,
)
