"""3.5 Using assessment criteria and 3.5.1 CHART: Organisation criteria — the eligibility gate.

    "Whichever route is taken, applicant organisations are required to meet the organisational criteria set
    out in the specification or grant application document. If these criteria are not met, no further
    consideration will be given to an application. [...] at all times compliance with the organisational
    criteria will be proportionate and relevant to the organisation and the service they offer." (3.5)

Each row of chart 3.5.1 is a criterion made of requirements. A requirement applies only where the organisation
and its service make it relevant; each applicable requirement is met or not met. A row the specification or grant application document does not
set out (``service.specification_criteria``; default every row) is not applicable: 3.5 asks for "the
organisational criteria set out in the specification or grant application document", and the chart gives
"Examples of organisational criteria that might be included". The aggregation is one visible
step (:func:`assemble`): a criterion is not met if any requirement is not met, met if any applies, otherwise
not applicable; the applicant is eligible iff no criterion is not met.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from commissioning_rules.engine.rule import (
    AssemblyContext,
    Conclusion,
    Condition,
    Firing,
    Firings,
    Param,
    Rule,
    RuleSet,
    StageGate,
    all_of,
    any_of,
    gt,
    is_false,
    is_true,
    not_,
    one_of,
)
from commissioning_rules.models.case import Accounts, BusinessPlan, ChartCriterion, OrganisationKind
from commissioning_rules.rules.to_meet import needed_of
from commissioning_rules.models.decision import CriterionResult, Eligibility, Later, Status, criterion_result, trusted

SECTION = "3.5.1"
ORG = "organisation"

# --- what makes a requirement relevant (3.5: "proportionate and relevant") -----------------------------

#: The service involves children (an undescribed service is read as possibly involving them).
WORKS_WITH_CHILDREN = any_of(is_false("has_service"), is_true("service.works_with_children"))
#: The service involves vulnerable adults (likewise).
WORKS_WITH_VULNERABLE_ADULTS = any_of(is_false("has_service"), is_true("service.works_with_vulnerable_adults"))
WILL_RECRUIT = is_true("organisation.will_recruit_for_service")
#: The one definition of "has or will have employees", used by every requirement about employees (contracts and
#: job descriptions, employer's liability, vetting, safeguarding training) and by the living wage (2.3). The chart
#: speaks both of staff who "will be recruited to deliver services" and of "employees" and "staff employed";
#: read together, a requirement about employees applies to staff the organisation will employ to deliver the
#: service as much as to staff it employs now: an organisation recruiting for a children's service must show it
#: will vet, train and insure them before they start. An unstated answer counts as yes (3.5, read conservatively).
HAS_OR_WILL_HAVE_EMPLOYEES = any_of(is_true("organisation.employs_staff"), WILL_RECRUIT)
_EMPLOYEES = "employs staff: {organisation.employs_staff}; will recruit for the service: {organisation.will_recruit_for_service}"
#: A sole trader or an individual has no constitution or committee to show.
HAS_GOVERNING_BODY = not_(one_of("organisation.kind", (OrganisationKind.sole_trader, OrganisationKind.individual)))
#: Neither charity nor company law governs a sole trader or an individual (neither is a charity or a company; their
#: accounting duties are tax records), so "Compliance with all financial and accounting requirements of charity or
#: company law" is not relevant to them (3.5: "proportionate and relevant to the organisation"). Every other kind,
#: and a kind not stated, may be a charity or a company (a community group or an association may be a charity).
UNDER_CHARITY_OR_COMPANY_LAW = HAS_GOVERNING_BODY
#: An annual general meeting is what a member-led body holds. A company need not: since the Companies Act 2006
#: (s.336) only a public company must hold one, and applicants are private companies or community interest
#: companies (private companies by law); a public body's governance is set by statute, not by members meeting
#: annually. For them the chart's "Regular committee meetings" still apply (board or committee meetings).
HOLDS_AGM = not_(one_of("organisation.kind", (
    OrganisationKind.sole_trader, OrganisationKind.individual, OrganisationKind.company,
    OrganisationKind.community_interest_company, OrganisationKind.public_body,
)))


SPECIFICATION = (
    "Whichever route is taken, applicant organisations are required to meet the organisational criteria set out in "
    "the specification or grant application document."
)


def in_specification(criterion: str) -> Condition:
    """The specification or grant application document sets out this chart row (an undescribed service: every row)."""
    return any_of(is_false("has_service"), is_true(f"service.specification_criteria.{criterion}"))


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
    #: A condition under which the requirement is read at all (its rules, even not applicable, need it): used to
    #: word one requirement differently for a fact stated and not stated, as a variant named ``parent.variant``.
    only_when: Condition | None = None

    @property
    def id(self) -> str:
        return f"{self.criterion}.{self.name}"

    def rules(self) -> list[Rule]:
        """``met`` / ``not_met`` / ``not_applicable`` where the specification sets the row out, and (once per
        requirement, not per worded variant) ``not_in_specification`` where it does not: for every case exactly one
        rule of a requirement fires, so each requirement is a complete single-hit table."""
        scope = [in_specification(self.criterion)] + ([self.only_when] if self.only_when is not None else [])
        applies = [self.applies] if self.applies is not None else []

        def rule(outcome: str, when: Condition, because: str, section: str = self.section, source: str = self.source) -> Rule:
            return Rule(f"{self.id}.{outcome}", section, source, when, Conclusion(self.criterion, outcome), because)

        made = [] if "." in self.name else [  # a worded variant ("parent.variant") shares its parent's
            rule(
                "not_in_specification", not_(in_specification(self.criterion)),
                f"the specification or grant application document does not set out the "
                f"{self.criterion.replace('_', ' ')} criterion (criteria it sets out: {{service.specification_criteria}})",
                section="3.5", source=SPECIFICATION,
            )
        ]
        made += [
            rule("met", all_of(*scope, *applies, self.satisfied), self.met),
            rule("not_met", all_of(*scope, *applies, not_(self.satisfied)), self.not_met),
        ]
        if self.applies is not None:
            made.append(rule("not_applicable", all_of(*scope, not_(self.applies)), self.not_applicable))
        return made


MANAGEMENT = "Requirements: A formally adopted constitution. Regular committee meetings, including an annual general meeting. A business plan or working towards developing one."
FINANCIAL = "Compliance with all financial and accounting requirements of charity or company law. Follow good practice in relation to internal financial controls. Organisations with an annual turnover of above £5,000 must publish independently examined or audited annual accounts."
INSURANCE = "Adequate insurance for activities, events, staff, premises, equipment, vehicles including: Public liability. Employer's liability cover if staff are employed. Property and equipment insurance against fire, theft, loss, damage. Vehicle or driver insurance if vehicles are owned or driven."
EMPLOYMENT = "Where staff will be recruited to deliver services, posts will be advertised, with open and competitive interviews. Employees will be supplied with a contract and terms and conditions as well as job descriptions."
SAFEGUARDING_POLICIES = "Organisations working with vulnerable adults must have a policy and procedures in place. Organisations working with children and young people must have a child protection policy and procedures in place."
SAFEGUARDING_TRAINING = "Employees working with vulnerable adults and children and young people must have relevant and up to date training."
EQUALITY = "All organisations must have a written equality policy that complies with current legislation, and arrange appropriate training for managers and staff."

PUBLISHED_ACCOUNTS = one_of("organisation.accounts", (Accounts.audited, Accounts.independently_examined))

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
        satisfied=is_true("organisation.regular_committee_meetings"),
        met="regular committee meetings are held",
        not_met="regular committee meetings are not shown (regular meetings: {organisation.regular_committee_meetings})",
        not_applicable="a {organisation.kind} has no committee to meet",
    ),
    Requirement(
        "management", "annual_general_meeting", MANAGEMENT,
        applies=HOLDS_AGM,
        satisfied=is_true("organisation.annual_general_meeting"),
        met="an annual general meeting is held",
        not_met="an annual general meeting is not shown (annual general meeting: {organisation.annual_general_meeting}; kind: {organisation.kind})",
        not_applicable="a {organisation.kind} is not required to hold an annual general meeting (a private company "
        "need not under the Companies Act 2006, a public body's governance is set by statute, and a sole trader or "
        "an individual has no members), so only its regular meetings are asked for",
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
        applies=UNDER_CHARITY_OR_COMPANY_LAW,
        not_applicable="a {organisation.kind} is neither a charity nor a company, so charity and company law set it "
        "no financial or accounting requirements",
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
        only_when=is_true("organisation.annual_turnover_stated"),
        applies=gt("organisation.annual_turnover", Param("accounts_threshold")),
        satisfied=PUBLISHED_ACCOUNTS,
        met="annual turnover {organisation.annual_turnover} is above {param.accounts_threshold} and the accounts are {organisation.accounts}",
        not_met="annual turnover {organisation.annual_turnover} is above {param.accounts_threshold}, so independently examined or audited accounts are required, but the accounts are {organisation.accounts}",
        not_applicable="annual turnover {organisation.annual_turnover} is not above {param.accounts_threshold}, so published accounts are not required",
    ),
    # Turnover not stated: read conservatively (it may be above the threshold), worded as what it is.
    Requirement(
        "financial_systems", "published_accounts.turnover_not_stated", FINANCIAL,
        only_when=is_false("organisation.annual_turnover_stated"),
        satisfied=PUBLISHED_ACCOUNTS,
        met="annual turnover is not stated, and the accounts are {organisation.accounts}, as required above a turnover of {param.accounts_threshold}",
        not_met="annual turnover is not stated, so it is not shown to be at most {param.accounts_threshold}, and independently examined or audited accounts are not shown (accounts: {organisation.accounts})",
    ),
    # Data protection
    Requirement(
        "data_protection", "compliance",
        "Compliance with the Data Protection Act (1998) in handling any personal information about individuals.",
        applies=is_true("organisation.handles_personal_data"),
        satisfied=is_true("organisation.data_protection_compliant"),
        met="the organisation handles personal information and complies with {param.data_protection_law}",
        not_met="the organisation handles or may handle personal information (handles: {organisation.handles_personal_data}) but compliance with {param.data_protection_law} is not shown",
        not_applicable="the organisation handles no personal information about individuals",
    ),
    # Employment practices
    Requirement(
        "employment_practices", "open_recruitment", EMPLOYMENT,
        applies=WILL_RECRUIT,
        satisfied=all_of(is_true("organisation.posts_advertised"), is_true("organisation.open_competitive_interviews")),
        met="staff will be recruited: posts are advertised with open and competitive interviews",
        not_met="staff will or may be recruited (recruiting: {organisation.will_recruit_for_service}) but advertised posts with open and competitive interviews are not shown (advertised: {organisation.posts_advertised}; open interviews: {organisation.open_competitive_interviews})",
        not_applicable="no staff will be recruited to deliver the service",
    ),
    Requirement(
        "employment_practices", "contracts_and_job_descriptions", EMPLOYMENT,
        applies=HAS_OR_WILL_HAVE_EMPLOYEES,
        satisfied=is_true("organisation.contracts_and_job_descriptions"),
        met="employees are supplied with a contract, terms and conditions and job descriptions",
        not_met="the organisation has, will have or may have employees (" + _EMPLOYEES + ") but contracts, terms and conditions and job descriptions are not shown",
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
        applies=HAS_OR_WILL_HAVE_EMPLOYEES,
        satisfied=is_true("organisation.insurance.employers_liability"),
        met="the organisation has or will have employees and employer's liability cover is held",
        not_met="the organisation has, will have or may have employees (" + _EMPLOYEES + ") but employer's liability cover is not held (covers held: {organisation.insurance})",
        not_applicable="the organisation employs no staff and will recruit none, so employer's liability cover is not required",
    ),
    Requirement(
        "insurance", "property_and_equipment", INSURANCE,
        applies=is_true("organisation.owns_premises_or_equipment"),
        satisfied=is_true("organisation.insurance.property_and_equipment"),
        met="premises or equipment are owned and insured against fire, theft, loss and damage",
        not_met="premises or equipment are or may be owned (owns: {organisation.owns_premises_or_equipment}) but property and equipment insurance is not held (covers held: {organisation.insurance})",
        not_applicable="no premises or equipment are owned, so property insurance is not required",
    ),
    Requirement(
        "insurance", "vehicle", INSURANCE,
        applies=is_true("organisation.owns_or_drives_vehicles"),
        satisfied=is_true("organisation.insurance.vehicle"),
        met="vehicles are owned or driven and vehicle or driver insurance is held",
        not_met="vehicles are or may be owned or driven (vehicles: {organisation.owns_or_drives_vehicles}) but vehicle or driver insurance is not held (covers held: {organisation.insurance})",
        not_applicable="no vehicles are owned or driven, so vehicle insurance is not required",
    ),
    # Disclosure and barring checks
    Requirement(
        "disclosure_and_barring", "staff_checked",
        "All employees working with children and vulnerable adults must be vetted through the disclosure and barring checking service.",
        applies=all_of(HAS_OR_WILL_HAVE_EMPLOYEES, any_of(WORKS_WITH_CHILDREN, WORKS_WITH_VULNERABLE_ADULTS)),
        satisfied=is_true("organisation.staff_dbs_checked"),
        met="employees working with children or vulnerable adults are vetted through the {param.barring_service}",
        not_met="employees work or may work with children or vulnerable adults (" + _EMPLOYEES + "; children: {service.works_with_children}; vulnerable adults: {service.works_with_vulnerable_adults}) but vetting through the {param.barring_service} is not shown",
        not_applicable="no employees work or will work with children or vulnerable adults (" + _EMPLOYEES + "; children: {service.works_with_children}; vulnerable adults: {service.works_with_vulnerable_adults})",
    ),
    # Safeguarding policies
    Requirement(
        "safeguarding_policies", "vulnerable_adults", SAFEGUARDING_POLICIES,
        applies=WORKS_WITH_VULNERABLE_ADULTS,
        satisfied=is_true("organisation.safeguarding_adults_policy"),
        met="the organisation works with vulnerable adults and has a safeguarding policy and procedures",
        not_met="the service involves or may involve vulnerable adults (vulnerable adults: {service.works_with_vulnerable_adults}) but a safeguarding adults policy and procedures are not shown",
        not_applicable="the service does not involve vulnerable adults",
    ),
    Requirement(
        "safeguarding_policies", "child_protection", SAFEGUARDING_POLICIES,
        applies=WORKS_WITH_CHILDREN,
        satisfied=is_true("organisation.child_protection_policy"),
        met="the organisation works with children and young people and has a child protection policy and procedures",
        not_met="the service involves or may involve children and young people (children: {service.works_with_children}) but a child protection policy and procedures are not shown",
        not_applicable="the service does not involve children or young people",
    ),
    # Safeguarding training
    Requirement(
        "safeguarding_training", "current_training", SAFEGUARDING_TRAINING,
        applies=all_of(HAS_OR_WILL_HAVE_EMPLOYEES, any_of(WORKS_WITH_CHILDREN, WORKS_WITH_VULNERABLE_ADULTS)),
        satisfied=is_true("organisation.safeguarding_training_current"),
        met="employees working with children or vulnerable adults have relevant, up-to-date training",
        not_met="employees work or may work with children or vulnerable adults but relevant, up-to-date safeguarding training is not shown (training current: {organisation.safeguarding_training_current})",
        not_applicable="no employees work or will work with children or vulnerable adults (" + _EMPLOYEES + "; children: {service.works_with_children}; vulnerable adults: {service.works_with_vulnerable_adults})",
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
        # "training for managers and staff": where the organisation has no employees and will recruit none (a
        # sole trader, a volunteer-run group) there are no managers or staff to train; the written policy above
        # still applies to "All organisations".
        applies=HAS_OR_WILL_HAVE_EMPLOYEES,
        not_applicable="the organisation employs no staff and will recruit none, so there are no managers or staff "
        "to train (" + _EMPLOYEES + "); its written equality policy is still required",
        satisfied=is_true("organisation.equality_training"),
        met="appropriate equality training is arranged for managers and staff",
        not_met="appropriate equality training for managers and staff is not shown (equality training: {organisation.equality_training})",
    ),
)

#: The rows of chart 3.5.1, in the chart's order.
CRITERIA = tuple(criterion.value for criterion in ChartCriterion)

_REQUIREMENT = {requirement.id: requirement for requirement in REQUIREMENTS}

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


#: How much each outcome weighs in its criterion's result: a criterion is not met where any of its rules found it
#: not met, else met where any found it met, else not applicable (what a council's own rule concludes otherwise
#: weighs as not applicable). The heaviest outcome decides.
_WEIGHT = {"met": 1, "not_met": 2}
_BY_WEIGHT = (Status.not_applicable, Status.met, Status.not_met)


def assemble(firings: Firings, context: AssemblyContext) -> dict[str, Any]:
    """3.5: eligible iff every applicable criterion is met; every failure is reported, not just the first.

    A criterion is not met where any of its rules found it not met, so the applicant is eligible exactly where no
    rule concluded ``not_met``: decided here, at once. Each criterion's result, with its reasons and what would
    meet it, is worked out when first read."""
    eligible = not any(rule.then.outcome == "not_met" for rule in firings.rules)
    organisation = context.case.organisation
    return {
        "eligibility": trusted(
            Eligibility, eligible=eligible, criteria=Later(_criteria, firings, context),
            organisation=organisation.name if organisation else None,
        )
    }


def _criteria(firings: Firings, context: AssemblyContext) -> list[CriterionResult]:
    """Each row of chart 3.5.1 in the chart's order, then each additional criterion in the order the grant or
    contract sets them out."""
    by_criterion: dict[str, list[Firing]] = {c: [] for c in CRITERIA}
    weight = dict.fromkeys(CRITERIA, 0)
    additional: dict[str, Firing] = {}
    for firing in firings:
        then = firing.rule.then
        topic = then.topic
        if topic == "additional":
            item = firing.fact.model
            additional[item.id if item is not None else firing.fact.values["id"]] = firing
        else:
            by_criterion[topic].append(firing)
            outcome = _WEIGHT.get(then.outcome, 0)
            if outcome > weight[topic]:
                weight[topic] = outcome
    results = []
    for criterion, found in by_criterion.items():
        status = _BY_WEIGHT[weight[criterion]]
        results.append(criterion_result(
            criterion,
            status,
            context.reasons(found, True),  # a row left out: said once
            SECTION,
            # only a requirement not met says what would meet it
            _to_meet(found, context) if status is Status.not_met else [],
        ))
    service = context.case.service
    for criterion in service.additional_criteria if service else ():
        firing = additional[criterion.id]
        results.append(criterion_result(
            criterion.id,
            Status(firing.rule.then.outcome),
            context.reasons([firing]),
            "3.5",
            [] if criterion.met else [f"{criterion.id} met: {criterion.description}"],
        ))
    return results


def _to_meet(found: list[Firing], context: AssemblyContext) -> list[str]:
    """What each failing requirement's ``satisfied`` condition needs that the case does not give (a council's own
    rule, which has no such condition here: what its quoted source asks)."""
    texts = []
    for firing in found:
        if firing.rule.then.outcome != "not_met":
            continue
        requirement = _REQUIREMENT.get(firing.rule.id.rsplit(".", 1)[0])
        if requirement is None:
            texts.append(f"what {firing.rule.section} asks: {firing.rule.source}")
        else:
            texts += needed_of(requirement.satisfied, firing.fact, context.encoded, context.parameters.shown)
    return texts


NO_FURTHER_CONSIDERATION_SOURCE = "If these criteria are not met, no further consideration will be given to an application."

#: 3.5: an applicant that does not meet the organisational criteria is considered no further, so the stages
#: that consider its application (who decides it, the award, its monitoring) give no decision. The council-side
#: stages that come before any applicant (best value, delivery, route) do not depend on it.
NO_FURTHER_CONSIDERATION = StageGate(
    id="no_further_consideration",
    section="3.5",
    source=NO_FURTHER_CONSIDERATION_SOURCE,
    after="eligibility",
    attribute="eligible",
    allows=(True,),
    because="the applicant does not meet the organisational criteria, so its application is given no further "
    "consideration: {withheld} not given",
    advisory="no_further_consideration",
)

RULESET = RuleSet(
    name="organisation_criteria",
    section="3.5.1",
    title="Organisation criteria (the eligibility gate)",
    inputs=(ORG,),
    rules=tuple(rule for requirement in REQUIREMENTS for rule in requirement.rules()) + ADDITIONAL_CRITERION_RULES,
    assemble=assemble,
    decides=("eligibility",),
)
