"""3.7 Monitoring, 3.7.1 Equalities, 3.7.1 Evaluation, 3.7.2 Proportionality and risk management.

    "All organisations funded by the council through the commissioning process will be subject to monitoring
    against performance targets as set out in the contract or grant award letter. The monitoring requirements
    will be proportionate to the value and complexity of the arrangement." (3.7)

The level is a decision table over the award's value band and its complexity (hit policy *unique*: exactly one
cell fires for every award). The framework gives no figures, so the value bands and what each level means
(reporting interval, visits) are documented placeholder parameters (``parameters/monitoring.yaml``).

    value band (award value)                           low complexity   medium      high
    lower:  below monitoring_standard_value_from       light            light       standard
    middle: from it up to monitoring_intensive_value_above  light       standard    intensive
    upper:  above monitoring_intensive_value_above     standard         intensive   intensive

Medium complexity takes the value band's own level; low complexity is one step lighter, high one step heavier
(never past light or intensive). The level is a non-decreasing function of the band and of the complexity, so
it never gets lighter as the value or the complexity rises. If a policy sets the intensive band below the
standard one, a value between them is in both the lower and the upper band: two cells fire and :func:`assemble`
keeps the heavier level (in doubt, monitor more closely); the level is still monotone (a property test).

The provider's own tools (3.7.2) and another public funder's monitoring change where the evidence comes from,
never the level. Equalities monitoring (3.7.1) and an evaluation agreed at the outset (3.7.1) are always part of
the plan. The SOUL Record closed to organisations after 30 June 2018 (the effective-dated parameter
``soul_record_closed`` turns true on 1 July 2018): evidence from it then brings an advisory, which never decides
anything, and SOUL is then no longer among the tools accepted.

All organisations funded "will be subject to monitoring" (3.7): where the award gives its start and end, the
reporting interval is capped at the agreement's length in whole months (at least one), and ``first_report_due``
(the start plus the interval) never falls after the end, so even an agreement shorter than its level's interval
gets a report within it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

from commissioning_rules.calendar import add_months
from commissioning_rules.engine.rule import (
    AssemblyContext,
    Conclusion,
    Condition,
    DecisionTable,
    Firing,
    Param,
    Rule,
    RuleSet,
    all_of,
    eq,
    gt,
    gte,
    is_true,
    lt,
    lte,
    not_,
)
from commissioning_rules.models.case import Complexity, ProviderTool
from commissioning_rules.models.decision import Advisory, Later, MonitoringLevel, MonitoringPlan, trusted
from commissioning_rules.rules.organisation_criteria import NO_FURTHER_CONSIDERATION

SECTION = "3.7"
AWARD = "award"

MONITORING = (
    "All organisations funded by the council through the commissioning process will be subject to monitoring "
    "against performance targets as set out in the contract or grant award letter."
)
PROPORTIONATE = "The monitoring requirements will be proportionate to the value and complexity of the arrangement."
EQUALITIES = (
    "The council has a legal duty under the Equality Act (2010) to promote equality of opportunity, eliminate "
    "discrimination and foster good relations, and this is extended to organisations delivering public functions "
    "on our behalf."
)
EVALUATION = (
    "The evaluation process needs to be designed and agreed at the outset, and embedded into agreements with "
    "providers."
)
PROVIDER_TOOLS = (
    "Norwich City Council is happy to accept evidence using these or any other similarly robust tools which are "
    "already utilised across sectors."
)
SOUL = (
    "For example some agencies may already be using tools such as the Outcome Star, or SOUL (soft outcomes "
    "universal learning) records with indicators which measure progress."
)
OTHER_FUNDER = (
    "If the provider also receives public money from another government body or other funding body, Norwich City "
    "Council will consider utilising monitoring and evaluation systems that are already in place."
)

# --- the level: value band x complexity -------------------------------------------------------------------

VALUE = "award.value"
STANDARD_FROM = Param("monitoring_standard_value_from")
INTENSIVE_ABOVE = Param("monitoring_intensive_value_above")

#: Each value band: its condition, and the words a finding uses for it.
VALUE_BANDS: dict[str, tuple[Condition, str]] = {
    "lower": (lt(VALUE, STANDARD_FROM), "award value {award.value} is below {param.monitoring_standard_value_from}"),
    "middle": (
        all_of(gte(VALUE, STANDARD_FROM), lte(VALUE, INTENSIVE_ABOVE)),
        "award value {award.value} is from {param.monitoring_standard_value_from} to {param.monitoring_intensive_value_above}",
    ),
    "upper": (gt(VALUE, INTENSIVE_ABOVE), "award value {award.value} is above {param.monitoring_intensive_value_above}"),
}

#: The decision table: (value band, complexity) -> level. Medium complexity takes the band's own level; low is
#: one step lighter and high one step heavier, clamped.
LEVELS: dict[tuple[str, Complexity], MonitoringLevel] = {
    (band, complexity): list(MonitoringLevel)[max(0, min(2, b + c - 1))]
    for b, band in enumerate(VALUE_BANDS)
    for c, complexity in enumerate(Complexity)
}

_MEANS = (
    "so monitoring is {level}: a report every {{param.monitoring_{level}_reporting_interval}} against the "
    "performance targets in the contract or grant award letter (or at least once within a shorter agreement), and "
    "monitoring visits a year: {{param.monitoring_{level}_visits_per_year}}"
)


def _level_rule(band: str, complexity: Complexity, level: MonitoringLevel) -> Rule:
    condition, words = VALUE_BANDS[band]
    return Rule(
        f"monitoring.level.{band}_value.{complexity.value}_complexity", SECTION, PROPORTIONATE,
        when=all_of(condition, eq("award.complexity", complexity)),
        then=Conclusion("monitoring_level", level.value),
        because=words + ", and its complexity is {award.complexity}, " + _MEANS.format(level=level.value),
    )


LEVEL_RULES = tuple(_level_rule(band, complexity, level) for (band, complexity), level in LEVELS.items())

# --- what every plan holds ------------------------------------------------------------------------------

PLAN_RULES = (
    Rule(
        "monitoring.performance_targets", SECTION, MONITORING,
        when=is_true("has_award"),
        then=Conclusion("monitoring", "performance_targets"),
        because="the award (route: {award.route}) is monitored against the performance targets set out in the contract or grant award letter",
    ),
    Rule(
        "monitoring.equalities", "3.7.1", EQUALITIES,
        when=is_true("has_award"),
        then=Conclusion("monitoring", "equalities"),
        because="equalities monitoring is required: the council's duty under the {param.equality_law} extends to organisations delivering public functions on its behalf, so the provider shows it is an equal opportunities employer and understands the communities it serves",
    ),
    Rule(
        "monitoring.evaluation", "3.7.1", EVALUATION,
        when=is_true("has_award"),
        then=Conclusion("monitoring", "evaluation"),
        because="the evaluation is designed and agreed at the outset and embedded in the contract or grant award letter, so the review at the end of the agreement can assess the extent to which the agreed outcomes were met",
    ),
)

# --- the provider's own tools and other funders (3.7.2) ------------------------------------------------

_TOOL_WORDS = {
    ProviderTool.outcome_star: "the Outcome Star",
    ProviderTool.soul: "SOUL (soft outcomes universal learning) records",
    ProviderTool.other_robust: "another similarly robust tool already used across sectors",
}

#: SOUL records are accepted only while the SOUL Record is open (``soul_record_closed`` false): once it has closed
#: the advisory below asks for another tool instead, so SOUL is never both accepted and warned against. (A boolean
#: parameter is compared with a fact known to be true in the same condition: the provider uses SOUL.)
SOUL_CLOSED = eq("award.provider_tools.soul", Param("soul_record_closed"))
_ACCEPTED = {ProviderTool.soul: all_of(is_true("award.provider_tools.soul"), not_(SOUL_CLOSED))}

EVIDENCE_RULES = tuple(
    Rule(
        f"monitoring.provider_tool.{tool.value}", "3.7.2", PROVIDER_TOOLS,
        when=_ACCEPTED.get(tool, is_true(f"award.provider_tools.{tool.value}")),
        then=Conclusion("provider_tool", tool.value),
        because=f"the provider already uses {_TOOL_WORDS[tool]}; the council accepts its evidence rather than imposing extra procedures",
    )
    for tool in ProviderTool
) + (
    Rule(
        "monitoring.other_funder", "3.7.2", OTHER_FUNDER,
        when=is_true("award.other_public_funder_monitoring"),
        then=Conclusion("other_funder", "considered"),
        because="the provider already reports to another public funder, so the council will consider using the monitoring and evaluation systems already in place",
    ),
    Rule(
        "monitoring.provider_tool.soul_closed", "3.7.2", SOUL,
        when=all_of(is_true("award.provider_tools.soul"), SOUL_CLOSED),
        then=Conclusion("advisory", "soul_closed"),
        because="the provider names SOUL records as its evidence, but the SOUL Record has closed to all organisations except City College Norwich users and issues no new licences (parameter soul_record_closed): confirm the records are still available to the provider, or agree the Outcome Star or another similarly robust tool",
    ),
)

RULES = PLAN_RULES + LEVEL_RULES + EVIDENCE_RULES


def agreement_months(starts_on: dt.date, ends_on: dt.date) -> int:
    """The agreement's length in whole calendar months, at least 1 (a report interval is a whole number of months)."""
    months = (ends_on.year - starts_on.year) * 12 + ends_on.month - starts_on.month
    while months > 0 and add_months(starts_on, months) > ends_on:
        months -= 1
    return max(months, 1)


