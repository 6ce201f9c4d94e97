"""The testing kit itself: strategies follow the policy, properties catch broken policies with shrunk examples,
data tests run (from Python, the command's ``main`` and pytest), and rule coverage reports what never fired."""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
from decimal import Decimal
from enum import Enum
from pathlib import Path

import pytest
from hypothesis import Phase, given, settings

import commissioning_rules as cr
from commissioning_rules import Case, Policy
from commissioning_rules.engine.rule import Conclusion, Param, Rule, RuleSet, gt, is_false, is_true, lte
from commissioning_rules.models import case as case_models
from commissioning_rules.models.decision import Advisory, MonitoringPlan, Notice
from commissioning_rules.parameters import parse_parameter
from commissioning_rules.rules import living_wage, organisation_criteria
from commissioning_rules.testing import coverage, data_tests, properties
from commissioning_rules.testing import strategies as crst
from commissioning_rules.testing.properties import PropertiesFailed
from gate_cases import SMALL_COMPLIANT_ORGANISATION

DATA = Path(__file__).parent / "data"
DEFAULT = Policy.default()
COMPLIANT = SMALL_COMPLIANT_ORGANISATION


def parameter(name: str, unit: str, value, section: str = "test"):
    return parse_parameter(
        name,
        {
            "description": f"{name} (a test parameter)",
            "unit": unit,
            "section": section,
            "values": [{"effective_from": dt.date(2010, 1, 1), "value": value, "source": "a test of the kit"}],
        },
        "test",
    )


def with_rules(ruleset: RuleSet, *extra: Rule, assemble=None) -> RuleSet:
    """``ruleset`` with ``extra`` rules added (conditioned on its inputs like its own) and perhaps another assemble."""
    added = RuleSet(ruleset.name, ruleset.section, ruleset.title, ruleset.inputs, extra, ruleset.assemble)
    changed = copy.copy(ruleset)
    object.__setattr__(changed, "rules", ruleset.rules + added.rules)
    if assemble is not None:
        object.__setattr__(changed, "assemble", assemble)
    return changed


def replacing(policy: Policy, name: str, ruleset: RuleSet, **parameters) -> Policy:
    rulesets = tuple(ruleset if rs.name == name else rs for rs in policy.rulesets)
    return Policy(f"{policy.name} (changed for a test)", rulesets, {**policy.parameters, **parameters})


def living_wage_penalty_policy() -> Policy:
    """Deliberately broken: an organisation that pays the living wage fails the equality criterion."""
    penalty = Rule(
        "equality.living_wage_penalty.not_met", "3.5.1", organisation_criteria.EQUALITY,
        when=is_true("organisation.pays_living_wage"), then=Conclusion("equality", "not_met"),
        because="deliberately broken: the organisation pays the living wage",
    )
    gate = organisation_criteria.RULESET
    return replacing(DEFAULT, gate.name, with_rules(gate, penalty))


def gathered(strategy, count: int = 400) -> list:
    found = []

    @settings(max_examples=count, derandomize=True, database=None)
    @given(strategy)
    def gather(value):
        found.append(value)

    gather()
    return found


# --- strategies -------------------------------------------------------------------------------------------


def test_boundaries_are_a_penny_either_side_of_every_money_parameter_in_force():
    amounts = crst.boundary_amounts(DEFAULT, dt.date(2026, 4, 1))
    assert {Decimal("4999.99"), Decimal("5000.00"), Decimal("5000.01")} <= set(amounts)
    assert {Decimal("13.44"), Decimal("13.45"), Decimal("13.46")} <= set(amounts)  # the living wage then
    assert Decimal("7.85") not in amounts  # the 2014 living wage is no longer in force
    assert Decimal("7.85") in crst.boundary_amounts(DEFAULT, dt.date(2015, 1, 1))


