"""evaluate_many and JSONL batches: one outcome per item, in order, bad items named with their field."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import commissioning_rules as cr
from commissioning_rules.batch import ItemError, evaluate_lines, field_path, load_json, to_json_line
from commissioning_rules.engine import durable_available
from commissioning_rules.parameters import default_parameters
from commissioning_rules.rules import DEFAULT_RULESETS

EXAMPLES = resources.files("commissioning_rules.examples")
GOOD = [json.loads(line) for line in EXAMPLES.joinpath("cases.jsonl").read_text("utf-8").splitlines()]
LUNCH_CLUB = json.loads(EXAMPLES.joinpath("community_lunch_club.json").read_text("utf-8"))

#: Bad cases and the field each must be reported against.
BAD = [
    ({"organisation": {"kind": "guild"}}, "organisation.kind"),
    ({"organisation": {"annual_turnover": "-5.00"}}, "organisation.annual_turnover"),
    ({"organisation": {"employs_staff": "yes"}}, "organisation.employs_staff"),
    ({"service": {"additional_criteria": [{"id": "a", "description": "b", "met": 1}]}}, "service.additional_criteria[0].met"),
    ({"award": {"route": "grant", "value": "10.00", "starts_on": "2026-05-01", "ends_on": "2026-04-01"}}, "award"),
    ({"organisation": {"shoe_size": 9}}, "organisation.shoe_size"),
    ({"as_of": "2026-02-30"}, "as_of"),
    ([1, 2, 3], None),
]


def test_good_cases_give_the_decisions_evaluate_gives_in_input_order():
    outcomes = list(cr.evaluate_many(GOOD, engine="reference"))
    assert outcomes == [cr.evaluate(case, engine="reference") for case in GOOD]


@pytest.mark.parametrize("case, field", BAD)
def test_a_bad_case_is_an_error_record_naming_its_position_and_field(case, field):
    outcomes = list(cr.evaluate_many([LUNCH_CLUB, case, LUNCH_CLUB], engine="reference"))
    assert [type(o) for o in outcomes] == [cr.Decision, ItemError, cr.Decision]
    error = outcomes[1]
    assert (error.item, error.kind, error.field) == (1, "invalid_case", field)
    assert error.errors and error.errors[0].field == field
    assert (field or "the case") in error.message


def test_a_date_without_parameters_in_force_is_an_error_on_as_of_not_a_crash():
    [error] = cr.evaluate_many([{**LUNCH_CLUB, "as_of": "1990-01-01"}], engine="reference")
    assert (error.kind, error.field) == ("parameter_error", "as_of")
    assert "1990-01-01" in error.message


def test_as_of_overrides_each_case_and_a_case_without_one_gets_the_run_date():
    undated = {k: v for k, v in LUNCH_CLUB.items() if k != "as_of"}
    dated, plain = cr.evaluate_many([LUNCH_CLUB, undated], engine="reference", as_of="2027-01-31")
    assert dated.as_of == plain.as_of == dt.date(2027, 1, 31)
    [today] = cr.evaluate_many([undated], engine="reference")
    assert today.as_of in (dt.date.today(), dt.date.today() - dt.timedelta(days=1))


@pytest.mark.parametrize(
    "settings_, error",
    [({"engine": "drools"}, ValueError), ({"workers": 0}, ValueError), ({"workers": 1.5}, ValueError),
     ({"as_of": "next tuesday"}, ValueError), ({"as_of": 20260401}, TypeError)],
)
def test_settings_of_the_whole_run_are_checked_before_any_case(settings_, error):
    def never():
        raise AssertionError("no case may be read when the run's settings are wrong")
        yield

    with pytest.raises(error):
        cr.evaluate_many(never(), **settings_)


def test_several_workers_give_the_same_outcomes_in_the_same_order():
    items = (GOOD + [bad for bad, _ in BAD]) * 20  # 260 items: several chunks per worker
    one = list(cr.evaluate_many(items, engine="reference"))
    two = list(cr.evaluate_many(items, engine="reference", workers=2))
    assert two == one
    assert [o.item for o in two if isinstance(o, ItemError)] == [i for i, o in enumerate(one) if isinstance(o, ItemError)]


def test_order_holds_when_more_chunks_are_ready_than_may_be_in_flight(monkeypatch):
    """Small chunks and one chunk in flight per worker: the back-pressure branch runs on every chunk."""
    from commissioning_rules import batch

    monkeypatch.setattr(batch, "CHUNK_SIZE", 3)
    monkeypatch.setattr(batch, "CHUNKS_IN_FLIGHT_PER_WORKER", 1)
    # Each item distinguishable by its date, so any reordering of chunks shows.
    items = [{**LUNCH_CLUB, "as_of": (dt.date(2026, 4, 1) + dt.timedelta(days=i)).isoformat()} for i in range(45)]
    items[10] = {"organisation": {"kind": "guild"}}
    outcomes = list(cr.evaluate_many(items, engine="reference", workers=2))
    assert outcomes == list(cr.evaluate_many(items, engine="reference"))
    assert [o.item for o in outcomes if isinstance(o, ItemError)] == [10]


def test_a_policy_of_ones_own_travels_to_the_worker_processes():
    policy = cr.Policy("gate only", DEFAULT_RULESETS[:1], default_parameters())
    outcomes = list(cr.evaluate_many(GOOD * 30, policy=policy, engine="reference", workers=2))
    assert all(o.policy.name == "gate only" and o.policy.version == policy.version for o in outcomes)
    assert outcomes == list(cr.evaluate_many(GOOD * 30, policy=policy, engine="reference"))
    assert not any(o.advisories for o in outcomes)  # the living-wage rule set was left out


def test_the_default_engine_serves_the_whole_run_and_the_decision_says_which():
    engines = {o.engine for o in cr.evaluate_many(GOOD)}
    assert engines == {cr.evaluate(LUNCH_CLUB).engine}


# --- JSONL lines ------------------------------------------------------------------------------------


def test_every_line_gets_one_outcome_numbered_from_one():
    lines = [json.dumps(LUNCH_CLUB), "", "   ", "{not json", '{"a": 1, "a": 2}', '{"organisation": {"annual_turnover": NaN}}',
             '"a string"', json.dumps({"organisation": {"kind": "guild"}}), json.dumps(GOOD[2])]
    outcomes = list(evaluate_lines(lines, engine="reference"))
    assert len(outcomes) == len(lines)
    kinds = [o.kind if isinstance(o, ItemError) else "decision" for o in outcomes]
    assert kinds == ["decision", "empty_line", "empty_line", "invalid_json", "invalid_json", "invalid_json",
                     "invalid_case", "invalid_case", "decision"]
    assert [o.item for o in outcomes if isinstance(o, ItemError)] == [2, 3, 4, 5, 6, 7, 8]
    assert outcomes[7].field == "organisation.kind"
    assert outcomes[8] == cr.evaluate(GOOD[2], engine="reference")


def test_an_error_record_is_one_json_line_with_the_line_number():
    [error] = evaluate_lines([b'{"organisation": {"kind": "guild"}}'], engine="reference")
    line = to_json_line(error)
    assert "\n" not in line
    record = json.loads(line)["error"]
    assert (record["line"], record["kind"], record["field"]) == (1, "invalid_case", "organisation.kind")
    assert record["errors"][0]["field"] == "organisation.kind"


def test_bytes_that_are_not_text_are_rejected_as_bad_json():
    [error] = evaluate_lines([b'{"organisation": {"name": "\xff"}}'], engine="reference")
    assert error.kind == "invalid_json"


def test_json_constants_repeated_keys_and_hostile_depth_are_not_json_we_read():
    for text in ('{"v": NaN}', '{"v": Infinity}', '{"v": 1, "v": 2}', "[" * 100_000 + "]" * 100_000):
        with pytest.raises(ValueError):
            load_json(text)


@pytest.mark.parametrize("number", ["5000.5", "5e3", "5000.0", "1E+3"])
def test_a_json_float_for_money_is_refused_with_the_contracts_message(number):
    line = '{"organisation": {"annual_turnover": %s}}' % number
    [error] = evaluate_lines([line], engine="reference")
    assert (error.kind, error.field) == ("invalid_case", "organisation.annual_turnover")
    assert "never a float" in error.message


def test_any_failure_on_a_line_is_that_lines_record_and_the_run_goes_on(monkeypatch):
    """Whatever a line raises (here a stand-in for an engine fault on one case) is its record; later lines run."""
    from commissioning_rules import batch

    real = batch.evaluate

    def fails_on_tiny_turnover(case, **kwargs):
        if case.organisation is not None and case.organisation.annual_turnover == Decimal("1.00"):
            raise RecursionError("maximum recursion depth exceeded")
        return real(case, **kwargs)

    monkeypatch.setattr(batch, "evaluate", fails_on_tiny_turnover)
    poisoned = {**LUNCH_CLUB, "organisation": {**LUNCH_CLUB["organisation"], "annual_turnover": "1.00"}}
    deep = '{"organisation": {"kind": %s"charity"%s}}' % ("[" * 500, "]" * 500)
    lines = [json.dumps(LUNCH_CLUB), json.dumps(poisoned), deep, "[" * 100_000, json.dumps(LUNCH_CLUB)]
    outcomes = list(evaluate_lines(lines, engine="reference"))
    assert [type(o).__name__ for o in outcomes] == ["Decision", "ItemError", "ItemError", "ItemError", "Decision"]
    failed, nested, unreadable = outcomes[1:4]
    assert (failed.item, failed.kind) == (2, "evaluation_failed")
    assert "RecursionError" in failed.message
    assert (nested.item, nested.kind, nested.field) == (3, "invalid_case", "organisation.kind")
    assert (unreadable.item, unreadable.kind) == (4, "invalid_json")


@pytest.mark.parametrize(
    "location, path",
    [((), None), (("as_of",), "as_of"), (("service", "additional_criteria", 0, "met"), "service.additional_criteria[0].met"),
     (("options", 2), "options[2]")],
)
def test_field_paths_are_dotted_with_list_positions_in_brackets(location, path):
    assert field_path(location) == path


# --- properties -------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10**6) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)
organisation_fields = st.sampled_from(sorted(cr.Case.model_fields["organisation"].annotation.__args__[0].model_fields))


@st.composite
def items(draw):
    """A good bundled case, one with a field of its organisation replaced by any JSON value, or any JSON value."""
    choice = draw(st.integers(0, 2))
    case = draw(st.sampled_from(GOOD[:4]))
    if choice == 0:
        return case
    if choice == 1:
        return {**case, "organisation": {**case["organisation"], draw(organisation_fields): draw(json_values)}}
    return draw(json_values)


@settings(max_examples=60, deadline=None)
@given(st.lists(items(), max_size=6))
def test_each_item_is_rejected_exactly_when_the_case_model_rejects_it(cases):
    outcomes = list(cr.evaluate_many(cases, engine="reference"))
    assert len(outcomes) == len(cases)
    for index, (case, outcome) in enumerate(zip(cases, outcomes)):
        try:
            cr.Case.model_validate(case)
        except ValidationError:
            assert isinstance(outcome, ItemError) and outcome.item == index and outcome.kind == "invalid_case"
        else:
            assert outcome == cr.evaluate(case, engine="reference")


@pytest.mark.skipif(not durable_available(), reason="durable-rules does not import on this Python")
def test_the_engines_differ_only_in_the_engine_field_on_every_bundled_case():
    durable = [o.model_dump(mode="json") for o in cr.evaluate_many(GOOD, engine="durable-rules")]
    reference = [o.model_dump(mode="json") for o in cr.evaluate_many(GOOD, engine="reference")]
    assert [{**d, "engine": None} for d in durable] == [{**r, "engine": None} for r in reference]


def test_a_policy_that_cannot_cross_to_a_process_is_refused_before_any_case():
    from commissioning_rules.engine.rule import RuleSet

    gate = DEFAULT_RULESETS[0]
    local = RuleSet(gate.name, gate.section, gate.title, gate.inputs, gate.rules, lambda firings, context: {})
    policy = cr.Policy("with a lambda", (local,), default_parameters())
    with pytest.raises(ValueError, match="workers=1"):
        cr.evaluate_many(GOOD, policy=policy, workers=2)
    assert all(isinstance(o, cr.Decision) for o in cr.evaluate_many(GOOD, policy=policy, engine="reference"))
