"""The compiled engine: a policy's rule data translated, once, into one plain Python function per kind of fact.

It reads the same :class:`~commissioning_rules.engine.rule.Rule` data as the reference interpreter and
durable_rules, with the same semantics (a comparison on a missing attribute or parameter is false), and is
proven identical to both by differential tests on generated cases. What makes it fast is only that the work
the reference interpreter repeats on every case is done once, at compile time:

* each condition becomes one Python boolean expression (``and``/``or`` short-circuit natively, no closures);
* each attribute a group of rules reads is looked up once per fact, into a local variable;
* rules that start with the same ``has_<part>`` flags (a rule set's inputs) sit under one ``if``, so a rule
  set whose part is absent costs one test, not one per rule;
* constants are encoded once (``encode``) and written into the code as literals.

The generated source is kept (:attr:`CompiledEngine.source`), one line per rule with its id, so what runs can
be read. Nothing from a rule is executed: paths and parameter names appear only as string literals
(``repr``), and operands are encoded to ``bool``, ``int`` or ``str`` before they are written.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence, cast

from commissioning_rules.engine.rule import AllOf, AnyOf, Compare, Condition, Param, Rule
from commissioning_rules.engine.values import Fact, encode

_SYMBOL = {"eq": "==", "neq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

#: What a missing attribute or parameter reads as in the generated code: it compares equal to nothing.
MISSING = object()


def _is_presence(condition: Condition) -> bool:
    """``has_<part> is true``: the guard a rule set puts first on each of its rules."""
    return (
        isinstance(condition, Compare)
        and condition.path.startswith("has_")
        and condition.operator == "eq"
        and condition.operand is True
    )


def _split(rule: Rule) -> tuple[tuple[Compare, ...], Condition | None]:
    """A rule's condition as (leading presence guards, the rest); the rest is ``None`` when nothing is left."""
    conditions = rule.when.conditions if isinstance(rule.when, AllOf) else (rule.when,)
    n = 0
    while n < len(conditions) and _is_presence(conditions[n]):
        n += 1
    guards, rest = cast(tuple[Compare, ...], tuple(conditions[:n])), conditions[n:]
    if not rest:
        return guards, None
    return guards, rest[0] if len(rest) == 1 else AllOf(tuple(rest))


class _Writer:
    """Writes one fact type's function: local names for attributes and parameters, one expression per rule."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.attributes: dict[str, str] = {}
        self.parameters: dict[str, str] = {}

    def attribute(self, path: str) -> str:
        return self.attributes.setdefault(path, f"{self.prefix}a{len(self.attributes)}")

    def parameter(self, name: str) -> str:
        return self.parameters.setdefault(name, f"{self.prefix}p{len(self.parameters)}")

    def reads(self, indent: str) -> list[str]:
        """The lines that read each attribute and parameter this writer used into its local."""
        return [f"{indent}{local} = get({path!r}, MISSING)" for path, local in self.attributes.items()] + [
            f"{indent}{local} = parameter({name!r}, MISSING)" for name, local in self.parameters.items()
        ]

    def expression(self, condition: Condition) -> str:
        if isinstance(condition, Compare):
            left = self.attribute(condition.path)
            symbol = _SYMBOL[condition.operator]
            operand = condition.operand
            if isinstance(operand, Param):
                right = self.parameter(operand.name)
                return f"({left} is not MISSING and {right} is not MISSING and {left} {symbol} {right})"
            constant = encode(operand)
            if not isinstance(constant, (bool, int, str)):  # encode's contract; never code from data
                raise TypeError(f"{condition.path}: cannot compile an operand of type {type(constant).__name__}")
            if condition.operator == "eq":  # MISSING equals nothing: no guard needed
                return f"{left} == {constant!r}"
            return f"({left} is not MISSING and {left} {symbol} {constant!r})"
        joiner = " and " if isinstance(condition, AllOf) else " or "
        assert isinstance(condition, (AllOf, AnyOf))
        return "(" + joiner.join(self.expression(c) for c in condition.conditions) + ")"


def _function_source(name: str, rules: Sequence[tuple[int, Rule]]) -> str:
    """The source of ``name(values, parameters) -> indexes of the rules that fire``, for rules of one subject.

    Rules are grouped by their leading presence guards (first-seen order); each group reads its own attributes
    once, inside its ``if``, into locals named apart from other groups' (``g<n>_a<m>``).
    """
    groups: dict[tuple[Compare, ...], list[tuple[int, Rule, Condition | None]]] = {}
    for index, rule in rules:
        guards, rest = _split(rule)
        groups.setdefault(guards, []).append((index, rule, rest))
    outer = _Writer("")
    body: list[str] = []
    for n, (guards, members) in enumerate(groups.items()):
        indent = "    "
        if guards:
            body.append(f"    if {' and '.join(outer.expression(g) for g in guards)}:")
            indent = "        "
        writer = _Writer(f"g{n}_")
        tests = [
            f"{indent}if {'True' if rest is None else writer.expression(rest)}: fired.append({index})  # {rule.id!r}"
            for index, rule, rest in members
        ]
        body += writer.reads(indent) + tests
    header = [f"def {name}(values, parameters):", "    get, parameter = values.get, parameters.get", "    fired = []"]
    return "\n".join(header + outer.reads("    ") + body + ["    return fired"])


class CompiledEngine:
    """A policy's rules compiled to Python; ``run`` returns (rule index, fact index) pairs, sorted.

    Built once per policy (``Policy.engine`` caches it under its lock) and immutable afterwards, so it is safe
    to share between threads: a run touches nothing but its own locals.
    """

    name = "compiled"

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        by_subject: dict[str, list[tuple[int, Rule]]] = {}
        for index, rule in enumerate(self.rules):
            by_subject.setdefault(rule.subject, []).append((index, rule))
        try:
            sources = {
                subject: _function_source(f"fire_{n}", members)
                for n, (subject, members) in enumerate(by_subject.items())
            }
            #: The generated Python, one function per kind of fact (read it to see what runs).
            self.source = "\n\n".join(f"# rules about a {subject!r} fact\n{text}" for subject, text in sources.items())
            code = compile(self.source, f"<compiled policy, {len(self.rules)} rules>", "exec")
        except (SyntaxError, RecursionError, MemoryError) as error:  # Python's own limits on nesting
            raise ValueError(
                f"the policy's conditions are nested too deeply to compile ({type(error).__name__}); "
                "simplify them, or use engine='reference'"
            ) from None
        namespace: dict[str, Any] = {"MISSING": MISSING}
        exec(code, namespace)  # noqa: S102 - the source is ours: see the module docstring
        self._by_subject: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], list[int]]] = {
            subject: namespace[f"fire_{n}"] for n, subject in enumerate(by_subject)
        }

    def run(self, facts: Sequence[Fact], parameters: Mapping[str, Any]) -> list[tuple[int, int]]:
        fired = []
        for f, fact in enumerate(facts):
            function = self._by_subject.get(fact.type)
            if function is not None:
                fired += [(r, f) for r in function(fact.values, parameters)]
        fired.sort()
        return fired
