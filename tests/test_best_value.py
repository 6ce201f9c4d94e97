"""2.1 Best value: the best use of resources among options meeting the outcomes, never simply the cheapest."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sourcing_cases import decide, fired

AS_OF = "2026-04-01"


def option(name, cost, economic="0", social="0", environmental="0", meets=True) -> dict:
    return {
        "name": name,
        "whole_life_cost": str(cost),
        "economic_value": str(economic),
        "social_value": str(social),
        "environmental_value": str(environmental),
        "meets_required_outcomes": meets,
    }


def choose(*options: dict):
    return decide({"as_of": AS_OF, "options": list(options)}).best_value


def test_not_simply_the_cheapest():
    """The cheapest option meeting the outcomes loses to a dearer one returning more per pound."""
    chosen = choose(option("cheap", "50000", economic="60000"), option("better", "100000", social="250000", environmental="150000"))
    assert chosen.option == "better"
    assert "not the cheapest (cheap costs £50,000.00)" in chosen.reason


def test_each_option_is_appraised_for_economy_efficiency_and_effectiveness():
    chosen = choose(option("A", "100.00", "200.00", "150.00", "50.00"), option("B", "40.00", "10.00", meets=False))
    a, b = chosen.options
    assert (a.name, a.whole_life_cost, a.total_value, a.sroi, a.meets_required_outcomes, a.rank) == (
        "A", Decimal("100.00"), Decimal("400.00"), Decimal("4.0000"), True, 1
    )
    assert (b.total_value, b.sroi, b.meets_required_outcomes, b.rank) == (Decimal("10.00"), Decimal("0.2500"), False, None)


def test_an_option_missing_the_outcomes_is_never_chosen_however_good_its_return():
    chosen = choose(option("dazzling", "1", social="1000000", meets=False), option("modest", "1000", social="1100"))
    assert chosen.option == "modest"


def test_no_option_meeting_the_outcomes_is_an_explicit_result():
    chosen = choose(option("A", "10", "100", meets=False), option("B", "5", meets=False))
    assert chosen.option is None
    assert "no option meets the required outcomes" in chosen.reason
    assert [o.rank for o in chosen.options] == [None, None]


def test_no_options_is_an_explicit_result():
    chosen = choose()
    assert chosen.option is None and chosen.options == [] and "no options" in chosen.reason


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        # equal SROI (2.0): the higher total value
        ((option("small", "100", "200"), option("large", "200", "400")), "large"),
        # equal SROI (nil) and equal total value (nil): the lower whole-life cost
        ((option("dear", "100"), option("cheap", "50")), "cheap"),
        # identical in every respect: the one listed first
        ((option("first", "100", "300"), option("second", "100", "300")), "first"),
        ((option("second", "100", "300"), option("first", "100", "300")), "second"),
    ],
)
def test_ties_are_broken_deterministically(options, expected):
    chosen = choose(*options)
    assert chosen.option == expected
    assert "ties on SROI" in chosen.reason


def test_value_at_no_cost_ranks_first_and_its_ratio_is_undefined():
    chosen = choose(option("costed", "1", "1000000"), option("free", "0", "1"), option("nothing", "0"))
    assert chosen.option == "free"
    assert [(o.name, o.sroi, o.rank) for o in chosen.options] == [
        ("costed", Decimal("1000000.0000"), 2), ("free", None, 1), ("nothing", None, 3),
    ]
    assert "at no whole-life cost" in chosen.reason


def test_each_option_is_a_finding_of_its_own():
    decision = decide({"as_of": AS_OF, "options": [option("A", "10", "20"), option("B", "10", meets=False)]})
    assert fired(decision, "best_value.") == ["best_value.meets_outcomes", "best_value.misses_outcomes"]
    assert [f.subject for f in decision.findings] == ["options[0]", "options[1]"]
    assert "option B does not meet the required outcomes" in decision.findings[1].because


# --- properties -------------------------------------------------------------------------------------

money = st.integers(min_value=0, max_value=10**8).map(lambda p: Decimal(p).scaleb(-2))  # up to £1 million
options = st.lists(
    st.builds(
        option,
        name=st.sampled_from(["alpha", "beta", "gamma", "delta", "epsilon"]),
        cost=money, economic=money, social=money, environmental=money, meets=st.booleans(),
    ),
    max_size=6,
)


def total(o: dict) -> Decimal:
    return Decimal(o["economic_value"]) + Decimal(o["social_value"]) + Decimal(o["environmental_value"])


def chosen_index(chosen) -> int | None:
    return next((i for i, o in enumerate(chosen.options) if o.rank == 1), None)


@settings(max_examples=200, deadline=None)
@given(options)
def test_the_choice_meets_the_outcomes_and_no_option_meeting_them_returns_more(opts):
    chosen = choose(*opts)
    eligible = [o for o in opts if o["meets_required_outcomes"]]
    if not eligible:
        assert chosen.option is None
        return
    best = opts[chosen_index(chosen)]
    assert best["meets_required_outcomes"] and chosen.option == best["name"]
    cost = Decimal(best["whole_life_cost"])
    for other in eligible:
        other_cost = Decimal(other["whole_life_cost"])
        if cost and other_cost:  # no other returns more per pound: v / c <= v_best / c_best, cross-multiplied
            assert total(other) * cost <= total(best) * other_cost
        if not other_cost and total(other):  # value at no cost beats every costed option
            assert not cost and total(best)
    assert sorted(o.rank for o in chosen.options if o.rank) == list(range(1, len(eligible) + 1))


@settings(max_examples=200, deadline=None)
@given(opts=options, data=st.data())
def test_adding_a_cheaper_option_that_misses_the_outcomes_never_changes_the_choice(opts, data):
    before = choose(*opts)
    assume(before.option is not None)
    cheapest = min(Decimal(o["whole_life_cost"]) for o in opts if o["meets_required_outcomes"])
    cost = data.draw(st.integers(min_value=0, max_value=max(int(cheapest * 100) - 1, 0)).map(lambda p: Decimal(p).scaleb(-2)))
    newcomer = option("newcomer", cost, data.draw(money), data.draw(money), data.draw(money), meets=False)
    at = data.draw(st.integers(min_value=0, max_value=len(opts)))
    after = choose(*opts[:at], newcomer, *opts[at:])
    assert after.option == before.option
    index = chosen_index(before)
    assert chosen_index(after) == (index if index < at else index + 1)  # the very same option, not a namesake
