"""Bad input is a ValidationError naming the field and what was expected; it never reaches a rule."""

from __future__ import annotations

import pytest
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
    case = cr.Case.model_validate({"organisation": {"annual_turnover": 5000.01}})
    assert str(case.organisation.annual_turnover) == "5000.01"
    assert str(cr.Case.model_validate({"organisation": {"annual_turnover": -0.0}}).organisation.annual_turnover) == "0.00"


@pytest.mark.parametrize("text", ["1e3", "1_000", "+5", " 5", "-0", "٥٠٠٠", "5,000", "£5000"])
def test_money_as_text_is_plain_pounds_and_pence(text):
    assert "organisation.annual_turnover" in error_locations({"organisation": {"annual_turnover": text}})


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="engine must be one of"):
        cr.evaluate({}, engine="drools")