def test_a_councils_own_and_new_thresholds_get_their_own_boundaries():
    council = Policy(
        "a council",
        DEFAULT.rulesets,
        {
            **DEFAULT.parameters,
            "accounts_threshold": parameter("accounts_threshold", "GBP", "25000.00"),
            "tender_threshold": parameter("tender_threshold", "GBP", "100000.00"),
        },
    )
    amounts = set(crst.boundary_amounts(council, dt.date(2026, 4, 1)))
    assert {Decimal("24999.99"), Decimal("25000.00"), Decimal("25000.01")} <= amounts
    assert {Decimal("99999.99"), Decimal("100000.00"), Decimal("100000.01")} <= amounts
    assert Decimal("5000.00") not in amounts
    turnovers = {o.annual_turnover for o in gathered(crst.organisations(council, dt.date(2026, 4, 1)), 1000)}
    assert {Decimal("24999.99"), Decimal("25000.00"), Decimal("25000.01")} <= turnovers


def test_a_council_policy_file_gets_its_own_boundaries_dates_and_passes_the_properties():
    from importlib import resources

    council = Policy.from_file(str(resources.files("commissioning_rules.examples").joinpath("council-policy.yaml")))
    assert crst.earliest_as_of(council) == dt.date(2024, 4, 1)  # the file's effective_from and new parameter
    amounts = set(crst.boundary_amounts(council, dt.date(2025, 1, 1)))
    assert {Decimal("9999.99"), Decimal("10000.00"), Decimal("10000.01")} <= amounts  # its accounts threshold
    assert {Decimal("24999.99"), Decimal("25000.00"), Decimal("25000.01")} <= amounts  # its statement limit
    results = properties.check_all(council, settings=properties.default_settings(40, derandomize=True))
    assert all(r.status in ("passed", "skipped") for r in results)


