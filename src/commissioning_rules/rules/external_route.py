"""3.4.2 CHART: Types of external provision — procurement, grant or grant in kind, and each route's process.

    "If the decision is to commission external delivery of services, then the next step is to decide on the
    appropriate route: procurement, grant or grant in kind." (3.4.1)

A decision table over the ``provision`` facts (three yes/no facts, the in-kind resource: 4 values, the funding
purpose: 3 values; 2^3 x 4 x 3 = 96 inputs). **Hit policy: unique** — the rows are mutually exclusive and
together cover every input, so exactly one row fires for every case (a test enumerates all 96 inputs on both
engines). ``none`` is a route like the others, with its reason. Rows are conjunctions of cells, as in
:mod:`~commissioning_rules.rules.decision_table` ("-" is any value; a cell listing values is one of them):

===  ==========  =========  ===========  ==========================  ========================  =============
row  direct      funds      aligned to   in-kind resource            funding purpose           route
     benefit of  available  council's
     council                outcomes
===  ==========  =========  ===========  ==========================  ========================  =============
1    yes         yes        -            -                           -                         procurement
2    yes         no         -            -                           -                         none
3    no          -          no           -                           -                         none
4    no          yes        yes          -                           specific project, core    grant
                                                                     costs
5    no          yes        yes          -                           overall activities        none
6    no          no         yes          accommodation, equipment,   core costs, overall       grant_in_kind
                                         other                       activities
7    no          no         yes          accommodation, equipment,   specific project          none
                                         other
8    no          no         yes          none                        -                         none
===  ==========  =========  ===========  ==========================  ========================  =============

Reading the chart: procurement is "Buying in services" for acquisitions "for the direct benefit of the council";
a grant's "Funding may be for specific projects or in support of the core costs of the overall organisation",
and lets the provider "design how those outcomes might best be met"; a grant in kind is for when "Actual funds
unavailable" and gives "Support for overall activities, not any specific project" (core costs are the overall
organisation's, so they qualify). Both grants need activities "closely aligned to the council's agreed outcomes".
Row 5 is the chart's gap: support for overall activities is the grant in kind's, yet funds are available — the
officer is told to state the grant's purpose as a project or core costs.

**Stage dependency** (:data:`FOLLOWS_EXTERNAL_DELIVERY`): the route is decided only where delivery is external
or was not decided in the case. "If the decision is to commission external delivery of services, then the next
step is to decide on the appropriate route" (3.4.1): self-delivery is the council's own, so no route. Partnership
delivery is read the same way: the glossary defines it as "Working with a range of partners to jointly commission
services for shared outcomes", and the chart's examples have the council contribute funding to "any partnership
that collectively seeks to commission services" under its "corporate governance framework for partnerships"; the
partnership, not the council's route chart, decides how those services are sourced, and the text gives the route
step only after a decision for external delivery. Either way ``route`` is ``null`` and a finding says why.

**Route mismatch**: where an award is described and the row that fired gives another route (or none), a rule
``route_mismatch.<row>`` fires and the Decision carries the advisory ``route_mismatch``: the award was made by a
route the chart does not give for these facts (a documented departure, 1.3, or facts to correct).
"""

from __future__ import annotations

from typing import Any, Sequence

from dataclasses import dataclass

from commissioning_rules.engine.rule import AssemblyContext, Conclusion, Firing, Rule, RuleSet, StageGate, all_of, eq, is_true, not_
from commissioning_rules.models.case import FundingPurpose, InKindResource, Route
from commissioning_rules.models.decision import Advisory, Later, ProcessStep, RouteDecision, trusted
from commissioning_rules.rules.decision_table import ANY, UniqueHitTable
from commissioning_rules.rules.to_meet import needed_of

SECTION = "3.4.2"


@dataclass(frozen=True)
class RouteTerms:
    """What chart 3.4.2 says of a route besides when it is appropriate: its agreement, process and sanctions."""

    agreement: str
    legally_binding: bool | None  # None: the chart does not say
    non_compliance: str | None  # the chart's words; None: the chart does not say
    process: tuple[ProcessStep, ...]


def _steps(route: Route, *steps: tuple[str, str]) -> tuple[ProcessStep, ...]:
    return tuple(ProcessStep(id=f"{route.value}.{name}", text=text) for name, text in steps)


