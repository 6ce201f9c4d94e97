"""What would change an outcome, in words, derived from the rules' own conditions (never a second copy).

:func:`needed` walks a condition over one fact's engine values and names the comparisons that do not hold —
what the applicant (or the officer) would need to show for the condition to hold. A criterion not met (3.5.1)
lists what its failing requirements' ``satisfied`` conditions need; ``route: none`` (3.4.2) lists, for each
route, the facts its row of the decision table needs that the case does not give. Both ask :func:`needed_of`,
which reads a fact's model with code compiled once per condition and gives the same words.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Mapping

from commissioning_rules.engine.compiled import Failing, compile_failing
from commissioning_rules.engine.memo import ByIdentity
from commissioning_rules.engine.reference import holds
from commissioning_rules.engine.rule import AllOf, AnyOf, Compare, Condition, Param
from commissioning_rules.engine.values import Fact
from commissioning_rules.facts import read_lines, show

_OPERATOR_WORDS = {"neq": "not", "gt": "above", "gte": "at least", "lt": "below", "lte": "at most"}
#: Case parts named in a path (``organisation.accounts``): dropped from the words.
_PARTS = ("organisation.", "service.", "provision.", "delivery.", "award.", "review.")


def label(path: str) -> str:
    """A fact's path as a person reads it: ``organisation.insurance.public_liability`` → ``insurance``."""
    for part in _PARTS:
        if path.startswith(part):
            path = path[len(part):]
            break
    return path.split(".")[0].replace("_", " ")


def _operand(compare: Compare, shown: Callable[[str], str]) -> str:
    operand = compare.operand
    if isinstance(operand, Param):
        return shown(operand.name)
    if isinstance(operand, bool) and compare.path.count(".") >= 2:  # a member of a list: insurance.vehicle
        return compare.path.rsplit(".", 1)[1].replace("_", " ") + ("" if operand else " (not held)")
    return show(operand)


def words(condition: Condition, shown: Callable[[str], str]) -> str:
    """A condition in words: ``accounts: audited or independently examined``, ``annual turnover above £5,000.00``."""
    if isinstance(condition, Compare):
        if condition.operator == "eq":
            return f"{label(condition.path)}: {_operand(condition, shown)}"
        return f"{label(condition.path)} {_OPERATOR_WORDS[condition.operator]} {_operand(condition, shown)}"
    parts = condition.conditions
    if isinstance(condition, AnyOf):
        equalities = [c for c in parts if isinstance(c, Compare) and c.operator == "eq"]
        if len(equalities) == len(parts) and len({c.path for c in equalities}) == 1:
            return f"{label(equalities[0].path)}: " + " or ".join(_operand(c, shown) for c in equalities)
    joiner = " and " if isinstance(condition, AllOf) else " or "
    return joiner.join(words(c, shown) for c in parts)


def needed(
    condition: Condition, values: Mapping[str, Any], parameters: Mapping[str, Any], shown: Callable[[str], str]
) -> list[str]:
    """The parts of ``condition`` that do not hold of the fact ``values``, in words (empty when it holds)."""
    if holds(condition, values, parameters):
        return []
    if isinstance(condition, AllOf):
        return [text for c in condition.conditions for text in needed(c, values, parameters, shown)]
    return [words(condition, shown)]


#: Each condition's compiled :func:`~commissioning_rules.engine.compiled.compile_failing`, by the kind of fact.
_FAILING: ByIdentity[Failing] = ByIdentity()
#: A part of a condition in words, with the parameter values it was said with: the words depend on nothing else,
#: and an evaluation's parameters are one object per policy, date and rule sets.
_SAID: ByIdentity[str] = ByIdentity()


def needed_of(condition: Condition, fact: Fact, parameters: Mapping[str, Any], shown: Callable[[str], str]) -> list[str]:
    """:func:`needed` for ``fact``, read from its model where it has one (as the compiled engine reads it), so its
    values are never gathered into a dict; the same words. ``shown`` shows the values ``parameters`` encodes."""
    if fact.model is None:
        return needed(condition, fact.values, parameters, shown)
    failing = _FAILING.get((condition, fact.type), lambda: compile_failing(condition, fact.type, read_lines))
    return [_SAID.get((part, parameters), functools.partial(words, part, shown)) for part in failing(fact.model, parameters)]
