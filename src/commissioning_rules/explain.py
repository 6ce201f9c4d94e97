"""A Decision in plain English, for policy officers and auditors: what was decided, why, in the policy's words.

Short by default: the decision, its reasons, what to do (for a criterion not met, what would meet it) and the
framework sentence each section applies, quoted. ``verbose=True`` adds every criterion's reasons, the rules
that fired and the parameters they used. Nothing is said of a fact the case did not give: every reason is a
rule's ``because`` filled with the facts it read, shown as given ("not stated" where left out).
"""

from __future__ import annotations

import functools
import re
import textwrap
from typing import Any

from pydantic import BaseModel

from commissioning_rules.models.decision import Decision, Finding, Status

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
_CRITERIA_SENTENCE = (
    "Whichever route is taken, applicant organisations are required to meet the organisational criteria set out in "
    "the specification or grant application document."
)
#: Fields shown only with ``verbose`` (long lists a reader asks for, not the decision itself).
_DETAIL = {"reasons", "process", "options", "duties", "terms"}


@functools.cache
def _part_of_rule() -> dict[str, str]:
    """For each rule id (and stage gate id) of the default policy, the Decision field its rule set decides."""
    from commissioning_rules.policy import Policy

    owner: dict[str, str] = {}
    for ruleset in Policy.default().rulesets:
        if ruleset.decides:
            for rule in ruleset.rules:
                head = rule.id.split(".", 1)[0]
                owner[rule.id] = head if head in ruleset.decides else ruleset.decides[0]
        for gate in ruleset.requires:
            owner.setdefault(gate.id, ruleset.decides[0] if ruleset.decides else "")
    return owner


@functools.lru_cache(maxsize=4096)
def _part(rule_id: str) -> str:
    """The Decision field a finding of rule ``rule_id`` belongs to: by rule id, else by its id's first segment (a
    council's rule)."""
    owner = _part_of_rule()
    if rule_id in owner:
        return owner[rule_id]
    head = rule_id.split(".", 1)[0]
    return next((part for rule, part in owner.items() if rule.split(".", 1)[0] == head), "")


