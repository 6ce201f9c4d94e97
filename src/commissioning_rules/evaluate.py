"""validate → facts → engine → Decision. ``evaluate`` is a pure function of (case, policy, as_of)."""

from __future__ import annotations

import datetime as dt
import functools
import operator
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Callable, Mapping, Sequence

from commissioning_rules.engine import EngineName, default_engine
from commissioning_rules.engine.rule import PARAMETER_PLACEHOLDER, Firing, Firings, StageGate
from commissioning_rules.engine.values import Fact, encode
from commissioning_rules.facts import ABSENT, case_facts, raw_expression, show
from commissioning_rules.models.case import CASE_PARTS, Case
from commissioning_rules.models.decision import (
    Advisory, AsOfSource, Decision, Finding, Later, ParameterUsed, PolicyRef, finding, trusted,
)
from commissioning_rules.models.types import parse_date
from commissioning_rules.parameters import ResolvedParameters, resolve
from commissioning_rules.policy import Policy

#: ``{param.NAME}`` (a parameter's value as shown) or ``{dotted.path}`` (a fact's value as shown) in a template.
_PLACEHOLDER = re.compile(PARAMETER_PLACEHOLDER.pattern + r"|\{([a-z0-9_.]+)\}")


@functools.lru_cache(maxsize=4096)
def template(text: str) -> tuple[tuple[str, str, str], ...]:
    """A ``because`` template split once into (literal text, parameter name, fact path) pieces: one of the last
    two is set, or neither at the end."""
    pieces, start = [], 0
    for match in _PLACEHOLDER.finditer(text):
        pieces.append((text[start : match.start()], match.group(1) or "", match.group(2) or ""))
        start = match.end()
    pieces.append((text[start:], "", ""))
    return tuple(pieces)


#: Fills a template: ``render(model, shown, otherwise)`` with the fact's model (the case, or one listed item), the
#: parameters as shown by name, and how to show a parameter missing from ``shown``.
Render = Callable[[Any, Mapping[str, str], Callable[[str], str]], str]


def renderer(subject: str, text: str) -> Render:
    """The ``because`` template ``text`` of a rule about ``subject`` facts, compiled once into one Python function:
    each fact value read straight from the model and shown as a person reads it ("not described" where the fact
    has no such value), each parameter as shown. Literal text and names enter the code only as ``repr``
    literals; paths only through ``raw_expression``, which builds attribute reads from the case model's own
    field names."""
    key = (subject, text)
    found = _RENDERERS.get(key)
    if found is not None:
        return found
    reads: list[str] = []
    parts: list[str] = []
    for literal, name, path in template(text):
        if literal:
            parts.append(repr(literal))
        if name:
            parts.append(f"(shown[{name!r}] if {name!r} in shown else otherwise({name!r}))")
        elif path:
            expression = raw_expression(subject, path, "model", f"t{len(reads)}")
            if expression is None:
                parts.append(repr("not described"))
            else:
                value = f"v{len(reads)}"
                reads.append(f"    {value} = {expression}")
                parts.append(f"('not described' if {value} is ABSENT else show({value}))")
    source = "\n".join(["def render(model, shown, otherwise):", *reads, "    return " + (" + ".join(parts) or "''")])
    namespace: dict[str, Any] = {"show": show, "ABSENT": ABSENT}
    exec(source, namespace)  # noqa: S102 - see the docstring
    function: Render = namespace["render"]
    if len(_RENDERERS) >= 4096:
        _RENDERERS.clear()
    _RENDERERS[key] = function  # racing threads store equal functions
    return function


#: Each template's compiled renderer, by the kind of fact and its text.
_RENDERERS: dict[tuple[str, str], Render] = {}


@dataclass(frozen=True)
class Parameters:
    """The parameters a set of rule sets cites, resolved at one date: as rules see them, as people read them, and
    (filled as decisions ask) the :class:`ParameterUsed` of each set of them that a decision's rules read."""

    resolved: ResolvedParameters
    encoded: dict[str, Any]
    shown: dict[str, str]
    used: dict[frozenset[str], tuple[ParameterUsed, ...]] = field(default_factory=dict, compare=False, repr=False)


#: Distinct (as_of, rule sets) pairs remembered per policy; past this the cache starts again (bounded memory).
_PARAMETER_CACHE_SIZE = 1024


