"""3.4.1 Types of delivery: the decision table is complete and unique, on every engine, for all 48 inputs."""

from __future__ import annotations

import itertools

import pytest

from commissioning_rules.models.case import Capacity
from commissioning_rules.rules import decision_table, delivery
from sourcing_cases import decide, fired, rows_holding

AS_OF = "2026-04-01"
FLAGS = ("self_delivery_most_efficient", "outcomes_need_partners", "joint_commissioning_adds_value", "appropriate_partnership_exists")
#: The whole finite input domain: 3 capacities x 2^4 yes/no facts.
DOMAIN = [
    {"council_capacity": capacity.value, **dict(zip(FLAGS, flags))}
    for capacity in Capacity
    for flags in itertools.product((False, True), repeat=len(FLAGS))
]


def chart(d: dict) -> str:
    """The chart read as a first-hit list, written independently of the table (the oracle)."""
    if d["outcomes_need_partners"]:
        return "partnership" if d["appropriate_partnership_exists"] else "external"
    if d["council_capacity"] == "full" and d["self_delivery_most_efficient"]:
        return "self"
    if d["joint_commissioning_adds_value"] and d["appropriate_partnership_exists"]:
        return "partnership"
    return "external"


def test_the_domain_is_every_input():
    assert len(DOMAIN) == 48 == len({tuple(sorted(d.items())) for d in DOMAIN})


def test_exactly_one_row_holds_for_every_input():
    """Unique hit policy, proved on the rule data itself: each input satisfies exactly one row's condition."""
    for d in DOMAIN:
        matching = rows_holding(delivery.RULESET, {"delivery": d})
        assert len(matching) == 1, (d, matching)


@pytest.mark.parametrize("d", DOMAIN, ids=lambda d: "-".join(str(v) for v in d.values()))
def test_every_input_gets_exactly_one_method_on_every_engine(d):
    decision = decide({"as_of": AS_OF, "delivery": d})
    assert len(fired(decision, "delivery.")) == 1
    assert decision.delivery.method == chart(d)
    assert len(decision.delivery.reasons) == 1


def test_every_row_is_reachable():
    rows = {fired(decide({"as_of": AS_OF, "delivery": d}), "delivery.")[0] for d in DOMAIN}
    assert rows == {rule.id for rule in delivery.RULES}


def _case(capacity="full", self_efficient=False, need=False, joint=False, exists=False) -> dict:
    return {
        "as_of": AS_OF,
        "delivery": {
            "council_capacity": capacity,
            "self_delivery_most_efficient": self_efficient,
            "outcomes_need_partners": need,
            "joint_commissioning_adds_value": joint,
            "appropriate_partnership_exists": exists,
        },
    }


@pytest.mark.parametrize(
    ("case", "row", "method"),
    [
        (_case(need=True, exists=True, self_efficient=True), "delivery.partnership_for_shared_outcomes", "partnership"),
        (_case(need=True, exists=False, self_efficient=True), "delivery.external_no_partnership", "external"),
        (_case(self_efficient=True, joint=True, exists=True), "delivery.self", "self"),
        (_case(joint=True, exists=True), "delivery.partnership_more_efficient", "partnership"),
        (_case(capacity="none", self_efficient=True, joint=True, exists=True), "delivery.partnership_for_capacity", "partnership"),
        (_case(exists=True), "delivery.external_inefficient", "external"),
        (_case(joint=True), "delivery.external_inefficient_no_partnership", "external"),
        (_case(capacity="reduced", self_efficient=True), "delivery.external_no_capacity", "external"),
        (_case(capacity="none", joint=True), "delivery.external_no_capacity_no_partnership", "external"),
    ],
)
def test_each_row_by_example(case, row, method):
    decision = decide(case)
    assert fired(decision, "delivery.") == [row]
    assert decision.delivery.method == method
    finding = next(f for f in decision.findings if f.rule == row)
    assert finding.section == "3.4.1"
    assert case["delivery"]["council_capacity"] in finding.because


def test_reduced_capacity_never_self_delivers():
    """3.4.1: external delivery is appropriate where "there is no or reduced capacity within the council"."""
    assert all(decide({"as_of": AS_OF, "delivery": d}).delivery.method != "self" for d in DOMAIN if d["council_capacity"] != "full")


def test_without_delivery_facts_no_method_is_decided():
    decision = decide({"as_of": AS_OF})
    assert decision.delivery is None and not fired(decision, "delivery.")


def test_every_rule_cites_the_chart():
    assert all(rule.section == "3.4.1" for rule in delivery.RULES)


def test_a_row_gives_every_column_a_cell():
    with pytest.raises(ValueError):
        decision_table.row_condition(delivery.COLUMNS, (True,))  # a row must give every column a cell


def test_a_broken_table_is_reported_not_decided():
    with pytest.raises(RuntimeError, match="exactly one row"):
        delivery.TABLE.hit([])
