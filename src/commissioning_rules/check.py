"""Static checks of a policy: ``check(policy)`` lists what is wrong with it before any case is run.

A finding is reported for

* ``missing_citation`` — a rule without a framework section or a quoted source sentence;
* ``undefined_parameter`` — a parameter a rule reads (in its condition or its ``because``) that the policy does
  not define; ``parameter_without_value`` — one with no value in force at a date checked (``as_of``, and the
  policy's own ``effective_from`` where it declares one);
* ``unknown_field`` — a condition reading a path the subject's fact never has; ``type_mismatch`` — a comparison
  of a field with a constant or parameter of another type (money with text, a boolean with ``gt`` …);
* ``table_incomplete`` / ``table_overlap`` — a declared single-hit :class:`DecisionTable` that leaves some case
  without a conclusion, or gives some case two; ``table_outside_inputs`` — a table rule reading a field its
  declaration does not list;
* ``dangling_override`` — an override naming no rule of the policy (or one about another kind of fact);
  ``override_cycle`` — rules overriding each other;
* ``never_fires`` — a rule whose condition no valid case satisfies (after the overrides that suppress it);
* ``dangling_stage`` — a :class:`~commissioning_rules.engine.rule.StageGate` naming a Decision field no earlier
  rule set decides (a stage can only depend on one assembled before it), or an id another rule already has.

The finite domains are inferred from the case models (:func:`~commissioning_rules.fact_schema.fact_schema`): a boolean is true or false; an enum
one of its members (or not stated); a list of enum members one boolean per member; a part of the case present or
absent; an optional field stated or not (then read as its model says). Money, dates and numbers are infinite, but
a condition only compares them with constants and parameter values, so the values at, just below and just above
each such point (with parameters resolved on each date a cited value changes) stand for every other value. The
search splits on one field at a time and prunes as soon as every condition is decided, so it is exact, not
sampled. Cross-field validators (an award ending before it starts) are not modelled.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations
from typing import Any, Iterable, Iterator, Mapping, Sequence

from pydantic import BaseModel

from commissioning_rules.engine.rule import (
    AllOf,
    Compare,
    Condition,
    DecisionTable,
    Param,
    Rule,
    RuleSet,
    override_cycles,
    paths_of,
)
from commissioning_rules.engine.values import encode
from commissioning_rules.fact_schema import FactSchema, FieldSpec, fact_schema, fact_subjects, operand_fits
from commissioning_rules.models.types import MAX_MONEY

_BOUNDS = {"money": (0, int(MAX_MONEY * 100)), "date": (dt.date.min.toordinal(), dt.date.max.toordinal())}


# --- the search: exact, over finite representatives of each field --------------------------------------------

_MISSING = object()  # the attribute is absent: its case part is absent


class _Space:
    """Assignments to the fields of one subject's fact, and three-valued evaluation of conditions over them."""

    def __init__(self, schema: FactSchema, conditions: Sequence[Condition], parameters: Mapping[str, Any]):
        self.schema = schema
        self.parameters = parameters
        points: dict[str, set[Any]] = {}
        for condition in conditions:
            for compare in _compares(condition):
                value = self._operand(compare)
                if value is not _MISSING:
                    points.setdefault(compare.path, set()).add(value)
        self.points = points

    def _operand(self, compare: Compare) -> Any:
        if isinstance(compare.operand, Param):
            return self.parameters.get(compare.operand.name, _MISSING)
        return encode(compare.operand)

    def values(self, variable: str) -> list[Any]:
        """The representative values of a variable: ``part:<name>`` (present?) or a field's path."""
        if variable.startswith("part:"):
            return [True, False]
        spec = self.schema.fields[variable]
        if spec.kind == "boolean":
            domain: list[Any] = [True, False]
        elif spec.kind == "enum":
            domain = list(spec.members)
        else:
            domain = self._representatives(spec)
        return domain + (["<unstated>"] if spec.optional else [])

    def _representatives(self, spec: FieldSpec) -> list[Any]:
        points = self.points.get(spec.path, set()) | self.points.get(f"{spec.path}_stated", set())
        if spec.kind == "text":
            return sorted(p for p in points if isinstance(p, str)) + ["\x00other"]
        numbers = sorted(p for p in points if isinstance(p, int) and not isinstance(p, bool))
        low, high = _BOUNDS.get(spec.kind, (-(10**18), 10**18))
        chosen: set[int] = set()
        for p in numbers:
            for candidate in (p - 1, p, p + 1):
                if low <= candidate <= high:
                    chosen.add(candidate)
        if not chosen:
            chosen.add(max(low, 0))
        return sorted(chosen)

    def variable_of(self, path: str) -> str | None:
        if path.startswith("has_") and path in self.schema.fields:
            return f"part:{path[4:]}"
        found = self.schema.field(path)
        return found[0].path if found else None

    def read(self, path: str, assignment: Mapping[str, Any]) -> Any:
        """The engine value of ``path`` under ``assignment``; ``None`` if undecided, ``_MISSING`` if absent."""
        if path.startswith("has_") and path in self.schema.fields:
            return assignment.get(f"part:{path[4:]}")
        found = self.schema.field(path)
        if found is None:
            return _MISSING
        spec, role = found
        if spec.part is not None:
            present = assignment.get(f"part:{spec.part}")
            if present is None:
                return None
            if present is False:
                return _MISSING
        if spec.path not in assignment:
            return None
        value = assignment[spec.path]
        if role == "stated":
            return value != "<unstated>"
        return spec.unstated if value == "<unstated>" else value

    def holds(self, condition: Condition, assignment: Mapping[str, Any]) -> bool | None:
        if isinstance(condition, Compare):
            left = self.read(condition.path, assignment)
            if left is None:
                return None
            right = self._operand(condition)
            if left is _MISSING or right is _MISSING:
                return False
            try:
                return _compare(condition.operator, left, right)
            except TypeError:
                return False
        results = [self.holds(c, assignment) for c in condition.conditions]
        if isinstance(condition, AllOf):
            return False if False in results else (None if None in results else True)
        return True if True in results else (None if None in results else False)

    def split_variable(self, conditions: Iterable[Condition], assignment: Mapping[str, Any]) -> str | None:
        """The next variable to decide: the first one an undecided condition reads (its part first)."""
        for condition in conditions:
            if self.holds(condition, assignment) is not None:
                continue
            for compare in _compares(condition):
                if self.read(compare.path, assignment) is not None:
                    continue
                variable = self.variable_of(compare.path)
                if variable is None:
                    continue
                if not variable.startswith("part:"):
                    part = self.schema.fields[variable].part
                    if part is not None and f"part:{part}" not in assignment:
                        return f"part:{part}"
                return variable
        return None

    def show(self, assignment: Mapping[str, Any]) -> dict[str, str]:
        """A witness as a person reads it."""
        shown = {}
        for variable, value in assignment.items():
            if variable.startswith("part:"):
                shown[variable[5:]] = "present" if value else "absent"
                continue
            spec = self.schema.fields[variable]
            if value == "<unstated>":
                shown[variable] = "not stated"
            elif spec.kind == "money":
                shown[variable] = f"£{Decimal(value) / 100:,.2f}"
            elif spec.kind == "date":
                shown[variable] = dt.date.fromordinal(value).isoformat()
            elif spec.kind == "boolean":
                shown[variable] = "yes" if value else "no"
            else:
                shown[variable] = "something else" if value == "\x00other" else str(value)
        return shown