#: Each route's agreement document, sanctions and "Process" column, in the chart's order and words.
ROUTE_TERMS: dict[Route, RouteTerms] = {
    Route.procurement: RouteTerms(
        agreement="contract",
        legally_binding=True,
        non_compliance=(
            "Non-compliance with terms and conditions of a legally binding contract may result in sanctions, "
            "including retrospective recovery of costs."
        ),
        process=_steps(
            Route.procurement,
            ("specification", "Draw up specification and tender document."),
            ("advertise", "Advertise opportunity and invite competition."),
            ("panel_assessment", "Panel assessment against specifications."),
            ("purchase_order", "Set up a purchase order with the individual or organisation offering the best proposal."),
            ("contract", "Set out the terms and conditions within a legally binding contract."),
            ("manage_delivery", "Manage delivery. through a contract"),
            ("performance_review", "Formal performance review."),
        ),
    ),
    Route.grant: RouteTerms(
        agreement="grant award letter",
        legally_binding=False,
        non_compliance="Non-compliance or failure to deliver on agreed milestones can result in no future payments.",
        process=_steps(
            Route.grant,
            ("advertise", "Application process advertised on website."),
            ("panel_assessment", "Panel assessment against outcomes and including consideration of grant in kind."),
            ("conditions", "Agree and set out conditions of receipt and reporting requirements."),
            (
                "award_letter",
                "A formal grant award letter will set out the grant agreement, general terms and conditions, and "
                "monitoring and evaluation requirements.",
            ),
            ("performance_management", "Performance managing awards through monitoring and evaluation of effectiveness"),
        ),
    ),
    Route.grant_in_kind: RouteTerms(
        agreement="award letter",
        legally_binding=None,
        non_compliance=None,
        process=_steps(Route.grant_in_kind, ("award_letter", "Arrangements will be detailed within an award letter.")),
    ),
}

PROCUREMENT = (
    "Acquisitions are for the direct benefit of the council, necessary for the delivery of the services it provides "
    "or the running of its own business."
)
BUYING_IN = "Buying in services through a contractual relationship."
ALIGNED = "The organisation's activities will be closely aligned to the council's agreed outcomes"
GRANT = (
    "Funding is allocated based on the outcome. Funding may be for specific projects or in support of the core costs "
    "of the overall organisation."
)
GRANT_IN_KIND = (
    "Actual funds unavailable. Support for overall activities, not any specific project. The organisation's "
    "activities will be closely aligned to the council's agreed outcomes"
)
IN_KIND_OFFER = (
    "Offer of resources as an alternative to a financial grant such as provision of accommodation, or other "
    "equipment as appropriate."
)

COLUMNS = (
    "provision.for_council_direct_benefit",
    "provision.funds_available",
    "provision.aligned_to_council_outcomes",
    "provision.in_kind_resource",
    "provision.funding_purpose",
)
A_RESOURCE = (InKindResource.accommodation, InKindResource.equipment, InKindResource.other)
PROJECT, CORE, OVERALL = FundingPurpose.specific_project, FundingPurpose.core_costs, FundingPurpose.overall_activities

_FACTS = (
    "direct benefit of the council: {provision.for_council_direct_benefit}; funds available: "
    "{provision.funds_available}; in-kind resource: {provision.in_kind_resource}; funding purpose: "
    "{provision.funding_purpose}; aligned to the council's outcomes: {provision.aligned_to_council_outcomes}"
)


TABLE = UniqueHitTable("route", SECTION, "route", COLUMNS, _FACTS)

RULES = (
    TABLE.row(
        "procurement", (True, True, ANY, ANY, ANY), Route.procurement.value, PROCUREMENT,
        "the acquisition is for the direct benefit of the council and funds are available: procurement",
    ),
    TABLE.row(
        "none_no_funds_to_buy", (True, False, ANY, ANY, ANY), "none", BUYING_IN,
        "the acquisition is for the direct benefit of the council, but procurement buys in services and no funds are "
        "available: no route",
    ),
    TABLE.row(
        "none_not_aligned", (False, ANY, False, ANY, ANY), "none", ALIGNED,
        "not an acquisition for the council, and the activities are not aligned to the council's agreed outcomes, "
        "as a grant or grant in kind requires: no route",
    ),
    TABLE.row(
        "grant", (False, True, True, ANY, (PROJECT, CORE)), Route.grant.value, GRANT,
        "funds are available for the {provision.funding_purpose} of an organisation whose activities are aligned to "
        "the council's outcomes, leaving it to design how they are best met: grant",
    ),
    TABLE.row(
        "none_funds_for_overall_activities", (False, True, True, ANY, OVERALL), "none", GRANT,
        "funds are available, but a grant funds specific projects or core costs, and support for overall activities "
        "is what a grant in kind offers when funds are unavailable: no route until the purpose is stated as a "
        "project or core costs",
    ),
    TABLE.row(
        "grant_in_kind", (False, False, True, A_RESOURCE, (CORE, OVERALL)), Route.grant_in_kind.value, GRANT_IN_KIND,
        "funds are unavailable and the council can offer {provision.in_kind_resource} to support the overall "
        "activities of an organisation aligned to its outcomes: grant in kind",
    ),
    TABLE.row(
        "none_in_kind_for_project", (False, False, True, A_RESOURCE, PROJECT), "none", GRANT_IN_KIND,
        "funds are unavailable, and a grant in kind supports overall activities, not a specific project: no route",
    ),
    TABLE.row(
        "none_nothing_to_offer", (False, False, True, InKindResource.none, ANY), "none", IN_KIND_OFFER,
        "funds are unavailable and the council has no accommodation, equipment or other resource to offer: no route",
    ),
)