def _enum_values(value, path: str, seen: dict[str, set]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _enum_values(item, f"{path}.{key}" if path else key, seen)
    elif isinstance(value, list):
        for item in value:
            _enum_values(item, path, seen)
    else:
        seen.setdefault(path, set()).add(value)


PART_STRATEGIES = {
    "organisation": (case_models.Organisation, crst.organisations()),
    "service": (case_models.Service, crst.services()),
    "delivery": (case_models.Delivery, crst.deliveries()),
    "provision": (case_models.Provision, crst.provisions()),
    "options": (case_models.Option, crst.options()),
    "award": (case_models.Award, crst.awards()),
    "review": (case_models.Review, crst.reviews()),
    "departure": (case_models.Departure, crst.departures()),
}


@pytest.mark.parametrize("part", PART_STRATEGIES)
def test_each_part_reaches_every_enum_member_and_every_yes_no_not_stated(part):
    model, strategy = PART_STRATEGIES[part]
    seen: dict[str, set] = {}
    for value in gathered(strategy, 1000):
        assert isinstance(value, model)
        _enum_values(value.model_dump(mode="json"), "", seen)
    for name, info in model.model_fields.items():
        plain, optional = crst._plain(info.annotation)
        if isinstance(plain, type) and issubclass(plain, Enum):
            expected = {m.value for m in plain} | ({None} if optional else set())
            assert expected <= seen[name], name
        if plain is bool:
            assert {True, False} | ({None} if optional else set()) <= seen[name], name


def test_money_and_dates_concentrate_on_boundaries_month_ends_and_leap_days():
    at = dt.date(2026, 4, 1)
    turnovers = {o.annual_turnover for o in gathered(crst.organisations(DEFAULT, at), 1000)}
    assert {Decimal("4999.99"), Decimal("5000.00"), Decimal("5000.01")} <= turnovers
    days = gathered(crst.dates(policy=DEFAULT, around=[at]), 1000)
    assert any(d.month == 2 and d.day == 29 for d in days)
    assert any((d + dt.timedelta(days=1)).day == 1 and d.month != 2 for d in days)
    assert {dt.date(2014, 11, 3), dt.date(2014, 11, 2)} & set(days)  # a parameter's first day, or the day before
    assert {at - dt.timedelta(days=1), at, at + dt.timedelta(days=1)} & set(days)
    as_of = gathered(crst.as_of_dates(DEFAULT), 300)
    assert min(as_of) >= crst.earliest_as_of(DEFAULT)


COUNTY = Policy.from_file(Path(__file__).parent / "policies" / "county-policy.yaml")
CHANGE = dt.date(2026, 4, 1)  # the county's accounts threshold: £5,000 before, £10,000 from then


def test_money_lands_on_every_value_a_parameter_has_had_and_dates_straddle_every_change():
    days = crst.change_dates(COUNTY)
    assert days["accounts_threshold"] == [CHANGE - dt.timedelta(days=1), CHANGE, CHANGE + dt.timedelta(days=1)]
    assert "notice_ordinary_months" not in days  # one value, no change
    # turnover is compared with the accounts threshold and the county's own limit: it lands on those, old and new
    assert crst.compared_parameters(COUNTY)["annual_turnover"] == {"accounts_threshold", "group_statement_limit"}
    turnovers = {o.annual_turnover for o in gathered(crst.organisations(COUNTY, CHANGE), 600)}
    assert {Decimal("5000.01"), Decimal("9999.99"), Decimal("10000.00"), Decimal("25000.01")} <= turnovers
    assert Decimal("13.45") not in turnovers  # a living wage rate is not a turnover boundary
    # ... and strictly between the old value and the new, where the two decide differently
    between = [t for t in turnovers if t is not None and Decimal("5000.01") < t < Decimal("9999.99")]
    assert len(between) > 10
    as_of = gathered(crst.as_of_dates(COUNTY), 400)
    assert {CHANGE - dt.timedelta(days=1), CHANGE, CHANGE + dt.timedelta(days=1)} <= set(as_of)
    # aimed at the threshold, most cases are applied on either side of its change (the days beside it, and any
    # day of the old value and of the new), and most turnovers land on or between its values
    aimed = gathered(crst.cases(COUNTY, require=["organisation"], around="accounts_threshold"), 300)
    assert sum(case.as_of in days["accounts_threshold"] for case in aimed) > len(aimed) / 5
    old_side = [case for case in aimed if case.as_of < CHANGE]
    assert len(aimed) / 4 < len(old_side) < len(aimed) * 3 / 4
    assert len({case.as_of for case in old_side}) > 10  # not only the day before
    on_threshold = {Decimal(v) for v in ("4999.99", "5000.00", "5000.01", "9999.99", "10000.00", "10000.01")}
    stated = [case.organisation.annual_turnover for case in aimed if case.organisation.annual_turnover is not None]
    assert sum(turnover in on_threshold or 5000 < turnover < 10000 for turnover in stated) > len(stated) / 2
    with pytest.raises(ValueError, match="no parameter 'acounts_threshold'; did you mean 'accounts_threshold'"):
        crst.cases(COUNTY, around="acounts_threshold")


def test_dates_in_a_range_are_drawn_without_filtering():
    february = crst.dates(dt.date(2024, 2, 1), dt.date(2024, 2, 10))  # no month end inside
    assert "filter" not in repr(february) and "filter" not in repr(crst.dates(dt.date(2020, 1, 15), dt.date(2020, 3, 30)))
    assert all(dt.date(2024, 2, 1) <= d <= dt.date(2024, 2, 10) for d in gathered(february, 100))
    ends = gathered(crst.dates(dt.date(2020, 1, 15), dt.date(2020, 3, 30)), 300)
    assert {dt.date(2020, 1, 31), dt.date(2020, 2, 29)} <= set(ends) and max(ends) <= dt.date(2020, 3, 30)


def test_generated_cases_are_valid_and_applied_where_every_parameter_is_in_force():
    earliest = crst.earliest_as_of(DEFAULT)
    # Every parameter has a value in force from then on, and not every one the day before.
    assert all(p.values[0].effective_from <= earliest for p in DEFAULT.parameters.values())
    assert any(p.values[0].effective_from == earliest for p in DEFAULT.parameters.values())
    for case in gathered(crst.cases(), 200):
        assert Case.model_validate(json.loads(case.model_dump_json())) == case
        assert earliest <= case.as_of <= crst.LATEST_AS_OF
        if case.award and case.award.starts_on and case.award.ends_on:
            assert case.award.starts_on <= case.award.ends_on


def test_cases_can_fix_the_date_and_require_or_exclude_parts():
    fixed = dt.date(2024, 2, 29)
    for case in gathered(crst.cases(as_of=fixed, require=["award"], exclude=["organisation"]), 50):
        assert case.as_of == fixed and case.award is not None and case.organisation is None
    with pytest.raises(ValueError, match="unknown case parts"):
        crst.cases(require=["organization"])


# --- properties catch broken policies -------------------------------------------------------------------------


def test_a_policy_that_fails_living_wage_payers_is_caught_with_a_shrunk_example(tmp_path):
    broken = living_wage_penalty_policy()
    with pytest.raises(PropertiesFailed) as caught:
        properties.check_all(
            broken, properties=["living_wage_never_decides", "gate_monotonic"], max_examples=300
        )
    found = {v.prop: v for v in caught.value.violations}
    assert set(found) == {"living_wage_never_decides", "gate_monotonic"}

    living = found["living_wage_never_decides"]
    assert "pays_living_wage" in living.message and "eligibility" in living.message
    shown = json.loads(str(living).split("case (JSON):\n", 1)[1])
    # Shrunk: no other case part, and (almost) nothing stated about the organisation.
    assert set(shown) == {"as_of", "organisation"}
    assert len(shown["organisation"]) <= 2

    monotonic = found["gate_monotonic"]
    assert "pays_living_wage" in monotonic.message and monotonic.variant.organisation.pays_living_wage is True
    # The counterexample becomes a regression test in one call: it fails under the broken policy only.
    path = data_tests.save_example(monotonic.variant, {"eligibility": {"eligible": True}}, tmp_path / "lw.yaml")
    assert [r.passed for r in data_tests.run_data_tests(tmp_path, policy=broken)] == [False]
    assert [r.passed for r in data_tests.run_data_tests(tmp_path)] == [True]
    assert path.read_text("utf-8").startswith("name: lw")


def test_the_default_policy_passes_check_all_with_a_result_per_property():
    results = properties.check_all(DEFAULT, settings=properties.default_settings(40, derandomize=True))
    assert [r.name for r in results] == list(properties.PROPERTIES)
    by_name = {r.name: r for r in results}
    assert by_name["gate_monotonic"].status == "passed"
    assert by_name["engines_agree"].status == "passed"  # the compiled engine against the reference, everywhere
    assert "living_wage_never_decides: passed" in properties.summary(results)


def test_a_rule_set_that_raises_or_answers_nothing_breaks_completeness():
    def fragile(firings, context):
        if context.case.organisation.employs_staff is False:
            raise KeyError("employs_staff")
        return living_wage.assemble(firings, context)

    raising = replacing(DEFAULT, "living_wage", with_rules(living_wage.RULESET, assemble=fragile))
    result = properties.check("complete", raising, max_examples=300)
    assert result.violation is not None and "evaluate raised KeyError" in result.violation.message
    assert result.violation.case.organisation.employs_staff is False

    result = properties.check("complete", silent_policy(), max_examples=50)
    assert result.violation is not None and "living_wage gave no answer" in result.violation.message


def silent_policy() -> Policy:
    """The living-wage rule set answering nothing (not complete)."""
    return replacing(DEFAULT, "living_wage", with_rules(living_wage.RULESET, assemble=lambda firings, context: {}))


def remembering_policy() -> Policy:
    """A rule set with memory: each evaluation's advisory counts the calls so far (not deterministic)."""
    calls = []

    def remembering(firings, context):
        calls.append(1)
        return {"advisories": [Advisory(id="calls", section="2.3", message=f"call {len(calls)}")]}

    return replacing(DEFAULT, "living_wage", with_rules(living_wage.RULESET, assemble=remembering))


def reversed_engine_policy() -> Policy:
    """A faulty interpreter: the right firings in the wrong order (findings then come out reversed), used by the
    compiled engine (so the engines disagree)."""

    class Reversed:
        def __init__(self, engine):
            self.engine = engine

        def run(self, facts, parameters):
            return self.engine.run(facts, parameters)[::-1]

    policy = Policy("reversed", DEFAULT.rulesets, DEFAULT.parameters)
    policy._compiled["engine reference"] = Reversed(policy.engine("reference"))
    return policy


def test_a_rule_set_with_memory_breaks_determinism():
    result = properties.check("deterministic", remembering_policy(), max_examples=20)
    assert result.violation is not None and "advisories" in result.violation.message


def test_an_engine_that_reorders_firings_breaks_agreement():
    result = properties.check("engines_agree", reversed_engine_policy(), max_examples=50)
    assert result.violation is not None and "compiled != reference" in result.violation.message


def toy_after_award_policy() -> Policy:
    """Deliberately broken 3.7/3.8: big awards get *light* monitoring; awards not time-limited get one month."""
    rules = (
        Rule("toy.monitoring.intensive", "3.7", "toy", lte("award.value", Param("toy_threshold")),
             Conclusion("monitoring", "intensive"), "small award"),
        Rule("toy.monitoring.light", "3.7", "toy", gt("award.value", Param("toy_threshold")),
             Conclusion("monitoring", "light"), "big award"),
        Rule("toy.notice.one_month", "3.8", "toy", is_false("award.time_limited"), Conclusion("notice", "1"), "short"),
    )

    def assemble(firings, context):
        decided = {}
        for firing in firings:
            if firing.rule.then.topic == "monitoring":
                decided["monitoring"] = MonitoringPlan(
                    level=firing.rule.then.outcome, reporting_interval_months=3, visits_per_year=1
                )
            else:
                decided["notice"] = Notice(months=int(firing.rule.then.outcome))
        return decided

    toy = RuleSet("toy_after_award", "3.7", "toy", ("award",), rules, assemble)
    gate = organisation_criteria.RULESET
    parameters = {name: p for name, p in DEFAULT.parameters.items() if p.unit != "months"}
    return Policy(
        "toy", (gate, toy),
        {**parameters, "toy_threshold": parameter("toy_threshold", "GBP", "10000.00"),
         "notice_period_months": parameter("notice_period_months", "months", 3, "3.8")},
    )


def test_monitoring_lighter_for_a_bigger_award_and_a_short_notice_are_caught():
    toy = toy_after_award_policy()
    assert properties.notice_parameter(toy) == "notice_period_months"
    unshrunk = settings(properties.default_settings(50), phases=[Phase.generate])  # finding is enough here
    monitoring = properties.check("monitoring_never_lighter", toy, settings=unshrunk)
    assert monitoring.violation is not None
    assert "intensive becomes light after award.value" in monitoring.violation.message
    assert monitoring.violation.variant.award.value > Decimal("10000.00") >= monitoring.violation.case.award.value
    notice = properties.check("notice_never_shorter", toy, settings=unshrunk)
    assert notice.violation is not None
    assert "notice is 1 months, shorter than notice_period_months = 3" in notice.violation.message
    assert notice.violation.case.award.time_limited is False


def test_the_notice_period_parameter_is_found_by_name_or_by_its_unit():
    assert properties.notice_parameter(DEFAULT) is not None
    assert DEFAULT.parameters[properties.notice_parameter(DEFAULT)].unit == "months"
    without = {name: p for name, p in DEFAULT.parameters.items() if p.unit != "months"}
    assert properties.notice_parameter(Policy("none", DEFAULT.rulesets, without)) is None
    council = {**without, "council_notice_ordinary": parameter("council_notice_ordinary", "months", 6, "3.8"),
               "council_notice_reduced": parameter("council_notice_reduced", "months", 1, "3.8")}
    assert properties.notice_parameter(Policy("council", DEFAULT.rulesets, council)) == "council_notice_ordinary"


def test_after_award_properties_skip_when_the_policy_decides_no_monitoring_or_notice():
    gate_only = Policy("gate only", (organisation_criteria.RULESET,), DEFAULT.parameters)
    for name in ("monitoring_never_lighter", "notice_never_shorter"):
        result = properties.check(name, gate_only, max_examples=20)
        assert result.status == "skipped" and result.examples >= 20


# --- data tests -----------------------------------------------------------------------------------------------


@data_tests.parametrize(DATA)
def test_gate_data(data_test):
    data_test.check()


def test_expectations_are_a_subset_lists_in_any_order_empty_lists_and_nulls_exact():
    actual = {"eligibility": {"eligible": True, "criteria": [{"criterion": "a", "status": "met"}, {"criterion": "b", "status": "not_met"}]},
              "advisories": [], "monitoring": None}
    assert data_tests.mismatches({"eligibility": {"criteria": [{"criterion": "b"}, {"criterion": "a", "status": "met"}]}}, actual) == []
    assert data_tests.mismatches({"advisories": [], "monitoring": None}, actual) == []
    assert data_tests.mismatches({"eligibility": {"eligible": False}}, actual) == ["eligibility.eligible: expected false, got true"]
    assert data_tests.mismatches({"notice": {"months": 3}}, actual) == [
        "notice: expected {\"months\": 3}, but the Decision has no 'notice'"
    ]
    assert data_tests.mismatches({"eligibility": {"criteria": [{"criterion": "a"}, {"criterion": "a"}]}}, actual) == [
        'eligibility.criteria: no item matches {"criterion": "a"}'
    ]
    assert data_tests.mismatches({"advisories": [{"id": "x"}]}, actual) == ['advisories: no item matches {"id": "x"}']
    assert data_tests.mismatches({"eligibility": {"criteria": []}}, actual) == ["eligibility.criteria: expected an empty list, got 2 items"]


def test_main_exit_status_passes_fails_and_usage(tmp_path, capsys):
    assert data_tests.main([str(DATA)]) == 0
    assert "5 passed, 0 failed, 5 data tests" in capsys.readouterr().out
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"case": {"as_of": "2026-04-01", "organisation": {}}, "expect": {"eligibility": {"eligible": True}}}))
    (tmp_path / "broken.yaml").write_text("case: [unclosed\n")
    assert data_tests.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL wrong.json::wrong" in out and "eligibility.eligible: expected true, got false" in out
    assert "FAIL broken.yaml::broken" in out and "not valid YAML" in out
    assert data_tests.main([str(tmp_path / "missing")]) == 2
    (tmp_path / "empty").mkdir()
    assert data_tests.main([str(tmp_path / "empty")]) == 2


