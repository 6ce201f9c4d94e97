"""A council's policy file: YAML layered over a base policy (the Norwich framework unless told otherwise).

The file is parsed with ``yaml.safe_load`` (tags that would build Python objects are refused: nothing in it is
executed) and validated key by key; every error is a :class:`PolicyFileError` naming the file, the line, the
key and what was expected. ``examples/council-policy.yaml`` is a complete example. The keys::

    name: Example Borough Council commissioning policy     # required
    description: ...                                       # optional
    effective_from: 2024-04-01                             # optional: check() proves every parameter has a value then
    parameters:                                            # dated values layered over the base's history
      accounts_threshold:                                  # an existing parameter: values (same date replaces),
        values:                                            #   optionally placeholder / description
          - {effective_from: 2024-04-01, value: "10000.00", source: "Cabinet, 12 March 2024, minute 7"}
      local_figure: {description: ..., unit: GBP, section: "local 4.2", values: [...]}   # a new parameter
    disable:                                               # rules switched off, by id, with the reason
      - {rule: living_wage.encouraged, reason: "..."}
    rules:                                                 # rules added, as data (no Python)
      - id: local.financial_systems.small_charity.not_applicable
        ruleset: organisation_criteria                     # the rule set whose assemble step reads it
        section: "Example BC 4.2"
        source: "The sentence of the council's policy, verbatim."
        when: {all_of: [{eq: {organisation.kind: charity}}, {lte: {organisation.annual_turnover: {param: local_figure}}}]}
        then: {topic: financial_systems, outcome: not_applicable}
        because: "plain English with {organisation.annual_turnover} and {param.local_figure}"
        overrides: [financial_systems.published_accounts.not_met]   # the more specific rule wins
    tables:                                                # single-hit decision tables for check()
      - {ruleset: organisation_criteria, topic: management, id_prefix: management.constitution.}

Conditions map one-to-one onto the rule combinators: ``{is_true: PATH}``, ``{is_false: PATH}``,
``{eq|neq|gt|gte|lt|lte: {PATH: OPERAND}}``, ``{one_of: {PATH: [OPERAND, ...]}}``, ``{all_of: [...]}``,
``{any_of: [...]}``, ``{not: CONDITION}``. An operand is a constant of the field's type (money as a quoted
decimal string, dates as YYYY-MM-DD, an enum member's name) or ``{param: NAME}``. An added rule must conclude
on a (topic, outcome) its rule set already concludes on, so the rule set's assemble step understands it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import os
import re
from dataclasses import dataclass
from typing import Any, Mapping

import yaml

from commissioning_rules.check import FactSchema, FieldSpec, fact_schema, fact_subjects, operand_fits, override_cycles
from commissioning_rules.engine.rule import (
    PARAMETER_PLACEHOLDER,
    Compare,
    Conclusion,
    Condition,
    DecisionTable,
    Param,
    Rule,
    all_of,
    any_of,
    not_,
    one_of,
)
from commissioning_rules.parameters import UNITS, Parameter, ParameterError, ParameterValue, _convert
from commissioning_rules.policy import Policy

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Limit:
    """One bound on a policy file: its value, the unit it is counted in, and when and why it was set."""

    name: str
    value: int
    unit: str
    since: dt.date
    why: str


#: The bounds every policy file is held to (docs: guides/adopting.md, "Limits"). The example council file is
#: 3 KB, 4 levels deep and about 150 nodes; a policy that adds 1,600 rules is about 800 KB.
LIMITS = (
    Limit("max_bytes", 1_048_576, "bytes", dt.date(2026, 11, 25),
          "about 2,000 added rules; reading is refused before the file is parsed (a 100 MB file took a minute)"),
    Limit("max_depth", 32, "levels of nested mappings and lists", dt.date(2026, 11, 25),
          "the deepest key of the format is 6 levels down; conditions nest all_of/any_of/not a few levels more"),
    Limit("max_nodes", 200_000, "YAML nodes after every alias is expanded", dt.date(2026, 11, 25),
          "anchors and aliases stay usable; an alias bomb (billions of nodes from a few lines) is refused"),
    Limit("max_number_digits", 20, "characters of a number written unquoted", dt.date(2026, 11, 25),
          "money is quoted, and at most 13 digits of pounds and 2 of pence; a 5,000-digit integer is refused before it is built"),
)
MAX_BYTES, MAX_DEPTH, MAX_NODES, MAX_NUMBER_DIGITS = (limit.value for limit in LIMITS)


class PolicyFileError(ValueError):
    """A policy file is malformed: ``file``, ``line`` (1-based, when known), ``key`` and what was ``expected``."""

    def __init__(self, file: str, line: int | None, key: str, expected: str) -> None:
        self.file, self.line, self.key, self.expected = file, line, key, expected
        where = f"{file}, line {line}" if line else file
        super().__init__(f"{where}, {key or 'top level'}: {expected}")


def _key_text(key: Key) -> str:
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class _Lines:
    """Line numbers of every key of the document, from the YAML node tree (composing builds no objects)."""

    def __init__(self, text: str, origin: str) -> None:
        self.origin = origin
        self.lines: dict[Key, int] = {}
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as error:
            raise _yaml_error(origin, error) from None
        if node is not None:
            self._walk(node, ())

    def _walk(self, node: yaml.Node, key: Key) -> None:
        self.lines.setdefault(key, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                name = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
                if name in seen:
                    raise PolicyFileError(self.origin, key_node.start_mark.line + 1, _key_text((*key, name)), "this key is given twice")
                seen.add(name)
                self.lines[(*key, name)] = key_node.start_mark.line + 1
                self._walk(value_node, (*key, name))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, (*key, i))

    def error(self, key: Key, expected: str) -> PolicyFileError:
        probe = key
        while probe and probe not in self.lines:
            probe = probe[:-1]
        return PolicyFileError(self.origin, self.lines.get(probe), _key_text(key), expected)


def _yaml_error(origin: str, error: yaml.YAMLError) -> PolicyFileError:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    return PolicyFileError(origin, mark.line + 1 if mark else None, "", f"not valid YAML ({problem})")


def load_policy_file(path: str | os.PathLike[str], base: Policy) -> Policy:
    """Read and layer the policy file at ``path`` over ``base``."""
    origin = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # never more than the bound, however large the file
    except OSError as error:
        raise PolicyFileError(origin, None, "", f"cannot be read ({error.strerror})") from None
    if len(data) > MAX_BYTES:
        raise PolicyFileError(origin, None, "", f"the file is larger than {MAX_BYTES:,} bytes, the most a policy file may be")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise PolicyFileError(origin, line, "", f"not UTF-8 text (byte {data[error.start]:#04x} at offset {error.start})") from None
    return load_policy_text(text, origin, base)


def _check_bounds(text: str, origin: str) -> None:
    """Refuse a document past any of :data:`LIMITS`, streaming its YAML events (nothing is built)."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise PolicyFileError(origin, None, "", f"the file is larger than {MAX_BYTES:,} bytes, the most a policy file may be")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built: the same events, faster
    depth, nodes = 0, 0
    open_anchors: list[tuple[str | None, int]] = []  # per open collection: its anchor, and the node count at its start
    anchored: dict[str, int] = {}  # anchor → nodes it stands for, expanded
    resolver = yaml.resolver.Resolver()  # how safe_load will type each plain scalar
    numbers = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    try:
        for event in yaml.parse(text, Loader=loader):
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise PolicyFileError(origin, line, "", f"nested more than {MAX_DEPTH} levels deep")
                open_anchors.append((event.anchor, nodes))
                nodes += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
                anchor, start = open_anchors.pop()
                if anchor is not None:
                    anchored[anchor] = nodes - start
            elif isinstance(event, yaml.ScalarEvent):
                nodes += 1
                if event.anchor is not None:
                    anchored[event.anchor] = 1
                if (len(event.value) > MAX_NUMBER_DIGITS and event.implicit[0]
                        and resolver.resolve(yaml.ScalarNode, event.value, event.implicit) in numbers):
                    raise PolicyFileError(origin, line, "", f"a number written in more than {MAX_NUMBER_DIGITS} characters (money is a quoted string)")
            elif isinstance(event, yaml.AliasEvent):
                nodes += anchored.get(event.anchor, 1)  # an unknown alias is the parser's error, below
            if nodes > MAX_NODES:
                raise PolicyFileError(origin, line, "", f"more than {MAX_NODES:,} YAML nodes once aliases are expanded")
    except yaml.YAMLError as error:
        raise _yaml_error(origin, error) from None


