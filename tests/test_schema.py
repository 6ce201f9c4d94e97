"""The JSON Schemas, checked with a JSON Schema validator (jsonschema): they accept every bundled example case and
every Decision, reject broken cases, and never accept what the models reject."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import ValidationError

import commissioning_rules as cr
from commissioning_rules.models.case import Organisation
from commissioning_rules.schema import case_schema, decision_schema, policy_schema, schema_for

EXAMPLES = resources.files("commissioning_rules.examples")


def bundled_cases() -> list[tuple[str, dict]]:
    """Every bundled example case: each ``*.json`` file and each line of each ``*.jsonl`` file."""
    found = []
    for entry in sorted(EXAMPLES.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            found.append((entry.name, json.loads(entry.read_text("utf-8"))))
        elif entry.name.endswith(".jsonl"):
            lines = entry.read_text("utf-8").splitlines()
            found += [(f"{entry.name}:{n}", json.loads(line)) for n, line in enumerate(lines, start=1)]
    return found


BUNDLED = bundled_cases()


def validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


CASE = validator(case_schema())
DECISION = validator(decision_schema())


@pytest.mark.parametrize("schema", [case_schema(), decision_schema()], ids=["case", "decision"])
def test_the_schemas_are_valid_draft_2020_12(schema):
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_there_are_bundled_examples_to_check():
    assert len(BUNDLED) >= 6


@pytest.mark.parametrize("name, case", BUNDLED, ids=[name for name, _ in BUNDLED])
def test_every_bundled_example_case_is_valid_and_so_is_its_decision(name, case):
    assert list(CASE.iter_errors(case)) == []
    decision = cr.evaluate(case).model_dump(mode="json")
    assert list(DECISION.iter_errors(decision)) == []


LUNCH_CLUB = dict(BUNDLED)["community_lunch_club.json"]


def broken(path: str, value) -> dict:
    """The lunch club with ``path`` (dotted) set to ``value``."""
    case = copy.deepcopy(LUNCH_CLUB)
    *parents, leaf = path.split(".")
    node = case
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return case


@pytest.mark.parametrize(
    "case",
    [
        broken("organisation.kind", "guild"),
        broken("organisation.annual_turnover", "a lot"),
        broken("organisation.annual_turnover", "18250.555"),
        broken("organisation.annual_turnover", -1),
        broken("organisation.employs_staff", "yes"),
        broken("organisation.insurance", ["public_liability", "fire"]),
        broken("organisation.shoe_size", 9),
        broken("as_of", "2026-02-30"),
        broken("as_of", "1 April 2026"),
        broken("award", {"route": "grant"}),
        broken("service.additional_criteria", [{"id": "a", "met": True}]),
        broken("colour", "blue"),
        [LUNCH_CLUB],
    ],
)
def test_a_broken_case_is_rejected_by_the_schema_and_by_the_model(case):
    assert list(CASE.iter_errors(case)) != []
    with pytest.raises(ValidationError):
        cr.Case.model_validate(case)


def test_the_policy_schema_is_a_valid_json_schema():
    Draft202012Validator.check_schema(policy_schema())


def test_an_unknown_schema_is_an_error():
    with pytest.raises(ValueError):
        schema_for("invoice")


# --- property: the schema never accepts what the model rejects ---------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**13) | st.text(alphabet="0123456789.-e abcdefghijklmnopqrstuvwxyz_",
                                                                  max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=2),
    max_leaves=6,
)
enum_like = st.sampled_from(["charity", "sole_trader", "audited", "none", "in_place", "public_liability", "vehicle"])
dates = st.text(alphabet="0123456789-T:", min_size=8, max_size=12)
field_names = st.sampled_from(sorted(Organisation.model_fields) + ["not_a_field"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(field_names, json_values | enum_like | st.lists(enum_like, max_size=3)), max_size=4),
       st.one_of(st.none(), dates))
def test_a_case_the_schema_accepts_is_a_case_the_model_accepts(changes, as_of):
    case = copy.deepcopy(LUNCH_CLUB)
    for name, value in changes:
        case["organisation"][name] = value
    if as_of is not None:
        case["as_of"] = as_of
    if not list(CASE.iter_errors(case)):
        cr.Case.model_validate(case)  # raises if the schema let through something the model rejects


def test_the_policy_file_schema_accepts_the_example_council_file_and_rejects_a_broken_one():
    import yaml
    from importlib import resources

    from commissioning_rules.policy_file import json_schema

    from jsonschema import FormatChecker

    validator = Draft202012Validator(json_schema(), format_checker=FormatChecker())
    text = resources.files("commissioning_rules.examples").joinpath("council-policy.yaml").read_text("utf-8")
    document = json.loads(json.dumps(yaml.safe_load(text), default=str))
    assert list(validator.iter_errors(document)) == []
    for broken_document in (
        {**document, "colour": "blue"},
        {key: value for key, value in document.items() if key != "name"},
        {**document, "rules": [{**document["rules"][0], "when": {"maybe": "organisation.kind"}}]},
        {**document, "disable": [{"rule": "living_wage.encouraged"}]},
    ):
        assert list(validator.iter_errors(broken_document)) != []