def test_a_bad_case_in_a_data_test_is_an_error_naming_the_field(tmp_path):
    (tmp_path / "bad.yaml").write_text("case: {organisation: {annual_turnover: '-1.00'}}\nexpect: {}\n")
    [result] = data_tests.run_data_tests(tmp_path)
    assert not result.passed and "ValidationError" in result.error and "annual_turnover" in result.error


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_save_example_pins_a_decision_that_then_passes(tmp_path, suffix):
    case = {"as_of": "2026-04-01", "organisation": COMPLIANT, "service": {"works_with_children": False, "works_with_vulnerable_adults": False}}
    decision = cr.evaluate(case)
    path = data_tests.save_example(case, decision, tmp_path / f"pinned{suffix}", description="pinned")
    [test] = data_tests.load_data_tests(tmp_path)
    assert test.expect["eligibility"]["eligible"] is True
    assert {"criterion": "financial_systems", "status": "met"} in test.expect["eligibility"]["criteria"]
    assert not set(test.expect) & {"engine", "policy", "findings", "parameters", "as_of"}
    assert test.expect["advisories"] == []
    assert data_tests.run_data_tests(path)[0].passed


def test_pytest_collects_data_test_files_with_the_plugin(pytester):
    shutil.copy(DATA / "gate_turnover_at_threshold.yaml", pytester.path / "test_threshold.yaml")
    shutil.copy(DATA / "gate_sole_trader.yaml", pytester.path / "test_sole_trader.yaml")
    (pytester.path / "test_wrong.json").write_text(
        json.dumps({"name": "wrong", "case": {"as_of": "2026-04-01", "organisation": {}}, "expect": {"eligibility": {"eligible": True}}})
    )
    result = pytester.runpytest("-p", "commissioning_rules.testing.data_tests")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*eligibility.eligible: expected true, got false*"])


