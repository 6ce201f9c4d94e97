"""The framework's rule sets, one module per section, in the order a case meets them."""

from commissioning_rules.rules import living_wage, organisation_criteria
from commissioning_rules.rules import approval, award, best_value, delivery, external_route

#: Every rule set of the default (Norwich 2014) policy.
DEFAULT_RULESETS = (
    organisation_criteria.RULESET,
    living_wage.RULESET,
    best_value.RULESET,
    delivery.RULESET,
    external_route.RULESET,
    approval.RULESET,
    award.RULESET,
)

__all__ = ["DEFAULT_RULESETS"]
