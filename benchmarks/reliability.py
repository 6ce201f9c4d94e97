"""Reliability figures for docs/reliability.md: threads, clock steps, hostile cases and files, durable's tables.

    python benchmarks/reliability.py [--threads 128] [--cases 20] [--seed 12]

Prints Markdown tables (the page's figures come from one run of this script):

1. **Threads**: ``--threads`` threads released together by a barrier, with ``sys.setswitchinterval(1e-6)``, each
   evaluating ``--cases`` whole cases generated for each of three policies (the default, the example council
   file, and that file with a £7,500 accounts threshold) on a random engine; every Decision compared, byte for
   byte, with a sequential run of the same work.
2. **Clock steps**: durable's wall clock stepped (+11 s, +1 h, -1 h) at every point it is read during an
   evaluation of the lunch-club example: the Decisions that differ from the unstepped one.
3. **Hostile cases**: malformed inputs through ``evaluate`` and through a batch line, and how each ended.
4. **Hostile policy files**: each refused how, and in what time.
5. **durable's tables**: the limits, and what a policy past each gets.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import tempfile
import time
from importlib.resources import files

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from pydantic import ValidationError

import commissioning_rules as cr
from commissioning_rules.batch import evaluate_lines
from commissioning_rules.engine import ENGINES, durable_available
from commissioning_rules.policy_file import PolicyFileError
from commissioning_rules.testing import strategies
from commissioning_rules.testing.threads import released_together

EXAMPLES = files("commissioning_rules.examples")
LUNCH_CLUB = json.loads(EXAMPLES.joinpath("community_lunch_club.json").read_text("utf-8"))
ENGINES_HERE = [e for e in ENGINES if e != "durable-rules" or durable_available()]


def _policies(folder: str) -> dict[str, cr.Policy]:
    council = EXAMPLES.joinpath("council-policy.yaml").read_text("utf-8")
    paths = {}
    for name, text in (("council", council), ("council £7,500", council.replace('value: "10000.00"', 'value: "7500.00"'))):
        paths[name] = os.path.join(folder, f"{len(paths)}.yaml")
        with open(paths[name], "w", encoding="utf-8") as handle:
            handle.write(text)
    return {"default": cr.Policy.default(), **{name: cr.Policy.from_file(path) for name, path in paths.items()}}


def _generated(policy: cr.Policy, n: int, seed: int) -> list[cr.Case]:
    drawn: list[cr.Case] = []

    @settings(max_examples=n, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategies.cases(policy))
    def collect(case):
        drawn.append(case)

    random.seed(seed)
    collect()
    return drawn[:n]


def threads(count: int, cases: int, seed: int, folder: str) -> list[str]:
    policies = _policies(folder)
    rng = random.Random(seed)
    work = [(case, policy, rng.choice(ENGINES_HERE)) for policy in policies.values()
            for case in _generated(policy, count * cases // len(policies) + 1, seed)][: count * cases]
    rng.shuffle(work)

    def run(entry):
        case, policy, engine = entry
        return cr.evaluate(case, policy=policy, engine=engine).model_dump_json()

    expected = [run(entry) for entry in work]
    started = time.perf_counter()
    got = released_together(work, run, threads=count)
    elapsed = time.perf_counter() - started
    failures = [f"{type(g).__name__}: {g}" for g in got if isinstance(g, Exception)]
    mismatches = sum(1 for a, b in zip(got, expected) if not isinstance(a, Exception) and a != b)
    per_engine = {e: sum(1 for _, _, engine in work if engine == e) for e in ENGINES_HERE}
    return [
        "| threads | evaluations | per engine | policies | exceptions | Decisions differing from the sequential run | time |",
        "|---|---|---|---|---|---|---|",
        f"| {count} | {len(work):,} | {', '.join(f'{e} {n:,}' for e, n in per_engine.items())} | {len(policies)} "
        f"| {len(failures)} | {mismatches} | {elapsed:.1f} s |",
    ]


def clock_steps() -> list[str]:
    if not durable_available():
        return ["(durable-rules does not import on this Python: nothing reads a clock)"]
    from durable import engine as durable_engine

    real = durable_engine._unix_now
    expected = cr.evaluate(LUNCH_CLUB, engine="durable-rules").model_dump_json()
    reads = itertools.count()
    durable_engine._unix_now = lambda: (next(reads), real())[1]
    cr.evaluate(LUNCH_CLUB, engine="durable-rules")
    positions = next(reads)
    rows = ["| step | clock reads stepped at | identical Decisions | other outcomes |", "|---|---|---|---|"]
    try:
        for step in (11.0, 3600.0, -3600.0):
            same, other = 0, []
            for at in range(positions + 1):
                calls = itertools.count()
                durable_engine._unix_now = lambda: real() + (step if next(calls) >= at else 0.0)  # noqa: B023
                try:
                    outcome = cr.evaluate(LUNCH_CLUB, engine="durable-rules").model_dump_json()
                except Exception as error:  # noqa: BLE001
                    other.append(type(error).__name__)
                else:
                    same += outcome == expected
                    if outcome != expected:
                        other.append("a different Decision")
            rows.append(f"| {step:+g} s | {positions + 1} | {same} | {', '.join(other) or 'none'} |")
    finally:
        durable_engine._unix_now = real
    return rows


def _nested(value, depth: int):
    for _ in range(depth):
        value = [value]
    return value


HOSTILE_CASES = [
    ("a list nested 1,000 deep in an enum field", {"organisation": {"kind": _nested("charity", 1000)}}),
    ("objects nested 5,000 deep", {"departure": _nested({}, 5000)}),
    ("money as a float 5000.5", {"organisation": {"annual_turnover": 5000.5}}),
    ("money as NaN", {"organisation": {"annual_turnover": float("nan")}}),
    ("money as a 5,000-digit string", {"organisation": {"annual_turnover": "9" * 5000}}),
    ("money with an exponent '5e3'", {"organisation": {"annual_turnover": "5e3"}}),
    ("a date '20260401'", {"as_of": "20260401"}),
    ("a date '2026-W14-3'", {"as_of": "2026-W14-3"}),
    ("a date and time", {"as_of": "2026-04-01T10:00:00"}),
    ("a boolean as 'yes'", {"organisation": {"employs_staff": "yes"}}),
    ("an unknown field", {"organisation": {"shoe_size": 9}}),
    ("10,000 additional criteria with one id", {"service": {"additional_criteria": [{"id": "a", "description": "d", "met": True}] * 10_000}}),
]
HOSTILE_LINES = [
    ("JSON nested 100,000 deep", "[" * 100_000 + "]" * 100_000),
    ("JSON 5000.5 for money", '{"organisation": {"annual_turnover": 5000.5}}'),
    ("JSON 5e3 for money", '{"organisation": {"annual_turnover": 5e3}}'),
    ("JSON NaN", '{"organisation": {"annual_turnover": NaN}}'),
    ("a repeated key", '{"as_of": "2026-04-01", "as_of": "2027-04-01"}'),
    ("bytes that are not UTF-8", b'{"organisation": {"name": "\xff"}}'),
    ("a 5,000-digit integer", '{"organisation": {"annual_turnover": ' + "9" * 5000 + "}}"),
    ("an empty line", ""),
]


def hostile_cases() -> list[str]:
    rows = ["| input | through | ended as | field named | time |", "|---|---|---|---|---|"]
    for label, case in HOSTILE_CASES:
        started = time.perf_counter()
        try:
            cr.evaluate(case, engine="reference")
            ended, field = "evaluated (a Decision)", ""
        except ValidationError as error:
            ended, field = "ValidationError", ".".join(map(str, error.errors()[0]["loc"])) or "(the case)"
        except Exception as error:  # noqa: BLE001 -- shown: anything here would be a bug
            ended, field = f"**{type(error).__name__}**", ""
        rows.append(f"| {label} | `evaluate` | {ended} | {field} | {(time.perf_counter() - started) * 1e3:.1f} ms |")
    for label, line in HOSTILE_LINES:
        started = time.perf_counter()
        [outcome] = evaluate_lines([line], engine="reference")
        kind = getattr(outcome, "kind", "a Decision")
        field = getattr(outcome, "field", "") or ""
        rows.append(f"| {label} | `batch` line | error record `{kind}` | {field} | {(time.perf_counter() - started) * 1e3:.1f} ms |")
    return rows


def _bombs() -> list[tuple[str, bytes]]:
    laughs = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, 9):
        laughs += f"{chr(97 + i)}: &{chr(97 + i)} [{', '.join(['*' + chr(96 + i)] * 9)}]\n"
    value = "{effective_from: 2024-04-01, value: %s, source: s}"
    layered = "name: x\nparameters:\n  %s:\n    values:\n      - " + value + "\n"
    return [
        ("billion laughs (9 levels of 9 aliases)", (laughs + "name: x\n").encode()),
        ("a 100 MB file", b"name: x\n# " + b"x" * (100 * 2**20) + b"\n"),
        ("lists nested 100,000 deep", b"name: x\nrules: " + b"[" * 100_000 + b"]" * 100_000 + b"\n"),
        ("lists nested 33 deep", b"name: x\nrules: " + b"[" * 33 + b"]" * 33 + b"\n"),
        ("a 29-digit amount", (layered % ("accounts_threshold", '"' + "9" * 29 + '.00"')).encode()),
        ("a 5,000-digit amount", (layered % ("accounts_threshold", '"' + "9" * 5000 + '"')).encode()),
        ("a 5,000-digit integer", (layered % ("notice_ordinary_months", "9" * 5000)).encode()),
        ("Latin-1 bytes", "name: Café\n".encode("latin-1")),
        ("a parameter named __class__",
         b"name: x\nparameters:\n  __class__: {description: d, unit: GBP, section: s, values: ["
         + (value % "'1.00'").encode() + b"]}\n"),
    ]


def hostile_policy_files(folder: str) -> list[str]:
    rows = ["| policy file | ended as | names | time |", "|---|---|---|---|"]
    cr.Policy.default()  # built once, so the times below are the file's own
    for label, content in _bombs():
        path = os.path.join(folder, "hostile.yaml")
        with open(path, "wb") as handle:
            handle.write(content)
        started = time.perf_counter()
        try:
            cr.Policy.from_file(path)
            ended, names = "**accepted**", ""
        except PolicyFileError as error:
            ended = f"PolicyFileError: {error.expected}"
            names = f"the file, line {error.line}" if error.line else "the file"
        except Exception as error:  # noqa: BLE001 -- shown: anything here would be a bug
            ended, names = f"**{type(error).__name__}**", ""
        rows.append(f"| {label} | {ended} | {names} | {(time.perf_counter() - started) * 1e3:.0f} ms |")
    return rows


def durable_tables(folder: str) -> list[str]:
    if not durable_available():
        return ["(durable-rules does not import on this Python)"]
    from commissioning_rules.engine import durable

    rows = ["| table | limit | a policy past it |", "|---|---|---|"]
    rules = [{"id": f"local.r{i}", "ruleset": "organisation_criteria", "section": "L 1", "source": "s",
              "when": {"all_of": [{"eq": {"organisation.kind": "charity"}}, {"gt": {"organisation.annual_turnover": f"{100 + i}.00"}}]},
              "then": {"topic": "management", "outcome": "met"}, "because": "b"} for i in range(64)]
    path = os.path.join(folder, "grown.yaml")
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"name": "Grown", "rules": rules}, handle)
    grown = cr.Policy.from_file(path)
    try:
        cr.evaluate(LUNCH_CLUB, policy=grown, engine="durable-rules")
        outcome = "**evaluated**"
    except durable.EngineError as error:
        outcome = f"EngineError when the engine is built: “{str(error)[:160]}…”"
    rows.append(f"| MAX_STACK_SIZE (matched conditions waiting) | {durable.MAX_MATCH_STACK} | 64 added rules on the case "
                f"(which aborted the process): {outcome} |")
    rows.append(f"| BETA_LIST_LENGTH (rules ending at one condition) | {durable.MAX_RULES_AT_ONE_NODE} | EngineError when built |")
    rows.append(f"| MAX_OBJECT_PROPERTIES (keys of one fact) | {durable.MAX_FACT_KEYS} | EngineError when built "
                f"(more than {durable.MAX_FACT_KEYS - 3} parameters cited) |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=128)
    parser.add_argument("--cases", type=int, default=20, help="evaluations per thread")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d')}; engines: {', '.join(ENGINES_HERE)}\n")
    with tempfile.TemporaryDirectory() as folder:
        for title, rows in (
            ("Threads", lambda: threads(args.threads, args.cases, args.seed, folder)),
            ("Clock steps (durable's wall clock)", clock_steps),
            ("Hostile cases", hostile_cases),
            ("Hostile policy files", lambda: hostile_policy_files(folder)),
            ("durable-rules' tables", lambda: durable_tables(folder)),
        ):
            print(f"## {title}\n")
            print("\n".join(rows()), end="\n\n", flush=True)


if __name__ == "__main__":
    main()