# --- rule coverage ----------------------------------------------------------------------------------------


def test_coverage_counts_findings_and_lists_rules_never_fired():
    collected = coverage.RuleCoverage()
    collected.add(cr.evaluate({"as_of": "2026-04-01", "organisation": COMPLIANT}))
    never = collected.never_fired()
    assert "management.constitution.met" not in never.get("organisation_criteria", [])
    assert "management.constitution.not_met" in never["organisation_criteria"]
    report = collected.report()
    assert "Rule coverage over 1 evaluations" in report and "never fired: management.constitution.not_met (3.5.1)" in report
    data = collected.as_dict()["rulesets"]["organisation_criteria"]
    assert "management.constitution.met" in data["fired"]


def test_collect_records_every_evaluation_however_evaluate_is_called():
    from commissioning_rules.evaluate import evaluate as evaluate_directly

    with coverage.collect() as collected:
        cr.evaluate({"as_of": "2026-04-01", "organisation": COMPLIANT}, engine="reference")
        evaluate_directly({"as_of": "2026-04-01", "organisation": {"kind": "individual"}})
    assert collected.evaluations == 2
    assert collected.counts["management.constitution.not_applicable"] == 1
    cr.evaluate({"as_of": "2026-04-01", "organisation": COMPLIANT})
    assert collected.evaluations == 2  # recording stops with the block
    assert collected not in coverage._collectors
    if not coverage._collectors:  # (a session-wide --rule-coverage collector keeps recording)
        assert Policy.engine is not coverage._recording_engine


