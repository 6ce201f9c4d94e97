"""The case: everything a user may tell us, as typed, validated models (docs/json-contract.md, contract version 1).

Every part of a case is optional; a rule set runs when its inputs are present. Unknown fields are rejected,
money is ``Decimal`` pounds, dates are ``date``. Within the organisation, a fact left out is *not stated*: a
requirement not stated is not shown (not met), and a fact that decides whether a criterion applies is read
conservatively, as the field's ``when_unstated`` says.
"""

from __future__ import annotations

import collections
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field, ModelWrapValidatorHandler, model_validator

from commissioning_rules.models.types import STRICT_MODEL, Bool, IsoDate, Money, Text, refuse_deep_nesting, unstated_means


class OrganisationKind(str, Enum):
    charity = "charity"
    company = "company"
    community_interest_company = "community_interest_company"
    cooperative = "cooperative"
    mutual = "mutual"
    social_enterprise = "social_enterprise"
    community_group = "community_group"
    association = "association"
    consortium = "consortium"
    public_body = "public_body"
    sole_trader = "sole_trader"
    individual = "individual"


class BusinessPlan(str, Enum):
    in_place = "in_place"
    in_development = "in_development"
    none = "none"


class Accounts(str, Enum):
    audited = "audited"
    independently_examined = "independently_examined"
    unexamined = "unexamined"
    none = "none"


class InsuranceCover(str, Enum):
    public_liability = "public_liability"
    employers_liability = "employers_liability"
    property_and_equipment = "property_and_equipment"
    vehicle = "vehicle"


class Capacity(str, Enum):
    full = "full"
    reduced = "reduced"
    none = "none"


class InKindResource(str, Enum):
    none = "none"
    accommodation = "accommodation"
    equipment = "equipment"
    other = "other"


class FundingPurpose(str, Enum):
    specific_project = "specific_project"
    core_costs = "core_costs"
    overall_activities = "overall_activities"


class Route(str, Enum):
    procurement = "procurement"
    grant = "grant"
    grant_in_kind = "grant_in_kind"


