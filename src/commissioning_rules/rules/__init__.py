"""The framework's rule sets, one module per section, in the order a case meets them."""

from commissioning_rules.rules import decommissioning, departures, living_wage, monitoring, organisation_criteria

#: Every rule set of the default (Norwich 2014) policy.
DEFAULT_RULESETS = (
    departures.RULESET,
    organisation_criteria.RULESET,
    living_wage.RULESET,
    monitoring.RULESET,
    decommissioning.RULESET,
)

__all__ = ["DEFAULT_RULESETS"]
