"""Cases shared by the gate tests: an applicant meeting every criterion, and the engines available here."""

from __future__ import annotations

import copy

from commissioning_rules.engine import ENGINES, durable_available

AVAILABLE_ENGINES = [e for e in ENGINES if e != "durable-rules" or durable_available()]

COMPLIANT_ORGANISATION = {
    "name": "Mousehold Youth Trust",
    "kind": "charity",
    "annual_turnover": "42000.00",
    "constitution_adopted": True,
    "regular_committee_meetings": True,
    "annual_general_meeting": True,
    "business_plan": "in_place",
    "meets_accounting_law": True,
    "internal_financial_controls": True,
    "accounts": "independently_examined",
    "handles_personal_data": True,
    "data_protection_compliant": True,
    "employs_staff": True,
    "will_recruit_for_service": True,
    "posts_advertised": True,
    "open_competitive_interviews": True,
    "contracts_and_job_descriptions": True,
    "pays_living_wage": True,
    "insurance": ["public_liability", "employers_liability", "property_and_equipment", "vehicle"],
    "owns_premises_or_equipment": True,
    "owns_or_drives_vehicles": True,
    "staff_dbs_checked": True,
    "safeguarding_adults_policy": True,
    "child_protection_policy": True,
    "safeguarding_training_current": True,
    "equality_policy": True,
    "equality_training": True,
}

#: A small organisation with no staff, premises, vehicles or personal data: only the rows every applicant meets
#: apply (management, financial systems, public liability, equality).
SMALL_COMPLIANT_ORGANISATION = {
    **{k: v for k, v in COMPLIANT_ORGANISATION.items() if k != "name"},
    "accounts": "audited",
    "handles_personal_data": False,
    "employs_staff": False,
    "will_recruit_for_service": False,
    "insurance": ["public_liability"],
    "owns_premises_or_equipment": False,
    "owns_or_drives_vehicles": False,
}

COMPLIANT_SERVICE = {"works_with_children": True, "works_with_vulnerable_adults": True}


def compliant_case(organisation: dict | None = None, service: dict | None = None, as_of: str = "2026-04-01") -> dict:
    """The compliant applicant with ``organisation`` and ``service`` fields changed."""
    return {
        "as_of": as_of,
        "organisation": {**copy.deepcopy(COMPLIANT_ORGANISATION), **(organisation or {})},
        "service": {**COMPLIANT_SERVICE, **(service or {})},
    }


def statuses(decision) -> dict[str, str]:
    return {c.criterion: c.status.value for c in decision.eligibility.criteria}
