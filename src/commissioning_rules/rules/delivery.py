"""3.4 Sourcing providers and 3.4.1 CHART: Types of delivery — self, partnership or external delivery.

    "The first decision needs to be whether the outcomes are best met through self-delivery, partnership
    delivery, or external delivery of services." (3.4)

A decision table over the ``delivery`` facts (council capacity: full, reduced or none; four yes/no facts:
3 x 2^4 = 48 inputs). **Hit policy: unique** — the rows are mutually exclusive and together cover every input,
so exactly one row fires for every case and its method is the decision (a test enumerates all 48 inputs on both
engines). Each row is a plain conjunction of its cells ("-" is any value; a cell listing values is one of them),
so a reader can check the table by eye, as in DMN:

===  ==============  ==============  ===============  =================  ===========  ===========
row  outcomes need   council         self-delivery    joint commission-  appropriate  method
     partners        capacity        most efficient   ing adds value     partnership
===  ==============  ==============  ===============  =================  ===========  ===========
1    yes             -               -                -                  yes          partnership
2    yes             -               -                -                  no           external
3    no              full            yes              -                  -            self
4    no              full            no               yes                yes          partnership
5    no              reduced, none   -                yes                yes          partnership
6    no              full            no               no                 -            external
7    no              full            no               yes                no           external
8    no              reduced, none   -                no                 -            external
9    no              reduced, none   -                yes                no           external
===  ==============  ==============  ===============  =================  ===========  ===========

Reading the chart: outcomes that "will only be achieved by working with a wide range of partners" cannot be
self-delivered, so rows 1-2 come first; where they need partners and no appropriate partnership exists, external
delivery is appropriate ("there is no appropriate partnership"). Otherwise the council delivers directly "where
it is most efficient to do so", which needs its capacity (row 3; "most efficient" ranks self above partnership).
Failing that, partnership where joint commissioning adds value and an appropriate partnership exists (rows 4-5),
else external: self-delivery is inefficient and partnership does not apply (rows 6-7), or the council has no or
reduced capacity and partnership does not apply (rows 8-9).
"""

from __future__ import annotations

from typing import Any, Sequence

from commissioning_rules.engine.rule import AssemblyContext, Firing, RuleSet
from commissioning_rules.models.case import Capacity
from commissioning_rules.models.decision import DeliveryDecision, Later, trusted
from commissioning_rules.rules.decision_table import ANY, UniqueHitTable

SECTION = "3.4.1"

SELF = (
    "The council's blueprint requires that the council delivers services directly where it is most efficient to "
    "do so."
)
PARTNERSHIP = (
    "Some outcomes will only be achieved by working with a wide range of partners. Norwich City Council will work "
    "with partners to identify where joint commissioning adds value and efficiency."
)
EXTERNAL_NO_CAPACITY = (
    "Sourcing external provision of services is appropriate where: "
    "• there is no or reduced capacity within the council to deliver these services"
)
EXTERNAL_NO_PARTNERSHIP = (
    "Sourcing external provision of services is appropriate where: "
    "• there is no appropriate partnership to deliver these services"
)
EXTERNAL_INEFFICIENT = (
    "Sourcing external provision of services is appropriate where: "
    "• it is inefficient to do so using either of these routes."
)

COLUMNS = (
    "delivery.outcomes_need_partners",
    "delivery.council_capacity",
    "delivery.self_delivery_most_efficient",
    "delivery.joint_commissioning_adds_value",
    "delivery.appropriate_partnership_exists",
)
NOT_FULL = (Capacity.reduced, Capacity.none)
FULL = Capacity.full

_FACTS = (
    "capacity {delivery.council_capacity}; self-delivery most efficient: {delivery.self_delivery_most_efficient}; "
    "outcomes need partners: {delivery.outcomes_need_partners}; joint commissioning adds value: "
    "{delivery.joint_commissioning_adds_value}; appropriate partnership exists: {delivery.appropriate_partnership_exists}"
)


TABLE = UniqueHitTable("delivery", SECTION, "method", COLUMNS, _FACTS)

RULES = (
    TABLE.row(
        "partnership_for_shared_outcomes", (True, ANY, ANY, ANY, True), "partnership", PARTNERSHIP,
        "the outcomes will only be achieved by working with partners, and an appropriate partnership exists",
    ),
    TABLE.row(
        "external_no_partnership", (True, ANY, ANY, ANY, False), "external", EXTERNAL_NO_PARTNERSHIP,
        "the outcomes need partners but there is no appropriate partnership to deliver them",
    ),
    TABLE.row(
        "self", (False, FULL, True, ANY, ANY), "self", SELF,
        "the council has the capacity and delivering directly is the most efficient",
    ),
    TABLE.row(
        "partnership_more_efficient", (False, FULL, False, True, True), "partnership", PARTNERSHIP,
        "self-delivery is not the most efficient, and joint commissioning with an appropriate partnership adds value",
    ),
    TABLE.row(
        "partnership_for_capacity", (False, NOT_FULL, ANY, True, True), "partnership", PARTNERSHIP,
        "the council has no or reduced capacity, and joint commissioning with an appropriate partnership adds value",
    ),
    TABLE.row(
        "external_inefficient", (False, FULL, False, False, ANY), "external", EXTERNAL_INEFFICIENT,
        "self-delivery is not the most efficient and joint commissioning adds no value",
    ),
    TABLE.row(
        "external_inefficient_no_partnership", (False, FULL, False, True, False), "external", EXTERNAL_INEFFICIENT,
        "self-delivery is not the most efficient, and joint commissioning would add value but there is no "
        "appropriate partnership",
    ),
    TABLE.row(
        "external_no_capacity", (False, NOT_FULL, ANY, False, ANY), "external", EXTERNAL_NO_CAPACITY,
        "the council has no or reduced capacity and joint commissioning adds no value",
    ),
    TABLE.row(
        "external_no_capacity_no_partnership", (False, NOT_FULL, ANY, True, False), "external", EXTERNAL_NO_CAPACITY,
        "the council has no or reduced capacity, and joint commissioning would add value but there is no "
        "appropriate partnership",
    ),
)


def assemble(firings: Sequence[Firing], context: AssemblyContext) -> dict[str, Any]:
    """Unique hit policy: the one row that fired decides the method."""
    firing = TABLE.hit(firings)
    return {"delivery": trusted(DeliveryDecision, method=firing.rule.then.outcome, reasons=Later(context.reasons, [firing]))}


RULESET = RuleSet(
    "delivery", SECTION, "Types of delivery (self, partnership, external)", ("delivery",), RULES, assemble,
    tables=(TABLE.declaration,),
    decides=("delivery",),
)
