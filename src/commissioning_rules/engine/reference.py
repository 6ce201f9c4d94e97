"""The reference interpreter: the same rule data, evaluated in plain Python.

It exists to check durable_rules (differential tests on generated cases), to run where durable_rules does
not import (Python 3.13+), and for batch speed. Semantics: a comparison on a missing attribute is false.
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Mapping, Sequence

from commissioning_rules.engine.memo import ByIdentity
from commissioning_rules.engine.rule import AllOf, AnyOf, Compare, Condition, Param, Rule
from commissioning_rules.engine.values import Fact, encode, plain

_OPERATORS = {
    "eq": operator.eq,
    "neq": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def compile_condition(condition: Condition) -> Callable[[Mapping[str, Any], Mapping[str, Any]], bool]:
    """``condition`` as a Python predicate of (fact values, encoded parameters); constants encoded once."""
    if isinstance(condition, Compare):
        path, compare, operand = condition.path, _OPERATORS[condition.operator], condition.operand
        if isinstance(operand, Param):
            name = operand.name

            def against_parameter(values: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
                # as durable's join: a missing attribute or parameter is never compared
                return path in values and name in parameters and compare(values[path], parameters[name])

            return against_parameter
        constant = encode(operand)

        def against_constant(values: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
            return path in values and compare(values[path], constant)

        return against_constant
    parts = tuple(compile_condition(c) for c in condition.conditions)
    if isinstance(condition, AllOf):
        return lambda values, parameters: all(p(values, parameters) for p in parts)
    assert isinstance(condition, AnyOf)
    return lambda values, parameters: any(p(values, parameters) for p in parts)


#: Each condition :func:`holds` was asked about, compiled once.
_PREDICATES: ByIdentity[Callable[[Mapping[str, Any], Mapping[str, Any]], bool]] = ByIdentity()


def holds(condition: Condition, values: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
    """Whether ``condition`` holds of a fact's engine values (a mapping, worked out here if it is not yet), given
    the encoded parameter values."""
    return _PREDICATES.get((condition,), lambda: compile_condition(condition))(plain(values), parameters)


class ReferenceEngine:
    """Runs rules over one case's facts; returns (rule index, fact index) pairs in rule order, then fact order."""

    name = "reference"

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._by_subject: dict[str, list[tuple[int, Callable[..., bool]]]] = {}
        for index, rule in enumerate(self.rules):
            self._by_subject.setdefault(rule.subject, []).append((index, compile_condition(rule.when)))

    def run(self, facts: Sequence[Fact], parameters: Mapping[str, Any]) -> list[tuple[int, int]]:
        fired = []
        for f, fact in enumerate(facts):
            values = plain(fact.values)
            fired += [(r, f) for r, predicate in self._by_subject.get(fact.type, ()) if predicate(values, parameters)]
        return sorted(fired)
