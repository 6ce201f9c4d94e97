"""2.3 Living wage — an encouragement, never a criterion.

    "As a living wage accredited employer, Norwich City Council encourages organisations to pay the living
    wage where possible." (2.3)

These rules only ever add an advisory; nothing here can change eligibility (a property test proves it).
"""

from __future__ import annotations

from typing import Any, Sequence

from commissioning_rules.engine.rule import AssemblyContext, Conclusion, Firing, Rule, RuleSet, all_of, is_true, not_
from commissioning_rules.models.decision import Advisory, Later, trusted
from commissioning_rules.rules.organisation_criteria import HAS_OR_WILL_HAVE_EMPLOYEES

SECTION = "2.3"
SOURCE = (
    "As a living wage accredited employer, Norwich City Council encourages organisations to pay the living wage "
    "where possible. It is the council's aspiration to bring the benefits of the living wage to partner "
    "organisations. This includes employees of contractors and recipients of grant funding for paid posts."
)

RULES = (
    Rule(
        "living_wage.paid", SECTION, SOURCE,
        when=is_true("organisation.pays_living_wage"),
        then=Conclusion("living_wage", "paid"),
        because="the organisation pays the living wage (currently {param.living_wage_hourly_rate} an hour outside London)",
    ),
    Rule(
        "living_wage.encouraged", SECTION, SOURCE,
        when=all_of(HAS_OR_WILL_HAVE_EMPLOYEES, not_(is_true("organisation.pays_living_wage"))),
        then=Conclusion("living_wage", "encouraged"),
        because="the organisation has, will have or may have employees (paid posts) and paying the living wage is not shown (pays living wage: {organisation.pays_living_wage}); the council encourages it, at {param.living_wage_hourly_rate} an hour outside London, and it does not affect eligibility",
    ),
)


def assemble(firings: Sequence[Firing], context: AssemblyContext) -> dict[str, Any]:
    advisories = [
        trusted(Advisory, id=f.rule.id, section=SECTION, message=Later(context.because, f))
        for f in firings
        if f.rule.then.outcome == "encouraged"
    ]
    return {"advisories": advisories}


RULESET = RuleSet("living_wage", SECTION, "Living wage (encouragement only)", ("organisation",), RULES, assemble)
