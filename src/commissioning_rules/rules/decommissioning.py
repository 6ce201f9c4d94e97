"""3.8 Decommissioning: the review outcome (extend, re-commission or decommission) and the notice when funding ends.

    "It is this evaluation process and continuation of the commissioning cycle; the needs assessment, review of
    outcomes, assessment of the most appropriate route to deliver those outcomes, which informs decisions to
    extend, re-commission or decommission." (3.8)

The review outcome is a decision table with hit policy *unique*: for every review exactly one row matches
(proved by enumerating every input on both engines). Rows, in the cycle's order:

    need continues | still a priority | better route | outcomes met     | outcome
    no             | -                | -            | -                | decommission   (need_ended)
    yes            | no               | -            | -                | decommission   (not_a_priority, 2.2)
    yes            | yes              | yes          | -                | re_commission  (better_route)
    yes            | yes              | no           | met              | extend         (outcomes_met)
    yes            | yes              | no           | partly, not met  | re_commission  (outcomes_not_fully_met)

An agreement that has not fully met its agreed outcomes is not extended as it stands: the need and the priority
remain, so the cycle continues (outcomes reviewed, service redesigned, sourced again).

Notice: funding for the existing agreement ends unless it is extended (a re-commissioned service is sourced
again, so the current funding ends too). Then the council "will ordinarily provide three months' notice"
(parameter ``notice_ordinary_months``); a time-limited award gets a reduced period or none
(``notice_time_limited_months``; an award not described is treated as not time-limited, so the provider gets the
ordinary notice). The duties that go with notice are part of the decision. The end of the notice is computed in
:func:`assemble` (conditions cannot do date arithmetic): ``notice_served_on`` plus the period in calendar months,
clamped to the month's last day (``commissioning_rules.calendar.add_months``).

Notice against the agreement: where the award's ``ends_on`` is known, ``serve_by`` is the latest date notice can
be served so that the period ends by it (``calendar.latest_start``: the period before ``ends_on``, month-end
clamped as above). Notice served later ends after the agreement: the advisory ``notice_past_agreement_end`` says
so (the council "will ordinarily provide three months' notice", so funding may have to run past the agreement, or
the notice be reduced only where the award is time-limited).
"""

from __future__ import annotations

from typing import Any, Sequence

from commissioning_rules.calendar import add_months, latest_start
from commissioning_rules.engine.rule import (
    AssemblyContext,
    Conclusion,
    Condition,
    DecisionTable,
    Firing,
    Rule,
    RuleSet,
    all_of,
    any_of,
    eq,
    is_false,
    is_true,
    not_,
    one_of,
)
from commissioning_rules.models.case import OutcomesMet
from commissioning_rules.models.decision import Advisory, Later, Notice, ReviewDecision, ReviewOutcome, trusted

SECTION = "3.8"
REVIEW = "review"

EVALUATED = (
    "The most common time for decommissioning is when the existing agreement comes to an end and the service or "
    "project is evaluated on the extent to which it has met the agreed outcomes."
)
CYCLE = (
    "It is this evaluation process and continuation of the commissioning cycle; the needs assessment, review of "
    "outcomes, assessment of the most appropriate route to deliver those outcomes, which informs decisions to "
    "extend, re-commission or decommission."
)
PRIORITIES = (
    "We will at times need to end the funding for existing services in order to achieve the right outcomes for "
    "residents. This will enable us to invest in other services according to our priorities."
)
ENGAGE = "In doing so, we will actively engage the provider and service users as early as possible."
CONSIDER = (
    "When making a decision consideration will be given to the impact of the funding ceasing, legal requirements "
    "and the Best Value Statutory Guidance (2011)."
)
ORDINARY_NOTICE = (
    "The council will ordinarily provide three months' notice and may amend contractual obligations to support "
    "providers in phasing out services."
)
TIME_LIMITED = "Some awards will be time-limited and therefore a reduced, or no notice period will be required."

# --- the review outcome: a decision table, hit policy unique -------------------------------------------

NEED_CONTINUES = is_true("review.need_continues")
STILL_A_PRIORITY = is_true("review.still_a_priority")
BETTER_ROUTE = is_true("review.better_route_available")
OUTCOMES_MET = eq("review.outcomes_met", OutcomesMet.met)
#: The one row that keeps the existing funding: every other row ends it.
EXTENDS = all_of(NEED_CONTINUES, STILL_A_PRIORITY, not_(BETTER_ROUTE), OUTCOMES_MET)
FUNDING_ENDS = not_(EXTENDS)


def _review(reason: str, outcome: ReviewDecision, section: str, source: str, when: Condition, because: str) -> Rule:
    return Rule(f"review.{outcome.value}.{reason}", section, source, when, Conclusion("review", outcome.value), because)