def _compare(operator: str, left: Any, right: Any) -> bool:
    return bool({
        "eq": lambda: left == right,
        "neq": lambda: left != right,
        "gt": lambda: left > right,
        "gte": lambda: left >= right,
        "lt": lambda: left < right,
        "lte": lambda: left <= right,
    }[operator]())


def _compares(condition: Condition) -> Iterator[Compare]:
    if isinstance(condition, Compare):
        yield condition
    else:
        for c in condition.conditions:
            yield from _compares(c)


class _Not:
    """Logical negation for the checker (the rule type keeps NNF; here a missing attribute must stay exact)."""

    def __init__(self, condition: Any) -> None:
        self.condition = condition


def _holds(space: _Space, condition: Any, assignment: Mapping[str, Any]) -> bool | None:
    if isinstance(condition, _Not):
        inner = _holds(space, condition.condition, assignment)
        return None if inner is None else not inner
    if isinstance(condition, tuple):  # a conjunction of checker conditions
        results = [_holds(space, c, assignment) for c in condition]
        return False if False in results else (None if None in results else True)
    return space.holds(condition, assignment)


def _plain(condition: Any) -> Iterator[Condition]:
    """The rule conditions inside a checker condition (for choosing the next variable)."""
    if isinstance(condition, _Not):
        yield from _plain(condition.condition)
    elif isinstance(condition, tuple):
        for c in condition:
            yield from _plain(c)
    else:
        yield condition


