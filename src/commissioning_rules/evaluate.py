"""validate → facts → engine → Decision. ``evaluate`` is a pure function of (case, policy, as_of)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from commissioning_rules.engine import default_engine
from commissioning_rules.engine.rule import PARAMETER_PLACEHOLDER, Firing
from commissioning_rules.facts import case_facts, encode
from commissioning_rules.models.case import Case
from commissioning_rules.models.decision import Decision, Finding, ParameterUsed, PolicyRef
from commissioning_rules.parameters import ResolvedParameters, resolve
from commissioning_rules.policy import Policy

_FACT_PLACEHOLDER = re.compile(r"\{([a-z0-9_.]+)\}")


@dataclass(frozen=True)
class Context:
    """What a rule set's ``assemble`` step may read besides its firings."""

    case: Case
    as_of: dt.date
    parameters: ResolvedParameters
    _rendered: dict[int, str] = field(default_factory=dict, repr=False)

    def because(self, firing: Firing) -> str:
        """The rule's ``because`` with the facts and parameter values it used filled in."""
        key = id(firing)
        if key not in self._rendered:
            text = PARAMETER_PLACEHOLDER.sub(lambda m: self.parameters.shown(m.group(1)), firing.rule.because)
            display = firing.fact.display
            self._rendered[key] = _FACT_PLACEHOLDER.sub(lambda m: display.get(m.group(1), "not described"), text)
        return self._rendered[key]


def evaluate(
    case: Case | Mapping[str, Any],
    *,
    policy: Policy | None = None,
    as_of: dt.date | str | None = None,
    engine: str | None = None,
    today: dt.date | None = None,
) -> Decision:
    """Apply ``policy`` (default: the Norwich framework) to ``case`` at ``as_of``.

    ``as_of`` is, in order: the argument, the case's own ``as_of``, today (``today`` stands for the date
    where a run must use one date throughout, or a replay the date it first ran); the Decision's
    ``as_of_source`` says which. ``engine`` is ``"durable-rules"``
    (the default where it imports) or ``"reference"``. A malformed case raises ``pydantic.ValidationError``
    naming the field; a parameter with no value at ``as_of`` raises ``ParameterError``.
    """
    case = case if isinstance(case, Case) else Case.model_validate(case)
    if isinstance(as_of, str):
        as_of = dt.date.fromisoformat(as_of)
    as_of_source = "argument" if as_of else "case" if case.as_of else "today"
    as_of = as_of or case.as_of or today or dt.date.today()
    policy = policy or Policy.default()
    engine_name = engine or default_engine()

    facts = case_facts(case)
    active = [i for i, rs in enumerate(policy.rulesets) if all(getattr(case, part) is not None for part in rs.inputs)]
    cited = {name for i in active for rule in policy.rulesets[i].rules for name in rule.cites}
    parameters = resolve(policy.parameters, cited, as_of)
    encoded = {name: encode(value.value) for name, value in parameters.values.items()}

    rules, owner = policy.rules, policy.ruleset_of_rule
    by_ruleset: dict[int, list[Firing]] = {i: [] for i in active}
    for r, f in policy.engine(engine_name).run(facts, encoded):
        if owner[r] in by_ruleset:
            by_ruleset[owner[r]].append(Firing(rules[r], facts[f]))

    context = Context(case, as_of, parameters)
    decided: dict[str, Any] = {"advisories": [], "findings": []}
    used: set[str] = set()
    for i, own in by_ruleset.items():
        ruleset = policy.rulesets[i]
        for name, value in ruleset.assemble(own, context).items():
            if isinstance(value, list):
                decided.setdefault(name, []).extend(value)
            else:
                decided[name] = value
        decided["findings"] += [
            Finding(rule=f.rule.id, section=f.rule.section, because=context.because(f), source=f.rule.source, subject=f.fact.key)
            for f in own
        ]
        used.update(name for f in own for name in f.rule.cites)

    decided["parameters"] = [
        ParameterUsed(
            name=name,
            value=parameters.shown(name),
            unit=policy.parameters[name].unit,
            effective_from=parameters.values[name].effective_from,
            source=parameters.values[name].source,
            placeholder=policy.parameters[name].placeholder,
        )
        for name in sorted(used)
    ]
    return Decision(
        as_of=as_of,
        as_of_source=as_of_source,
        policy=PolicyRef(name=policy.name, version=policy.version),
        engine=engine_name,
        **decided,
    )