REVIEW_RULES = (
    _review(
        "need_ended", ReviewDecision.decommission, SECTION, CYCLE,
        is_false("review.need_continues"),
        "the needs assessment shows the need no longer continues (need continues: {review.need_continues}), so the service is decommissioned",
    ),
    _review(
        "not_a_priority", ReviewDecision.decommission, "2.2", PRIORITIES,
        all_of(NEED_CONTINUES, is_false("review.still_a_priority")),
        "the need continues but meeting it is no longer one of the council's priorities (still a priority: {review.still_a_priority}), so funding ends and is invested in other services according to the priorities",
    ),
    _review(
        "better_route", ReviewDecision.re_commission, SECTION, CYCLE,
        all_of(NEED_CONTINUES, STILL_A_PRIORITY, BETTER_ROUTE),
        "the need continues and is still a priority, but a more appropriate route to deliver the outcomes exists (better route available: {review.better_route_available}), so the service is re-commissioned",
    ),
    _review(
        "outcomes_met", ReviewDecision.extend, SECTION, EVALUATED,
        EXTENDS,
        "the evaluation shows the agreed outcomes were met (outcomes: {review.outcomes_met}), the need continues, it is still a priority and no better route exists, so the agreement is extended",
    ),
    _review(
        "outcomes_not_fully_met", ReviewDecision.re_commission, SECTION, EVALUATED,
        all_of(NEED_CONTINUES, STILL_A_PRIORITY, not_(BETTER_ROUTE), one_of("review.outcomes_met", (OutcomesMet.partly, OutcomesMet.not_met))),
        "the need continues and is still a priority, but the evaluation shows the agreed outcomes were not fully met (outcomes: {review.outcomes_met}), so the agreement is not extended as it stands and the service is re-commissioned",
    ),
)

# --- notice when funding ends ----------------------------------------------------------------------------

TIME_LIMITED_AWARD = is_true("award.time_limited")  # false when no award is described: the path is absent
NOT_TIME_LIMITED = any_of(is_false("has_award"), is_false("award.time_limited"))

NOTICE_RULES = (
    Rule(
        "notice.ordinary", SECTION, ORDINARY_NOTICE,
        when=all_of(FUNDING_ENDS, NOT_TIME_LIMITED),
        then=Conclusion("notice_period", "ordinary"),
        because="funding for the existing agreement ends and the award is not time-limited (time limited: {award.time_limited}), so the ordinary notice of {param.notice_ordinary_months} is given",
    ),
    Rule(
        "notice.time_limited", SECTION, TIME_LIMITED,
        when=all_of(FUNDING_ENDS, TIME_LIMITED_AWARD),
        then=Conclusion("notice_period", "time_limited"),
        because="funding for the existing agreement ends and the award is time-limited, so the reduced notice of {param.notice_time_limited_months} is given",
    ),
    Rule(
        "notice.engage", "2.2", ENGAGE,
        when=FUNDING_ENDS,
        then=Conclusion("notice_duty", "engage"),
        because="engage the provider and service users as early as possible",
    ),
    Rule(
        "notice.considerations", SECTION, CONSIDER,
        when=FUNDING_ENDS,
        then=Conclusion("notice_duty", "consider"),
        because="consider the impact of the funding ceasing, legal requirements and the {param.best_value_guidance}",
    ),
    Rule(
        "notice.phase_out", SECTION, ORDINARY_NOTICE,
        when=FUNDING_ENDS,
        then=Conclusion("notice_duty", "phase_out"),
        because="the council may amend contractual obligations to support the provider in phasing out the service",
    ),
)

RULES = REVIEW_RULES + NOTICE_RULES

_PERIOD_PARAMETER = {"ordinary": "notice_ordinary_months", "time_limited": "notice_time_limited_months"}


def assemble(firings: Sequence[Firing], context: AssemblyContext) -> dict[str, Any]:
    """The review outcome (the one row that fired) and, when funding ends, the notice: its months (a parameter),
    its end date (``notice_served_on`` plus those calendar months, clamped to the month's last day) and its duties."""
    (row,) = [f for f in firings if f.rule.then.topic == "review"]
    decided: dict[str, Any] = {
        "review": trusted(ReviewOutcome, outcome=ReviewDecision(row.rule.then.outcome), reason=row.rule.id.rsplit(".", 1)[-1]),
        "notice": None,
        "advisories": [],
    }
    periods = [f.rule.then.outcome for f in firings if f.rule.then.topic == "notice_period"]
    if not periods:
        return decided
    (period,) = periods
    months = context.parameters[_PERIOD_PARAMETER[period]]
    review = context.case.review
    assert review is not None  # the rule set runs only when the case has a review (its inputs)
    served = review.notice_served_on
    ends_on = None
    if served is not None:
        try:
            ends_on = add_months(served, months)
        except OverflowError:
            decided["advisories"].append(
                trusted(
                    Advisory,
                    id="notice.ends_on_unrepresentable", section=SECTION,
                    message=f"notice served on {served.isoformat()} plus {months} months ends after the last date this library can represent; no end date is given",
                )
            )
    agreement_ends = context.case.award.ends_on if context.case.award else None
    serve_by = None
    if agreement_ends is not None:
        try:
            serve_by = latest_start(agreement_ends, months)
        except OverflowError:
            serve_by = None
        if served is not None and ends_on is not None and ends_on > agreement_ends:
            decided["advisories"].append(
                trusted(
                    Advisory,
                    id="notice_past_agreement_end", section=SECTION,
                    message=f"notice served on {served.isoformat()} ends on {ends_on.isoformat()}, after the agreement "
                    f"ends on {agreement_ends.isoformat()}; to end with the agreement it had to be served by "
                    f"{serve_by.isoformat() if serve_by else 'a date before the representable range'}. "
                    f'3.8: "{ORDINARY_NOTICE}"',
                )
            )
    decided["notice"] = trusted(
        Notice,
        months=months,
        ends_on=ends_on,
        serve_by=serve_by,
        time_limited=period == "time_limited",
        duties=Later(context.reasons, [f for f in firings if f.rule.then.topic == "notice_duty"]),
    )
    return decided


RULESET = RuleSet(
    name="decommissioning",
    section=SECTION,
    title="Decommissioning: review outcome and notice (3.8)",
    inputs=(REVIEW,),
    rules=RULES,
    assemble=assemble,
    tables=(DecisionTable("review"),),
    decides=("review", "notice"),
)
