"""Bad input is a ValidationError naming the field and what was expected; it never reaches a rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import commissioning_rules as cr


def error_locations(case) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        cr.evaluate(case, engine="reference")
    return [".".join(str(p) for p in e["loc"]) for e in caught.value.errors()]


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ({"organisation": {"annual_turnover": "-0.01"}}, "organisation.annual_turnover"),
        ({"organisation": {"annual_turnover": -5}}, "organisation.annual_turnover"),
        ({"options": [{"name": "a", "whole_life_cost": -1, "economic_value": 0, "social_value": 0,
                       "environmental_value": 0, "meets_required_outcomes": True}]}, "options.0.whole_life_cost"),
        ({"organisation": {"turnover": 100}}, "organisation.turnover"),
        ({"colour": "blue"}, "colour"),
        ({"service": {"works_with_children": True, "works_with_pets": True}}, "service.works_with_pets"),
        ({"organisation": {"kind": "guild"}}, "organisation.kind"),
        ({"organisation": {"accounts": "audited_by_a_friend"}}, "organisation.accounts"),
        ({"organisation": {"insurance": ["public_liability", "pet"]}}, "organisation.insurance.1"),
        ({"award": {"route": "loan", "value": 10}}, "award.route"),
        ({"organisation": {"annual_turnover": "five thousand"}}, "organisation.annual_turnover"),
        ({"organisation": {"annual_turnover": True}}, "organisation.annual_turnover"),
        ({"organisation": {"annual_turnover": "5000.001"}}, "organisation.annual_turnover"),
        ({"as_of": "2026-02-30"}, "as_of"),
        ({"as_of": "2026-13-01"}, "as_of"),
        ({"as_of": 1767225600}, "as_of"),
        ({"as_of": "2026-04-01T10:00:00"}, "as_of"),
        ({"review": {"outcomes_met": "met", "need_continues": True, "still_a_priority": True,
                     "better_route_available": False, "notice_served_on": "2025-02-29"}}, "review.notice_served_on"),
        ({"organisation": {"annual_turnover": float("nan")}}, "organisation.annual_turnover"),
        ({"organisation": {"annual_turnover": float("inf")}}, "organisation.annual_turnover"),
        ({"organisation": {"annual_turnover": "-Infinity"}}, "organisation.annual_turnover"),
        ({"award": {"route": "grant", "value": "NaN"}}, "award.value"),
        ({"organisation": {"employs_staff": "yes"}}, "organisation.employs_staff"),
        ({"organisation": {"employs_staff": 1}}, "organisation.employs_staff"),
        ({"award": {"route": "grant", "value": 10, "starts_on": "2026-05-01", "ends_on": "2026-04-01"}}, "award"),
        ({"service": {"additional_criteria": [{"id": "a", "description": "x", "met": True},
                                              {"id": "a", "description": "y", "met": False}]}}, "service"),
    ],
)
def test_bad_input_names_the_field(case, field):
    assert field in error_locations(case)


def test_error_message_says_what_was_expected():
    with pytest.raises(ValidationError) as caught:
        cr.evaluate({"organisation": {"annual_turnover": -1}})
    message = str(caught.value)
    assert "organisation.annual_turnover" in message and "greater than or equal to 0" in message


def test_money_is_decimal_pounds_and_pence():
    case = cr.Case.model_validate({"organisation": {"annual_turnover": "5000.01"}})
    assert str(case.organisation.annual_turnover) == "5000.01"
    assert str(cr.Case.model_validate({"organisation": {"annual_turnover": 5000}}).organisation.annual_turnover) == "5000.00"
    assert str(cr.Case.model_validate({"organisation": {"annual_turnover": Decimal("-0")}}).organisation.annual_turnover) == "0.00"


@pytest.mark.parametrize("amount", [5000.5, 5000.0, 5e3, 0.0, -0.0])
def test_money_as_a_float_is_refused_with_the_contracts_message(amount):
    with pytest.raises(ValidationError) as caught:
        cr.evaluate({"organisation": {"annual_turnover": amount}}, engine="reference")
    [error] = caught.value.errors()
    assert error["loc"] == ("organisation", "annual_turnover")
    assert 'decimal string in pounds such as "5000.00", or a whole number; never a float' in error["msg"]


@pytest.mark.parametrize("text", ["20260401", "2026-W14-3", "2026-W14", "2026-091", "2026-4-1", "２０２６-04-01", " 2026-04-01"])
def test_a_date_is_yyyy_mm_dd_and_nothing_else(text):
    with pytest.raises(ValidationError) as caught:
        cr.evaluate({"as_of": text}, engine="reference")
    assert [e["loc"] for e in caught.value.errors()] == [("as_of",)]
    assert "YYYY-MM-DD" in caught.value.errors()[0]["msg"]
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        cr.evaluate({}, as_of=text, engine="reference")


def _nested(value, depth):
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ({"organisation": {"kind": _nested("charity", 1000)}}, ("organisation", "kind")),
        ({"organisation": {"insurance": _nested("vehicle", 100_000)}}, ("organisation", "insurance")),
        ({"options": [{"name": _nested("a", 50)}]}, ("options", 0, "name")),
        ({"service": {"x": {"y": {"z": {"w": _nested(1, 20)}}}}}, ("service", "x", "y", "z")),
        ({"departure": _nested({}, 5000)}, ("departure",)),
    ],
)
def test_deep_nesting_is_a_validation_error_naming_the_field(case, field):
    with pytest.raises(ValidationError) as caught:
        cr.evaluate(case, engine="reference")
    [error] = caught.value.errors()
    assert error["loc"] == field and error["type"] == "too_deeply_nested"
    assert "nested" in str(caught.value)  # the message itself is short and safe to print


def test_nesting_up_to_the_bound_is_read_as_fields_and_one_more_level_is_refused():
    from commissioning_rules.models.types import MAX_NESTING

    def errors(levels):  # the case, its service, the list and the criterion are 4 levels of objects and lists
        met = _nested(True, levels - 4)
        case = {"service": {"additional_criteria": [{"id": "a", "description": "b", "met": met}]}}
        with pytest.raises(ValidationError) as caught:
            cr.evaluate(case, engine="reference")
        return [e["type"] for e in caught.value.errors()]

    assert errors(MAX_NESTING) == ["bool_type"]
    assert errors(MAX_NESTING + 1) == ["too_deeply_nested"]


_SMALL = st.recursive(
    st.none() | st.integers() | st.text(max_size=2),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def _near_the_bound(draw):
    """A value with one branch nested about :data:`MAX_NESTING` deep (by lists, dicts and tuples, ending in a
    scalar or an empty container) among shallow siblings."""
    value = draw(st.none() | st.integers() | st.just([]) | st.just({}) | st.just(()))
    for _ in range(draw(st.integers(10, 20))):
        kind = draw(st.sampled_from(["list", "dict", "tuple"]))
        siblings = draw(st.lists(_SMALL, max_size=2))
        at = draw(st.integers(0, len(siblings)))
        members = [*siblings[:at], value, *siblings[at:]]
        value = {f"k{i}": m for i, m in enumerate(members)} if kind == "dict" else tuple(members) if kind == "tuple" else members
    return value


@settings(max_examples=500, deadline=None)
@given(_near_the_bound())
def test_the_quick_depth_check_refuses_exactly_what_the_path_finding_walk_does(value):
    from commissioning_rules.models.types import _nests_deeper, _too_deep

    assert _nests_deeper(value, 0) == (_too_deep(value) is not None)


def test_the_as_of_argument_overrides_the_cases_own_date():
    from gate_cases import compliant_case

    case = {**compliant_case(), "as_of": "2026-04-01"}
    assert cr.evaluate(case, engine="reference").as_of.isoformat() == "2026-04-01"
    assert cr.evaluate(case, as_of="2030-01-31", engine="reference").as_of.isoformat() == "2030-01-31"


def test_an_unknown_field_names_the_field_meant_or_lists_those_there_are():
    """The command line, batches and the HTTP service report an ItemError: an unknown field there says more than
    pydantic's "Extra inputs are not permitted" (a list item's fields are its model's)."""
    typo, unknown, in_a_list = cr.evaluate_many([
        {"organisaton": {"name": "x"}},
        {"organisation": {"name": "x", "colour": "red"}},
        {"service": {"additional_criteria": [{"id": "a", "description": "x", "met": True, "colour": "red"}]}},
    ])
    assert typo.message == "organisaton: unknown field 'organisaton' (did you mean 'organisation'?)"
    assert unknown.errors[0].message.startswith("unknown field 'colour'; expected one of accounts, ")
    assert "annual_turnover" in unknown.errors[0].message
    assert in_a_list.message == ("service.additional_criteria[0].colour: unknown field 'colour'; "
                                 "expected one of description, id, met")