def _parameters(policy: Policy, active: tuple[int, ...], as_of: dt.date) -> Parameters:
    """The parameters the ``active`` rule sets cite, at ``as_of``: resolved once per policy, date and rule sets."""
    cache: dict[tuple[dt.date, tuple[int, ...]], Parameters] = policy.compiled("parameters", dict)
    key = (as_of, active)
    found = cache.get(key)
    if found is None:
        cited = {name for i in active for rule in policy.rulesets[i].rules for name in rule.cites}
        resolved = resolve(policy.parameters, cited, as_of)
        found = Parameters(
            resolved,
            {name: encode(value.value) for name, value in resolved.values.items()},
            {name: resolved.shown(name) for name in resolved.values},
        )
        if len(cache) >= _PARAMETER_CACHE_SIZE:
            cache.clear()
        cache[key] = found  # racing threads store equal values: harmless
    return found


class Context:
    """What a rule set's ``assemble`` step may read besides its firings."""

    __slots__ = ("case", "as_of", "parameters", "encoded", "shown", "_rendered")

    def __init__(self, case: Case, as_of: dt.date, cited: Parameters) -> None:
        self.case = case
        self.as_of = as_of
        self.parameters = cited.resolved
        self.encoded = cited.encoded
        self.shown = cited.shown
        self._rendered: dict[int, str] = {}

    def because(self, firing: Firing) -> str:
        """The rule's ``because`` with the facts and parameter values it used filled in."""
        key = id(firing)
        text = self._rendered.get(key)
        if text is None:
            rule = firing.rule
            render = renderer(rule.subject, rule.because)
            text = self._rendered[key] = render(firing.fact.model, self.shown, self.parameters.shown)
        return text

    def reasons(self, firings: Sequence[Firing], distinct: bool = False) -> list[str]:
        """Each firing's :meth:`because`, in order; with ``distinct``, each text once."""
        texts = [self.because(f) for f in firings]
        return list(dict.fromkeys(texts)) if distinct else texts


_PARTS_OF = operator.attrgetter(*CASE_PARTS)


def _active(policy: Policy, case: Case) -> tuple[int, ...]:
    """The rule sets whose parts ``case`` has (worked out once per policy and set of parts)."""
    present = tuple(map(operator.is_not, _PARTS_OF(case), repeat(None)))
    cache: dict[tuple[bool, ...], tuple[int, ...]] = policy.compiled("active", dict)
    active = cache.get(present)
    if active is None:
        parts = {part for part, there in zip(CASE_PARTS, present) if there}
        active = cache[present] = tuple(i for i, inputs in enumerate(policy.inputs) if inputs <= parts)
    return active


def _match(
    case: Case, policy: Policy, as_of: dt.date, engine: str
) -> tuple[list[Fact], tuple[int, ...], Parameters, list[tuple[int, int]]]:
    """The case's facts, the rule sets whose parts it has, their parameters, and (rule, fact) index pairs fired."""
    facts = case_facts(case)
    active = _active(policy, case)
    cited = _parameters(policy, active, as_of)
    return facts, active, cited, policy.engine(engine).run(facts, cited.encoded)


def fired(case: Case, *, policy: Policy, as_of: dt.date, engine: str) -> list[tuple[str, str]]:
    """The (rule id, fact key) pairs ``engine`` fires on ``case``: everything a Decision is built from besides the
    case itself (the rest is the same code for every engine), so comparing these compares engines."""
    facts, _, _, pairs = _match(case, policy, as_of, engine)
    return [(policy.rules[r].id, facts[f].key) for r, f in pairs]


