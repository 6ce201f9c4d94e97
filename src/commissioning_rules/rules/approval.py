"""3.5 Using assessment criteria (last paragraph) — who decides an award, and who is told.

    "Grant applications will be collectively assessed by those with appropriate knowledge and expertise.
    Following assessment, cabinet will be formally notified of the funding decisions. In relation to
    procurement, the value of the contract will dictate the level for decision making, officer or elected
    member, according to procurement rules." (3.5)

Grants and grants in kind (which the grant panel considers: "Panel assessment against outcomes and including
consideration of grant in kind", 3.4.2) go to a panel, and cabinet is notified. For procurement, the contract
value decides, against effective-dated GBP parameters (``parameters/procurement.yaml``):

* the decision level: an elected member above ``member_decision_threshold`` (a documented placeholder the
  council sets: the Decision lists it in ``approval.placeholders`` and flags it in ``parameters``), else an
  officer;
* the procedure, by Norwich's value bands: direct purchase below ``procurement_quotes_threshold``, at least three
  quotes from it up to ``procurement_tender_threshold``, a formal tender above it;
* the procurement law in force at ``as_of`` (``procurement_regime``: PCR 2006, PCR 2015, Procurement Act 2023),
  and whether the value reaches that date's ``sub_central_services_threshold``. The threshold excludes VAT before
  1 January 2022 and includes it from then (``sub_central_threshold_includes_vat``); ``award.value`` includes VAT
  unless ``award.value_includes_vat`` is false. On the same basis the comparison is exact; across bases only the
  certain answers are given (a VAT-exclusive value reaching a VAT-inclusive threshold; a VAT-inclusive value below a
  VAT-exclusive one), otherwise ``reaches_threshold`` is ``None`` and the reason asks for the value on the
  threshold's basis.

Each band is a pair of complementary comparisons against the same parameter, so for any value exactly one level
and one procedure apply, and neither falls as the value rises (tests prove both on both engines).
"""

from __future__ import annotations

from typing import Any, Sequence

from commissioning_rules.engine.rule import (
    AssemblyContext,
    Conclusion,
    Condition,
    Firing,
    Param,
    Rule,
    RuleSet,
    all_of,
    any_of,
    eq,
    is_false,
    is_true,
    not_,
    gt,
    gte,
    lt,
    lte,
    one_of,
)
from commissioning_rules.models.case import Route
from commissioning_rules.models.decision import Approval, Later, trusted
from commissioning_rules.rules.organisation_criteria import NO_FURTHER_CONSIDERATION

SECTION = "3.5"

GRANT_PANEL = (
    "Grant applications will be collectively assessed by those with appropriate knowledge and expertise. Following "
    "assessment, cabinet will be formally notified of the funding decisions."
)
BY_VALUE = (
    "In relation to procurement, the value of the contract will dictate the level for decision making, officer or "
    "elected member, according to procurement rules."
)
REGIME = "Conducted in line with European and UK Law: Public Contracts Regulations (2006)."

#: Decision levels and procedures from least to most demanding (a rising value never moves down these).
LEVELS = ("officer", "elected_member")
PROCEDURES = ("direct_purchase", "three_quotes", "formal_tender")

PROCUREMENT = eq("award.route", Route.procurement)
VALUE = "award.value"


THRESHOLD = Param("sub_central_services_threshold")
INCLUDES_VAT = "award.value_includes_vat"
#: The value is stated on the threshold's basis (both including VAT, or both excluding it). A value excluding VAT
#: that reaches a VAT-inclusive threshold reaches it (VAT only adds); a value including VAT below a VAT-exclusive
#: threshold is below it; the other two comparisons across bases are undetermined.
SAME_BASIS = eq(INCLUDES_VAT, Param("sub_central_threshold_includes_vat"))


def _rule(name: str, topic: str, outcome: str, source: str, when: Condition, because: str, section: str = SECTION) -> Rule:
    return Rule(f"approval.{name}", section, source, when, Conclusion(topic, outcome), because)


