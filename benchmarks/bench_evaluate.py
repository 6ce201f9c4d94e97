"""Speed of evaluate(), reported as ratios measured in one run (machines are noisy; compare ratios, not seconds).

    python benchmarks/bench_evaluate.py [--cases N] [--repeat R] [--batch 20000 [--workers 2]]

Measures, on the same deterministic cases (gate cases: organisation and service; whole cases: every part),
each from JSON-shaped data: validation alone (the floor: ``Case.model_validate``); ``evaluate`` (a Decision
with its outcomes); ``evaluate`` + ``model_dump_json()`` (the explained JSON: every reason and finding, each rule
cited by id and section) and + ``to_json(sources=True)`` (each finding quoting its sentence too); ``evaluate`` +
``explain()``; ``evaluate`` on each engine; and two floors no evaluation can go below (validation and the match
alone; validation and the JSON of a finished Decision alone). Every figure is the CPU time of the best of R timed passes over N
cases (CPU time, so other work on a shared machine does not count), after one warm-up pass, with each result
dropped as it is made; ratios are to validation in the same run.
``--batch N`` also times ``batch`` (JSONL lines in, JSON lines out) with 1 and ``--workers`` processes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time

import commissioning_rules as cr
from commissioning_rules.engine import default_engine, durable_available
from commissioning_rules.models.case import Accounts, BusinessPlan, InsuranceCover, Organisation, OrganisationKind

FLAGS = [n for n, f in Organisation.model_fields.items() if "bool" in str(f.annotation).lower()]


def _whole_case(rng: random.Random) -> dict:
    """Every other part of the vocabulary, so every rule set runs."""
    flag = lambda: rng.random() < 0.5  # noqa: E731
    money = lambda: rng.choice(["0", "24999.99", "25000.00", "100000.00", "100000.01", "250000.00"])  # noqa: E731
    return {
        "options": [
            {"name": f"option {i}", "whole_life_cost": money(), "economic_value": money(), "social_value": money(),
             "environmental_value": "0", "meets_required_outcomes": flag()}
            for i in range(3)
        ],
        "delivery": {"council_capacity": rng.choice(["full", "reduced", "none"]), "self_delivery_most_efficient": flag(),
                     "outcomes_need_partners": flag(), "joint_commissioning_adds_value": flag(),
                     "appropriate_partnership_exists": flag()},
        "provision": {"for_council_direct_benefit": flag(), "funds_available": flag(),
                      "in_kind_resource": rng.choice(["none", "accommodation", "equipment", "other"]),
                      "funding_purpose": rng.choice(["specific_project", "core_costs", "overall_activities"]),
                      "aligned_to_council_outcomes": flag()},
        "award": {"route": rng.choice(["procurement", "grant", "grant_in_kind"]), "value": money(),
                  "complexity": rng.choice(["low", "medium", "high"]), "time_limited": flag(),
                  "provider_tools": rng.sample(["outcome_star", "soul", "other_robust"], rng.randint(0, 2))},
        "review": {"outcomes_met": rng.choice(["met", "partly", "not_met"]), "need_continues": flag(),
                   "still_a_priority": flag(), "better_route_available": flag(), "notice_served_on": "2026-11-30"},
        "departure": {"reason": rng.choice(["legislation", "funding_guidelines", "other"]), "documented": flag()},
    }


def make_cases(n: int, seed: int = 2014, whole: bool = False) -> list[dict]:
    """``n`` deterministic cases: the gate (organisation and service), or with ``whole`` every part of a case."""
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        organisation = {flag: rng.random() < 0.85 for flag in FLAGS}
        organisation.update(
            kind=rng.choice(list(OrganisationKind)).value,
            annual_turnover=rng.choice(["0", "4999.99", "5000.00", "5000.01", "18250.00", "250000.00"]),
            accounts=rng.choice(list(Accounts)).value,
            business_plan=rng.choice(list(BusinessPlan)).value,
            insurance=[c.value for c in InsuranceCover if rng.random() < 0.8],
        )
        service = {
            "works_with_children": rng.random() < 0.5,
            "works_with_vulnerable_adults": rng.random() < 0.5,
            "additional_criteria": [{"id": "quality", "description": "Quality mark", "met": rng.random() < 0.9}],
        }
        case = {"as_of": "2026-04-01", "organisation": organisation, "service": service}
        cases.append({**case, **_whole_case(rng)} if whole else case)
    return cases


def best_of(repeat: int, step, items) -> float:
    """The best of ``repeat`` timed passes of ``step`` over ``items`` (CPU time of this process), after a warm-up pass. Each result is
    dropped as soon as it is made (a retained list makes the garbage collector walk a growing heap)."""
    for item in items:
        step(item)  # warm-up: compiles the policy for the engine, fills caches
    timings = []
    for _ in range(repeat):
        start = time.process_time()  # CPU time: what the work costs, not how long others kept the core
        for item in items:
            step(item)
        timings.append(time.process_time() - start)
    return min(timings)


def variants(engines: list[str]) -> dict[str, object]:
    """What is timed, each a function of one case as JSON-shaped data (what a caller or a batch line gives)."""
    chosen = {
        "validation alone (Case.model_validate)": cr.Case.model_validate,
        "evaluate: Decision with outcomes": cr.evaluate,
        "evaluate + model_dump_json (the explained JSON)": lambda c: cr.evaluate(c).model_dump_json(),
        "evaluate + to_json(sources=True) (with the sentences quoted)": lambda c: cr.evaluate(c).to_json(sources=True),
        "evaluate + explain()": lambda c: cr.evaluate(c).explain(),
    }
    for engine in engines:
        chosen[f"evaluate, {engine} engine"] = lambda c, engine=engine: cr.evaluate(c, engine=engine)
    return chosen


def floors(repeat: int, cases: list[dict]) -> dict[str, float]:
    """What no ``evaluate`` can go below, timed as the variants are: validation followed by nothing but the
    compiled engine's match (reading the case into facts, choosing the rule sets, resolving their parameters,
    matching their rules: no Decision at all), and validation followed by nothing but ``model_dump_json`` of the
    case's Decision already worked out (the serialisation alone, with no evaluation and no words to work out).

    The finished Decisions are made first and frozen out of the garbage collector's walks (``gc.freeze``), so
    keeping them for the pass does not slow it; they are dropped and unfrozen afterwards."""
    import gc

    from commissioning_rules.evaluate import _match

    policy = cr.Policy.default()
    done = {}
    for case in cases:
        decision = done[id(case)] = cr.evaluate(case)
        decision.model_dump_json()  # its words worked out
    gc.freeze()
    try:
        def match(case: dict) -> None:
            model = cr.Case.model_validate(case)
            _match(model, policy, model.as_of, "compiled")

        def serialise(case: dict) -> None:
            cr.Case.model_validate(case)
            done[id(case)].model_dump_json()

        return {
            "floor: validation + the engine's match, no Decision": best_of(repeat, match, cases),
            "floor: validation + model_dump_json of a finished Decision": best_of(repeat, serialise, cases),
        }
    finally:
        done.clear()
        gc.unfreeze()


def batch_scaling(n: int, workers: int) -> None:
    """``batch`` on ``n`` whole cases as JSONL, ``--workers 1`` then ``--workers N``: wall-clock ratio, with the CPU
    time of this (the parent) process and of the worker processes, so a machine too busy to scale shows as such.

    As ``commissioning-rules batch`` runs it: lines in, JSON lines out (written in the workers), in order, each
    result dropped as it comes. ``--workers 1`` evaluates in this process; more fork worker processes on Linux
    (each compiles the policy once, before its first chunk)."""
    from commissioning_rules.batch import evaluate_lines

    lines = [json.dumps(c).encode() for c in make_cases(n, whole=True)]
    rows = {}
    for w in (1, workers):
        start, cpu, children = time.perf_counter(), time.process_time(), os.times()
        for _ in evaluate_lines(lines, workers=w, as_json=True):
            pass
        wall = time.perf_counter() - start
        ended = os.times()  # the workers have ended (the pool is shut down): their CPU time is counted here
        rows[w] = (wall, time.process_time() - cpu,
                   ended.children_user + ended.children_system - children.children_user - children.children_system)
    print(f"\n| batch of {n:,} whole cases (JSONL in, JSON lines out) | wall clock | cases/s | CPU, this process | CPU, workers |")
    print("|---|---|---|---|---|")
    for w, (wall, parent, worker) in rows.items():
        print(f"| --workers {w} | {wall:,.1f} s | {n / wall:,.0f} | {parent:,.1f} s | {worker:,.1f} s |")
    print(f"| --workers {workers} ÷ --workers 1 speed-up | {rows[1][0] / rows[workers][0]:.2f}× | | | |")
    if os.cpu_count() and os.getloadavg()[0] > os.cpu_count() / 2:
        print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: other work shares the cores, "
              "so the speed-up says little about scaling)")


def _zen_expression(condition, parameters: dict) -> str:
    """A rule condition in Zen's expression language, parameters written in as the values in force."""
    from commissioning_rules.engine.rule import AllOf, Compare, Param
    from commissioning_rules.engine.values import encode

    if isinstance(condition, Compare):
        operand = condition.operand
        value = parameters[operand.name] if isinstance(operand, Param) else encode(operand)
        symbol = {"eq": "==", "neq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[condition.operator]
        return f"{condition.path} {symbol} {json.dumps(value)}"
    joiner = " and " if isinstance(condition, AllOf) else " or "
    return "(" + joiner.join(_zen_expression(c, parameters) for c in condition.conditions) + ")"


def zen_side_by_side(n: int, repeat: int) -> None:
    """The 3.5.1 gate as a GoRules Zen decision graph (one expression per rule, from the same rule data) against
    this library on the same gate cases: matching alone, and the whole ``evaluate``."""
    try:
        import zen
    except ImportError:
        print("\n(zen-engine is not installed: `pip install zen-engine` adds the Zen side-by-side)")
        return
    import datetime as dt

    from commissioning_rules.engine.values import nested
    from commissioning_rules.evaluate import _match, _parameters
    from commissioning_rules.rules import organisation_criteria

    policy = cr.Policy("gate", (organisation_criteria.RULESET,), cr.Policy.default().parameters)
    as_of = dt.date(2026, 4, 1)
    encoded = _parameters(policy, (0,), as_of).encoded
    case_rules = [(i, r) for i, r in enumerate(policy.rules) if r.subject == "case"]
    expressions = [{"id": f"e{i}", "key": f"r{i}", "value": _zen_expression(r.when, encoded)} for i, r in case_rules]
    graph = {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "case", "position": {"x": 0, "y": 0}},
            {"id": "rules", "type": "expressionNode", "name": "3.5.1", "position": {"x": 1, "y": 0},
             "content": {"expressions": expressions}},
            {"id": "out", "type": "outputNode", "name": "fired", "position": {"x": 2, "y": 0}},
        ],
        "edges": [{"id": "a", "sourceId": "in", "targetId": "rules", "type": "edge"},
                  {"id": "b", "sourceId": "rules", "targetId": "out", "type": "edge"}],
    }
    decision = zen.ZenEngine().create_decision(json.dumps(graph))
    cases = [cr.Case.model_validate(c) for c in make_cases(n)]
    matched = [_match(c, policy, as_of, "compiled") for c in cases]
    inputs = [nested(facts[0].values) for facts, *_ in matched]
    for (facts, _, _, fired), given in zip(matched, inputs):  # the graph is equivalent: same rules fire
        ours = sorted(r for r, f in fired if f == 0)
        theirs = sorted(int(k[1:]) for k, v in decision.evaluate(given)["result"].items() if v is True)
        assert ours == theirs, "the Zen graph is not equivalent to the rule set"
    engine = policy.engine("compiled")
    timings = {
        "validation alone (Case.model_validate)": best_of(repeat, cr.Case.model_validate, make_cases(n)),
        "Zen: evaluate the gate graph (input prepared)": best_of(repeat, decision.evaluate, inputs),
        "compiled engine: match the gate (facts prepared)": best_of(repeat, lambda f: engine.run(f, encoded),
                                                                    [facts for facts, *_ in matched]),
        "evaluate: Decision with outcomes": best_of(repeat, lambda c: cr.evaluate(c, policy=policy), make_cases(n)),
    }
    floor = timings["validation alone (Case.model_validate)"]
    print(f"\n| gate, {len(expressions)} rules, {n:,} cases | per case | × validation |")
    print("|---|---|---|")
    for name, seconds in timings.items():
        print(f"| {name} | {seconds / n * 1e6:,.1f} µs | {seconds / floor:,.2f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=0, metavar="N", help="also time batch on N whole cases")
    parser.add_argument("--workers", type=int, default=2, help="workers for --batch (against 1)")
    args = parser.parse_args()
    engines = ["compiled", "reference"] + (["durable-rules"] if durable_available() else [])
    print(f"# {args.cases} cases per mix, best of {args.repeat}; Python {platform.python_version()} on "
          f"{platform.machine()}, {os.cpu_count()} CPUs; default engine {default_engine()}")
    print("| cases | variant | per case | cases/s | × validation |")
    print("|---|---|---|---|---|")
    for label, whole in (("gate", False), ("whole", True)):
        cases = make_cases(args.cases, whole=whole)
        results = {name: best_of(args.repeat, step, cases) for name, step in variants(engines).items()}
        results.update(floors(args.repeat, cases))
        floor = results["validation alone (Case.model_validate)"]
        for name, seconds in results.items():
            per_case = seconds / len(cases)
            print(f"| {label} | {name} | {per_case * 1e6:,.1f} µs | {len(cases) / seconds:,.0f} | {seconds / floor:,.2f} |")
    zen_side_by_side(args.cases, args.repeat)
    if args.batch:
        batch_scaling(args.batch, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
