"""The Decision: what ``evaluate`` returns. ``model_dump(mode="json")`` is the output contract of DESIGN.md."""

from __future__ import annotations

import datetime as dt
from enum import Enum

from pydantic import BaseModel, ConfigDict

_OUTPUT = ConfigDict(extra="forbid", frozen=True)


class Status(str, Enum):
    met = "met"
    not_met = "not_met"
    not_applicable = "not_applicable"


class Finding(BaseModel):
    """A rule that fired: its id, the section and sentence it encodes, and why, with the facts used."""

    model_config = _OUTPUT

    rule: str
    section: str
    because: str
    source: str
    subject: str = "case"


class ParameterUsed(BaseModel):
    """A parameter a fired rule read: the value in force at ``as_of`` and where it comes from."""

    model_config = _OUTPUT

    name: str
    value: str
    unit: str
    effective_from: dt.date
    source: str
    placeholder: bool = False


class CriterionResult(BaseModel):
    """One row of chart 3.5.1 (or one additional criterion) and its result."""

    model_config = _OUTPUT

    criterion: str
    status: Status
    reasons: list[str]
    section: str


class Eligibility(BaseModel):
    """3.5: an applicant meeting every applicable organisational criterion; otherwise no further consideration."""

    model_config = _OUTPUT

    eligible: bool
    criteria: list[CriterionResult]


class Advisory(BaseModel):
    """An encouragement or caution that never decides anything (e.g. the living wage, 2.3)."""

    model_config = _OUTPUT

    id: str
    section: str
    message: str


class PolicyRef(BaseModel):
    model_config = _OUTPUT

    name: str
    version: str


# --- sourcing (2.1, 3.4, 3.5, 3.6) -------------------------------------------------------------------


class BestValue(BaseModel):
    model_config = _OUTPUT

    option: str | None


class DeliveryDecision(BaseModel):
    model_config = _OUTPUT

    method: str


class RouteDecision(BaseModel):
    model_config = _OUTPUT

    route: str
    process: list[dict[str, str]] = []


class Approval(BaseModel):
    model_config = _OUTPUT

    decided_by: str
    notified: list[str] = []


# --- after the award (1.3, 3.7, 3.8) -----------------------------------------------------------------


class MonitoringPlan(BaseModel):
    model_config = _OUTPUT

    level: str
    equalities_monitoring: bool = True


class Notice(BaseModel):
    model_config = _OUTPUT

    months: int
    ends_on: dt.date | None = None


class ReviewOutcome(BaseModel):
    model_config = _OUTPUT

    outcome: str


class DepartureDecision(BaseModel):
    model_config = _OUTPUT

    permitted: bool


class Decision(BaseModel):
    """The decision on one case, with every rule that fired and the parameters it used."""

    model_config = _OUTPUT

    as_of: dt.date
    policy: PolicyRef
    engine: str
    eligibility: Eligibility | None = None
    best_value: BestValue | None = None
    delivery: DeliveryDecision | None = None
    route: RouteDecision | None = None
    approval: Approval | None = None
    monitoring: MonitoringPlan | None = None
    notice: Notice | None = None
    review: ReviewOutcome | None = None
    departure: DepartureDecision | None = None
    advisories: list[Advisory] = []
    findings: list[Finding] = []
    parameters: list[ParameterUsed] = []

    def explain(self) -> str:
        """The decision in plain English, citing and quoting the framework."""
        from commissioning_rules.explain import explain

        return explain(self)
