"""Regression files: a counterexample written as a data test, and the paths that name parts of a Decision.

:func:`save_example` writes a case (and, for a property comparing two cases, its variant) with what to expect of
it — a Decision pinned whole (:func:`expected_from`) or in the parts named (:func:`pinned`: rule ids, fired or
not, and paths such as ``eligibility.criteria[financial_systems].status``), or the expectation given — and the
policy it was written for, as the YAML or JSON file :mod:`commissioning_rules.testing.data_tests` runs. A path
names a Decision's field, and items of a list by their criterion, id, name or rule (:func:`value_at`,
:func:`expectation_at`). Used by ``data_tests`` (which re-exports these names) and by a property's violation
(``violation.save``); it imports neither.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from commissioning_rules.models.case import Case
from commissioning_rules.models.decision import Decision
from commissioning_rules.policy import Policy

__all__ = ["NOT_EXPECTED", "as_json_value", "expectation_at", "expected_from", "pinned", "save_example", "value_at"]

#: Decision keys that say how a decision was made, not what was decided: left out of a saved expectation.
NOT_EXPECTED = ("as_of", "as_of_source", "policy", "engine", "findings", "parameters")
_MISSING = object()


def as_json_value(value: Any) -> Any:
    """A YAML/Python value as the Decision's JSON shows it: dates as ISO text, Decimals and enums as text."""
    if isinstance(value, Mapping):
        return {str(k): as_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json_value(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


_STEP = re.compile(r"([^.\[\]]+)(?:\[([^\]]+)\])?")


def _steps(path: str) -> list[tuple[str, str | None]]:
    steps = []
    for part in path.split("."):
        match = _STEP.fullmatch(part)
        if not match:
            raise ValueError(f"path {path!r}: {part!r} is not a field or field[item]")
        steps.append((match.group(1), match.group(2)))
    return steps


def _item(items: Any, label: str) -> tuple[str | None, Any]:
    """The item of a Decision's list named ``label`` (by criterion, id or name), with the key naming it."""
    for item in items if isinstance(items, list) else ():
        for key in ("criterion", "id", "name", "rule"):
            if isinstance(item, dict) and item.get(key) == label:
                return key, item
    return None, _MISSING


def value_at(decision: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` in a Decision as JSON (``eligibility.criteria[financial_systems].status``); a
    ``KeyError`` naming the path when the Decision has nothing there."""
    value: Any = decision
    for field_name, label in _steps(path):
        value = value.get(field_name, _MISSING) if isinstance(value, Mapping) else _MISSING
        if label is not None and value is not _MISSING:
            _, value = _item(value, label)
        if value is _MISSING:
            raise KeyError(f"the Decision has nothing at {path!r}")
    return value


def expectation_at(decision: Mapping[str, Any], path: str) -> dict[str, Any]:
    """The Decision's value at ``path`` as a (subset) expectation: ``{"eligibility": {"criteria":
    [{"criterion": "financial_systems", "status": "not_met"}]}}`` for ``eligibility.criteria[financial_systems].status``."""
    steps = _steps(path)
    value_at(decision, path)  # a clear KeyError first

    def build(node: Any, rest: list[tuple[str, str | None]]) -> dict[str, Any]:
        (field_name, label), rest = rest[0], rest[1:]
        child = node[field_name]
        if label is None:
            return {field_name: build(child, rest) if rest else child}
        key, item = _item(child, label)
        return {field_name: [{key: label, **(build(item, rest) if rest else item)}]}

    return build(decision, steps)


def _merge(left: Any, right: Any) -> Any:
    """Two expectations as one (mappings merged, list items named alike merged)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return {**left, **{k: _merge(left[k], v) if k in left else v for k, v in right.items()}}
    if isinstance(left, list) and isinstance(right, list):
        merged = list(left)
        for item in right:
            key = next((k for k in ("criterion", "id", "name", "rule") if isinstance(item, dict) and k in item), None)
            at = next((i for i, old in enumerate(merged) if key and isinstance(old, dict) and old.get(key) == item[key]), None)
            if at is None:
                merged.append(item)
            else:
                merged[at] = _merge(merged[at], item)
        return merged
    return right


def expected_from(decision: Decision) -> dict[str, Any]:
    """What a Decision decided, as an expectation: its decided parts (not how it was made — engine, policy
    version, findings, parameters), criteria as criterion and status, advisories by id (wording left out)."""
    dumped = decision.model_dump(mode="json", exclude_none=True)
    expected = {key: value for key, value in dumped.items() if key not in NOT_EXPECTED}
    eligibility = expected.get("eligibility")
    if eligibility:
        eligibility["criteria"] = [{"criterion": c["criterion"], "status": c["status"]} for c in eligibility["criteria"]]
    if "advisories" in expected:
        expected["advisories"] = [{"id": a["id"]} for a in expected["advisories"]]  # [] pins "none"
    return expected


def pinned(decision: Decision, pin: Iterable[str], policy: Policy | None = None) -> tuple[dict[str, Any], list[str], list[str]]:
    """What ``pin`` names of ``decision``, as an expectation: each rule id (a rule of ``policy``, default the
    Decision's own policy … or Norwich's) as fired or not fired, each path (``eligibility.eligible``,
    ``eligibility.criteria[financial_systems].status``) as the value the Decision has there. Returns
    ``(expect, fired, not_fired)``; a name that is neither raises ``ValueError``."""
    rules = {rule.id for rule in (policy or Policy.default()).rules}
    dumped = decision.model_dump(mode="json")
    fired_now = {finding.rule for finding in decision.findings}
    expect: dict[str, Any] = {}
    fired: list[str] = []
    not_fired: list[str] = []
    for name in pin:
        if name in rules or name in fired_now:
            (fired if name in fired_now else not_fired).append(name)
            continue
        try:
            expect = _merge(expect, expectation_at(dumped, name))
        except KeyError as error:
            raise ValueError(f"pin {name!r}: not a rule of the policy, and {error.args[0]}") from None
    return expect, fired, not_fired


def save_example(
    case: Case | Mapping[str, Any],
    decision_or_expected: Decision | Mapping[str, Any],
    path: str | Path,
    *,
    name: str | None = None,
    description: str = "",
    pin: Iterable[str] | None = None,
    policy: Policy | None = None,
    variant: Case | Mapping[str, Any] | None = None,
    variant_expect: Mapping[str, Any] | None = None,
    same: Iterable[str] = (),
    holds: Iterable[str] = (),
    fired: Iterable[str] = (),
    not_fired: Iterable[str] = (),
) -> Path:
    """Write ``case`` and what to expect of it as a data test file (YAML, or JSON if ``path`` ends ``.json``).

    ``decision_or_expected`` is a Decision or the expected parts as a mapping — e.g.
    ``{"eligibility": {"eligible": True}}`` for a property's counterexample the policy got wrong. A Decision is
    pinned whole (:func:`expected_from`), or only what ``pin`` names (:func:`pinned`: rule ids, fired or not,
    and paths such as ``eligibility.criteria[financial_systems].status``). The policy's name and version are
    recorded (``policy``, else the Decision's): run under another policy, the test fails saying so. ``variant``
    (with ``variant_expect`` and ``same``, the paths equal in both decisions) keeps a pair of cases for a
    property that compares two. ``holds`` names shipped properties the case must satisfy when the test runs
    (checked again, pairs and all; ``expect`` may then be empty). ``fired`` and ``not_fired`` state rule ids
    that must, or must not, fire (what the policy should do, unlike ``pin``, which keeps what it does). The cases
    are validated first. Returns the path written."""
    model = case if isinstance(case, Case) else Case.model_validate(case)
    must_fire, must_not_fire = list(fired), list(not_fired)
    if isinstance(decision_or_expected, Decision):
        if pin is not None:
            expected, pinned_fired, pinned_not_fired = pinned(decision_or_expected, pin, policy)
            must_fire += [rule for rule in pinned_fired if rule not in must_fire and rule not in must_not_fire]
            must_not_fire += [rule for rule in pinned_not_fired if rule not in must_fire and rule not in must_not_fire]
        else:
            expected = expected_from(decision_or_expected)
    else:
        expected = as_json_value(decision_or_expected)
    recorded = (
        {"name": policy.name, "version": policy.version} if policy is not None
        else decision_or_expected.policy.model_dump(mode="json") if isinstance(decision_or_expected, Decision)
        else None
    )
    path = Path(path)
    document: dict[str, Any] = {
        "name": name or path.stem.replace("_", " "),
        **({"description": description} if description else {}),
        **({"policy": {"name": recorded["name"], "version": recorded["version"]}} if recorded else {}),
        "case": model.model_dump(mode="json", exclude_none=True),
        **({"holds": list(holds)} if holds else {}),
        **({"expect": expected} if expected or not (holds or must_fire or must_not_fire) else {}),
        **({"fired": must_fire} if must_fire else {}),
        **({"not_fired": must_not_fire} if must_not_fire else {}),
    }
    if variant is not None:
        other = variant if isinstance(variant, Case) else Case.model_validate(variant)
        document["variant"] = {
            "case": other.model_dump(mode="json", exclude_none=True),
            **({"expect": as_json_value(variant_expect)} if variant_expect else {}),
        }
        if same:
            document["same"] = list(same)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    else:
        path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110), "utf-8")
    return path
