"""A Decision in plain English, for policy officers and auditors: what was decided, why, in the policy's words."""

from __future__ import annotations

import functools
import re
import textwrap
from typing import Any

from commissioning_rules.models.decision import Decision, Status

_WRAP = 100


#: What ``textwrap`` would change in a line short enough not to wrap.
_RESHAPED = re.compile(r"[\t\n\x0b\x0c\r]|\s$|^\s*$")


@functools.lru_cache(maxsize=16384)
def _wrap(text: str, indent: str) -> str:
    """``textwrap.fill`` to 100 columns, hanging by two; a line that fits is returned as is (most do), and
    the lines that wrap repeat from decision to decision, so each is wrapped once."""
    if len(indent) + len(text) <= _WRAP and not _RESHAPED.search(text):
        return indent + text
    return textwrap.fill(text, _WRAP, initial_indent=indent, subsequent_indent=indent + "  ")


#: The Decision's parts other than eligibility, in contract order.
_PARTS = tuple(
    name for name in Decision.model_fields
    if name not in {"as_of", "as_of_source", "policy", "engine", "eligibility", "advisories", "findings", "parameters"}
)


def _describe(data: dict[str, Any], indent: str = "") -> list[str]:
    """One line per stated field of a Decision part; lists of items one line per item."""
    lines = []
    for key, value in data.items():
        label = key.replace("_", " ")
        if value is None or value == [] or value == {}:
            continue
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            lines.append(f"{indent}{label}:")
            for item in value:
                lines.append(f"{indent}  - " + "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in item.items() if v is not None))
        elif isinstance(value, list):
            lines.append(f"{indent}{label}: " + "; ".join(str(v) for v in value))
        elif isinstance(value, dict):
            lines.append(f"{indent}{label}:")
            lines += _describe(value, indent + "  ")
        else:
            lines.append(f"{indent}{label}: {'yes' if value is True else 'no' if value is False else value}")
    return lines


@functools.cache
def _framework_rules() -> frozenset[str]:
    """Ids of the Norwich framework's own rules (any other rule is a council's)."""
    from commissioning_rules.policy import Policy

    return frozenset(rule.id for rule in Policy.default().rules)


def explain(decision: Decision) -> str:
    lines = [
        f"Decision at {decision.as_of.isoformat()} under {decision.policy.name} "
        f"(version {decision.policy.version}, engine {decision.engine})",
        "",
    ]
    eligibility = decision.eligibility
    if eligibility is not None:
        failed = [c for c in eligibility.criteria if c.status == Status.not_met]
        if eligibility.eligible:
            lines.append("ELIGIBLE: every applicable organisational criterion is met (3.5).")
        else:
            lines.append(
                f"NOT ELIGIBLE: {len(failed)} organisational criteria not met. 3.5: \"If these criteria are not "
                "met, no further consideration will be given to an application.\""
            )
        for result in eligibility.criteria:
            label = result.criterion.replace("_", " ")
            # The rules behind the criterion (their findings give its reasons): a council's own rule heads it
            # with its own section and its sentence is quoted, not only the chart's.
            behind = [f for f in decision.findings if f.because in result.reasons]
            own = [f for f in behind if f.rule not in _framework_rules()]
            sections = "; ".join(dict.fromkeys([*(f.section for f in own), result.section]))
            lines.append(f"  [{result.status.value.replace('_', ' ')}] {label} ({sections})")
            for reason in result.reasons:
                lines.append(_wrap(f"- {reason}", "      "))
            for finding in own:
                lines.append(_wrap(f'{finding.section} says: "{finding.source}"', "      "))
        quoted = {
            f.source for f in decision.findings if f.rule.rsplit(".", 1)[-1] == "not_met" and f.section.startswith("3.5")
        }
        for source in sorted(quoted):
            lines.append(_wrap(f'The framework says: "{source}"', "  "))
        lines.append("")
    for part in _PARTS:
        value = getattr(decision, part)
        if value is not None:
            lines.append(f"{part.replace('_', ' ').capitalize()}:")
            lines += [_wrap(line, "  ") for line in _describe(value.model_dump(mode="json"))]
            lines.append("")
    if decision.advisories:
        lines.append("Advisories (these never decide anything):")
        for advisory in decision.advisories:
            lines.append(_wrap(f"- ({advisory.section}) {advisory.message}", "  "))
        lines.append("")
    lines.append("Rules that fired:")
    for finding in decision.findings:
        lines.append(_wrap(f"- {finding.rule} [{finding.section}]: {finding.because}", "  "))
    if decision.parameters:
        lines.append("")
        lines.append("Parameters used:")
        for p in decision.parameters:
            note = " (placeholder: the council is expected to set it)" if p.placeholder else ""
            lines.append(_wrap(f"- {p.name} = {p.value}, in force from {p.effective_from.isoformat()}{note}; source: {p.source}", "  "))
    return "\n".join(lines).rstrip() + "\n"


Decision.explainer = explain
