"""1.3 Who does it apply to? — departures from the framework.

    "Commissioners within the council will adhere to the framework unless there is an exceptional reason not to
    eg legislative or specific funding guidelines that require a different approach. In such instances this
    should be documented accordingly." (1.3)

A decision table with hit policy *unique* (exactly one row matches every departure; proved by enumerating every
input on both engines):

    reason                          | documented | permitted | basis
    legislation, funding_guidelines | yes        | yes       | named_example
    other                           | yes        | yes       | other_exceptional_reason  (+ an advisory)
    any                             | no         | no        | not_documented

"eg" makes legislation and specific funding guidelines *examples* of an exceptional reason, not the whole list,
so a documented departure for another reason is permitted: refusing it would read the framework as a closed
list it does not state. The library cannot judge whether another reason is exceptional, so the decision carries
an advisory that the record must show why the reason is exceptional and requires a different approach. Whatever
the reason, a departure that is not documented is not permitted ("this should be documented accordingly").
"""

from __future__ import annotations

from typing import Any, Sequence

from commissioning_rules.engine.rule import AssemblyContext, Conclusion, DecisionTable, Firing, Rule, RuleSet, all_of, eq, is_false, is_true, one_of
from commissioning_rules.models.case import Departure, DepartureReason
from commissioning_rules.models.decision import Advisory, DepartureDecision, trusted

SECTION = "1.3"
DEPARTURE = "departure"

ADHERE = (
    "Commissioners within the council will adhere to the framework unless there is an exceptional reason not to "
    "eg legislative or specific funding guidelines that require a different approach."
)
DOCUMENTED = "In such instances this should be documented accordingly."

NAMED_EXAMPLES = (DepartureReason.legislation, DepartureReason.funding_guidelines)

RULES = (
    Rule(
        "departure.permitted.named_example", SECTION, ADHERE,
        when=all_of(one_of("departure.reason", NAMED_EXAMPLES), is_true("departure.documented")),
        then=Conclusion("departure", "named_example"),
        because="the departure is for {departure.reason}, an exceptional reason the framework names, and it is documented",
    ),
    Rule(
        "departure.permitted.other_exceptional_reason", SECTION, ADHERE,
        when=all_of(eq("departure.reason", DepartureReason.other), is_true("departure.documented")),
        then=Conclusion("departure", "other_exceptional_reason"),
        because="the departure is for a reason the framework does not name, and it is documented; the framework's examples (legislation, specific funding guidelines) are not the whole list, so the documented record must show why the reason is exceptional and requires a different approach",
    ),
    Rule(
        "departure.not_permitted.not_documented", SECTION, DOCUMENTED,
        when=is_false("departure.documented"),
        then=Conclusion("departure", "not_documented"),
        because="the departure (reason: {departure.reason}) is not documented, so the commissioner adheres to the framework until it is",
    ),
)

PERMITTED = {"named_example": True, "other_exceptional_reason": True, "not_documented": False}


def _departure(context: AssemblyContext) -> Departure:
    departure: Departure | None = context.case.departure
    assert departure is not None  # the rule set runs only when the case has a departure (its inputs)
    return departure


def assemble(firings: Sequence[Firing], context: AssemblyContext) -> dict[str, Any]:
    """The one row that fired gives the decision; a departure for another reason also brings an advisory."""
    (row,) = firings
    basis = row.rule.then.outcome
    advisories = []
    if basis == "other_exceptional_reason":
        advisories.append(
            trusted(
                Advisory,
                id=row.rule.id, section=SECTION,
                message="a departure for a reason other than legislation or specific funding guidelines is permitted only as an exceptional reason that requires a different approach: the documentation must say why",
            )
        )
    decision = trusted(DepartureDecision, permitted=PERMITTED[basis], reason=_departure(context).reason.value, basis=basis)
    return {"departure": decision, "advisories": advisories}


RULESET = RuleSet(
    name="departures",
    section=SECTION,
    title="Departures from the framework (1.3)",
    inputs=(DEPARTURE,),
    rules=RULES,
    assemble=assemble,
    tables=(DecisionTable("departure"),),
    decides=("departure",),
)
