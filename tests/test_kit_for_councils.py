"""The testing kit as a council uses it on its own policy: properties of its own in check_all, failures that
name criteria and rules and show a case as minimal JSON, regression files that pin a rule or a field, record the
policy and keep pairs, captured in one call; compare and explain naming what a person reads."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.vendor.pretty import pretty

import commissioning_rules as cr
from commissioning_rules import Case, Policy
from commissioning_rules.testing import coverage, data_tests, properties
from gate_cases import SMALL_COMPLIANT_ORGANISATION
from test_testing_kit import (
    living_wage_penalty_policy,
    remembering_policy,
    reversed_engine_policy,
    silent_policy,
    toy_after_award_policy,
)

COUNTY = Policy.from_file(Path(__file__).parent / "policies" / "county-policy.yaml")
SERVICE = {"works_with_children": False, "works_with_vulnerable_adults": False}
ELIGIBLE = {"as_of": "2026-04-01", "organisation": {**SMALL_COMPLIANT_ORGANISATION, "pays_living_wage": False}, "service": SERVICE}


# --- properties of your own, and readable failures ---------------------------------------------------------------


def test_an_unknown_property_is_a_clear_error_with_the_known_names():
    with pytest.raises(ValueError, match=r"unknown property 'gate_monotonous'; did you mean 'gate_monotonic'\?.*PropertySpec"):
        properties.check("gate_monotonous")
    with pytest.raises(ValueError, match="unknown property 'nope'"):
        properties.check_all(properties=["nope"])


def test_a_property_of_your_own_joins_check_all_and_a_plain_assert_is_its_violation():
    def turnover_never_above_a_million(case, policy, *, engine=None):
        turnover = case.organisation.annual_turnover
        assert turnover is None or turnover <= 1_000_000, f"turnover {turnover}"
        return True

    mine = properties.PropertySpec("turnover_never_above_a_million", turnover_never_above_a_million, require=("organisation",))
    with pytest.raises(properties.PropertiesFailed) as caught:
        properties.check_all(properties=["living_wage_never_decides", "turnover_never_above_a_million"], extra=[mine],
                             settings=properties.default_settings(200, derandomize=True))
    (violation,) = caught.value.violations
    assert violation.prop == "turnover_never_above_a_million" and "turnover 1000000.01" in str(violation)
    assert [r.status for r in caught.value.results] == ["passed", "failed"]


def test_a_case_prints_as_its_minimal_json_in_hypothesis_output():
    case = Case.model_validate(ELIGIBLE)
    shown = pretty(case)
    assert shown.startswith("Case.model_validate_json(") and "None" not in shown
    assert eval(shown, {"Case": Case}) == case  # noqa: S307 - the printed form rebuilds the case


def test_differences_name_the_criterion_and_the_rules_that_fired():
    broken = living_wage_penalty_policy()
    with pytest.raises(properties.PropertyViolation) as caught:
        properties.living_wage_never_decides(Case.model_validate(ELIGIBLE), broken, engine="reference")
    message = caught.value.message
    assert "eligibility.criteria[equality].status" in message and "criteria[5]" not in message
    assert "equality.living_wage_penalty.not_met" in message  # the rule that fired for it
    with pytest.raises(properties.PropertyViolation) as monotonic:
        properties.gate_monotonic(Case.model_validate(ELIGIBLE), broken, engine="reference")
    assert "equality by equality.living_wage_penalty.not_met" in monotonic.value.message


# --- regression files -----------------------------------------------------------------------------------------


def test_a_violation_is_saved_in_one_call_as_a_pair_that_fails_until_the_policy_is_fixed(tmp_path):
    broken = living_wage_penalty_policy()
    with pytest.raises(properties.PropertyViolation) as caught:
        properties.gate_monotonic(Case.model_validate(ELIGIBLE), broken, engine="reference")
    path = caught.value.save(tmp_path / "monotonic.yaml", broken)
    saved = yaml.safe_load(path.read_text("utf-8"))
    assert saved["policy"] == {"name": broken.name, "version": broken.version}
    assert saved["variant"]["case"]["organisation"]["pays_living_wage"] is True
    (result,) = data_tests.run_data_tests(path, policy=broken)
    assert not result.passed and "variant: eligibility.eligible: expected true, got false" in result.explain()
    fixed = Policy(broken.name, Policy.default().rulesets, Policy.default().parameters)  # same name, other version
    (result,) = data_tests.run_data_tests(path, policy=fixed)
    assert "written for" in result.error and "check the expectation still holds" in result.error

    with pytest.raises(properties.PropertyViolation) as living:
        properties.living_wage_never_decides(Case.model_validate(ELIGIBLE), broken, engine="reference")
    pair = living.value.save(tmp_path / "living.yaml", broken)
    assert yaml.safe_load(pair.read_text("utf-8"))["same"] == ["eligibility.criteria[equality].status"]
    (result,) = data_tests.run_data_tests(pair, policy=broken)
    assert "expected the same" in result.explain()


def _violation(check, *args, **kwargs) -> properties.PropertyViolation:
    with pytest.raises(properties.PropertyViolation) as caught:
        check(*args, **kwargs)
    return caught.value


def _without_policy(path: Path) -> Path:
    """The saved test with its recorded policy left out (to run it under another policy)."""
    saved = yaml.safe_load(path.read_text("utf-8"))
    del saved["policy"]
    path.write_text(yaml.safe_dump(saved, sort_keys=False), "utf-8")
    return path


AWARD = {"as_of": "2026-04-01", "award": {"route": "grant", "value": "5000.00", "complexity": "low"}}


def test_every_shipped_property_violation_is_saved_in_one_call_and_fails_until_the_policy_is_fixed(tmp_path):
    toy = toy_after_award_policy()
    award = Case.model_validate(AWARD)
    organisation = Case.model_validate(ELIGIBLE)
    broken = {
        "deterministic": (remembering_policy(), organisation, "engine compiled: a second evaluation"),
        "engines_agree": (reversed_engine_policy(), organisation, "compiled != reference"),
        "complete": (silent_policy(), organisation, "rule set living_wage gave no answer"),
        "gate_monotonic": (living_wage_penalty_policy(), organisation, "eligible as given, but ineligible after organisation.pays_living_wage"),
        "living_wage_never_decides": (living_wage_penalty_policy(), organisation, "pays_living_wage False -> "),
        "monitoring_never_lighter": (toy, award, "monitoring intensive becomes light after award.value"),
        "notice_never_shorter": (toy, award, "notice is 1 months, shorter than notice_period_months = 3"),
    }
    assert set(broken) == set(properties.PROPERTIES)  # every shipped property
    for name, (policy, case, message) in broken.items():
        spec = properties.PROPERTIES[name]
        violation = _violation(spec.check, case, policy, **({"engine": "compiled"} if spec.takes_engine else {}))
        path = violation.save(tmp_path / f"{name}.yaml", policy)
        saved = yaml.safe_load(path.read_text("utf-8"))
        assert saved["holds"] == [name] and saved["policy"] == {"name": policy.name, "version": policy.version}, name
        if violation.variant is not None:  # a pair: both cases are kept
            assert saved["variant"]["case"] == violation.variant.model_dump(mode="json", exclude_none=True), name
        (result,) = data_tests.run_data_tests(path, policy=policy)
        explained = result.explain()
        assert not result.passed and f"property {name} does not hold: " in explained and message in explained, explained
        # under a correct policy (the Norwich framework), the same file, its policy left out, passes
        assert data_tests.run_data_tests(_without_policy(path))[0].passed, name
    # the pair of a comparison property is kept with what a correct policy decides of each case
    saved = yaml.safe_load((tmp_path / "gate_monotonic.yaml").read_text("utf-8"))
    assert saved["variant"]["expect"] == {"eligibility": {"eligible": True}}
    assert saved["variant"]["case"]["organisation"]["pays_living_wage"] is True
    assert yaml.safe_load((tmp_path / "monitoring_never_lighter.yaml").read_text("utf-8"))["variant"]["case"]["award"]["value"] != "5000.00"


def test_a_violation_pins_the_rule_or_field_the_user_chooses(tmp_path):
    broken = living_wage_penalty_policy()
    violation = _violation(properties.gate_monotonic, Case.model_validate(ELIGIBLE), broken, engine="reference")
    path = violation.save(tmp_path / "pinned.yaml", broken, pin=["equality.living_wage_penalty.not_met", "eligibility.eligible"])
    saved = yaml.safe_load(path.read_text("utf-8"))
    assert saved["not_fired"] == ["equality.living_wage_penalty.not_met"]  # the case as given pays no living wage
    assert saved["expect"] == {"eligibility": {"eligible": True}} and saved["holds"] == ["gate_monotonic"]
    expected = _violation(properties.gate_monotonic, Case.model_validate(ELIGIBLE), broken, engine="reference")
    written = expected.save(tmp_path / "expected.yaml", broken, expect={"eligibility": {"eligible": True, "criteria": [{"criterion": "equality", "status": "met"}]}})
    assert yaml.safe_load(written.read_text("utf-8"))["expect"]["eligibility"]["criteria"] == [{"criterion": "equality", "status": "met"}]


def test_properties_failed_saves_every_violation_and_names_one_it_cannot(tmp_path):
    broken, case = living_wage_penalty_policy(), Case.model_validate(ELIGIBLE)
    results = [
        properties.PropertyResult(name, 1, 1, _violation(properties.PROPERTIES[name].check, case, broken, engine="reference"))
        for name in ("gate_monotonic", "living_wage_never_decides")
    ]
    results.append(properties.PropertyResult("mine", 1, 1, properties.PropertyViolation("mine", "never holds", case)))
    failed = properties.PropertiesFailed(results)
    with pytest.raises(ValueError, match="saved 2 violation\\(s\\) .*; not mine: a property of your own"):
        failed.save(tmp_path, broken)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gate_monotonic.yaml", "living_wage_never_decides.yaml"]


def test_save_on_failure_states_the_rules_that_must_not_fire_and_a_folder_skips_a_policy_file(tmp_path):
    case = {"as_of": "2026-03-31", "organisation": {"annual_turnover": "5000.01"}}
    path = tmp_path / "test_small_turnover.yaml"
    with pytest.raises(AssertionError):
        with data_tests.save_on_failure(case, path, policy=COUNTY, not_fired=["financial_systems.published_accounts.not_met"]):
            fired = {f.rule for f in cr.evaluate(case, policy=COUNTY).findings}
            assert "financial_systems.published_accounts.not_met" not in fired
    saved = yaml.safe_load(path.read_text("utf-8"))
    assert saved["not_fired"] == ["financial_systems.published_accounts.not_met"] and "expect" not in saved
    shutil.copy(Path(__file__).parent / "policies" / "county-policy.yaml", tmp_path / "county-policy.yaml")
    (result,) = data_tests.run_data_tests(tmp_path, policy=COUNTY)  # the policy file beside it is not a test
    assert "rule financial_systems.published_accounts.not_met was expected not to fire but fired" in result.explain()


def test_a_data_test_naming_an_unknown_property_is_a_clear_error(tmp_path):
    (tmp_path / "test_x.yaml").write_text("case: {as_of: 2026-04-01}\nholds: [gate_monotonik]\n")
    (result,) = data_tests.run_data_tests(tmp_path)
    assert "'holds': unknown property 'gate_monotonik'; did you mean 'gate_monotonic'?" in result.error
    (tmp_path / "test_x.yaml").write_text("case: {as_of: 2026-04-01}\n")
    (result,) = data_tests.run_data_tests(tmp_path)
    assert "a test is a mapping with 'case' and 'expect' (or 'holds', 'fired', 'not_fired')" in result.error


def test_save_example_pins_a_chosen_rule_and_field_and_records_the_policy(tmp_path):
    case = {"as_of": "2026-03-31", "organisation": {**SMALL_COMPLIANT_ORGANISATION, "annual_turnover": "9000.00", "accounts": "unexamined"}}
    decision = cr.evaluate(case, policy=COUNTY)
    path = data_tests.save_example(
        case, decision, tmp_path / "before_change.yaml",
        pin=["financial_systems.published_accounts.not_met", "management.constitution.not_met", "eligibility.criteria[financial_systems].status"],
    )
    saved = yaml.safe_load(path.read_text("utf-8"))
    assert saved["fired"] == ["financial_systems.published_accounts.not_met"] and saved["not_fired"] == ["management.constitution.not_met"]
    assert saved["expect"] == {"eligibility": {"criteria": [{"criterion": "financial_systems", "status": "not_met"}]}}
    assert saved["policy"] == {"name": COUNTY.name, "version": COUNTY.version}
    assert data_tests.run_data_tests(path, policy=COUNTY)[0].passed
    assert "written for 'Fenshire" in data_tests.run_data_tests(path)[0].error  # the Norwich framework
    with pytest.raises(ValueError, match="pin 'eligibility.criteria\\[finance\\]': not a rule"):
        data_tests.save_example(case, decision, tmp_path / "x.yaml", pin=["eligibility.criteria[finance]"])


def test_save_on_failure_writes_the_shrunk_counterexample_once(tmp_path, monkeypatch):
    written = []
    original = data_tests.save_example
    monkeypatch.setattr(data_tests, "save_example", lambda *a, **k: written.append(a[0]) or original(*a, **k))
    path = tmp_path / "small.yaml"

    @settings(max_examples=100, derandomize=True, database=None)
    @given(st.integers(0, 10_000_000))
    def test_turnover(pence):
        case = {"as_of": "2026-04-01", "organisation": {"annual_turnover": f"{pence / 100:.2f}"}}
        with data_tests.save_on_failure(case, path, expect={"eligibility": {"eligible": True}}, policy=COUNTY):
            assert pence < 1_000

    with pytest.raises(AssertionError):
        test_turnover()
    assert len(written) == 1
    saved = yaml.safe_load(path.read_text("utf-8"))
    assert saved["case"]["organisation"]["annual_turnover"] == "10.00"  # the minimal failing case
    assert saved["policy"]["name"] == COUNTY.name


# --- coverage, compare and explain ------------------------------------------------------------------------------


def test_coverage_lists_what_the_policy_changed_and_tells_chance_from_sure():
    assert coverage.policy_changes(COUNTY) == {
        "added": ["financial_systems.published_accounts.signed_statement.met"],
        "disabled": ["living_wage.encouraged"],
        "overridden": {"financial_systems.published_accounts.not_met": ["financial_systems.published_accounts.signed_statement.met"]},
    }
    case = {"as_of": "2026-04-01", "organisation": SMALL_COMPLIANT_ORGANISATION}

    @settings(max_examples=1, database=None, derandomize=False)  # said outright: hypothesis's CI profile derandomizes
    @given(st.just(case))
    def at_random(case):
        cr.evaluate(case, policy=COUNTY, engine="reference")

    @settings(max_examples=1, database=None, derandomize=True)
    @given(st.just(case))
    def derandomized(case):
        cr.evaluate(case, policy=COUNTY, engine="reference")

    with coverage.collect(COUNTY) as random_only:
        at_random()
        cr.evaluate(case, engine="reference")  # another policy: not counted
    assert random_only.other_evaluations == 1 and random_only.evaluations == random_only.by_chance_evaluations == 1
    assert "management.constitution.met" in random_only.only_by_chance()["organisation_criteria"]
    assert any("fired only in randomly generated examples" in r for r in random_only.strict_failures())
    with coverage.collect(COUNTY) as sure:
        derandomized()
    assert sure.only_by_chance() == {} and sure.sure["management.constitution.met"] == 1


def test_compare_names_each_case_and_which_policy_is_a_and_which_b():
    raised = Policy.from_yaml(
        "name: Raised\nparameters:\n  accounts_threshold:\n    values: [{effective_from: 2014-01-01, value: '10000.00', source: x}]"
    )
    organisation = {**SMALL_COMPLIANT_ORGANISATION, "annual_turnover": "7000.00", "accounts": "unexamined"}
    cases = [
        {"as_of": "2026-04-01", "reference": "APP-7", "organisation": organisation},
        {"as_of": "2026-04-01", "organisation": {**organisation, "name": "Riverside Lunch Club"}},
        {"as_of": "2026-04-01", "organisation": organisation},
    ]
    text = str(cr.compare(cases, Policy.default(), raised, engine="reference"))
    assert "by Raised (B, version" in text and f"than by {Policy.default().name} (A, version" in text
    assert "APP-7 (case 0, as of 2026-04-01):" in text and "Riverside Lunch Club (case 1, as of" in text
    assert "\ncase 2 (as of 2026-04-01):" in text
    assert "rules fired only under A: financial_systems.published_accounts.not_met" in text


def test_explain_heads_a_criterion_decided_by_a_councils_rule_with_its_section_and_quotes_it():
    case = {"as_of": "2026-05-01", "service": SERVICE,
            "organisation": {**SMALL_COMPLIANT_ORGANISATION, "kind": "community_group", "annual_turnover": "15000.00", "accounts": "unexamined"}}
    text = " ".join(cr.evaluate(case, policy=COUNTY).explain(verbose=True).split())
    assert "[met] financial systems (FCC 5.3; 3.5.1)" in text
    assert 'FCC 5.3 says: "Community groups with a turnover of up to £25,000 may give a statement of accounts' in text
    plain = cr.evaluate({**case, "organisation": {**case["organisation"], "kind": "charity", "accounts": "audited"}}, policy=COUNTY)
    assert "[met] financial systems (3.5.1)" in plain.explain(verbose=True) and "says:" not in plain.explain(verbose=True)