def _describe(data: dict[str, Any], verbose: bool, indent: str = "") -> list[str]:
    """One line per stated field of a Decision part; lists of items one line per item."""
    lines = []
    for key, value in data.items():
        label = key.replace("_", " ")
        if value is None or value == [] or value == {} or (key in _DETAIL and not verbose):
            continue
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            lines.append(f"{indent}{label}:")
            for item in value:
                lines.append(f"{indent}  - " + "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in item.items() if v is not None))
        elif isinstance(value, list):
            lines.append(f"{indent}{label}: " + "; ".join(str(v) for v in value))
        elif isinstance(value, dict):
            lines.append(f"{indent}{label}:")
            lines += _describe(value, verbose, indent + "  ")
        else:
            lines.append(f"{indent}{label}: {'yes' if value is True else 'no' if value is False else value}")
    return lines


def _quotes(findings: list[Finding]) -> list[str]:
    """Each distinct sentence the findings apply, quoted once, with its section, in the order first applied."""
    seen: dict[str, str] = {}
    for finding in findings:
        if finding.source is not None:  # a decision read back without its sources quotes nothing
            seen.setdefault(finding.source, finding.section)
    return [_wrap(f'{section}: "{source}"', "  ") for source, section in seen.items()]


@functools.cache
def _framework_rules() -> frozenset[str]:
    """Ids of the Norwich framework's own rules (any other rule is a council's)."""
    from commissioning_rules.policy import Policy

    return frozenset(rule.id for rule in Policy.default().rules)


def explain(decision: Decision, *, verbose: bool = False) -> str:
    eligibility = decision.eligibility
    name = eligibility.organisation if eligibility is not None else None
    lines = [
        (f"{name}: decision" if name else "Decision")
        + f" at {decision.as_of.isoformat()} under {decision.policy.name} "
        f"(version {decision.policy.version}, engine {decision.engine})",
        "",
    ]
    by_part: dict[str, list[Finding]] = {}
    for finding in decision.findings:
        by_part.setdefault(_part(finding.rule), []).append(finding)
    framework = _framework_rules()
    if eligibility is not None:
        failed = [c for c in eligibility.criteria if c.status == Status.not_met]
        if eligibility.eligible:
            lines.append("ELIGIBLE: every applicable organisational criterion is met (3.5).")
        else:
            criteria = "1 organisational criterion" if len(failed) == 1 else f"{len(failed)} organisational criteria"
            lines.append(
                f"NOT ELIGIBLE: {criteria} not met. 3.5: \"If these criteria are not met, no further consideration "
                "will be given to an application.\""
            )
        not_met = [f for f in by_part.get("eligibility", ()) if f.rule.endswith(".not_met")]
        # A council's own rule behind a criterion heads it with its own section, and its sentence is quoted.
        own_rules = [f for f in decision.findings if f.rule not in framework]
        for result in eligibility.criteria:
            if result.status != Status.not_met and not verbose:
                continue
            label = result.criterion.replace("_", " ")
            own = [f for f in own_rules if f.because in result.reasons]
            sections = "; ".join(dict.fromkeys([*(f.section for f in own), result.section]))
            lines.append(f"  [{result.status.value.replace('_', ' ')}] {label} ({sections})")
            failing = [f for f in not_met if f.rule.startswith(result.criterion + ".")]
            reasons = result.reasons if verbose or not failing else [f.because for f in failing]
            for reason in reasons:
                lines.append(_wrap(f"- {reason}", "      "))
            if result.to_meet:
                lines.append("      To meet it, show:")
                lines += [_wrap(f"* {need}", "        ") for need in result.to_meet]
            for finding in own:
                if finding.source is not None:
                    lines.append(_wrap(f'{finding.section} says: "{finding.source}"', "      "))
            quoted = {f.source: f.section for f in failing if f.source is not None}
            lines += [_wrap(f'The framework says ({section}): "{source}"', "      ") for source, section in quoted.items()]
        if not verbose:
            for status in (Status.met, Status.not_applicable):
                rows = [c.criterion.replace("_", " ") for c in eligibility.criteria if c.status == status]
                if rows:
                    lines.append(_wrap(f"{status.value.replace('_', ' ').capitalize()}: {', '.join(rows)}.", "  "))
        if eligibility.eligible:
            lines.append(_wrap(f'3.5: "{_CRITERIA_SENTENCE}"', "  "))
        lines.append("")
    for part in _PARTS:
        value = getattr(decision, part)
        if not isinstance(value, BaseModel):  # not decided, or not a decision part (e.g. as_of_source)
            continue
        lines.append(f"{part.replace('_', ' ').capitalize()}:")
        lines += [_wrap(line, "  ") for line in _describe(value.model_dump(mode="json"), verbose)]
        lines += _quotes(by_part.get(part, []))
        lines.append("")
    if decision.advisories:
        lines.append("Advisories (these never decide anything):")
        for advisory in decision.advisories:
            lines.append(_wrap(f"- ({advisory.section}) {advisory.message}", "  "))
        lines.append("")
    if not verbose:
        lines.append("(explain(verbose=True), or --verbose, adds every criterion, the rules that fired and the parameters used)")
        return "\n".join(lines).rstrip() + "\n"
    lines.append("Rules that fired:")
    for finding in decision.findings:
        lines.append(_wrap(f"- {finding.rule} [{finding.section}]: {finding.because}", "  "))
    if decision.parameters:
        lines.append("")
        lines.append("Parameters used:")
        for p in decision.parameters:
            note = " (placeholder: the council is expected to set it)" if p.placeholder else ""
            lines.append(_wrap(f"- {p.name} = {p.value}, in force from {p.effective_from.isoformat()}{note}" + (f"; source: {p.source}" if p.source is not None else ""), "  "))
    return "\n".join(lines).rstrip() + "\n"


Decision.explainer = explain