def load_policy_text(text: str, origin: str, base: Policy) -> Policy:
    """Layer the policy document ``text`` (named ``origin`` in errors) over ``base``."""
    _check_bounds(text, origin)
    lines = _Lines(text, origin)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise _yaml_error(origin, error) from None
    return _Layer(base, lines).apply(data)


_TOP = {"name": True, "description": False, "effective_from": False, "parameters": False, "disable": False, "rules": False, "tables": False}
_RULE = {"id": True, "ruleset": True, "section": True, "source": True, "when": True, "then": True, "because": True, "subject": False, "overrides": False}
_TABLE = {"ruleset": True, "topic": True, "id_prefix": False, "subject": False, "inputs": False}
_NEW_PARAMETER = {"description": True, "unit": True, "section": True, "placeholder": False, "values": True}
_LAYERED_PARAMETER = {"values": False, "placeholder": False, "description": False}
_VALUE = {"effective_from": True, "value": True, "source": True}
_COMPARISONS = ("eq", "neq", "gt", "gte", "lt", "lte")
_OPERATORS = ("is_true", "is_false", *_COMPARISONS, "one_of", "all_of", "any_of", "not")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*(\.[A-Za-z0-9][A-Za-z0-9_\-]*)*$")
#: A parameter name: a letter first (``__class__`` and the like are refused), then letters, digits, underscores.
_PARAMETER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
_FACT_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]+)\}")