def evaluate(
    case: Case | Mapping[str, Any],
    *,
    policy: Policy | None = None,
    as_of: dt.date | str | None = None,
    engine: EngineName | None = None,
    today: dt.date | None = None,
) -> Decision:
    """Apply ``policy`` (default: the Norwich framework) to ``case`` at ``as_of``.

    ``as_of`` is, in order: the argument, the case's own ``as_of``, today (``today`` stands for the date
    where a run must use one date throughout, or a replay the date it first ran); the Decision's
    ``as_of_source`` says which. ``engine`` is ``"compiled"`` (the default), ``"durable-rules"`` (where the
    ``durable`` extra is installed and imports) or ``"reference"``: the same rule data, the same Decision; an
    engine that cannot run here raises :class:`~commissioning_rules.engine.EngineUnavailable` saying what to
    install. A malformed case raises
    ``pydantic.ValidationError`` naming the field; a parameter with no value at ``as_of`` raises
    ``ParameterError``.
    """
    case = case if isinstance(case, Case) else Case.model_validate(case)
    if isinstance(as_of, str):
        as_of = parse_date(as_of)
    as_of_source: AsOfSource = "argument" if as_of else "case" if case.as_of else "today"
    as_of = as_of or case.as_of or today or dt.date.today()
    policy = policy or Policy.default()
    engine_name = engine or default_engine()

    facts, active, cited, fired = _match(case, policy, as_of, engine_name)
    rules, bounds = policy.rules, policy.rule_bounds
    context = Context(case, as_of, cited)
    decided: dict[str, Any] = {"advisories": []}
    withheld: dict[StageGate, tuple[str, list[str]]] = {}
    by_ruleset: dict[int, Firings] = {}
    for i in active:
        ruleset = policy.rulesets[i]
        # The framework is one process (3.5, 3.4.1): a stage an earlier decision rules out gives no decision,
        # and its firings (findings, parameters) are dropped.
        for gate in ruleset.requires:
            earlier = gate.blocks(decided)
            if earlier is not None:
                withheld.setdefault(gate, (earlier, []))[1].extend(ruleset.decides)
                break
        else:
            # the pairs come sorted by rule, and a rule set's rules are consecutive: its firings are one slice
            first, end = bounds[i]
            firings = by_ruleset[i] = Firings(fired[bisect_left(fired, (first,)) : bisect_left(fired, (end,))], rules, facts)
            for name, value in ruleset.assemble(firings, context).items():
                if isinstance(value, list):
                    decided.setdefault(name, []).extend(value)
                else:
                    decided[name] = value
    for gate, (earlier, fields) in withheld.items():
        if gate.advisory:
            decided["advisories"].append(
                trusted(Advisory, id=gate.advisory, section=gate.section, message=Later(_gate_advisory, gate, earlier, fields))
            )

    # Built by this library from validated input: constructed, not validated again; the words (findings,
    # parameters used, the outcomes' reasons) are worked out when first read.
    return trusted(
        Decision,
        as_of=as_of,
        as_of_source=as_of_source,
        policy=policy.compiled("reference", lambda: trusted(PolicyRef, name=policy.name, version=policy.version)),
        engine=engine_name,
        **decided,
        findings=Later(_findings, by_ruleset, context, withheld),
        parameters=Later(_parameters_used, by_ruleset, policy, cited),
    )


def _gate_because(gate: StageGate, earlier: str, fields: list[str]) -> str:
    """Why a gate withheld the stages it did: what the earlier stage decided, and what is not given."""
    return gate.because.format(value=earlier, withheld=", ".join(f.replace("_", " ") for f in fields))


def _gate_advisory(gate: StageGate, earlier: str, fields: list[str]) -> str:
    return f'{_gate_because(gate, earlier, fields)}. {gate.section}: "{gate.source}"'


def _findings(
    by_ruleset: dict[int, Firings], context: Context, withheld: dict[StageGate, tuple[str, list[str]]]
) -> list[Finding]:
    """Every rule that fired in a rule set that gave a decision, in rule order, then each stage gate that held."""
    because = context.because
    return [
        finding(f.rule.id, f.rule.section, because(f), f.rule.source, f.fact.key) for own in by_ruleset.values() for f in own
    ] + [
        trusted(
            Finding, rule=gate.id, section=gate.section, because=_gate_because(gate, earlier, fields),
            source=gate.source, subject="case",
        )
        for gate, (earlier, fields) in withheld.items()
    ]


def _parameters_used(by_ruleset: dict[int, Firings], policy: Policy, cited: Parameters) -> list[ParameterUsed]:
    """Every parameter those rules read: its value in force at ``as_of`` and where it comes from. (Made once per
    set of names for these parameters, whose values they only show: the models are frozen, so decisions share
    them.)"""
    names = frozenset([name for own in by_ruleset.values() for rule in own.rules for name in rule.cites])
    used = cited.used.get(names)
    if used is None:
        values = cited.resolved.values
        used = tuple(
            trusted(
                ParameterUsed,
                name=name,
                value=cited.shown[name],
                unit=policy.parameters[name].unit,
                effective_from=values[name].effective_from,
                source=values[name].source,
                placeholder=policy.parameters[name].placeholder,
            )
            for name in sorted(names)
        )
        if len(cited.used) >= _PARAMETER_CACHE_SIZE:
            cited.used.clear()
        cited.used[names] = used  # racing threads store equal models: harmless
    return list(used)
