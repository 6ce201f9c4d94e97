"""The framework's rule sets, one module per section, in the order a case meets them in the commissioning
cycle: departures from the framework (1.3), best value (2.1), sourcing (3.4.1, 3.4.2), the organisational
criteria (3.5, 3.5.1, with the living-wage encouragement of 2.3), who decides (3.5), the award (3.6),
monitoring (3.7) and decommissioning (3.8)."""

from commissioning_rules.rules import (
    approval,
    award,
    best_value,
    decommissioning,
    delivery,
    departures,
    external_route,
    living_wage,
    monitoring,
    organisation_criteria,
)

#: Every rule set of the default (Norwich 2014) policy.
DEFAULT_RULESETS = (
    departures.RULESET,
    best_value.RULESET,
    delivery.RULESET,
    external_route.RULESET,
    organisation_criteria.RULESET,
    living_wage.RULESET,
    approval.RULESET,
    award.RULESET,
    monitoring.RULESET,
    decommissioning.RULESET,
)

__all__ = ["DEFAULT_RULESETS"]