def _mismatch(row: Rule) -> Rule:
    """Where an award is described and ``row`` fires, the award's route is not the one ``row`` gives."""
    given = row.then.outcome
    differs = [not_(eq("award.route", Route(given)))] if given != "none" else []
    gives = f"the {given.replace('_', ' ')} route" if given != "none" else "no route"
    return Rule(
        f"route_mismatch.{row.id.split('.', 1)[1]}", SECTION, row.source,
        all_of(row.when, is_true("has_award"), *differs), Conclusion("advisory", "route_mismatch"),
        f"the provision facts give {gives} ({_FACTS}), but the award is a {{award.route}}: check the route before "
        "the award is made, or document the departure from the framework (1.3)",
    )


MISMATCH_RULES = tuple(_mismatch(row) for row in RULES)

ROUTE_STEP = (
    "If the decision is to commission external delivery of services, then the next step is to decide on the "
    "appropriate route: procurement, grant or grant in kind."
)

#: 3.4.1: the route follows a decision to commission external delivery (see the module docstring for partnership).
FOLLOWS_EXTERNAL_DELIVERY = StageGate(
    id="route.follows_external_delivery",
    section="3.4.1",
    source=ROUTE_STEP,
    after="delivery",
    attribute="method",
    allows=("external",),
    because="delivery is {value}, and the route (procurement, grant or grant in kind) is decided only after a "
    "decision to commission external delivery: self-delivery is the council's own, and partnership delivery is "
    "commissioned jointly with the partners under the partnership's arrangements; {withheld} not given",
)


#: The route rows compare the case with constants only.
_NO_PARAMETERS: dict[str, Any] = {}


def _to_meet(firing: Firing) -> list[str]:
    """For ``none``: each route's row, and what it needs that the case does not give."""
    return [
        f"{row.then.outcome.replace('_', ' ')}: " + "; ".join(needed_of(row.when, firing.fact, _NO_PARAMETERS, str))
        for row in RULES
        if row.then.outcome != "none"
    ]


def assemble(firings: Sequence[Firing], context: AssemblyContext) -> dict[str, Any]:
    """Unique hit policy: the one row that fired decides the route, with what the chart says of it (``none``: no
    process, agreement or sanctions, and what would give a route); a mismatch with the award is an advisory."""
    firing = TABLE.hit([f for f in firings if f.rule.then.topic == "route"])
    route, reasons = firing.rule.then.outcome, Later(context.reasons, [firing])
    if route == "none":
        decision = trusted(RouteDecision, route=route, reasons=reasons, to_meet=Later(_to_meet, firing))
    else:
        terms = ROUTE_TERMS[Route(route)]
        decision = trusted(
            RouteDecision,
            route=route,
            process=list(terms.process),
            agreement=terms.agreement,
            legally_binding=terms.legally_binding,
            non_compliance=terms.non_compliance,
            reasons=reasons,
        )
    advisories = [
        trusted(Advisory, id="route_mismatch", section=SECTION, message=Later(context.because, f))
        for f in firings
        if f.rule.then.outcome == "route_mismatch"
    ]
    return {"route": decision, "advisories": advisories}


RULESET = RuleSet(
    "external_route", SECTION, "Types of external provision (procurement, grant, grant in kind)", ("provision",),
    RULES + MISMATCH_RULES, assemble, tables=(TABLE.declaration,),
    requires=(FOLLOWS_EXTERNAL_DELIVERY,), decides=("route",),
)
