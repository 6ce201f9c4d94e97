"""The compiled engine: a policy's rule data translated, once, into one plain Python function per kind of fact.

It reads the same :class:`~commissioning_rules.engine.rule.Rule` data as the reference interpreter and
durable_rules, with the same semantics (a comparison on a missing attribute or parameter is false), and is
proven identical to both by differential tests on generated cases. What makes it fast is only that the work
the reference interpreter repeats on every case is done once, at compile time:

* each condition becomes one Python boolean expression (``and``/``or`` short-circuit natively, no closures);
* each attribute a group of rules reads is looked up once per fact, into a local variable;
* rules that start with the same ``has_<part>`` flags (a rule set's inputs) sit under one ``if``, so a rule
  set whose part is absent costs one test, not one per rule;
* a compound test that several rules of a group make is worked out once, into a local;
* constants are encoded once (``encode``) and written into the code as literals;
* given a :data:`Reader` (the layer that turns a case into facts has one), it also compiles a second function per
  kind of fact that reads the validated model itself (:attr:`Fact.model`) into its locals, exactly as the fact's
  values hold them, so a case's values never need to be gathered into a dict at all.

The generated source is kept (:attr:`CompiledEngine.source`), one line per rule with its id, so what runs can
be read. Nothing from a rule is executed: paths and parameter names appear only as string literals
(``repr``), and operands are encoded to ``bool``, ``int`` or ``str`` before they are written.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Protocol, Sequence, cast

from commissioning_rules.engine.rule import AllOf, AnyOf, Compare, Condition, Param, Rule
from commissioning_rules.engine.values import Fact, encode, plain

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


class Reader(Protocol):
    """Lines of Python setting local variables from a fact's model: ``reader(subject, wanted, variable, indent)``
    gives the lines that set each local named in ``wanted`` (by the attribute path it stands for) from the model
    in ``variable`` (a fact of kind ``subject``), as the fact's values hold it, leaving a path the fact has no
    value for unset; and the constants those lines use."""

    def __call__(
        self, subject: str, wanted: Mapping[str, str], variable: str, indent: str
    ) -> tuple[list[str], dict[str, Any]]: ...


class _Writer:
    """Writes one fact type's function: local names for attributes and parameters, one expression per rule.
    Writers given one ``shared`` dict name each attribute once for the whole function (read up front)."""

    def __init__(self, prefix: str, shared: dict[str, str] | None = None) -> None:
        self.prefix = prefix
        self.attributes: dict[str, str] = {} if shared is None else shared
        self.shared = shared is not None
        self.parameters: dict[str, str] = {}

    def attribute(self, path: str) -> str:
        prefix = "" if self.shared else self.prefix
        return self.attributes.setdefault(path, f"{prefix}a{len(self.attributes)}")

    def parameter(self, name: str) -> str:
        return self.parameters.setdefault(name, f"{self.prefix}p{len(self.parameters)}")

    def reads(self, indent: str) -> list[str]:
        """The lines that read each attribute (unless they are read up front) and parameter this writer used into
        its local."""
        return [
            f"{indent}{local} = get({path!r}, MISSING)" for path, local in self.attributes.items() if not self.shared
        ] + [f"{indent}{local} = parameter({name!r}, MISSING)" for name, local in self.parameters.items()]

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


def _common(conjuncts: list[list[str]], prefix: str) -> dict[str, str]:
    """The compound tests (``a or b``, ``x is not MISSING and x > p``) that two or more of a group's rules make,
    each to be worked out once into a local (``prefix`` + n): rules of one requirement share most of their
    conditions. Tests are pure comparisons of locals, so working one out before it is needed changes no
    result."""
    counts: dict[str, int] = {}
    for tested in conjuncts:
        for test in dict.fromkeys(tested):
            counts[test] = counts.get(test, 0) + 1
    common = [test for test, count in counts.items() if count > 1 and test.startswith("(")]
    return {test: f"{prefix}{k}" for k, test in enumerate(common)}


def _function_source(
    name: str, subject: str, rules: Sequence[tuple[int, Rule]], reader: Reader | None = None
) -> tuple[str, dict[str, Any]]:
    """The source of ``name(values, parameters, f) -> (rule index, f) for each rule that fires``, for rules of one
    subject (``f``: the fact's index), and the constants it uses. With a ``reader``: ``name(model, parameters, f)``,
    reading the fact's model instead.

    Rules are grouped by their leading presence guards (first-seen order); each group reads its own attributes
    once, inside its ``if``, into locals named apart from other groups' (``g<n>_a<m>``); with a ``reader``, every
    attribute is read once, up front.
    """
    groups: dict[tuple[Compare, ...], list[tuple[int, Rule, Condition | None]]] = {}
    for index, rule in rules:
        guards, rest = _split(rule)
        groups.setdefault(guards, []).append((index, rule, rest))
    shared: dict[str, str] | None = {} if reader is not None else None
    outer = _Writer("", shared)
    body: list[str] = []
    for n, (guards, members) in enumerate(groups.items()):
        indent = "    "
        if guards:
            body.append(f"    if {' and '.join(outer.expression(g) for g in guards)}:")
            indent = "        "
        writer = _Writer(f"g{n}_", shared)
        conjuncts = [
            [] if rest is None else [writer.expression(c) for c in (rest.conditions if isinstance(rest, AllOf) else (rest,))]
            for _, _, rest in members
        ]
        shared_tests = _common(conjuncts, f"g{n}_c")
        tests = [
            f"{indent}if {' and '.join(shared_tests.get(c, c) for c in tested) or 'True'}: fired.append(({index}, f))  # {rule.id!r}"
            for (index, rule, _), tested in zip(members, conjuncts)
        ]
        body += writer.reads(indent) + [f"{indent}{local} = {test}" for test, local in shared_tests.items()] + tests
    if reader is None:
        header = [f"def {name}(values, parameters, f):", "    get, parameter = values.get, parameters.get", "    fired = []"]
        return "\n".join(header + outer.reads("    ") + body + ["    return fired"]), {}
    assert shared is not None
    header, constants = _reading_model([f"def {name}(model, parameters, f):", "    fired = []"], subject, shared, reader)
    return "\n".join(header + outer.reads("    ") + body + ["    return fired"]), constants


def _reading_model(
    header: list[str], subject: str, shared: Mapping[str, str], reader: Reader
) -> tuple[list[str], dict[str, Any]]:
    """``header`` (a function of ``model`` and ``parameters``), then the lines that read each local in ``shared`` from
    the model of a ``subject`` fact, every one starting as missing; and the constants those lines use."""
    read, constants = reader(subject, shared, "model", "    ")
    lines = [*header, "    parameter = parameters.get"]
    if shared:
        lines.append("    " + " = ".join(shared.values()) + " = MISSING  # until read: a path the fact lacks")
    return lines + read, constants


def _compiled(name: str, source: str, constants: dict[str, Any], filename: str) -> Any:
    """The function ``name`` that ``source`` defines, given ``constants``."""
    namespace: dict[str, Any] = {**constants, "MISSING": MISSING}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - the source is ours: see the module docstring
    return namespace[name]


def _leaves(condition: Condition) -> list[Condition]:
    """``condition``'s parts below every ``all of``, in order: it holds exactly where each of them holds."""
    if isinstance(condition, AllOf):
        return [leaf for c in condition.conditions for leaf in _leaves(c)]
    return [condition]


Failing = Callable[[Any, Mapping[str, Any]], list[Condition]]


def compile_failing(condition: Condition, subject: str, reader: Reader) -> Failing:
    """``failing(model, parameters)``: the parts of ``condition`` below every ``all of`` (in order) that do not
    hold of a ``subject`` fact's model, read as :meth:`CompiledEngine.run` reads it, given the encoded parameters;
    empty exactly where ``condition`` holds. (What would meet a condition is said from these.)"""
    leaves = _leaves(condition)
    shared: dict[str, str] = {}
    writer = _Writer("", shared)
    tests = [f"    if not {writer.expression(leaf)}: failing.append(leaves[{n}])" for n, leaf in enumerate(leaves)]
    lines, constants = _reading_model(["def failing(model, parameters):", "    failing = []"], subject, shared, reader)
    source = "\n".join(lines + writer.reads("    ") + tests + ["    return failing"])
    function: Failing = _compiled("failing", source, {**constants, "leaves": tuple(leaves)}, "<what would meet a condition>")
    return function


class CompiledEngine:
    """A policy's rules compiled to Python; ``run`` returns (rule index, fact index) pairs, sorted.

    Built once per policy (``Policy.engine`` caches it under its lock) and immutable afterwards, so it is safe
    to share between threads: a run touches nothing but its own locals.
    """

    name = "compiled"

    def __init__(self, rules: Sequence[Rule], reader: Reader | None = None) -> None:
        self.rules = tuple(rules)
        by_subject: dict[str, list[tuple[int, Rule]]] = {}
        for index, rule in enumerate(self.rules):
            by_subject.setdefault(rule.subject, []).append((index, rule))
        self._by_subject: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any], int], list[tuple[int, int]]]] = {}
        #: The functions reading a fact's model directly (compiled with a reader), by subject.
        self._direct: dict[str, Callable[[Any, Mapping[str, Any], int], list[tuple[int, int]]]] = {}
        sources = []
        filename = f"<compiled policy, {len(self.rules)} rules>"
        try:
            for n, (subject, members) in enumerate(by_subject.items()):
                text, _ = _function_source(f"fire_{n}", subject, members)
                sources.append(f"# rules about a {subject!r} fact\n{text}")
                self._by_subject[subject] = _compiled(f"fire_{n}", text, {}, filename)
                if reader is not None:
                    text, constants = _function_source(f"read_and_fire_{n}", subject, members, reader)
                    sources.append(f"# the same rules, reading a {subject!r} fact's model\n{text}")
                    self._direct[subject] = _compiled(f"read_and_fire_{n}", text, constants, filename)
        except (SyntaxError, RecursionError, MemoryError) as error:  # Python's own limits on nesting
            raise ValueError(
                f"the policy's conditions are nested too deeply to compile ({type(error).__name__}); "
                "simplify them, or use engine='reference'"
            ) from None
        #: The generated Python, one function per kind of fact, or two with a reader (read it to see what runs).
        self.source = "\n\n".join(sources)

    def run(self, facts: Sequence[Fact], parameters: Mapping[str, Any]) -> list[tuple[int, int]]:
        fired: list[tuple[int, int]] = []
        direct = self._direct
        for f, fact in enumerate(facts):
            if fact.model is not None and fact.type in direct:
                fired += direct[fact.type](fact.model, parameters, f)
                continue
            function = self._by_subject.get(fact.type)
            if function is not None:
                fired += function(plain(fact.values), parameters, f)
        fired.sort()
        return fired
