"""Same case, policy and date ⇒ same bytes, whatever the clock does and however threads interleave.

durable_rules' stock action loop gives up on a session once 10 s of local wall-clock time have passed since an
action began (engine/durable.py's docstring). The clock-step tests move that clock, deterministically, at every
point of an evaluation; the stress test releases many threads at once with a very short switch interval, on
both engines and three policies, and compares every Decision with a sequential run.
"""

from __future__ import annotations

import itertools
import json
import random
from importlib.resources import files

import pytest
from hypothesis import HealthCheck, Phase, given, settings

import commissioning_rules as cr
from commissioning_rules.engine import durable_available
from commissioning_rules.testing import strategies
from commissioning_rules.testing.threads import released_together
from gate_cases import AVAILABLE_ENGINES

needs_durable = pytest.mark.skipif(not durable_available(), reason="durable-rules does not import on this Python")

EXAMPLES = files("commissioning_rules.examples")
LUNCH_CLUB = json.loads(EXAMPLES.joinpath("community_lunch_club.json").read_text())


def _stepped_clock(real, at: int, step: float):
    """A stand-in for durable's ``_unix_now``: true time for the first ``at`` calls, then ``step`` seconds off."""
    calls = itertools.count()
    return lambda: real() + (step if next(calls) >= at else 0.0)


def _clock_reads(monkeypatch, evaluation) -> int:
    from durable import engine as durable_engine

    real, calls = durable_engine._unix_now, itertools.count()
    monkeypatch.setattr(durable_engine, "_unix_now", lambda: (next(calls), real())[1])
    evaluation()
    monkeypatch.setattr(durable_engine, "_unix_now", real)
    return next(calls)


@needs_durable
@pytest.mark.parametrize("step", [11.0, 3600.0, -3600.0], ids=["11s-ahead", "dst-ahead", "dst-back"])
def test_a_clock_step_at_any_point_gives_the_same_decision(monkeypatch, step):
    from durable import engine as durable_engine

    def evaluation():
        return cr.evaluate(LUNCH_CLUB, engine="durable-rules").model_dump_json()

    expected = evaluation()
    # Our action loop reads no clock (it builds no Closure): the step is then in force for the whole evaluation.
    reads = _clock_reads(monkeypatch, evaluation)
    real = durable_engine._unix_now
    for at in range(reads + 1):
        monkeypatch.setattr(durable_engine, "_unix_now", _stepped_clock(real, at, step))
        assert evaluation() == expected, f"clock stepped {step:+} s at read {at}"


@needs_durable
def test_an_evaluation_durable_did_not_finish_is_an_engine_error(monkeypatch):
    """With durable's stock loop put back, a forward step drops the session's remaining actions: every such run
    must raise EngineError, never return a Decision built from part of the firings."""
    from durable import engine as durable_engine

    from commissioning_rules.engine import durable

    def evaluation():
        return cr.evaluate(LUNCH_CLUB, engine="durable-rules").model_dump_json()

    expected = evaluation()
    monkeypatch.setattr(durable._SynchronousRuleset, "_flush_actions", durable_engine.Ruleset._flush_actions)
    reads = _clock_reads(monkeypatch, evaluation)
    real = durable_engine._unix_now
    outcomes = []
    for at in range(reads):
        monkeypatch.setattr(durable_engine, "_unix_now", _stepped_clock(real, at, 11.0))
        try:
            got = evaluation()
        except durable.EngineError as error:
            assert "returned before running every action" in str(error)
            outcomes.append("refused")
        else:
            assert got == expected, f"a different Decision with the clock stepped at read {at}"
            outcomes.append("same")
    assert "refused" in outcomes  # the stock loop really does give up, and it is caught
    assert cr.Policy.default().engine("durable-rules").live_sessions() == []


# --- many threads at once -----------------------------------------------------------------------------------

THREADS = 64
CASES_PER_POLICY = 40


def _generated_cases(policy: cr.Policy, n: int) -> list[cr.Case]:
    """``n`` whole cases drawn from the testing kit's strategies, the same ones on every run."""
    drawn: list[cr.Case] = []

    @settings(max_examples=n, derandomize=True, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategies.cases(policy))
    def collect(case):
        drawn.append(case)

    collect()
    return drawn[:n]


def _policies(tmp_path) -> dict[str, cr.Policy]:
    council = EXAMPLES.joinpath("council-policy.yaml").read_text()
    lower = council.replace('value: "10000.00"', 'value: "7500.00"')
    assert lower != council
    path = tmp_path / "council-7500.yaml"
    path.write_text(lower)
    council_path = tmp_path / "council.yaml"
    council_path.write_text(council)
    return {
        "default": cr.Policy.default(),
        "council": cr.Policy.from_file(council_path),
        "council £7,500": cr.Policy.from_file(path),
    }


def test_threads_released_together_agree_with_a_sequential_run(tmp_path):
    policies = _policies(tmp_path)
    rng = random.Random(12)
    work = [
        (case, policy, rng.choice(AVAILABLE_ENGINES))
        for policy in policies.values()
        for case in _generated_cases(policy, CASES_PER_POLICY)
    ]
    work = [entry for _ in range(2) for entry in work]  # every case twice, in different threads
    rng.shuffle(work)

    def run(entry):
        case, policy, engine = entry
        return cr.evaluate(case, policy=policy, engine=engine).model_dump_json()

    expected = [run(entry) for entry in work]
    got = released_together(work, run, threads=THREADS)
    assert [g for g in got if isinstance(g, BaseException)] == []
    mismatches = [i for i in range(len(work)) if got[i] != expected[i]]
    assert mismatches == [], f"{len(mismatches)} of {len(work)} Decisions differ from the sequential run"
    if durable_available():
        assert policies["default"].engine("durable-rules").live_sessions() == []
