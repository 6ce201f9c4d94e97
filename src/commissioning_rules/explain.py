"""A Decision in plain English, for policy officers and auditors: what was decided, why, in the policy's words."""

from __future__ import annotations

import textwrap

from commissioning_rules.models.decision import Decision, Status

_WRAP = 100


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, _WRAP, initial_indent=indent, subsequent_indent=indent + "  ")


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
            lines.append(f"  [{result.status.value.replace('_', ' ')}] {label} ({result.section})")
            for reason in result.reasons:
                lines.append(_wrap(f"- {reason}", "      "))
        quoted = {
            f.source for f in decision.findings if f.rule.rsplit(".", 1)[-1] == "not_met" and f.section.startswith("3.5")
        }
        for source in sorted(quoted):
            lines.append(_wrap(f'The framework says: "{source}"', "  "))
        lines.append("")
    for part in ("best_value", "delivery", "route", "approval", "monitoring", "notice", "review", "departure"):
        value = getattr(decision, part)
        if value is not None:
            shown = ", ".join(f"{k}: {v}" for k, v in value.model_dump(mode="json").items() if not isinstance(v, (list, dict)))
            lines.append(f"{part.replace('_', ' ').capitalize()}: {shown}")
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