#: Nodes one search may visit before it gives up and says so (a finding, never a silent pass).
SEARCH_BUDGET = 200_000


class _Search:
    def __init__(self, space: _Space, fixed: Mapping[str, Any]):
        self.space = space
        self.fixed = dict(fixed)
        self.nodes = 0

    def regions(self, conditions: Sequence[Any], stop: Any) -> Iterator[tuple[dict[str, Any], list[bool | None]]]:
        """Depth-first over partial assignments; yields (assignment, results) where ``stop(results)`` is true."""
        stack = [self.fixed]
        while stack:
            assignment = stack.pop()
            self.nodes += 1
            if self.nodes > SEARCH_BUDGET:
                raise _TooLarge
            results = [_holds(self.space, c, assignment) for c in conditions]
            if stop(results):
                yield assignment, results
                continue
            undecided = [p for c, r in zip(conditions, results) if r is None for p in _plain(c)]
            variable = self.space.split_variable(undecided, assignment)
            if variable is None:  # nothing left to split on: undecided only through unreadable paths
                yield assignment, [bool(r) for r in results]
                continue
            for value in reversed(self.space.values(variable)):
                stack.append({**assignment, variable: value})


class _TooLarge(Exception):
    pass


# --- findings --------------------------------------------------------------------------------------------------


class CheckFinding(BaseModel):
    """One thing wrong with a policy: which check, about what (a rule, parameter or table), and why."""

    model_config = {"frozen": True, "extra": "forbid"}

    check: str
    subject: str
    message: str
    example: dict[str, str] = {}
    as_of: dt.date | None = None

    def __str__(self) -> str:
        text = f"[{self.check}] {self.subject}: {self.message}"
        if self.as_of:
            text += f" (at {self.as_of.isoformat()})"
        if self.example:
            text += " — e.g. " + ", ".join(f"{k} = {v}" for k, v in self.example.items())
        return text


def _dates_for(policy: Any, names: Iterable[str], extra: Sequence[dt.date]) -> list[dt.date]:
    """Dates on which the named parameters take a new value (from when all have one), plus ``extra``."""
    names = [n for n in names if n in policy.parameters]
    if not names:
        return [extra[0]] if extra else [dt.date(2000, 1, 1)]
    start = max(policy.parameters[n].values[0].effective_from for n in names)
    dates = {v.effective_from for n in names for v in policy.parameters[n].values if v.effective_from >= start}
    dates.update(d for d in extra if d >= start)
    return sorted(dates)


def _parameter_values(policy: Any, names: Iterable[str], as_of: dt.date) -> dict[str, Any]:
    values = {}
    for name in names:
        parameter = policy.parameters.get(name)
        if parameter is None:
            continue
        in_force = [v for v in parameter.values if v.effective_from <= as_of]
        if in_force:
            values[name] = encode(in_force[-1].value)
    return values


def _effective_condition(rule: Rule, overriders: Sequence[Rule]) -> Any:
    """The condition under which ``rule`` fires once the rules overriding it have taken their cases."""
    if not overriders:
        return rule.when
    return (rule.when, *(_Not(o.when) for o in overriders))


def _overriders(rules: Sequence[Rule]) -> dict[str, list[Rule]]:
    by_target: dict[str, list[Rule]] = {}
    for rule in rules:
        for target in rule.overrides:
            by_target.setdefault(target, []).append(rule)
    return by_target


def _citations(rules: Sequence[Rule]) -> list[CheckFinding]:
    return [
        CheckFinding(check="missing_citation", subject=rule.id, message=f"the rule has no {what}")
        for rule in rules
        for what, text in (("framework section", rule.section), ("quoted source sentence", rule.source))
        if not (text or "").strip()
    ]


def _parameters(policy: Any, rules: Sequence[Rule], dates: Sequence[dt.date]) -> list[CheckFinding]:
    findings = []
    for rule in rules:
        for name in sorted(rule.cites):
            if name not in policy.parameters:
                findings.append(CheckFinding(
                    check="undefined_parameter", subject=rule.id,
                    message=f"reads parameter {name!r}, which the policy does not define",
                ))
    cited = sorted({name for rule in rules for name in rule.cites if name in policy.parameters})
    for as_of in dates:
        for name in cited:
            first = policy.parameters[name].values[0].effective_from
            if first > as_of:
                findings.append(CheckFinding(
                    check="parameter_without_value", subject=name, as_of=as_of,
                    message=f"has no value in force (its first value takes effect on {first.isoformat()})",
                ))
    return findings


