"""The command line, run as a real subprocess on files this test writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

import commissioning_rules as cr
from commissioning_rules.engine.rule import describe
from commissioning_rules.schema import schema_for

EXAMPLES = resources.files("commissioning_rules.examples")
GOOD_LINES = EXAMPLES.joinpath("cases.jsonl").read_text("utf-8").splitlines()
LUNCH_CLUB = json.loads(EXAMPLES.joinpath("community_lunch_club.json").read_text("utf-8"))
ENGINE = cr.evaluate(LUNCH_CLUB).engine  # the default engine here: every run below uses it
COMMANDS = ("evaluate", "batch", "schema", "rules", "check", "compare", "test", "demo")
COUNCIL_POLICY = str(EXAMPLES.joinpath("council-policy.yaml"))


def run(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "commissioning_rules.cli", *args],
        input=stdin, capture_output=True, text=True, encoding="utf-8", cwd=cwd, env=env, timeout=300,
    )


def decision_json(case: dict, **options) -> dict:
    return cr.evaluate(case, **options).model_dump(mode="json")


# --- evaluate ---------------------------------------------------------------------------------------


def test_evaluate_prints_the_decision_as_the_json_contract(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(LUNCH_CLUB), "utf-8")
    result = run("evaluate", str(path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == decision_json(LUNCH_CLUB)


def test_evaluate_reads_stdin_and_explains_in_text():
    result = run("evaluate", "-", "--format", "text", "--engine", "reference", stdin=json.dumps(LUNCH_CLUB))
    assert result.returncode == 0, result.stderr
    assert result.stdout == cr.evaluate(LUNCH_CLUB, engine="reference").explain()


def test_evaluate_applies_the_date_given(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(LUNCH_CLUB), "utf-8")
    result = run("evaluate", str(path), "--as-of", "2027-03-31")
    assert json.loads(result.stdout)["as_of"] == "2027-03-31"
    assert json.loads(result.stdout) == decision_json(LUNCH_CLUB, as_of="2027-03-31")


def test_a_rejected_case_names_its_field_and_exits_1(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"organisation": {"kind": "guild", "employs_staff": "yes"}}), "utf-8")
    result = run("evaluate", str(path))
    assert result.returncode == 1
    assert "organisation.kind" in result.stderr and "organisation.employs_staff" in result.stderr
    record = json.loads(result.stdout)["error"]
    assert {e["field"] for e in record["errors"]} == {"organisation.kind", "organisation.employs_staff"}


def test_a_case_that_is_not_json_exits_1(tmp_path):
    path = tmp_path / "case.json"
    path.write_text("{'organisation': {}}", "utf-8")
    result = run("evaluate", str(path), "--format", "text")
    assert result.returncode == 1
    assert "not valid JSON" in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [("evaluate", "no-such-case.json"), ("evaluate", "-", "--engine", "drools"), ("evaluate", "-", "--as-of", "31/03/2027"),
     ("batch", "no-such-cases.jsonl"), ("batch", "-", "--workers", "0"), ("schema", "invoice"), ("frobnicate",)],
)
def test_usage_and_file_errors_exit_2(args, tmp_path):
    result = run(*args, stdin="{}", cwd=tmp_path)
    assert result.returncode == 2
    assert "Error" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = run(command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"Usage: commissioning-rules {command}")
    assert "Exit status" in result.stdout


def test_the_top_level_help_lists_every_command_and_the_exit_statuses():
    result = run("--help")
    assert result.returncode == 0
    assert all(command in result.stdout for command in COMMANDS)
    assert "Exit status" in result.stdout


# --- batch ------------------------------------------------------------------------------------------

MIXED = [
    GOOD_LINES[0],
    "{this is not json",
    GOOD_LINES[1],
    json.dumps({"organisation": {"kind": "guild"}}),  # schema violation: not a kind
    "",
    json.dumps({"organisation": {"name": "x", "shoe_size": 9}}),  # schema violation: unknown field
    GOOD_LINES[2],
    '["a", "list"]',
    json.dumps({"award": {"route": "grant"}}),  # schema violation: missing value
    GOOD_LINES[3],
]
BAD_LINES = {2: None, 4: "organisation.kind", 5: None, 6: "organisation.shoe_size", 8: None, 9: "award.value"}


def test_a_mixed_batch_keeps_every_good_record_and_reports_every_bad_line(tmp_path):
    cases, out = tmp_path / "cases.jsonl", tmp_path / "decisions.jsonl"
    cases.write_text("\n".join(MIXED) + "\n", "utf-8")
    result = run("batch", str(cases), "-o", str(out))
    assert result.returncode == 1, result.stderr
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(records) == len(MIXED)
    for number, (line, record) in enumerate(zip(MIXED, records), start=1):
        if number in BAD_LINES:
            assert record["error"]["line"] == number
            assert record["error"]["field"] == BAD_LINES[number]
            assert f"line {number}:" in result.stderr
        else:
            assert record == decision_json(json.loads(line))
    assert result.stderr.strip().endswith(f"{len(MIXED) - len(BAD_LINES)} evaluated, {len(BAD_LINES)} rejected")
    assert "evaluating" not in result.stderr  # no progress bar when stderr is not a terminal


def test_a_clean_batch_exits_0_and_writes_to_stdout_by_default(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\r\n".join(GOOD_LINES), "utf-8")  # Windows line ends, no final newline
    result = run("batch", str(cases))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [decision_json(json.loads(c)) for c in GOOD_LINES]
    assert result.stderr.strip() == f"{len(GOOD_LINES)} evaluated, 0 rejected"


def test_batch_reads_stdin():
    result = run("batch", "-", "--engine", "reference", stdin="\n".join(GOOD_LINES[:2]) + "\n")
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 2 and json.loads(result.stdout.splitlines()[0])["engine"] == "reference"


def test_one_worker_and_two_workers_write_byte_identical_output(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(MIXED * 25) + "\n", "utf-8")  # 250 lines: several chunks per worker
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"decisions-{workers}.jsonl"
        result = run("batch", str(cases), "-o", str(out), "--workers", workers, "--as-of", "2026-04-01")
        assert result.returncode == 1, result.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert len(outputs[0].splitlines()) == 250


# --- schema, rules, check -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["case", "decision"])
def test_schema_prints_the_generated_schema(kind):
    result = run("schema", kind)
    assert result.returncode == 0
    assert json.loads(result.stdout) == schema_for(kind)


def test_schema_defaults_to_the_case():
    assert json.loads(run("schema").stdout) == schema_for("case")


def test_the_policy_schema_describes_a_policy_file():
    result = run("schema", "policy")
    assert result.returncode == 0
    assert json.loads(result.stdout)["required"] == ["name"]


def test_rules_lists_every_rule_with_its_source_and_condition_in_words():
    result = run("rules", "--format", "json")
    assert result.returncode == 0
    listed = {rule["id"]: rule for ruleset in json.loads(result.stdout)["rulesets"] for rule in ruleset["rules"]}
    policy = cr.Policy.default()
    assert list(listed) == [rule.id for rule in policy.rules]
    for rule in policy.rules:
        entry = listed[rule.id]
        assert (entry["section"], entry["source"], entry["condition"]) == (rule.section, rule.source, describe(rule.when))
        assert entry["parameters"] == sorted(rule.cites)
    assert "accounts_threshold" in json.loads(result.stdout)["parameters"]


def test_rules_as_text_quotes_every_source():
    result = run("rules")
    assert result.returncode == 0
    flat = " ".join(result.stdout.split())
    for rule in cr.Policy.default().rules:
        assert rule.id in flat and f'"{" ".join(rule.source.split())}"' in flat


def test_check_passes_the_default_and_the_example_council_policy_and_fails_a_broken_one(tmp_path):
    assert run("check").returncode == 0  # the default policy passes with zero findings
    assert run("check", "--policy", COUNCIL_POLICY).returncode == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "name: Broken\nrules:\n  - id: extra.never\n    ruleset: organisation_criteria\n    section: '9.9'\n"
        "    source: A sentence.\n    when: {all_of: [{is_true: organisation.employs_staff}, "
        "{is_false: organisation.employs_staff}]}\n    then: {topic: management, outcome: met}\n"
        "    because: never\n", "utf-8")
    result = run("check", "--policy", str(broken), "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "never_fires" in result.stdout


def test_a_council_policy_file_moves_the_accounts_boundary(tmp_path):
    case = {"as_of": "2026-04-01", "organisation": {**LUNCH_CLUB["organisation"], "annual_turnover": "7500.00",
                                                    "accounts": "unexamined"}, "service": LUNCH_CLUB["service"]}
    default = json.loads(run("evaluate", "-", "--format", "json", stdin=json.dumps(case)).stdout)
    council = json.loads(run("evaluate", "-", "--format", "json", "--policy", COUNCIL_POLICY, stdin=json.dumps(case)).stdout)
    status = lambda d: {c["criterion"]: c["status"] for c in d["eligibility"]["criteria"]}["financial_systems"]  # noqa: E731
    assert (status(default), status(council)) == ("not_met", "met")
    assert council["policy"]["name"] == "Example Borough Council commissioning policy"


def test_a_missing_or_malformed_policy_file_is_a_usage_error_naming_it(tmp_path):
    missing = run("evaluate", "-", "--policy", str(tmp_path / "ours.yaml"), stdin=json.dumps(LUNCH_CLUB))
    assert missing.returncode == 2 and "ours.yaml" in missing.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad\nparameters:\n  accounts_threshold: {values: [{effective_from: 2024-01-01}]}\n", "utf-8")
    result = run("batch", "-", "-o", str(tmp_path / "out.jsonl"), "--policy", str(bad), stdin="\n".join(GOOD_LINES))
    assert result.returncode == 2 and "bad.yaml" in result.stderr and "line" in result.stderr


def python_m(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "commissioning_rules", *args], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=300)


def test_python_dash_m_without_a_command_runs_the_demo_a_real_evaluation_of_the_bundled_example():
    plain = python_m()
    assert plain.returncode == 0 and plain.stdout == cr.evaluate(LUNCH_CLUB).explain()
    assert "demo" in plain.stderr
    assert run("demo", "--engine", "reference").stdout == cr.evaluate(LUNCH_CLUB, engine="reference").explain()


def test_python_dash_m_is_the_same_program_as_the_command(tmp_path):
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps({"organisation": {"kind": "charity", "anual_turnover": "5000.00"}}), "utf-8")
    comma = tmp_path / "comma.json"
    comma.write_text(json.dumps({"organisation": {"kind": "charity", "annual_turnover": "5,000"}}), "utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", "utf-8")
    good = json.dumps(LUNCH_CLUB)
    for args, stdin, status in [
        (("evaluate", str(typo)), None, 1),
        (("evaluate", str(comma)), None, 1),
        (("evaluate", str(broken)), None, 1),
        (("evaluate", str(tmp_path / "missing.json")), None, 2),
        (("evaluate", "-", "--format", "text"), good, 0),
    ]:
        module, command = python_m(*args, stdin=stdin), run(*args, stdin=stdin)
        assert (module.returncode, module.stdout, module.stderr) == (command.returncode, command.stdout, command.stderr)
        assert module.returncode == status and "Traceback" not in module.stderr, args


def test_a_case_file_given_where_a_command_belongs_is_pointed_at_evaluate(tmp_path):
    case = tmp_path / "case.json"
    case.write_text(json.dumps(LUNCH_CLUB), "utf-8")
    result = python_m(str(case))
    assert result.returncode == 2 and f"commissioning-rules evaluate {case} --format text" in result.stderr
    stdin = python_m("-", stdin=json.dumps(LUNCH_CLUB))
    assert stdin.returncode == 2 and "commissioning-rules evaluate - --format text" in stdin.stderr
    assert "Traceback" not in result.stderr + stdin.stderr


def test_batch_refuses_to_write_over_its_input(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(GOOD_LINES) + "\n", "utf-8")
    before = cases.read_bytes()
    result = run("batch", str(cases), "-o", str(cases))
    assert result.returncode == 2 and "is the input" in result.stderr
    assert cases.read_bytes() == before


def test_an_output_that_cannot_be_written_is_a_file_error_before_any_case(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(GOOD_LINES) + "\n", "utf-8")
    result = run("batch", str(cases), "-o", str(tmp_path / "no-such-folder" / "decisions.jsonl"))
    assert result.returncode == 2 and "Could not open file" in result.stderr
    assert "evaluated" not in result.stderr


def test_the_test_command_runs_data_tests_and_fails_on_a_wrong_expectation(tmp_path):
    passing = run("test", str(Path(__file__).parent / "data"))
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "0 failed" in passing.stdout
    (tmp_path / "test_wrong.yaml").write_text(
        "case:\n  as_of: 2026-04-01\n  organisation: {}\nexpect:\n  eligibility:\n    eligible: true\n", "utf-8"
    )
    failing = run("test", str(tmp_path))
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "test_wrong.yaml" in failing.stdout


# --- small frictions ------------------------------------------------------------------------------------


def test_a_pretty_printed_case_that_breaks_reports_the_line_in_its_own_file(tmp_path):
    path = tmp_path / "case.json"
    path.write_text('{\n  "organisation": {\n    "kind": "charity",\n    "annual_turnover" "5000.00"\n  }\n}\n', "utf-8")
    result = run("evaluate", str(path))
    assert result.returncode == 1 and json.loads(result.stdout)["error"]["line"] == 4
    assert "line 4" in result.stderr
    path.write_text(json.dumps({"organisation": {"kind": "guild"}}, indent=2), "utf-8")
    record = json.loads(run("evaluate", str(path)).stdout)["error"]
    assert record["line"] is None and record["field"] == "organisation.kind"  # the case as a whole: no line 1


def test_batch_ignores_blank_lines_at_the_end_but_not_between_cases():
    result = run("batch", "-", stdin="\n".join(GOOD_LINES[:2]) + "\n\n  \n\n")
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 2
    result = run("batch", "-", stdin=GOOD_LINES[0] + "\n\n" + GOOD_LINES[1] + "\n\n")
    assert result.returncode == 1 and json.loads(result.stdout.splitlines()[1])["error"]["kind"] == "empty_line"
    assert len(result.stdout.splitlines()) == 3


def test_check_prints_its_summary_on_stdout_in_text_mode():
    result = run("check")
    assert result.returncode == 0 and "0 findings in" in result.stdout and result.stderr == ""


def test_a_bad_policy_file_is_named_once(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nparamters: {}\n", "utf-8")
    result = run("check", "--policy", str(bad))
    assert result.returncode == 2 and result.stderr.count(str(bad)) == 1 and "did you mean 'parameters'" in result.stderr


# --- compare --------------------------------------------------------------------------------------------


def test_compare_lists_each_case_whose_decision_changes_by_line(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join([*GOOD_LINES, '{"organisation": {"kind": "guild"}}']) + "\n", "utf-8")
    expected = cr.compare([json.loads(line) for line in GOOD_LINES], cr.Policy.default(),
                          cr.Policy.from_file(COUNCIL_POLICY), engine=ENGINE)
    assert expected.differences  # the example council policy decides some of the example cases differently
    result = run("compare", str(cases), "--against", COUNCIL_POLICY, "--format", "json")
    assert result.returncode == 1
    record = json.loads(result.stdout)
    assert [d["line"] for d in record["differences"]] == [d.index + 1 for d in expected.differences]
    assert [d["changes"] for d in record["differences"]] == [
        [c.model_dump(mode="json") for c in d.changes] for d in expected.differences]
    assert [r["line"] for r in record["rejected"]] == [len(GOOD_LINES) + 1] and "organisation.kind" in result.stderr
    text = run("compare", str(cases), "--against", COUNCIL_POLICY)
    assert text.returncode == 1
    assert f"{len(expected.differences)} of {len(GOOD_LINES)} cases decided differently" in text.stdout
    first = expected.differences[0]
    named = first.label and first.label != f"case {first.index}"
    where = f"line {first.index + 1}, as of" if named else f"line {first.index + 1} (as of"
    assert where in text.stdout


def test_compare_of_a_policy_with_itself_finds_nothing_and_exits_0():
    result = run("compare", "-", "--policy", COUNCIL_POLICY, "--against", COUNCIL_POLICY, stdin="\n".join(GOOD_LINES))
    assert result.returncode == 0 and result.stdout.startswith(f"0 of {len(GOOD_LINES)} cases")


def test_a_case_without_as_of_is_evaluated_at_today_with_a_warning():
    undated = json.dumps({"organisation": {"kind": "charity"}})
    result = run("evaluate", "-", stdin=undated)
    assert result.returncode == 0 and json.loads(result.stdout)["as_of_source"] == "today"
    assert "warning: the case has no as_of" in result.stderr
    assert "warning" not in run("evaluate", "-", "--as-of", "2026-04-01", stdin=undated).stderr
    batch = run("batch", "-", stdin="\n".join([undated, GOOD_LINES[0], undated]))
    assert batch.returncode == 0 and "warning: 2 cases have no as_of" in batch.stderr
