"""The reference interpreter: the same rule data, evaluated in plain Python.

It exists to check durable_rules (differential tests on generated cases), to run where durable_rules does
not import (Python 3.13+), and for batch speed. Semantics: a comparison on a missing attribute is false.
"""

from __future__ import annotations

import operator
from typing import Any, Mapping, Sequence

from commissioning_rules.engine.rule import AllOf, AnyOf, Compare, Condition, Param, Rule
from commissioning_rules.facts import Fact, encode

_OPERATORS = {
    "eq": operator.eq,
    "neq": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def holds(condition: Condition, values: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
    """Whether ``condition`` holds of a fact's engine values, given the encoded parameter values."""
    if isinstance(condition, Compare):
        if condition.path not in values:
            return False
        operand = condition.operand
        if isinstance(operand, Param):
            if operand.name not in parameters:
                return False  # as durable's join: a parameter not given is never compared
            right = parameters[operand.name]
        else:
            right = encode(operand)
        return _OPERATORS[condition.operator](values[condition.path], right)
    if isinstance(condition, AllOf):
        return all(holds(c, values, parameters) for c in condition.conditions)
    assert isinstance(condition, AnyOf)
    return any(holds(c, values, parameters) for c in condition.conditions)


class ReferenceEngine:
    """Runs rules over one case's facts; returns (rule index, fact index) pairs in rule order, then fact order."""

    name = "reference"

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)

    def run(self, facts: Sequence[Fact], parameters: Mapping[str, Any]) -> list[tuple[int, int]]:
        fired = []
        for r, rule in enumerate(self.rules):
            for f, fact in enumerate(facts):
                if fact.type == rule.subject and holds(rule.when, fact.values, parameters):
                    fired.append((r, f))
        return fired