class _Layer:
    def __init__(self, base: Policy, lines: _Lines) -> None:
        self.base = base
        self.lines = lines

    def fail(self, key: Key, expected: str) -> PolicyFileError:
        return self.lines.error(key, expected)

    # --- shapes ------------------------------------------------------------------------------------------

    def mapping(self, value: Any, key: Key, spec: Mapping[str, bool], what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected {what} (a mapping with keys {sorted(spec)}), got {_kind(value)}")
        for name in value:
            if name not in spec:
                hint = difflib.get_close_matches(str(name), list(spec), n=1)
                raise self.fail((*key, name), f"unknown key {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "") + f"; expected one of {sorted(spec)}")
        for name, required in spec.items():
            if required and name not in value:
                raise self.fail(key, f"missing required key {name!r}")
        return value

    def text(self, value: Any, key: Key) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected non-empty text, got {_kind(value)}")
        return value.strip()

    def listing(self, value: Any, key: Key, what: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list of {what}, got {_kind(value)}")
        return value

    def date(self, value: Any, key: Key) -> dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(key, f"expected a date YYYY-MM-DD, got {_kind(value)}")

    def boolean(self, value: Any, key: Key) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {_kind(value)}")
        return value

    # --- the document ------------------------------------------------------------------------------------

    def apply(self, data: Any) -> Policy:
        if data is None:
            raise self.fail((), "the file is empty; expected a mapping with at least 'name'")
        top = self.mapping(data, (), _TOP, "a policy")
        name = self.text(top["name"], ("name",))
        if "description" in top:
            self.text(top["description"], ("description",))
        effective_from = self.date(top["effective_from"], ("effective_from",)) if "effective_from" in top else None
        parameters = self.parameters(top.get("parameters", {}))
        disabled = self.disabled(top.get("disable", []))
        rulesets = {rs.name: rs for rs in self.base.rulesets}
        kept = {rs.name: tuple(r for r in rs.rules if r.id not in disabled) for rs in self.base.rulesets}
        added = self.rules(top.get("rules", []), rulesets, kept, disabled, parameters)
        tables = self.tables(top.get("tables", []), rulesets)
        new_rulesets = tuple(
            dataclasses.replace(
                rs,
                rules=kept[rs.name] + tuple(rule for rule, target in added if target == rs.name),
                tables=rs.tables + tuple(t for t, target in tables if target == rs.name),
            )
            for rs in self.base.rulesets
        )
        return Policy(name, new_rulesets, parameters, origin=self.lines.origin, effective_from=effective_from)

    def parameters(self, section: Any) -> dict[str, Parameter]:
        key: Key = ("parameters",)
        if not isinstance(section, dict):
            raise self.fail(key, f"expected a mapping of parameter names, got {_kind(section)}")
        merged = dict(self.base.parameters)
        for name, body in section.items():
            at = (*key, name)
            if not isinstance(name, str) or not _PARAMETER_NAME.match(name):
                raise self.fail(at, "expected a parameter name: a letter, then letters, digits and underscores")
            existing = self.base.parameters.get(name)
            if existing is None:
                body = self.mapping(body, at, _NEW_PARAMETER, f"the definition of new parameter {name!r}")
                unit = body["unit"]
                if unit not in UNITS:
                    raise self.fail((*at, "unit"), f"expected one of {list(UNITS)}, got {_kind(unit)}")
                values = self.values(body["values"], (*at, "values"), name, unit, ())
                if not values:
                    raise self.fail((*at, "values"), "expected at least one dated value")
                merged[name] = Parameter(
                    name,
                    self.text(body["description"], (*at, "description")),
                    unit,
                    self.text(body["section"], (*at, "section")),
                    self.boolean(body.get("placeholder", False), (*at, "placeholder")),
                    values,
                )
                continue
            body = self.mapping(body, at, _LAYERED_PARAMETER, f"values layered over parameter {name!r}")
            values = self.values(body.get("values", []), (*at, "values"), name, existing.unit, existing.values)
            merged[name] = dataclasses.replace(
                existing,
                values=values,
                placeholder=self.boolean(body["placeholder"], (*at, "placeholder")) if "placeholder" in body else existing.placeholder,
                description=self.text(body["description"], (*at, "description")) if "description" in body else existing.description,
            )
        return merged

    def values(self, raw: Any, key: Key, name: str, unit: str, history: tuple[ParameterValue, ...]) -> tuple[ParameterValue, ...]:
        by_date = {v.effective_from: v for v in history}
        given: set[dt.date] = set()
        for i, entry in enumerate(self.listing(raw, key, "dated values")):
            at = (*key, i)
            entry = self.mapping(entry, at, _VALUE, "a dated value")
            start = self.date(entry["effective_from"], (*at, "effective_from"))
            if start in given:
                raise self.fail((*at, "effective_from"), f"two values of {name} take effect on {start.isoformat()}")
            given.add(start)
            try:
                value = _convert(name, unit, entry["value"])
            except ParameterError as error:
                raise self.fail((*at, "value"), f"{str(error).removeprefix(name + ': ')} (unit {unit})") from None
            by_date[start] = ParameterValue(start, value, self.text(entry["source"], (*at, "source")))
        return tuple(sorted(by_date.values(), key=lambda v: v.effective_from))

    def disabled(self, section: Any) -> set[str]:
        known = {rule.id for rule in self.base.rules}
        ids: set[str] = set()
        for i, entry in enumerate(self.listing(section, ("disable",), "rules to disable")):
            at: Key = ("disable", i)
            if isinstance(entry, dict):
                entry = self.mapping(entry, at, {"rule": True, "reason": True}, "a rule to disable")
                self.text(entry["reason"], (*at, "reason"))
                at, rule_id = (*at, "rule"), entry["rule"]
            else:
                rule_id = entry
            rule_id = self.text(rule_id, at)
            if rule_id not in known:
                raise self.fail(at, f"no rule {rule_id!r} in the base policy" + _hint(rule_id, known))
            ids.add(rule_id)
        return ids

    def rules(self, section: Any, rulesets: Mapping[str, Any], kept: Mapping[str, tuple[Rule, ...]], disabled: set[str], parameters: Mapping[str, Parameter]) -> list[tuple[Rule, str]]:
        added: list[tuple[Rule, str]] = []
        existing = {rule.id for rules in kept.values() for rule in rules}
        for i, body in enumerate(self.listing(section, ("rules",), "rules")):
            at: Key = ("rules", i)
            body = self.mapping(body, at, _RULE, "a rule")
            rule_id = self.text(body["id"], (*at, "id"))
            if not _ID.match(rule_id):
                raise self.fail((*at, "id"), "expected an id of letters, digits, '_' and '-' in parts joined by '.', each part starting with a letter or digit")
            if rule_id in existing:
                raise self.fail((*at, "id"), f"a rule {rule_id!r} already exists (disable it first to replace it)")
            existing.add(rule_id)
            target = self.text(body["ruleset"], (*at, "ruleset"))
            if target not in rulesets:
                raise self.fail((*at, "ruleset"), f"no rule set {target!r}; expected one of {sorted(rulesets)}")
            subject = self.text(body.get("subject", "case"), (*at, "subject"))
            schema = fact_schema(subject)
            if schema is None:
                raise self.fail((*at, "subject"), f"expected one of {list(fact_subjects())}, got {subject!r}")
            then = self.mapping(body["then"], (*at, "then"), {"topic": True, "outcome": True}, "a conclusion")
            conclusion = Conclusion(self.text(then["topic"], (*at, "then", "topic")), self.text(then["outcome"], (*at, "then", "outcome")))
            understood = sorted({(r.subject, r.then.topic, r.then.outcome) for r in rulesets[target].rules})
            if (subject, conclusion.topic, conclusion.outcome) not in understood:
                shown = [f"{t}/{o}" for s, t, o in understood if s == subject]
                raise self.fail((*at, "then"), f"rule set {target} does not conclude {conclusion.topic}/{conclusion.outcome} about {subject} facts; expected one of {shown}")
            when = self.condition(body["when"], (*at, "when"), schema, parameters)
            because = self.text(body["because"], (*at, "because"))
            self.placeholders(because, (*at, "because"), schema, parameters)
            overrides = tuple(self.text(t, (*at, "overrides", j)) for j, t in enumerate(self.listing(body.get("overrides", []), (*at, "overrides"), "rule ids")))
            rule = Rule(
                rule_id,
                self.text(body["section"], (*at, "section")),
                self.text(body["source"], (*at, "source")),
                when,
                conclusion,
                because,
                subject,
                overrides=overrides,
            )
            added.append((rule, target))
        self.overrides(added, kept, disabled)
        return added

    def overrides(self, added: list[tuple[Rule, str]], kept: Mapping[str, tuple[Rule, ...]], disabled: set[str]) -> None:
        every = {rule.id: rule for rules in kept.values() for rule in rules} | {rule.id: rule for rule, _ in added}
        for i, (rule, _) in enumerate(added):
            for j, target in enumerate(rule.overrides):
                at: Key = ("rules", i, "overrides", j)
                if target == rule.id:
                    raise self.fail(at, "a rule cannot override itself")
                if target in disabled:
                    raise self.fail(at, f"rule {target!r} is disabled by this file, so there is nothing to override")
                if target not in every:
                    raise self.fail(at, f"no rule {target!r} to override" + _hint(target, every))
                if every[target].subject != rule.subject:
                    raise self.fail(at, f"rule {target!r} is about {every[target].subject} facts, this rule about {rule.subject} facts")
        cycles = override_cycles(list(every.values()))
        if cycles:
            first = next(i for i, (rule, _) in enumerate(added) if rule.id in cycles[0])
            raise self.fail(("rules", first, "overrides"), "rules override each other: " + " → ".join(cycles[0] + [cycles[0][0]]))

    def tables(self, section: Any, rulesets: Mapping[str, Any]) -> list[tuple[DecisionTable, str]]:
        tables = []
        for i, body in enumerate(self.listing(section, ("tables",), "decision tables")):
            at: Key = ("tables", i)
            body = self.mapping(body, at, _TABLE, "a decision table")
            target = self.text(body["ruleset"], (*at, "ruleset"))
            if target not in rulesets:
                raise self.fail((*at, "ruleset"), f"no rule set {target!r}; expected one of {sorted(rulesets)}")
            inputs = tuple(self.text(p, (*at, "inputs", j)) for j, p in enumerate(self.listing(body.get("inputs", []), (*at, "inputs"), "case fields")))
            table = DecisionTable(
                self.text(body["topic"], (*at, "topic")),
                self.text(body["id_prefix"], (*at, "id_prefix")) if "id_prefix" in body else "",
                self.text(body.get("subject", "case"), (*at, "subject")),
                inputs,
            )
            tables.append((table, target))
        return tables

    # --- the condition language ----------------------------------------------------------------------------

    def condition(self, node: Any, key: Key, schema: FactSchema, parameters: Mapping[str, Parameter]) -> Condition:
        if not isinstance(node, dict) or len(node) != 1:
            raise self.fail(key, f"expected a condition: a mapping with exactly one of {list(_OPERATORS)}, got {_kind(node)}")
        ((operator, argument),) = node.items()
        at = (*key, operator)
        if operator not in _OPERATORS:
            raise self.fail(at, f"unknown operator {operator!r}" + _hint(str(operator), _OPERATORS) + f"; expected one of {list(_OPERATORS)}")
        if operator in ("all_of", "any_of"):
            items = self.listing(argument, at, "conditions")
            if not items:
                raise self.fail(at, "expected at least one condition")
            parts = [self.condition(c, (*at, i), schema, parameters) for i, c in enumerate(items)]
            return all_of(*parts) if operator == "all_of" else any_of(*parts)
        if operator == "not":
            return not_(self.condition(argument, at, schema, parameters))
        if operator in ("is_true", "is_false"):
            path = self.text(argument, at)
            spec, role = self.path(path, at, schema)
            if spec.kind != "boolean" and role != "stated":
                raise self.fail(at, f"{path} is a {spec.kind} field, not true/false; use eq, gt, one_of …")
            return Compare(path, "eq", operator == "is_true")
        if not isinstance(argument, dict) or len(argument) != 1:
            raise self.fail(at, f"expected a mapping of one field to its operand, e.g. {{organisation.annual_turnover: \"5000.00\"}}, got {_kind(argument)}")
        ((path, operand),) = argument.items()
        path = self.text(path, at)
        spec, role = self.path(path, (*at, path), schema)
        if operator == "one_of":
            items = self.listing(operand, (*at, path), "operands")
            if not items:
                raise self.fail((*at, path), "expected at least one operand")
            return one_of(path, [self.operand(o, (*at, path, i), spec, role, "eq", parameters) for i, o in enumerate(items)])
        return Compare(path, operator, self.operand(operand, (*at, path), spec, role, operator, parameters))

    def path(self, path: str, key: Key, schema: FactSchema) -> tuple[FieldSpec, str]:
        found = schema.field(path)
        if found is None:
            hint = schema.suggest(path)
            raise self.fail(key, f"a {schema.subject} fact has no field {path!r}" + (f" (did you mean {', '.join(hint)}?)" if hint else ""))
        return found

    def operand(self, raw: Any, key: Key, spec: FieldSpec, role: str, operator: str, parameters: Mapping[str, Parameter]) -> Any:
        kind = "boolean" if role == "stated" else spec.kind
        if isinstance(raw, dict):
            body = self.mapping(raw, key, {"param": True}, "a parameter reference")
            name = self.text(body["param"], (*key, "param"))
            if name not in parameters:
                raise self.fail((*key, "param"), f"no parameter {name!r}" + _hint(name, parameters))
            value: Any = Param(name)
        elif kind == "boolean":
            value = self.boolean(raw, key)
        elif kind == "money":
            try:
                value = _convert(spec.path, "GBP", raw)
            except ParameterError:
                raise self.fail(key, f"expected an amount of money as a quoted decimal string such as \"10000.00\", got {_kind(raw)}") from None
        elif kind == "date":
            value = self.date(raw, key)
        elif kind == "integer":
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise self.fail(key, f"expected a whole number, got {_kind(raw)}")
            value = raw
        elif kind == "enum":
            if raw not in spec.members:
                raise self.fail(key, f"expected one of {list(spec.members)}, got {_kind(raw)}")
            value = spec.python_type(raw)
        else:
            value = self.text(raw, key)
        why = operand_fits(spec, role, operator, value, {n: p.unit for n, p in parameters.items()})
        if why:
            raise self.fail(key, why)
        return value

    def placeholders(self, text: str, key: Key, schema: FactSchema, parameters: Mapping[str, Parameter]) -> None:
        for name in PARAMETER_PLACEHOLDER.findall(text):
            if name not in parameters:
                raise self.fail(key, f"{{param.{name}}} names no parameter" + _hint(name, parameters))
        shown = set(schema.fields) | {path.rsplit(".", 1)[0] for path in schema.fields}
        for path in _FACT_PLACEHOLDER.findall(text):
            if not path.startswith("param.") and path not in shown:
                raise self.fail(key, f"{{{path}}} names no field of a {schema.subject} fact" + _hint(path, shown))


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, (dict, list)):
        return f"a {type(value).__name__}"
    return f"{value!r} ({type(value).__name__})"


def _hint(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def json_schema() -> dict[str, Any]:
    """The shape of a policy file as JSON Schema (draft 2020-12), for other systems to check before they load one.

    It describes structure only: :func:`load_policy_text` also checks what a schema cannot (that a rule's
    paths exist and its operands fit their fields, that overrides and disabled rules name real rules).
    """
    text = {"type": "string", "minLength": 1}
    date = {"type": "string", "format": "date"}
    path_operands = {"type": "object", "minProperties": 1, "maxProperties": 1}
    comparisons = {op: {"type": "object", "properties": {op: path_operands}, "required": [op], "additionalProperties": False}
                   for op in ("eq", "neq", "gt", "gte", "lt", "lte", "one_of")}
    condition = {
        "oneOf": [
            {"type": "object", "properties": {"is_true": text}, "required": ["is_true"], "additionalProperties": False},
            {"type": "object", "properties": {"is_false": text}, "required": ["is_false"], "additionalProperties": False},
            *comparisons.values(),
            {"type": "object", "properties": {"all_of": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}},
             "required": ["all_of"], "additionalProperties": False},
            {"type": "object", "properties": {"any_of": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}},
             "required": ["any_of"], "additionalProperties": False},
            {"type": "object", "properties": {"not": {"$ref": "#/$defs/condition"}}, "required": ["not"], "additionalProperties": False},
        ]
    }
    dated_value = {
        "type": "object",
        "properties": {"effective_from": date, "value": {}, "source": text},
        "required": ["effective_from", "value", "source"],
        "additionalProperties": False,
    }
    parameter = {
        "type": "object",
        "properties": {
            "description": text, "unit": {"enum": list(UNITS)}, "section": text, "placeholder": {"type": "boolean"},
            "values": {"type": "array", "minItems": 1, "items": dated_value},
        },
        "additionalProperties": False,
    }
    rule = {
        "type": "object",
        "properties": {
            "id": text, "ruleset": text, "section": text, "source": text, "because": text, "subject": text,
            "when": {"$ref": "#/$defs/condition"},
            "then": {"type": "object", "properties": {"topic": text, "outcome": text},
                     "required": ["topic", "outcome"], "additionalProperties": False},
            "overrides": {"type": "array", "items": text},
        },
        "required": ["id", "ruleset", "section", "source", "when", "then", "because"],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "commissioning_rules policy file",
        "type": "object",
        "properties": {
            "name": text,
            "description": text,
            "effective_from": date,
            "parameters": {"type": "object", "additionalProperties": parameter},
            "disable": {"type": "array", "items": {"type": "object", "properties": {"rule": text, "reason": text},
                                                   "required": ["rule", "reason"], "additionalProperties": False}},
            "rules": {"type": "array", "items": rule},
            "tables": {"type": "array", "items": {
                "type": "object",
                "properties": {"ruleset": text, "topic": text, "id_prefix": text, "subject": text,
                               "inputs": {"type": "array", "items": text}},
                "required": ["ruleset", "topic"],
                "additionalProperties": False,
            }},
        },
        "required": ["name"],
        "additionalProperties": False,
        "$defs": {"condition": condition},
    }