def _fields(policy: Any, rules: Sequence[Rule]) -> list[CheckFinding]:
    findings = []
    units = {name: p.unit for name, p in policy.parameters.items()}
    for rule in rules:
        schema = fact_schema(rule.subject)
        if schema is None:
            findings.append(CheckFinding(
                check="unknown_field", subject=rule.id,
                message=f"its subject {rule.subject!r} is no kind of fact; expected one of {list(fact_subjects())}",
            ))
            continue
        for compare in _compares(rule.when):
            found = schema.field(compare.path)
            if found is None:
                hint = schema.suggest(compare.path)
                findings.append(CheckFinding(
                    check="unknown_field", subject=rule.id,
                    message=f"reads {compare.path!r}, which a {rule.subject} fact never has"
                    + (f" (did you mean {', '.join(hint)}?)" if hint else ""),
                ))
                continue
            why = operand_fits(*found, compare.operator, compare.operand, units)
            if why:
                findings.append(CheckFinding(check="type_mismatch", subject=rule.id, message=f"{compare.path}: {why}"))
    return findings


def _overrides(rules: Sequence[Rule]) -> list[CheckFinding]:
    findings = []
    by_id = {rule.id: rule for rule in rules}
    for rule in rules:
        for target in rule.overrides:
            if target not in by_id:
                findings.append(CheckFinding(
                    check="dangling_override", subject=rule.id, message=f"overrides {target!r}, which is no rule of the policy",
                ))
            elif by_id[target].subject != rule.subject:
                findings.append(CheckFinding(
                    check="dangling_override", subject=rule.id,
                    message=f"overrides {target!r}, a rule about {by_id[target].subject} facts, not {rule.subject} facts",
                ))
    for cycle in override_cycles(rules):
        findings.append(CheckFinding(
            check="override_cycle", subject=cycle[0], message="rules override each other: " + " → ".join(cycle + [cycle[0]]),
        ))
    return findings


def _stages(policy: Any) -> list[CheckFinding]:
    findings = []
    rule_ids = {rule.id for rule in policy.rules}
    earlier: set[str] = set()
    for ruleset in policy.rulesets:
        for gate in ruleset.requires:
            if gate.after not in earlier:
                findings.append(CheckFinding(
                    check="dangling_stage", subject=gate.id,
                    message=f"rule set {ruleset.name} follows {gate.after!r}, which no earlier rule set decides",
                ))
            if gate.id in rule_ids:
                findings.append(CheckFinding(check="dangling_stage", subject=gate.id, message="a rule has the same id"))
            if not gate.section or not gate.source.strip():
                findings.append(CheckFinding(check="missing_citation", subject=gate.id, message="a stage gate must cite its section and sentence"))
        earlier.update(ruleset.decides)
    return findings


def _never_fires(policy: Any, rules: Sequence[Rule], extra: Sequence[dt.date]) -> list[CheckFinding]:
    findings = []
    overriders = _overriders(rules)
    for rule in rules:
        schema = fact_schema(rule.subject)
        if schema is None:
            continue
        over = [o for o in overriders.get(rule.id, []) if o.subject == rule.subject]
        condition = _effective_condition(rule, over)
        names = rule.parameters | {n for o in over for n in o.parameters}
        fires = False
        try:
            for as_of in _dates_for(policy, names, extra):
                space = _Space(schema, [rule.when, *(o.when for o in over)], _parameter_values(policy, names, as_of))
                search = _Search(space, {})
                if any(results[0] for _, results in search.regions([condition], lambda r: r[0] is not None)):
                    fires = True
                    break
        except _TooLarge:
            findings.append(CheckFinding(check="never_fires", subject=rule.id, message="too large to decide within the search budget"))
            continue
        if not fires:
            why = f" (always overridden by {', '.join(o.id for o in over)})" if over else ""
            findings.append(CheckFinding(check="never_fires", subject=rule.id, message="no valid case satisfies its condition" + why))
    return findings


