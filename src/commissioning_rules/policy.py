"""A policy is a value: its rule sets and its effective-dated parameters, with a name and a version hash."""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Mapping

from commissioning_rules.engine import build_engine
from commissioning_rules.engine.rule import Rule, RuleSet, describe
from commissioning_rules.parameters import Parameter, default_parameters

DEFAULT_NAME = "Norwich City Council commissioning framework 2014"


@dataclass(frozen=True, eq=False)
class Policy:
    """Rule sets plus parameters. ``Policy.default()`` is the Norwich framework as published."""

    name: str
    rulesets: tuple[RuleSet, ...]
    parameters: Mapping[str, Parameter]
    _engines: dict[str, Any] = field(default_factory=dict, repr=False)
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

    @functools.cached_property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(rule for ruleset in self.rulesets for rule in ruleset.rules)

    @functools.cached_property
    def ruleset_of_rule(self) -> tuple[int, ...]:
        """For each rule (in ``rules`` order), the index of the rule set it belongs to."""
        return tuple(i for i, ruleset in enumerate(self.rulesets) for _ in ruleset.rules)

    @functools.cached_property
    def version(self) -> str:
        """A hash of everything that decides an outcome: every rule and every dated parameter value."""
        content = {
            "rules": [
                [r.id, r.section, r.source, r.subject, describe(r.when), r.then.topic, r.then.outcome, r.because]
                for r in self.rules
            ],
            "parameters": {
                name: [p.unit, [[v.effective_from.isoformat(), str(v.value), v.source] for v in p.values]]
                for name, p in sorted(self.parameters.items())
            },
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]

    def engine(self, name: str) -> Any:
        """This policy's rules compiled for engine ``name`` (compiled once, then reused)."""
        with self._lock:
            if name not in self._engines:
                self._engines[name] = build_engine(name, self.rules)
            return self._engines[name]
