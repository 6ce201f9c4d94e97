"""Test support for the sourcing rule sets (2.1, 3.4, 3.5, 3.6): run a case on every engine, check quotations.

Not a test module (pytest collects ``test_*.py`` only); the sourcing tests import it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

import pytest

import commissioning_rules as cr
from commissioning_rules.engine.reference import holds
from commissioning_rules.engine.rule import RuleSet
from commissioning_rules.facts import case_facts
from gate_cases import AVAILABLE_ENGINES

#: Every engine that runs here (durable_rules does not import on Python 3.13+).
ENGINES = tuple(AVAILABLE_ENGINES)

#: The framework's text, beside the project (``../shared/policy``); absent in a bare clone.
POLICY_TEXT = Path(__file__).resolve().parents[1] / "docs" / "framework" / "commissioning-framework-2014.txt"


def decide(case: dict[str, Any], **options: Any) -> cr.Decision:
    """The decision on ``case`` from every engine, which must agree on everything but the engine's name."""
    decisions = [cr.evaluate(case, engine=engine, **options) for engine in ENGINES]
    first = decisions[0].model_dump(mode="json", exclude={"engine"})
    for other in decisions[1:]:
        assert other.model_dump(mode="json", exclude={"engine"}) == first, f"engines disagree on {case}"
    return decisions[0]


def rows_holding(ruleset: RuleSet, case: dict[str, Any]) -> list[str]:
    """Ids of the rules of ``ruleset`` whose condition holds of ``case``, read from the rule data (no engine)."""
    values = case_facts(cr.Case.model_validate(case))[0].values
    return [rule.id for rule in ruleset.rules if holds(rule.when, values, {})]


def fired(decision: cr.Decision, prefix: str) -> list[str]:
    """Ids of the rules that fired whose id starts with ``prefix``, in order (repeats kept)."""
    return [f.rule for f in decision.findings if f.rule.startswith(prefix)]


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("|", " ")).strip()


def assert_quoted(texts: Iterable[str]) -> None:
    """Every text appears verbatim in the framework (a "•" separates fragments quoted from one chart cell)."""
    if not POLICY_TEXT.exists():
        pytest.skip(f"the framework's text is not at {POLICY_TEXT}")
    policy = _normalised(POLICY_TEXT.read_text("utf-8"))
    missing = [
        fragment
        for text in texts
        for fragment in (_normalised(part) for part in text.split("•"))
        if fragment and fragment not in policy
    ]
    assert not missing, f"not quoted verbatim from the framework: {missing}"

