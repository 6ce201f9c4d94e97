"""Every rule cites its section and quotes the framework verbatim (docs/framework/commissioning-framework-2014.txt)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import commissioning_rules as cr

FRAMEWORK = Path(__file__).resolve().parents[1] / "docs" / "framework" / "commissioning-framework-2014.txt"
SECTION = re.compile(r"^\d(\.\d+){0,2}$")


def normalise(text: str) -> str:
    """Whitespace and the chart's table rules do not count; every word and mark does."""
    return " ".join(text.replace("|", " ").split())


FRAMEWORK_TEXT = normalise(FRAMEWORK.read_text("utf-8"))
RULES = cr.Policy.default().rules


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_quotes_the_framework_verbatim(rule):
    assert SECTION.match(rule.section), f"{rule.id}: section {rule.section!r}"
    sentences = [s for s in re.split(r"(?<=[.:])\s+|\s+\.\.\.\s+|\s*\[\.\.\.\]\s*", normalise(rule.source)) if s]
    for sentence in sentences:
        assert normalise(sentence) in FRAMEWORK_TEXT, f"{rule.id} quotes text not in the framework: {sentence!r}"


def test_rule_ids_are_unique():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