class Complexity(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"


class ProviderTool(str, Enum):
    outcome_star = "outcome_star"
    soul = "soul"
    other_robust = "other_robust"


class OutcomesMet(str, Enum):
    met = "met"
    partly = "partly"
    not_met = "not_met"


class DepartureReason(str, Enum):
    legislation = "legislation"
    funding_guidelines = "funding_guidelines"
    other = "other"


_NOT_SHOWN = "a requirement not stated is not shown"
_APPLIES = "not stated, so the criterion is treated as applying (3.5: criteria proportionate and relevant)"


class Organisation(BaseModel):
    """The applicant organisation: the facts the organisational criteria of 3.5.1 test."""

    model_config = STRICT_MODEL

    name: Text | None = None
    kind: OrganisationKind | None = None
    annual_turnover: Money | None = Field(None, description="Annual turnover in pounds (3.5.1 financial systems)")
    constitution_adopted: Bool | None = unstated_means(False, _NOT_SHOWN)
    regular_committee_meetings: Bool | None = unstated_means(False, _NOT_SHOWN)
    annual_general_meeting: Bool | None = unstated_means(False, _NOT_SHOWN)
    business_plan: BusinessPlan | None = None
    meets_accounting_law: Bool | None = unstated_means(False, _NOT_SHOWN)
    internal_financial_controls: Bool | None = unstated_means(False, _NOT_SHOWN)
    accounts: Accounts | None = None
    handles_personal_data: Bool | None = unstated_means(True, _APPLIES)
    data_protection_compliant: Bool | None = unstated_means(False, _NOT_SHOWN)
    employs_staff: Bool | None = unstated_means(True, _APPLIES)
    will_recruit_for_service: Bool | None = unstated_means(True, _APPLIES)
    posts_advertised: Bool | None = unstated_means(False, _NOT_SHOWN)
    open_competitive_interviews: Bool | None = unstated_means(False, _NOT_SHOWN)
    contracts_and_job_descriptions: Bool | None = unstated_means(False, _NOT_SHOWN)
    pays_living_wage: Bool | None = unstated_means(False, "not stated: no living-wage payment is assumed (2.3)")
    insurance: tuple[InsuranceCover, ...] = Field(default=(), description="Insurance covers held")
    owns_premises_or_equipment: Bool | None = unstated_means(True, _APPLIES)
    owns_or_drives_vehicles: Bool | None = unstated_means(True, _APPLIES)
    staff_dbs_checked: Bool | None = unstated_means(False, _NOT_SHOWN)
    safeguarding_adults_policy: Bool | None = unstated_means(False, _NOT_SHOWN)
    child_protection_policy: Bool | None = unstated_means(False, _NOT_SHOWN)
    safeguarding_training_current: Bool | None = unstated_means(False, _NOT_SHOWN)
    equality_policy: Bool | None = unstated_means(False, _NOT_SHOWN)
    equality_training: Bool | None = unstated_means(False, _NOT_SHOWN)


class ChartCriterion(str, Enum):
    """The rows of chart 3.5.1 ("Examples of organisational criteria that might be included"), in its order."""

    management = "management"
    financial_systems = "financial_systems"
    data_protection = "data_protection"
    employment_practices = "employment_practices"
    insurance = "insurance"
    disclosure_and_barring = "disclosure_and_barring"
    safeguarding_policies = "safeguarding_policies"
    safeguarding_training = "safeguarding_training"
    equality = "equality"


class AdditionalCriterion(BaseModel):
    """A grant- or contract-specific criterion (3.5: quality, delivery, sustainability …) and whether it is met."""

    model_config = STRICT_MODEL

    id: Text
    description: Text
    met: Bool


class Service(BaseModel):
    """The service the organisation offers: decides which criteria are proportionate and relevant (3.5)."""

    model_config = STRICT_MODEL

    works_with_children: Bool | None = unstated_means(True, _APPLIES)
    works_with_vulnerable_adults: Bool | None = unstated_means(True, _APPLIES)
    specification_criteria: tuple[ChartCriterion, ...] = Field(
        default=tuple(ChartCriterion),
        description="The rows of chart 3.5.1 the specification or grant application document sets out (3.5: the "
        "criteria 'set out in the specification or grant application document'; the chart gives 'Examples'). "
        "Default: every row. A row left out is not applicable.",
    )
    additional_criteria: tuple[AdditionalCriterion, ...] = ()

    @model_validator(mode="after")
    def _unique_criterion_ids(self) -> Service:
        counts = collections.Counter(c.id for c in self.additional_criteria)  # linear: a long list cannot stall
        duplicates = sorted(i for i, n in counts.items() if n > 1)
        if duplicates:
            raise ValueError(f"additional_criteria: ids must be unique, repeated: {', '.join(duplicates)}")
        return self


class Delivery(BaseModel):
    """Facts for choosing self, partnership or external delivery (3.4.1)."""

    model_config = STRICT_MODEL

    council_capacity: Capacity
    self_delivery_most_efficient: Bool
    outcomes_need_partners: Bool
    joint_commissioning_adds_value: Bool
    appropriate_partnership_exists: Bool


class Provision(BaseModel):
    """Facts for choosing procurement, grant or grant in kind (3.4.2)."""

    model_config = STRICT_MODEL

    for_council_direct_benefit: Bool
    funds_available: Bool
    in_kind_resource: InKindResource
    funding_purpose: FundingPurpose
    aligned_to_council_outcomes: Bool


class Option(BaseModel):
    """One way of meeting the outcomes, costed and valued for best value (2.1)."""

    model_config = STRICT_MODEL

    name: Text
    whole_life_cost: Money
    economic_value: Money
    social_value: Money
    environmental_value: Money
    meets_required_outcomes: Bool


class Award(BaseModel):
    """The contract, grant or grant in kind (3.5 decision level, 3.6 award, 3.7 monitoring, 3.8 notice)."""

    model_config = STRICT_MODEL

    route: Route
    value: Money = Field(
        description="The contract's or grant's total estimated value in pounds, over its whole term. By default it "
        "includes any VAT charged (value_includes_vat), the basis of the procurement thresholds from 1 January 2022.",
    )
    value_includes_vat: Bool = Field(
        True,
        description="Whether value includes VAT. The sub-central services threshold excludes VAT before 1 January "
        "2022 and includes it from then; a value on the other basis is compared only where the answer is certain.",
    )
    complexity: Complexity = Complexity.medium
    starts_on: IsoDate | None = None
    ends_on: IsoDate | None = None
    time_limited: Bool = False
    provider_tools: tuple[ProviderTool, ...] = ()
    other_public_funder_monitoring: Bool = False

    @model_validator(mode="after")
    def _ends_after_start(self) -> Award:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValueError(f"ends_on {self.ends_on} is before starts_on {self.starts_on}")
        return self


class Review(BaseModel):
    """The evaluation at the end of an agreement (3.8)."""

    model_config = STRICT_MODEL

    outcomes_met: OutcomesMet
    need_continues: Bool
    still_a_priority: Bool
    better_route_available: Bool
    notice_served_on: IsoDate | None = None


class Departure(BaseModel):
    """A departure from the framework and whether it is documented (1.3)."""

    model_config = STRICT_MODEL

    reason: DepartureReason
    documented: Bool


class Case(BaseModel):
    """One case: the input of :func:`commissioning_rules.evaluate`. Every part is optional."""

    model_config = STRICT_MODEL

    as_of: IsoDate | None = Field(None, description="Date the policy is applied at (default: today)")
    reference: Text | None = Field(
        None, description="The caller's own reference for the application (kept with its decision record)"
    )
    organisation: Organisation | None = None
    service: Service | None = None
    delivery: Delivery | None = None
    provision: Provision | None = None
    options: tuple[Option, ...] | None = None
    award: Award | None = None
    review: Review | None = None
    departure: Departure | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _bounded_nesting(cls, data: Any, handler: ModelWrapValidatorHandler[Case]) -> Case:
        if isinstance(data, dict):  # raw input: a hostile depth is refused before any field is read
            refuse_deep_nesting(cls.__name__, data)
        return handler(data)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How hypothesis (and IPython) print a case: its minimal JSON (what is not stated left out), as a call
        that rebuilds it, instead of thirty ``None`` fields."""
        printer.text(f"Case.model_validate_json({self.model_dump_json(exclude_none=True)!r})")


#: The case parts, in contract order (what the rules read: not the date or the caller's reference).
CASE_PARTS = tuple(name for name in Case.model_fields if name not in {"as_of", "reference"})


