"""A policy is a value: its rule sets and its effective-dated parameters, with a name and a version hash.

``Policy.default()`` is the Norwich framework as published; ``Policy.from_file(path)`` layers a council's YAML
file over it (``policy_file.py``: parameter values, rules disabled, rules added, explicit overrides).

Overrides (Catala's explicit exceptions): a rule may declare ``overrides=("other.rule.id", ...)``. Where the
overriding rule's condition holds on a fact, the overridden rules' firings on that same fact are suppressed.
This is applied in ONE place for every engine: :meth:`Policy.engine` wraps the compiled engine and filters its
firings, so durable_rules and the reference interpreter see the same rule data and give the same result, and the
outcome never depends on the order in which rules are defined. Suppression follows the overriding rule's
condition, not its own survival: if C overrides B and B overrides A, a case matching all three gets C only.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from commissioning_rules.engine import build_engine
from commissioning_rules.engine.rule import Rule, RuleSet, describe
from commissioning_rules.facts import FACT_TYPES, read_lines
from commissioning_rules.parameters import Parameter, default_parameters
from commissioning_rules.policy_file import Layered, load_policy_file, load_policy_text

DEFAULT_NAME = "Norwich City Council commissioning framework 2014"


@dataclass(frozen=True, eq=False)
class Policy:
    """Rule sets plus parameters. ``Policy.default()`` is the Norwich framework as published."""

    name: str
    rulesets: tuple[RuleSet, ...]
    parameters: Mapping[str, Parameter]
    #: Where the policy came from (a council file's path), and the date it takes effect, if it says.
    origin: str = "commissioning_rules (built in)"
    effective_from: dt.date | None = None
    #: What the policy compiles (engines, the evaluation plan), built once under ``_lock`` (see :meth:`compiled`).
    _compiled: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        ids = [rule.id for rule in self.rules]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"rule ids must be unique within a policy; repeated: {repeated}")

    @classmethod
    @functools.cache
    def default(cls) -> Policy:
        from commissioning_rules.rules import DEFAULT_RULESETS

        return cls(DEFAULT_NAME, DEFAULT_RULESETS, default_parameters())

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], base: Policy | None = None) -> Policy:
        """A council's policy file layered over ``base`` (default: the Norwich framework).

        The file is YAML, read with the safe loader (nothing in it is executed). A malformed file raises
        :class:`~commissioning_rules.policy_file.PolicyFileError` naming the file, the line and key, and what
        was expected. ``examples/council-policy.yaml`` shows every feature.
        """
        return cls._layered(load_policy_file(path, base or cls.default()), os.fspath(path))

    @classmethod
    def from_yaml(cls, text: str, origin: str = "<policy text>", base: Policy | None = None) -> Policy:
        """As :meth:`from_file`, from YAML text (``origin`` names it in errors)."""
        return cls._layered(load_policy_text(text, origin, base or cls.default()), origin)

    @classmethod
    def _layered(cls, layered: Layered, origin: str) -> Policy:
        return cls(layered.name, layered.rulesets, layered.parameters, origin=origin, effective_from=layered.effective_from)

    @functools.cached_property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(rule for ruleset in self.rulesets for rule in ruleset.rules)

    @functools.cached_property
    def inputs(self) -> tuple[frozenset[str], ...]:
        """For each rule set (in ``rulesets`` order), the case parts it needs."""
        return tuple(frozenset(ruleset.inputs) for ruleset in self.rulesets)

    @functools.cached_property
    def rule_bounds(self) -> tuple[tuple[int, int], ...]:
        """For each rule set, the indexes of its first rule and of the rule after its last (in ``rules`` order)."""
        bounds, start = [], 0
        for ruleset in self.rulesets:
            bounds.append((start, start + len(ruleset.rules)))
            start += len(ruleset.rules)
        return tuple(bounds)

    @functools.cached_property
    def version(self) -> str:
        """A hash of everything that decides an outcome: every rule and every dated parameter value."""
        content = {
            "rules": [
                [r.id, r.section, r.source, r.subject, describe(r.when), r.then.topic, r.then.outcome, r.because]
                + ([sorted(r.overrides)] if r.overrides else [])
                for r in self.rules
            ],
            "stages": [
                [rs.name, [[g.id, g.after, g.attribute, [str(v) for v in g.allows], g.because] for g in rs.requires]]
                for rs in self.rulesets
                if rs.requires
            ],
            "parameters": {
                name: [p.unit, [[v.effective_from.isoformat(), str(v.value), v.source] for v in p.values]]
                for name, p in sorted(self.parameters.items())
            },
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]

    def compiled(self, key: str, build: Callable[[], Any]) -> Any:
        """``build()``, run once per policy and ``key``, then reused; safe from any number of threads."""
        try:
            return self._compiled[key]  # a plain dict read: atomic, and entries are never replaced
        except KeyError:
            with self._lock:
                if key not in self._compiled:
                    self._compiled[key] = build()
                return self._compiled[key]

    def engine(self, name: str) -> Any:
        """This policy's rules compiled for engine ``name`` (compiled once, then reused)."""

        def build() -> Any:
            engine = build_engine(name, self.rules, FACT_TYPES, reader=read_lines)
            return OverridingEngine(engine, self.rules) if any(rule.overrides for rule in self.rules) else engine

        return self.compiled(f"engine {name}", build)


class OverridingEngine:
    """An engine whose firings are filtered by the rules' ``overrides`` (see the module docstring).

    A firing of rule A on fact f is dropped when a rule B declaring ``overrides`` of A fired on f too. Firings
    keep the underlying engine's order. Overrides naming no rule, or a rule about another kind of fact, are
    ignored here (``check`` reports them; a council file with one is rejected when loaded).
    """

    def __init__(self, engine: Any, rules: Sequence[Rule]) -> None:
        self.engine = engine
        self.name = engine.name
        self.rules = tuple(rules)
        index = {rule.id: i for i, rule in enumerate(self.rules)}
        self.overridden_by: dict[int, tuple[int, ...]] = {}
        for b, rule in enumerate(self.rules):
            for target in rule.overrides:
                a = index.get(target)
                if a is not None and self.rules[a].subject == rule.subject:
                    self.overridden_by[a] = (*self.overridden_by.get(a, ()), b)

    def run(self, facts: Sequence[Any], parameters: Mapping[str, Any]) -> list[tuple[int, int]]:
        fired = self.engine.run(facts, parameters)
        present = set(fired)
        return [
            (r, f) for r, f in fired if not any((b, f) in present for b in self.overridden_by.get(r, ()))
        ]