def test_the_projects_data_tests_and_generated_cases_fire_every_rule():
    with coverage.collect(DEFAULT) as collected:
        assert all(r.passed for r in data_tests.run_data_tests(DATA))
        # Whole cases (every part present), generated cases, and awards raised through every band and complexity.
        for case in gathered(crst.cases(require=case_models.CASE_PARTS), 500):
            cr.evaluate(case, engine="reference")
        # A delivery row the generated cases reach only by chance (3.4.1: a partnership although capacity is full).
        cr.evaluate({"as_of": "2026-04-01", "delivery": {
            "council_capacity": "full", "self_delivery_most_efficient": False, "outcomes_need_partners": False,
            "joint_commissioning_adds_value": True, "appropriate_partnership_exists": True}}, engine="reference")
        for name in ("complete", "monitoring_never_lighter"):
            same_cases_every_run = properties.default_settings(150, derandomize=True)
            result = properties.check(name, DEFAULT, settings=same_cases_every_run)
            assert result.violation is None
    assert collected.never_fired() == {}, collected.report()


def test_the_pytest_plugin_reports_rule_coverage_and_strict_fails_on_rules_never_fired(pytester):
    pytester.makepyfile(
        test_one="""
        import commissioning_rules as cr

        def test_one():
            cr.evaluate({"as_of": "2026-04-01", "organisation": {}})
        """
    )
    report = pytester.runpytest("-p", "commissioning_rules.testing.coverage", "--rule-coverage")
    report.assert_outcomes(passed=1)
    report.stdout.fnmatch_lines(["*rule coverage*", "*organisation_criteria (3.5.1): * rules fired*", "*never fired: *"])
    assert report.ret == 0
    strict = pytester.runpytest("-p", "commissioning_rules.testing.coverage", "--rule-coverage=strict")
    assert strict.ret == 1