def check_table(policy: Any, ruleset: RuleSet, table: DecisionTable, extra: Sequence[dt.date] = ()) -> list[CheckFinding]:
    """Prove one declared single-hit table complete and unambiguous over its finite domain."""
    name = f"{ruleset.name}:{table.topic}" + (f"[{table.id_prefix}*]" if table.id_prefix else "")
    rules = [r for r in ruleset.rules if table.selects(r)]
    schema = fact_schema(table.subject)
    if schema is None or not rules:
        return [CheckFinding(check="table_incomplete", subject=name, message="the table has no rules: no case gets a conclusion")]
    findings = []
    if table.inputs:
        allowed = set(table.inputs) | {f"{p}_stated" for p in table.inputs} | {f"has_{p}" for p in ruleset.inputs}
        for rule in rules:
            outside = sorted(p for p in paths_of(rule.when) if p not in allowed and not p.startswith("has_"))
            if outside:
                findings.append(CheckFinding(
                    check="table_outside_inputs", subject=rule.id,
                    message=f"table {name} declares inputs {list(table.inputs)} but the rule reads {outside}",
                ))
    every = list(policy.rules)
    overriders = _overriders(every)
    over = {r.id: [o for o in overriders.get(r.id, []) if o.subject == r.subject] for r in rules}
    conditions = [_effective_condition(r, over[r.id]) for r in rules]
    plain = [r.when for r in rules] + [o.when for r in rules for o in over[r.id]]
    names = {n for c in plain for n in _params(c)}
    fixed = {f"part:{part}": True for part in ruleset.inputs} if table.subject == "case" else {}
    reported_gap = False
    overlaps: set[tuple[str, str]] = set()
    try:
        for as_of in _dates_for(policy, names, extra):
            space = _Space(schema, plain, _parameter_values(policy, names, as_of))
            search = _Search(space, fixed)

            def decided(results: list[bool | None]) -> bool:
                trues = results.count(True)
                return trues >= 2 or None not in results

            for assignment, results in search.regions(conditions, decided):
                fired = [r.id for r, hit in zip(rules, results) if hit]
                if not fired and not reported_gap:
                    reported_gap = True
                    findings.append(CheckFinding(
                        check="table_incomplete", subject=name, as_of=as_of if names else None,
                        example=space.show(assignment), message="no rule of the table fires for some valid cases",
                    ))
                for pair in combinations(fired, 2):
                    if pair not in overlaps:
                        overlaps.add(pair)
                        findings.append(CheckFinding(
                            check="table_overlap", subject=name, as_of=as_of if names else None,
                            example=space.show(assignment), message=f"{pair[0]} and {pair[1]} both fire for some valid cases",
                        ))
    except _TooLarge:
        findings.append(CheckFinding(check="table_incomplete", subject=name, message="too large to check within the search budget"))
    return findings


def _durable_limits(rules: Sequence[Rule]) -> list[CheckFinding]:
    """Fixed tables of durable_rules' C engine that some case could overflow under this policy (the engine
    refuses to be built for it). Checked where durable_rules imports; the reference engine has no such limit."""
    from commissioning_rules.engine import durable_available

    if not durable_available():
        return []
    from commissioning_rules.engine.durable import REFERENCE_INSTEAD, durable_limits

    return [CheckFinding(check="durable_limits", subject="engine durable-rules", message=f"{problem}; {REFERENCE_INSTEAD}")
            for problem in durable_limits(rules)]


def _params(condition: Condition) -> set[str]:
    return {c.operand.name for c in _compares(condition) if isinstance(c.operand, Param)}


def check(policy: Any = None, *, as_of: dt.date | str | Sequence[dt.date | str] | None = None) -> list[CheckFinding]:
    """Every finding of the static checks on ``policy`` (default: the Norwich framework); empty when it passes.

    ``as_of`` adds dates on which every cited parameter must have a value (one date or several); a policy
    loaded from a council file also checks its own ``effective_from``.
    """
    from commissioning_rules.policy import Policy

    policy = policy or Policy.default()
    given = [as_of] if isinstance(as_of, (str, dt.date)) else list(as_of or ())
    dates = [dt.date.fromisoformat(d) if isinstance(d, str) else d for d in given]
    if getattr(policy, "effective_from", None):
        dates.append(policy.effective_from)
    dates = sorted(set(dates))
    rules = list(policy.rules)
    findings = _citations(rules) + _parameters(policy, rules, dates) + _fields(policy, rules) + _overrides(rules)
    findings += _stages(policy)
    findings += _never_fires(policy, rules, dates) + _durable_limits(rules)
    for ruleset in policy.rulesets:
        for table in ruleset.tables:
            findings += check_table(policy, ruleset, table, dates)
    return findings
