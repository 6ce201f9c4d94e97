"""Typed models of the JSON contract (docs/json-contract.md): the case a user gives and the Decision we return."""

from commissioning_rules.models.case import (
    AdditionalCriterion,
    Award,
    Case,
    Delivery,
    Departure,
    Option,
    Organisation,
    Provision,
    Review,
    Service,
)
from commissioning_rules.models.decision import Decision, sources_included

__all__ = [
    "AdditionalCriterion",
    "Award",
    "Case",
    "Decision",
    "Delivery",
    "Departure",
    "Option",
    "Organisation",
    "Provision",
    "Review",
    "Service",
    "sources_included",
]
