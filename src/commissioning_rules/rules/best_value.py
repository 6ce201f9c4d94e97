"""2.1 Statutory framework — best value: economy, efficiency and effectiveness, never simply the cheapest.

    "Good value for money is not about achieving the lowest price, it is the best use of resources to achieve
    the intended outcomes. The council will therefore seek to ensure that environmental, social and economic
    values are considered as part of the whole picture when reviewing service provision." (2.1)

The rules classify each option (one ``option`` fact each): it meets the required outcomes (effectiveness) or it
misses them, and one that misses them can never be chosen. The arithmetic is the visible step
:func:`assemble` (conditions cannot add or divide), for each option:

* economy: its whole-life cost ("the cost of the project across the whole life of the project", glossary);
* total value: economic + social + environmental value ("environmental, social and economic values");
* efficiency: its SROI, total value ÷ whole-life cost (the glossary's "ratio of total benefits (a sum of all the
  outcomes) to total investments"); with a nil cost the ratio is undefined and shown as none, and the option
  ranks above every costed one if its total value is positive (value for nothing), as nil otherwise.

The chosen option is the highest SROI among the options meeting the required outcomes, compared exactly (as
fractions, not rounded). **Ties**, deterministically: the higher total value, then the lower whole-life cost,
then the option listed first. No option meeting the outcomes (or no options at all) gives ``option: None``
with the reason, never an exception. Because options that miss the outcomes are never ranked, adding one —
however cheap — never changes the choice (a property test proves it).
"""

from __future__ import annotations

from typing import Any, Sequence

from decimal import Decimal
from fractions import Fraction

from commissioning_rules.engine.rule import AssemblyContext, Conclusion, Firing, Rule, RuleSet, is_false, is_true
from commissioning_rules.facts import show
from commissioning_rules.models.case import Option
from commissioning_rules.models.decision import BestValue, Later, OptionAppraisal, trusted

SECTION = "2.1"

EFFECTIVENESS = (
    "Effectiveness: the relationship between the intended and actual results of public spending (outcomes) "
    "spending wisely."
)
NOT_LOWEST_PRICE = (
    "Good value for money is not about achieving the lowest price, it is the best use of resources to achieve the "
    "intended outcomes."
)
#: SROI is shown to this many decimal places (ranking uses the exact ratio).
SROI_PLACES = Decimal("0.0001")

_COSTS = (
    "whole-life cost {whole_life_cost}; economic value {economic_value}, social value {social_value}, "
    "environmental value {environmental_value}"
)

RULES = (
    Rule(
        "best_value.meets_outcomes", SECTION, EFFECTIVENESS,
        is_true("meets_required_outcomes"), Conclusion("outcomes", "met"),
        f"option {{name}} meets the required outcomes, so it is compared on value for money ({_COSTS})",
        subject="option",
    ),
    Rule(
        "best_value.misses_outcomes", SECTION, NOT_LOWEST_PRICE,
        is_false("meets_required_outcomes"), Conclusion("outcomes", "missed"),
        f"option {{name}} does not meet the required outcomes, so it cannot give best value whatever its cost ({_COSTS})",
        subject="option",
    ),
)


def total_value(option: Option) -> Decimal:
    """Economic + social + environmental value (2.1)."""
    return option.economic_value + option.social_value + option.environmental_value


def sroi(option: Option) -> Fraction | None:
    """Total value ÷ whole-life cost, exactly; ``None`` where the whole-life cost is nil."""
    cost = option.whole_life_cost
    # money is whole pence, so the ratio of the amounts in pence is exact (and cheaper than from Decimals)
    return Fraction(int(total_value(option).scaleb(2)), int(cost.scaleb(2))) if cost else None


def _preference(index: int, option: Option) -> tuple[Any, ...]:
    """The sort key of an option meeting the outcomes: the greatest key gives best value (ties as documented)."""
    ratio = sroi(option)
    value = total_value(option)
    efficiency = (0, ratio) if ratio is not None else (1 if value else 0, 0)
    return (efficiency, value, -option.whole_life_cost, -index)


def _shown(ratio: Fraction | None) -> Decimal | None:
    if ratio is None:
        return None
    return (Decimal(ratio.numerator) / Decimal(ratio.denominator)).quantize(SROI_PLACES)


def assemble(firings: Sequence[Firing], context: AssemblyContext) -> dict[str, Any]:
    """Appraise every option, rank those the rules found meeting the outcomes, and choose the first."""
    options = context.case.options
    if not options:
        return {"best_value": trusted(BestValue, option=None, reason="no options were given to appraise (2.1)")}
    meets = {f.fact.key for f in firings if f.rule.then.outcome == "met"}
    eligible = [i for i in range(len(options)) if f"options[{i}]" in meets]
    ranked = sorted(eligible, key=lambda i: _preference(i, options[i]), reverse=True)
    rank = {i: position + 1 for position, i in enumerate(ranked)}
    appraisals = Later(_appraisals, options, rank)  # the choice is made; the table of every option, when read
    if not ranked:
        return {
            "best_value": trusted(
                BestValue,
                option=None,
                options=appraisals,
                reason="no option meets the required outcomes, so none gives best value (2.1: value for money is the "
                "best use of resources to achieve the intended outcomes)",
            )
        }
    return {"best_value": trusted(BestValue, option=options[ranked[0]].name, options=appraisals, reason=Later(_why, options, ranked))}


def _appraisals(options: tuple[Option, ...], rank: dict[int, int]) -> list[OptionAppraisal]:
    """Every option appraised, in the order the case lists them, with its rank among those meeting the outcomes."""
    return [
        trusted(
            OptionAppraisal,
            name=option.name,
            whole_life_cost=option.whole_life_cost,
            total_value=total_value(option),
            sroi=_shown(sroi(option)),
            meets_required_outcomes=i in rank,
            rank=rank.get(i),
        )
        for i, option in enumerate(options)
    ]


def _why(options: tuple[Option, ...], ranked: list[int]) -> str:
    """Why the first-ranked option was chosen, naming the cheapest where it differs, and any tie broken."""
    best = options[ranked[0]]
    ratio = sroi(best)
    shown = (
        f"total value {show(total_value(best))} at no whole-life cost" if ratio is None
        else f"an SROI of {_shown(ratio)} (total value {show(total_value(best))} for a whole-life cost of "
        f"{show(best.whole_life_cost)})"
    )
    count = "the only option" if len(ranked) == 1 else f"the best of {len(ranked)} options"
    reason = f"option {best.name} gives best value: {count} meeting the required outcomes, with {shown}"
    cheapest = min(ranked, key=lambda i: (options[i].whole_life_cost, i))
    if cheapest != ranked[0]:
        reason += (
            f"; it is not the cheapest ({options[cheapest].name} costs {show(options[cheapest].whole_life_cost)}): "
            "value for money is not about achieving the lowest price"
        )
    if len(ranked) > 1 and _preference(ranked[1], options[ranked[1]])[0] == _preference(ranked[0], best)[0]:
        reason += "; ties on SROI go to the higher total value, then the lower whole-life cost, then the option listed first"
    return reason


RULESET = RuleSet(
    "best_value", SECTION, "Best value (economy, efficiency, effectiveness)", ("options",), RULES, assemble,
    decides=("best_value",),
)
