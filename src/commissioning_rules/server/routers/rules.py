"""``/v1/rules``: the rule catalogue, as ``commissioning-rules rules --format json`` prints it."""

from __future__ import annotations

import difflib
from typing import Any

from fastapi import APIRouter

from commissioning_rules.catalogue import catalogue
from commissioning_rules.server.dependencies import SettingsDep
from commissioning_rules.server.problems import Problem, responses

router = APIRouter(prefix="/v1/rules", tags=["rules"])


@router.get("", summary="The rule catalogue")
def list_rules(settings: SettingsDep) -> dict[str, Any]:
    """Every rule by rule set: id, section, the framework sentence it quotes, its condition in words, its
    conclusion and the parameters it reads (with their dated values)."""
    return catalogue(settings.policy)


@router.get("/{rule_id}", summary="One rule", responses=responses(404))
def show_rule(rule_id: str, settings: SettingsDep) -> dict[str, Any]:
    """One rule, the rule set it belongs to and the parameters it reads; or one stage gate (``{"gate": ...}``),
    which a Decision's findings cite by id as they cite rules."""
    entries = catalogue(settings.policy)
    for ruleset in entries["rulesets"]:
        for rule in ruleset["rules"]:
            if rule["id"] == rule_id:
                return {
                    "ruleset": {k: ruleset[k] for k in ("name", "section", "title", "inputs")},
                    "rule": rule,
                    "parameters": {name: entries["parameters"][name] for name in rule["parameters"]
                                   if name in entries["parameters"]},
                }
    for gate in entries["gates"]:
        if gate["id"] == rule_id:
            return {"gate": gate}
    ids = [rule.id for rule in settings.policy.rules] + [gate["id"] for gate in entries["gates"]]
    close = difflib.get_close_matches(rule_id, ids, n=3)
    hint = f"; did you mean {' or '.join(close)}?" if close else "; GET /v1/rules lists them"
    raise Problem(404, f"the policy has no rule {rule_id!r}{hint}", kind="unknown-rule", title="No such rule")
