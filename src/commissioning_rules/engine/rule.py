"""The rule value type: a rule is data, so two interpreters can run it.

A :class:`Rule` carries the framework section and the sentence it encodes (Catala's discipline), a
:class:`Condition` over one *subject* fact and the policy's parameters, and a :class:`Conclusion`.
Conditions are kept in negation normal form: ``not_`` is pushed down to the comparisons at construction,
so durable_rules (which has no negation) and the reference interpreter evaluate exactly the same tree.

Semantics shared by both interpreters: a comparison whose attribute is missing from the fact is false,
whatever the operator. The fact builder (``facts.py``) materialises every attribute a rule reads, so a
missing attribute only happens when a whole case part is absent.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, NamedTuple, Protocol, Sequence, Union

if TYPE_CHECKING:
    from commissioning_rules.engine.values import Fact

Scalar = Union[bool, int, str, Decimal, _dt.date, Enum]

#: ``{param.accounts_threshold}`` in a rule's ``because`` shows a parameter; any other ``{path}`` a fact.
PARAMETER_PLACEHOLDER = re.compile(r"\{param\.([a-z0-9_]+)\}")

# Each comparison operator and its negation (the negation is exact because facts are total).
NEGATED_OPERATOR = {"eq": "neq", "neq": "eq", "gt": "lte", "lte": "gt", "lt": "gte", "gte": "lt"}


@dataclass(frozen=True)
class Param:
    """A reference to a named, effective-dated parameter of the policy (e.g. ``accounts_threshold``)."""

    name: str


@dataclass(frozen=True)
class Compare:
    """``path <operator> operand``: ``path`` is a dotted attribute of the subject fact."""

    path: str
    operator: str
    operand: Scalar | Param

    def __post_init__(self) -> None:
        if self.operator not in NEGATED_OPERATOR:
            raise ValueError(f"unknown operator {self.operator!r}")
        if isinstance(self.operand, bool) and self.operator not in ("eq", "neq"):
            raise ValueError(f"{self.path}: booleans can only be compared for equality")
        if isinstance(self.operand, float):
            raise TypeError(f"{self.path}: floats are not allowed in rules; use Decimal")

    def negated(self) -> Compare:
        return Compare(self.path, NEGATED_OPERATOR[self.operator], self.operand)


@dataclass(frozen=True)
class AllOf:
    """Every condition holds."""

    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    """At least one condition holds."""

    conditions: tuple[Condition, ...]


Condition = Union[Compare, AllOf, AnyOf]


def negate(condition: Condition) -> Condition:
    """The negation of ``condition``, pushed down to its comparisons (De Morgan)."""
    if isinstance(condition, Compare):
        return condition.negated()
    if isinstance(condition, AllOf):
        return AnyOf(tuple(negate(c) for c in condition.conditions))
    return AllOf(tuple(negate(c) for c in condition.conditions))


# --- the small vocabulary rule modules write conditions in -------------------------------------------


def is_true(path: str) -> Compare:
    return Compare(path, "eq", True)


def is_false(path: str) -> Compare:
    return Compare(path, "eq", False)


def eq(path: str, operand: Scalar | Param) -> Compare:
    return Compare(path, "eq", operand)


def gt(path: str, operand: Scalar | Param) -> Compare:
    return Compare(path, "gt", operand)


def gte(path: str, operand: Scalar | Param) -> Compare:
    return Compare(path, "gte", operand)


def lt(path: str, operand: Scalar | Param) -> Compare:
    return Compare(path, "lt", operand)


def lte(path: str, operand: Scalar | Param) -> Compare:
    return Compare(path, "lte", operand)


def one_of(path: str, operands: tuple[Scalar, ...] | list[Scalar]) -> Condition:
    """``path`` equals one of ``operands``."""
    return any_of(*(eq(path, o) for o in operands))


def all_of(*conditions: Condition) -> Condition:
    flat: list[Condition] = []
    for c in conditions:
        flat.extend(c.conditions if isinstance(c, AllOf) else (c,))
    return flat[0] if len(flat) == 1 else AllOf(tuple(flat))


def any_of(*conditions: Condition) -> Condition:
    flat: list[Condition] = []
    for c in conditions:
        flat.extend(c.conditions if isinstance(c, AnyOf) else (c,))
    return flat[0] if len(flat) == 1 else AnyOf(tuple(flat))


def not_(condition: Condition) -> Condition:
    return negate(condition)


def parameters_of(condition: Condition) -> frozenset[str]:
    """Names of the parameters a condition reads."""
    if isinstance(condition, Compare):
        return frozenset({condition.operand.name}) if isinstance(condition.operand, Param) else frozenset()
    names: frozenset[str] = frozenset()
    for c in condition.conditions:
        names |= parameters_of(c)
    return names


def paths_of(condition: Condition) -> frozenset[str]:
    """Attribute paths of the subject fact a condition reads."""
    if isinstance(condition, Compare):
        return frozenset({condition.path})
    paths: frozenset[str] = frozenset()
    for c in condition.conditions:
        paths |= paths_of(c)
    return paths


def describe(condition: Condition) -> str:
    """The condition in words, for the rule catalogue."""
    words = {"eq": "is", "neq": "is not", "gt": "is above", "gte": "is at least", "lt": "is below", "lte": "is at most"}
    if isinstance(condition, Compare):
        operand = condition.operand
        shown = (
            f"parameter {operand.name}" if isinstance(operand, Param)
            else operand.value if isinstance(operand, Enum)
            else str(operand).lower() if isinstance(operand, bool)
            else str(operand)
        )
        return f"{condition.path} {words[condition.operator]} {shown}"
    joiner = " and " if isinstance(condition, AllOf) else " or "
    return "(" + joiner.join(describe(c) for c in condition.conditions) + ")"


@dataclass(frozen=True)
class Conclusion:
    """What a rule concludes when it fires: ``topic`` (e.g. a criterion) takes ``outcome``."""

    topic: str
    outcome: str


@dataclass(frozen=True)
class Rule:
    """One rule of the framework, as data.

    ``id`` is stable and unique within a policy; ``section`` and ``source`` cite the framework (the
    sentence quoted verbatim); ``subject`` names the kind of fact the rule looks at (``case`` — the whole
    case — or one item of a list such as ``additional_criterion``); ``because`` is a plain-English template
    whose ``{path}`` and ``{param.NAME}`` placeholders are filled with the facts and parameter values used.
    """

    id: str
    section: str
    source: str
    when: Condition
    then: Conclusion
    because: str
    subject: str = "case"
    #: Parameters the condition reads (derived).
    parameters: frozenset[str] = field(default=frozenset(), compare=False)
    #: Every parameter the rule reads: in its condition, and ``{param.NAME}`` in its ``because`` (derived).
    cites: frozenset[str] = field(default=frozenset(), compare=False)
    #: Ids of rules this (more specific) rule overrides: where both would fire on the same fact, theirs is
    #: suppressed (``Policy.engine`` filters the firings, identically for every engine).
    overrides: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", parameters_of(self.when))
        object.__setattr__(self, "cites", self.parameters | frozenset(PARAMETER_PLACEHOLDER.findall(self.because)))
        object.__setattr__(self, "overrides", tuple(self.overrides))


def override_cycles(rules: Sequence[Rule]) -> list[list[str]]:
    """Each cycle of rules overriding one another (a rule overriding itself included), once."""
    graph = {rule.id: [t for t in rule.overrides] for rule in rules}
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(start: str, node: str, path: list[str]) -> None:
        for target in graph.get(node, ()):
            if target == start:
                key = frozenset(path)
                if key not in seen:
                    seen.add(key)
                    cycles.append(list(path))
            elif target not in path and target in graph and target > start:
                walk(start, target, path + [target])

    for start in sorted(graph):
        walk(start, start, [start])
    return cycles


class Firing(NamedTuple):
    """A rule that fired, and the fact it fired on (the ``case``, or an item such as an additional criterion)."""

    rule: Rule
    fact: Fact


_new_tuple = tuple.__new__


class Firings(Sequence[Firing]):
    """One rule set's firings, in rule order: each (rule index, fact index) pair an engine reported, made into a
    :class:`Firing` when first read. :attr:`rules` reads the rules that fired without making them (a rule set
    that decides from its rules' conclusions alone needs no more)."""

    __slots__ = ("_pairs", "_rules", "_facts", "_made")

    def __init__(self, pairs: Sequence[tuple[int, int]], rules: Sequence[Rule], facts: Sequence[Fact]) -> None:
        self._pairs = pairs
        self._rules = rules
        self._facts = facts
        self._made: list[Firing] | None = None

    @property
    def rules(self) -> list[Rule]:
        """The rule of each firing, in order."""
        rules = self._rules
        return [rules[r] for r, _ in self._pairs]

    def _list(self) -> list[Firing]:
        made = self._made
        if made is None:
            rules, facts = self._rules, self._facts
            # Firing(rule, fact), without its Python __new__; racing threads store equal lists: harmless
            made = self._made = [_new_tuple(Firing, (rules[r], facts[f])) for r, f in self._pairs]
        return made

    def __getitem__(self, index: Any) -> Any:
        return self._list()[index]

    def __iter__(self) -> Iterator[Firing]:
        return iter(self._list())

    def __len__(self) -> int:
        return len(self._pairs)

    def __eq__(self, other: object) -> bool:
        return self._list() == (list(other) if isinstance(other, Firings) else other)

    def __repr__(self) -> str:
        return f"Firings({self._list()!r})"


@dataclass(frozen=True)
class DecisionTable:
    """A single-hit decision table inside a rule set: for every case the rule set runs on, exactly one of the
    rules concluding on ``topic`` (and whose id starts with ``id_prefix``, when given) fires.

    ``inputs`` optionally names the case fields the table decides on (its finite domain); when empty, the
    domain is every field its rules read, with each field's values taken from the case models.
    ``commissioning_rules.check`` proves each declared table complete and without overlap.
    """

    topic: str
    id_prefix: str = ""
    subject: str = "case"
    inputs: tuple[str, ...] = ()

    def selects(self, rule: Rule) -> bool:
        return rule.subject == self.subject and rule.then.topic == self.topic and rule.id.startswith(self.id_prefix)


@dataclass(frozen=True)
class StageGate:
    """A dependency of one rule set on an earlier stage of the framework's process, as cited data.

    The framework is one process: a later stage only follows where an earlier stage's decision allows it
    (3.5: "If these criteria are not met, no further consideration will be given to an application"). A gate
    names the earlier stage's Decision field (``after``, e.g. ``eligibility``), the attribute of it that
    decides (``attribute``, e.g. ``eligible``) and the values that let the later stage follow (``allows``).
    Where the earlier stage was decided with another value, the gated rule set gives no decision (its fields
    stay ``None``, its firings and parameters are dropped) and the Decision carries one finding for the gate,
    its ``because`` filled with ``{value}`` (what the earlier stage decided) and ``{withheld}`` (the Decision
    fields not given); with ``advisory`` set, an advisory of that id says the same. Where the earlier stage was
    not decided (its inputs are absent), the gate does not apply.

    Gates are applied in one place for every engine, the aggregation step of ``evaluate``, after the earlier
    stage's rule set has assembled: engines only report which rules fired on the facts, so durable_rules, the
    reference interpreter and any other engine honour gates identically. ``check`` proves each gate names an
    earlier rule set's Decision field.
    """

    id: str
    section: str
    source: str
    after: str
    attribute: str
    allows: tuple[Scalar, ...]
    because: str
    advisory: str | None = None

    def blocks(self, decided: dict[str, object]) -> str | None:
        """What the earlier stage decided, in words, where that keeps the later stage from following; else
        ``None`` (it allows it, or it was not decided)."""
        earlier = decided.get(self.after)
        if earlier is None:
            return None
        value = getattr(earlier, self.attribute)
        value = value.value if isinstance(value, Enum) else value
        if value in self.allows:
            return None
        return ("yes" if value else "no") if isinstance(value, bool) else str(value)


def _with_presence(when: Condition, presence: list[Compare]) -> Condition:
    """``when`` conditional on the inputs' presence (once: a condition that already starts with it is kept)."""
    existing = when.conditions if isinstance(when, AllOf) else (when,)
    if list(existing[: len(presence)]) == presence:
        return when
    return all_of(*presence, when)


class AssemblyContext(Protocol):
    """What a rule set's ``assemble`` step may read besides its firings (``evaluate.Context`` is one). The case
    (a ``models.Case``) and the resolved parameters are typed loosely here: the engine layer imports nothing
    from the layers above it."""

    @property
    def case(self) -> Any: ...

    @property
    def as_of(self) -> _dt.date: ...

    @property
    def parameters(self) -> Any: ...

    @property
    def encoded(self) -> Mapping[str, Any]:
        """The same parameters as the engines compare them."""
        ...

    def because(self, firing: Firing) -> str:
        """The rule's ``because`` with the facts and parameter values it used filled in."""
        ...

    def reasons(self, firings: Sequence[Firing], distinct: bool = False) -> list[str]:
        """Each firing's ``because``, in order; with ``distinct``, each text once."""
        ...


#: A rule set's assemble step: its firings (in rule order) and the context → the Decision fields it decides.
Assemble = Callable[[Firings, AssemblyContext], dict[str, Any]]


@dataclass(frozen=True)
class RuleSet:
    """The rules of one framework section and the visible step that assembles their conclusions.

    ``inputs`` are the case parts the rule set needs; every case-subject rule is made conditional on their
    presence here, once (rebuilding a rule set, e.g. with a council's rules added, does not repeat it), so a rule set runs exactly when its inputs are present. ``assemble`` receives the
    firings of this rule set's rules (in rule order) and an :class:`~commissioning_rules.evaluate.Context`,
    and returns the Decision fields it decides.
    """

    name: str
    section: str
    title: str
    inputs: tuple[str, ...]
    rules: tuple[Rule, ...]
    assemble: Assemble
    #: The single-hit decision tables among these rules (checked complete and unambiguous by ``check``).
    tables: tuple[DecisionTable, ...] = ()
    #: The earlier stages this rule set follows from (3.5, 3.4.1): where one's decision does not allow it, the
    #: rule set gives no decision (:class:`StageGate`).
    requires: tuple[StageGate, ...] = ()
    #: The Decision fields ``assemble`` decides (besides advisories): what a gate withholds, and what a gate
    #: may name as the earlier stage.
    decides: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        presence = [is_true(f"has_{part}") for part in self.inputs]
        rules = tuple(
            replace(r, when=_with_presence(r.when, presence)) if r.subject == "case" and presence else r
            for r in self.rules
        )
        object.__setattr__(self, "rules", rules)
