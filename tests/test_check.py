"""Static checks: the default policy passes, every check fires on a policy built to break it, and the search is
exact (it agrees with brute-force evaluation of the reference interpreter over every case of a finite domain)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from decimal import Decimal
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import commissioning_rules as cr
from commissioning_rules.check import check_table
from commissioning_rules.fact_schema import _sample, fact_schema, fact_subjects
from commissioning_rules.engine.reference import holds
from commissioning_rules.engine.rule import (
    Conclusion,
    DecisionTable,
    Param,
    Rule,
    RuleSet,
    all_of,
    any_of,
    eq,
    gt,
    gte,
    is_false,
    is_true,
    lt,
    lte,
    not_,
)
from commissioning_rules.facts import case_facts, encode
from commissioning_rules.models.case import Case, OrganisationKind
from commissioning_rules.rules import organisation_criteria

DEFAULT = cr.Policy.default()


def policy_with(*rules: Rule, tables: tuple[DecisionTable, ...] = (), inputs: tuple[str, ...] = ("organisation",), alone: bool = False) -> cr.Policy:
    """The default policy (or, ``alone``, none of its rules) plus one rule set holding ``rules``."""
    extra = RuleSet("extra", "local", "extra rules", inputs, rules, lambda firings, context: {}, tables)
    return cr.Policy("broken", (*(() if alone else DEFAULT.rulesets), extra), DEFAULT.parameters)


def ruleset_named(policy: cr.Policy, name: str) -> RuleSet:
    return next(rs for rs in policy.rulesets if rs.name == name)


def rule(rule_id: str, when, outcome: str = "yes", topic: str = "t", **changes) -> Rule:
    return dataclasses.replace(Rule(rule_id, "local 1", "A sentence.", when, Conclusion(topic, outcome), "because"), **changes)


def kinds(findings) -> list[tuple[str, str]]:
    return [(f.check, f.subject) for f in findings]


# --- the default policy -----------------------------------------------------------------------------------------


def test_the_default_policy_has_zero_findings():
    assert cr.check(DEFAULT) == []
    assert cr.check() == []


def test_the_default_policy_with_every_requirement_declared_as_a_table_has_zero_findings():
    # a variant worded for one case of a fact (only_when) is part of its parent requirement's table
    tables = tuple(DecisionTable(r.criterion, id_prefix=f"{r.id}.") for r in organisation_criteria.REQUIREMENTS if "." not in r.name)
    tables += (DecisionTable("additional", subject="additional_criterion"),)
    declared = dataclasses.replace(ruleset_named(DEFAULT, "organisation_criteria"), tables=tables)
    policy = cr.Policy("declared", tuple(declared if rs.name == declared.name else rs for rs in DEFAULT.rulesets), DEFAULT.parameters)
    assert cr.check(policy) == []


def test_the_schema_the_checks_read_is_exactly_the_facts_the_engines_see():
    # a case stating every field of every part, with one item per list, built from the models' types
    facts = case_facts(Case.model_validate(_sample(Case)))
    assert {f.type for f in facts} == set(fact_subjects())
    assert set(facts[0].values) == set(fact_schema("case").paths)
    for fact in facts[1:]:
        assert set(fact.values) == set(fact_schema(fact.type).paths)
    unstated = case_facts(Case.model_validate({"organisation": {}}))[0].values
    schema = fact_schema("case")
    for path, value in unstated.items():
        spec, role = schema.field(path)
        if spec.part == "organisation" and role == "value" and spec.optional:
            assert value == spec.unstated, path


# --- each check fires on a policy built to break it ---------------------------------------------------------------


def test_a_rule_without_a_section_or_source_is_found():
    bare = rule("extra.bare", is_true("organisation.employs_staff"), section=" ", source="")
    assert kinds(cr.check(policy_with(bare))) == [("missing_citation", "extra.bare"), ("missing_citation", "extra.bare")]


def test_a_parameter_read_but_undefined_is_found():
    undefined = rule("extra.undefined", gt("organisation.annual_turnover", Param("no_such_threshold")))
    found = cr.check(policy_with(undefined))
    assert ("undefined_parameter", "extra.undefined") in kinds(found)
    in_because = rule("extra.because", is_true("organisation.employs_staff"), because="above {param.nowhere}")
    assert kinds(cr.check(policy_with(in_because))) == [("undefined_parameter", "extra.because")]


def test_a_parameter_without_a_value_at_a_date_is_found():
    found = cr.check(DEFAULT, as_of=dt.date(2013, 6, 1))
    assert {f.check for f in found} == {"parameter_without_value"}
    living_wage = next(f for f in found if f.subject == "living_wage_hourly_rate")
    assert "2013-11-04" in living_wage.message and living_wage.as_of == dt.date(2013, 6, 1)
    assert cr.check(DEFAULT, as_of="2014-01-01") == []
    assert cr.check(DEFAULT, as_of="2026-04-01") == []
    early = cr.Policy.from_yaml("name: Early\neffective_from: 2013-04-01\n")
    assert {f.subject for f in cr.check(early)} >= {"accounts_threshold", "living_wage_hourly_rate", "data_protection_law"}


def test_a_field_no_fact_has_and_a_comparison_of_different_types_are_found():
    unknown = rule("extra.unknown", is_true("organisation.employs_stuff"))
    assert ("unknown_field", "extra.unknown") in kinds(cr.check(policy_with(unknown)))
    assert "did you mean organisation.employs_staff" in cr.check(policy_with(unknown))[0].message
    text_param = rule("extra.mixed", gt("organisation.annual_turnover", Param("data_protection_law")))
    found = cr.check(policy_with(text_param))
    assert ("type_mismatch", "extra.mixed") in kinds(found)
    wrong_constant = rule("extra.constant", eq("organisation.kind", "bank"))
    assert ("type_mismatch", "extra.constant") in kinds(cr.check(policy_with(wrong_constant)))
    no_subject = rule("extra.subject", is_true("met"), subject="applicant")
    assert ("unknown_field", "extra.subject") in kinds(cr.check(policy_with(no_subject)))


def test_an_incomplete_table_is_found_with_an_example():
    paid = rule("extra.paid", is_true("organisation.pays_living_wage"), "paid")
    encouraged = rule("extra.encouraged", all_of(is_true("organisation.employs_staff"), is_false("organisation.pays_living_wage")), "encouraged")
    found = cr.check(policy_with(paid, encouraged, tables=(DecisionTable("t"),)))
    assert kinds(found) == [("table_incomplete", "extra:t")]
    assert found[0].example["organisation.pays_living_wage"] == "no"
    assert found[0].example["organisation.employs_staff"] == "no"


def test_an_overlapping_table_is_found_and_an_override_resolves_it():
    general = rule("extra.general", gt("organisation.annual_turnover", Param("accounts_threshold")), "high")
    below = rule("extra.below", lte("organisation.annual_turnover", Param("accounts_threshold")), "low")
    charity = rule("extra.charity", eq("organisation.kind", OrganisationKind.charity), "charity")
    found = cr.check(policy_with(general, below, charity, tables=(DecisionTable("t"),)))
    assert sorted(f.message for f in found if f.check == "table_overlap") == [
        "extra.below and extra.charity both fire for some valid cases",
        "extra.general and extra.charity both fire for some valid cases",
    ]
    resolved = dataclasses.replace(charity, overrides=("extra.general", "extra.below"))
    assert cr.check(policy_with(general, below, resolved, tables=(DecisionTable("t"),))) == []


def test_the_overlap_example_sits_on_the_threshold():
    at_most = rule("extra.at_most", lte("organisation.annual_turnover", Param("accounts_threshold")), "low")
    at_least = rule("extra.at_least", gte("organisation.annual_turnover", Param("accounts_threshold")), "high")
    found = cr.check(policy_with(at_most, at_least, tables=(DecisionTable("t"),)))
    assert [(f.check, f.example.get("organisation.annual_turnover")) for f in found] == [("table_overlap", "£5,000.00")]


def test_a_table_rule_reading_outside_its_declared_inputs_is_found():
    yes = rule("extra.yes", is_true("organisation.employs_staff"), "yes")
    no = rule("extra.no", is_false("organisation.employs_staff"), "no")
    table = DecisionTable("t", inputs=("organisation.pays_living_wage",))
    assert kinds(cr.check(policy_with(yes, no, tables=(table,)))) == [("table_outside_inputs", "extra.yes"), ("table_outside_inputs", "extra.no")]
    assert cr.check(policy_with(yes, no, tables=(DecisionTable("t", inputs=("organisation.employs_staff",)),))) == []
    assert kinds(cr.check(policy_with(yes, no, tables=(DecisionTable("nothing"),)))) == [("table_incomplete", "extra:nothing")]


def test_an_override_pointing_at_no_rule_and_a_cycle_are_found():
    dangling = rule("extra.dangling", is_true("organisation.employs_staff"), overrides=("extra.nowhere",))
    assert kinds(cr.check(policy_with(dangling))) == [("dangling_override", "extra.dangling")]
    other_subject = rule("extra.other", is_true("organisation.employs_staff"), overrides=("additional_criterion.met",))
    assert kinds(cr.check(policy_with(other_subject))) == [("dangling_override", "extra.other")]
    a = rule("extra.a", is_true("organisation.employs_staff"), overrides=("extra.b",))
    b = rule("extra.b", is_true("organisation.pays_living_wage"), overrides=("extra.a",))
    assert ("override_cycle", "extra.a") in kinds(cr.check(policy_with(a, b)))


def test_rules_that_can_never_fire_are_found():
    contradiction = rule("extra.contradiction", all_of(is_true("organisation.employs_staff"), is_false("organisation.employs_staff")))
    empty_range = rule("extra.range", all_of(gt("organisation.annual_turnover", Param("accounts_threshold")), lt("organisation.annual_turnover", Decimal("5000.00"))))
    unstated_and_positive = rule("extra.unstated", all_of(is_false("organisation.annual_turnover_stated"), gt("organisation.annual_turnover", Decimal("0.00"))))
    found = cr.check(policy_with(contradiction, empty_range, unstated_and_positive))
    assert kinds(found) == [("never_fires", "extra.contradiction"), ("never_fires", "extra.range"), ("never_fires", "extra.unstated")]
    absent = rule("extra.absent", all_of(is_false("has_service"), is_true("service.works_with_children")))
    assert kinds(cr.check(policy_with(absent))) == [("never_fires", "extra.absent")]
    general = rule("extra.general", is_true("organisation.employs_staff"))
    broader = rule("extra.broader", any_of(is_true("organisation.employs_staff"), is_true("organisation.pays_living_wage")), overrides=("extra.general",))
    found = cr.check(policy_with(general, broader))
    assert kinds(found) == [("never_fires", "extra.general")]
    assert "always overridden by extra.broader" in found[0].message


def test_a_council_file_whose_table_loses_its_override_is_found(tmp_path):
    text = resources.files("commissioning_rules.examples").joinpath("council-policy.yaml").read_text()
    assert cr.check(cr.Policy.from_yaml(text)) == []
    broken = text.replace("    overrides: [financial_systems.published_accounts.not_met]\n", "")
    found = cr.check(cr.Policy.from_yaml(broken))
    assert kinds(found) == [("table_overlap", "organisation_criteria:financial_systems[financial_systems.published_accounts.*]")]
    assert found[0].example["organisation.kind"] == "community_group"


# --- the search is exact ----------------------------------------------------------------------------------------------

TURNOVER = "organisation.annual_turnover"
MONEY_POINTS = [Decimal("5000.00"), Decimal("10000.00")]
atoms = st.one_of(
    st.sampled_from(["organisation.employs_staff", "organisation.employs_staff_stated", "service.works_with_children",
                     "has_service", "has_organisation", f"{TURNOVER}_stated"]).flatmap(
        lambda path: st.sampled_from([is_true(path), is_false(path)])),
    st.builds(lambda op, kind: op("organisation.kind", kind), st.sampled_from([eq, lambda p, v: not_(eq(p, v))]),
              st.sampled_from([OrganisationKind.charity, OrganisationKind.sole_trader])),
    st.builds(lambda op, operand: op(TURNOVER, operand), st.sampled_from([gt, gte, lt, lte, eq]),
              st.sampled_from([*MONEY_POINTS, Param("accounts_threshold")])),
)
conditions = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda cs: all_of(*cs)),
        st.lists(inner, min_size=2, max_size=3).map(lambda cs: any_of(*cs)),
        inner.map(not_),
    ),
    max_leaves=6,
)


def every_case():
    """Every case of the finite domain the atoms above can tell apart."""
    turnovers = [None, "0.00", "4999.99", "5000.00", "5000.01", "9999.99", "10000.00", "10000.01"]
    organisations = [None] + [
        {k: v for k, v in {"employs_staff": staff, "kind": kind, "annual_turnover": turnover}.items() if v is not None}
        for staff, kind, turnover in itertools.product([None, True, False], [None, "charity", "sole_trader", "company"], turnovers)
    ]
    services = [None, {}, {"works_with_children": True}, {"works_with_children": False}]
    for organisation, service in itertools.product(organisations, services):
        yield Case.model_validate({"organisation": organisation, "service": service})


FACTS = [case_facts(case)[0].values for case in every_case()]
PARAMETERS = {"accounts_threshold": encode(Decimal("5000.00"))}


def fires_somewhere(condition) -> bool:
    return any(holds(condition, values, PARAMETERS) for values in FACTS)


@settings(max_examples=300, deadline=None)
@given(condition=conditions)
def test_never_fires_agrees_with_brute_force(condition):
    found = cr.check(policy_with(rule("extra.r", condition), inputs=(), alone=True))
    assert (("never_fires", "extra.r") in kinds(found)) == (not fires_somewhere(condition))


@settings(max_examples=200, deadline=None)
@given(first=conditions, second=conditions)
def test_table_completeness_and_overlap_agree_with_brute_force(first, second):
    table = DecisionTable("t")
    policy = policy_with(rule("extra.a", first, "a"), rule("extra.b", second, "b"), tables=(table,), inputs=(), alone=True)
    found = {f.check for f in check_table(policy, policy.rulesets[-1], table)}
    gap = any(not holds(first, v, PARAMETERS) and not holds(second, v, PARAMETERS) for v in FACTS)
    overlap = any(holds(first, v, PARAMETERS) and holds(second, v, PARAMETERS) for v in FACTS)
    assert ("table_incomplete" in found) == gap
    assert ("table_overlap" in found) == overlap


def test_a_comparison_on_an_absent_part_is_false_whatever_the_operator():
    # as in both engines: "is not a charity" does not hold of an organisation that is absent
    absent = rule("extra.absent_kind", all_of(is_false("has_organisation"), not_(eq("organisation.kind", OrganisationKind.charity))))
    assert not fires_somewhere(absent.when)
    assert kinds(cr.check(policy_with(absent, inputs=()))) == [("never_fires", "extra.absent_kind")]


def test_a_value_precomputed_into_the_facts_is_a_field_too(monkeypatch):
    """Rule sets may precompute arithmetic into the facts (HELPERS: only if they must); the checks must know it."""
    from commissioning_rules import fact_schema as schema_module

    real = schema_module.case_facts

    def with_duration(case):
        facts = real(case)
        if case.award is not None:
            facts[0].values.plain["award.duration_days"] = 30  # the fact's values, as a builder would add it
        return facts

    monkeypatch.setattr(schema_module, "case_facts", with_duration)
    monkeypatch.setattr(schema_module, "_SCHEMAS", {})
    long = rule("extra.long", all_of(gt("award.duration_days", 365), lt("award.duration_days", 400)))
    never = rule("extra.never", all_of(gt("award.duration_days", 365), lt("award.duration_days", 366)))
    assert kinds(cr.check(policy_with(long, never, inputs=("award",)))) == [("never_fires", "extra.never")]
    assert schema_module.fact_schema("case").field("award.duration_days")[0].part == "award"


def test_a_table_over_enum_and_boolean_fields_of_another_part_is_checked_generically():
    """The shape of the 3.4.1 delivery table (written here, not taken from a rule set): the checker needs no
    knowledge of it beyond the declaration; the domain comes from the Delivery model."""
    self_delivery = all_of(eq("delivery.council_capacity", "full"), is_true("delivery.self_delivery_most_efficient"))
    partnership = all_of(
        any_of(is_true("delivery.outcomes_need_partners"), is_true("delivery.joint_commissioning_adds_value")),
        is_true("delivery.appropriate_partnership_exists"),
    )
    rules = (
        rule("extra.self", self_delivery, "self", topic="method"),
        rule("extra.partnership", all_of(not_(self_delivery), partnership), "partnership", topic="method"),
        rule("extra.external", all_of(not_(self_delivery), not_(partnership)), "external", topic="method"),
    )
    table = (DecisionTable("method"),)
    assert cr.check(policy_with(*rules, tables=table, inputs=("delivery",))) == []
    overlapping = (rules[0], rule("extra.partnership", partnership, "partnership", topic="method"), rules[2])
    found = cr.check(policy_with(*overlapping, tables=table, inputs=("delivery",)))
    assert [f.message for f in found] == ["extra.self and extra.partnership both fire for some valid cases"]
    assert found[0].example["delivery.council_capacity"] == "full"
    found = cr.check(policy_with(*rules[:2], tables=table, inputs=("delivery",)))
    assert kinds(found) == [("table_incomplete", "extra:method")]
    assert found[0].example["delivery"] == "present"


@pytest.mark.parametrize(
    ("ruleset", "topic"),
    [("departures", "departure"), ("delivery", "method"), ("external_route", "route"),
     ("decommissioning", "review"), ("monitoring", "monitoring_level")],
)
def test_the_frameworks_own_single_hit_tables_are_declared_and_pass(ruleset, topic):
    """The default policy declares its decision tables, so check() proves them complete and without overlap."""
    found = next(rs for rs in DEFAULT.rulesets if rs.name == ruleset)
    assert [t.topic for t in found.tables] == [topic]
    assert cr.check(DEFAULT) == []