def assemble(firings: Sequence[Firing], context: AssemblyContext) -> dict[str, Any]:
    """The plan: the heaviest level that fired (exactly one fires when the bands are ordered), what it means
    (its reporting interval and visits, from the parameters), the tools accepted, and any advisory."""
    levels = [MonitoringLevel(f.rule.then.outcome) for f in firings if f.rule.then.topic == "monitoring_level"]
    level = max(levels, key=lambda lv: lv.rank)
    interval = context.parameters[f"monitoring_{level.value}_reporting_interval"]
    award = context.case.award
    first_report_due = None
    if award.starts_on is not None:
        if award.ends_on is not None:  # 3.7: every funded organisation is monitored, within its agreement
            interval = min(interval, agreement_months(award.starts_on, award.ends_on))
        try:
            first_report_due = add_months(award.starts_on, interval)
        except OverflowError:
            first_report_due = None
        if award.ends_on is not None and (first_report_due is None or first_report_due > award.ends_on):
            first_report_due = award.ends_on
    plan = trusted(
        MonitoringPlan,
        level=level,
        first_report_due=first_report_due,
        reporting_interval_months=interval,
        visits_per_year=context.parameters[f"monitoring_{level.value}_visits_per_year"],
        provider_tools_accepted=[f.rule.then.outcome for f in firings if f.rule.then.topic == "provider_tool"],
        other_funder_monitoring_considered=any(f.rule.then.topic == "other_funder" for f in firings),
    )
    advisories = [
        trusted(Advisory, id=f.rule.id, section=f.rule.section, message=Later(context.because, f))
        for f in firings
        if f.rule.then.topic == "advisory"
    ]
    return {"monitoring": plan, "advisories": advisories}


RULESET = RuleSet(
    name="monitoring",
    section=SECTION,
    title="Monitoring, equalities and evaluation, proportionality (3.7, 3.7.1, 3.7.2)",
    inputs=(AWARD,),
    rules=RULES,
    assemble=assemble,
    tables=(DecisionTable("monitoring_level"),),
    requires=(NO_FURTHER_CONSIDERATION,),
    decides=("monitoring",),
)