RULES = (
    _rule(
        "grant_panel", "decided_by", "panel", GRANT_PANEL,
        one_of("award.route", (Route.grant, Route.grant_in_kind)),
        "a {award.route} is assessed collectively by a panel with appropriate knowledge and expertise, and cabinet "
        "is formally notified of the decision",
    ),
    _rule(
        "officer", "decided_by", "officer", BY_VALUE,
        all_of(PROCUREMENT, lte(VALUE, Param("member_decision_threshold"))),
        "the contract value {award.value} is not above {param.member_decision_threshold}, so an officer decides",
    ),
    _rule(
        "elected_member", "decided_by", "elected_member", BY_VALUE,
        all_of(PROCUREMENT, gt(VALUE, Param("member_decision_threshold"))),
        "the contract value {award.value} is above {param.member_decision_threshold}, so an elected member decides",
    ),
    _rule(
        "direct_purchase", "procedure", "direct_purchase", BY_VALUE,
        all_of(PROCUREMENT, lt(VALUE, Param("procurement_quotes_threshold"))),
        "the contract value {award.value} is below {param.procurement_quotes_threshold}: a direct purchase, "
        "justified and documented",
    ),
    _rule(
        "three_quotes", "procedure", "three_quotes", BY_VALUE,
        all_of(
            PROCUREMENT,
            gte(VALUE, Param("procurement_quotes_threshold")),
            lte(VALUE, Param("procurement_tender_threshold")),
        ),
        "the contract value {award.value} is from {param.procurement_quotes_threshold} to "
        "{param.procurement_tender_threshold}: at least three competitive quotes",
    ),
    _rule(
        "formal_tender", "procedure", "formal_tender", BY_VALUE,
        all_of(PROCUREMENT, gt(VALUE, Param("procurement_tender_threshold"))),
        "the contract value {award.value} is above {param.procurement_tender_threshold}: a formal tender or "
        "framework, advertised and evaluated",
    ),
    _rule(
        "regime", "regime", "in_force", REGIME, PROCUREMENT,
        "the procurement is conducted under the law in force: {param.procurement_regime}",
        section="3.4.2",
    ),
    _rule(
        "threshold_reached", "threshold", "reached", REGIME,
        all_of(PROCUREMENT, gte(VALUE, THRESHOLD), any_of(SAME_BASIS, is_false(INCLUDES_VAT))),
        "the contract value {award.value} (including VAT: {award.value_includes_vat}) reaches the sub-central "
        "services threshold of {param.sub_central_services_threshold} (including VAT: "
        "{param.sub_central_threshold_includes_vat}) under the {param.procurement_regime}",
        section="3.4.2",
    ),
    _rule(
        "threshold_not_reached", "threshold", "not_reached", REGIME,
        all_of(PROCUREMENT, lt(VALUE, THRESHOLD), any_of(SAME_BASIS, is_true(INCLUDES_VAT))),
        "the contract value {award.value} (including VAT: {award.value_includes_vat}) is below the sub-central "
        "services threshold of {param.sub_central_services_threshold} (including VAT: "
        "{param.sub_central_threshold_includes_vat}) under the {param.procurement_regime}",
        section="3.4.2",
    ),
    _rule(
        "threshold_basis_differs", "threshold", "undetermined", REGIME,
        all_of(PROCUREMENT, not_(SAME_BASIS), any_of(
            all_of(is_true(INCLUDES_VAT), gte(VALUE, THRESHOLD)), all_of(is_false(INCLUDES_VAT), lt(VALUE, THRESHOLD)),
        )),
        "the contract value {award.value} is stated with VAT included: {award.value_includes_vat}, but the "
        "sub-central services threshold of {param.sub_central_services_threshold} in force is stated with VAT "
        "included: {param.sub_central_threshold_includes_vat}; compared across the two bases the answer is not "
        "certain, so state the value on the threshold's basis",
        section="3.4.2",
    ),
)


def assemble(firings: Sequence[Firing], context: AssemblyContext) -> dict[str, Any]:
    """Who decides (one ``decided_by`` firing), the procedure, the regime and the threshold, with their reasons."""
    outcome = {f.rule.then.topic: f.rule.then.outcome for f in firings}
    decided_by = outcome["decided_by"]  # the route enum is total: exactly one decided_by rule fires
    regime = context.parameters["procurement_regime"] if "regime" in outcome else None
    threshold = context.parameters["sub_central_services_threshold"] if "threshold" in outcome else None
    placeholders = sorted(
        {name for f in firings for name in f.rule.cites if context.parameters.parameters[name].placeholder}
    )
    return {
        "approval": trusted(
            Approval,
            decided_by=decided_by,
            notified=["cabinet"] if decided_by == "panel" else [],
            procedure=outcome.get("procedure"),
            regime=regime,
            threshold=threshold,
            reaches_threshold={"reached": True, "not_reached": False}.get(outcome.get("threshold", "")),
            placeholders=placeholders,
            reasons=Later(context.reasons, firings),
        )
    }


RULESET = RuleSet(
    "approval", SECTION, "Who decides (panel, officer or elected member)", ("award",), RULES, assemble,
    requires=(NO_FURTHER_CONSIDERATION,), decides=("approval",),
)
