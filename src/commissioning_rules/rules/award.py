"""3.6 Awarding contracts, grants or grants in kind — the agreement document and what it must set out.

    "The council will issue contracts or grant award letters setting out the role and obligations of both the
    organisation and the council in delivering agreed outcomes, including full terms and conditions. The
    contract or grant award letter will set out the basis of payment which must be agreed with the provider.
    The payment process will incorporate an agreed approach to risk management and 'full cost recovery'." (3.6)

The document follows the award's route (chart 3.4.2: a contract, a grant award letter, or for a grant in kind
"an award letter"; :data:`~commissioning_rules.rules.external_route.ROUTE_TERMS`). Each thing it must set out is
a term that applies to some routes; the payment terms apply only where money is paid, so a grant in kind, "an
alternative to a financial grant", sets out no basis of payment (each such term says why it does not apply).
"""

from __future__ import annotations

from typing import Any, Sequence

from dataclasses import dataclass

from commissioning_rules.engine.rule import AssemblyContext, Conclusion, Firing, Rule, RuleSet, eq, not_, one_of
from commissioning_rules.models.case import Route
from commissioning_rules.models.decision import AwardTerm, AwardTerms, Later, trusted
from commissioning_rules.rules.external_route import IN_KIND_OFFER, ROUTE_TERMS
from commissioning_rules.rules.organisation_criteria import NO_FURTHER_CONSIDERATION

SECTION = "3.6"

ISSUE = (
    "The council will issue contracts or grant award letters setting out the role and obligations of both the "
    "organisation and the council in delivering agreed outcomes, including full terms and conditions."
)
PAYMENT = "The contract or grant award letter will set out the basis of payment which must be agreed with the provider."
PAYMENT_PROCESS = "The payment process will incorporate an agreed approach to risk management and 'full cost recovery'."
OUTCOMES = (
    "Individual contracts and grant award letters will outline expected levels of service or outcomes to be delivered "
    "by the organisation commissioned and the responsibilities of each party."
)
IN_KIND_LETTER = "Arrangements will be detailed within an award letter."

EVERY_ROUTE = tuple(Route)
PAID_ROUTES = (Route.procurement, Route.grant)


@dataclass(frozen=True)
class Term:
    """One thing the agreement must set out, for the routes it applies to."""

    id: str
    text: str
    source: str
    routes: tuple[Route, ...] = EVERY_ROUTE
    section: str = SECTION

    def rules(self) -> list[Rule]:
        applies = one_of("award.route", self.routes)
        made = [
            Rule(
                f"award.{self.id}", self.section, self.source, applies, Conclusion(self.id, "required"),
                f"the {{award.route}} agreement must set out {self.text}",
            )
        ]
        if self.routes != EVERY_ROUTE:
            made.append(
                Rule(
                    f"award.{self.id}.not_applicable", self.section, IN_KIND_OFFER, not_(applies),
                    Conclusion(self.id, "not_applicable"),
                    f"a {{award.route}} offers resources, not funds, so its award letter need not set out {self.text}",
                )
            )
        return made


TERMS = (
    Term(
        "role_and_obligations",
        "the role and obligations of both the organisation and the council in delivering agreed outcomes",
        ISSUE,
    ),
    Term("terms_and_conditions", "full terms and conditions", ISSUE),
    Term(
        "expected_outcomes",
        "the expected levels of service or outcomes to be delivered and the responsibilities of each party",
        OUTCOMES, section="3.4.2",
    ),
    Term("basis_of_payment", "the basis of payment, agreed with the provider", PAYMENT, PAID_ROUTES),
    Term("risk_management", "an agreed approach to risk management in the payment process", PAYMENT_PROCESS, PAID_ROUTES),
    Term(
        "full_cost_recovery",
        "'full cost recovery' in the payment process (a fair proportion of resources to cover the provider's "
        "overhead costs)",
        PAYMENT_PROCESS, PAID_ROUTES,
    ),
)

_TERM_TEXT = {term.id: term.text for term in TERMS}

#: The source each route's agreement document is named in.
_AGREEMENT_SOURCE = {Route.procurement: ISSUE, Route.grant: ISSUE, Route.grant_in_kind: IN_KIND_LETTER}

AGREEMENT_RULES = tuple(
    Rule(
        f"award.agreement.{route.value}", SECTION if route != Route.grant_in_kind else "3.4.2", source,
        eq("award.route", route), Conclusion("agreement", ROUTE_TERMS[route].agreement),
        f"the {{award.route}} is set out in the {ROUTE_TERMS[route].agreement}",
    )
    for route, source in _AGREEMENT_SOURCE.items()
)


def assemble(firings: Sequence[Firing], context: AssemblyContext) -> dict[str, Any]:
    """The agreement (one firing: the route enum is total) and every term, required or not, in the order above."""
    (agreement,) = (f.rule.then.outcome for f in firings if f.rule.then.topic == "agreement")
    terms = [
        trusted(
            AwardTerm,
            id=f.rule.then.topic,
            text=_TERM_TEXT[f.rule.then.topic],
            required=f.rule.then.outcome == "required",
            reason=Later(context.because, f),
        )
        for f in firings
        if f.rule.then.topic in _TERM_TEXT
    ]
    return {"award_terms": trusted(AwardTerms, agreement=agreement, terms=terms)}


RULESET = RuleSet(
    "award", SECTION, "Awarding contracts, grants or grants in kind", ("award",),
    AGREEMENT_RULES + tuple(rule for term in TERMS for rule in term.rules()),
    assemble,
    requires=(NO_FURTHER_CONSIDERATION,),
    decides=("award_terms",),
)
