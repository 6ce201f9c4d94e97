"""Speed of evaluate(), reported as ratios measured in one run (machines are noisy; compare ratios, not seconds).

    python benchmarks/bench_evaluate.py [--cases N] [--repeat R]

Measures, on the same deterministic mix of cases: validation alone (the floor: ``Case.model_validate``),
``evaluate`` on the reference interpreter, and ``evaluate`` on durable-rules (where it imports). Each figure is
the best of R timed passes over N cases, after one warm-up pass.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time

import commissioning_rules as cr
from commissioning_rules.engine import durable_available
from commissioning_rules.models.case import Accounts, BusinessPlan, InsuranceCover, Organisation, OrganisationKind

FLAGS = [n for n, f in Organisation.model_fields.items() if "bool" in str(f.annotation).lower()]


def make_cases(n: int, seed: int = 2014) -> list[dict]:
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
        cases.append({"as_of": "2026-04-01", "organisation": organisation, "service": service})
    return cases


def best_of(repeat: int, run) -> float:
    run()  # warm-up: compiles the policy for the engine, fills caches
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return min(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cases = make_cases(args.cases)

    variants = {"validation alone": lambda: [cr.Case.model_validate(c) for c in cases]}
    variants["evaluate, reference"] = lambda: [cr.evaluate(c, engine="reference") for c in cases]
    if durable_available():
        variants["evaluate, durable-rules"] = lambda: [cr.evaluate(c, engine="durable-rules") for c in cases]

    results = {name: best_of(args.repeat, run) for name, run in variants.items()}
    floor = results["validation alone"]
    print(f"# {len(cases)} cases, best of {args.repeat}; Python {platform.python_version()} on {platform.machine()}")
    print(f"| variant | per case | cases/s | × validation |")
    print(f"|---|---|---|---|")
    for name, seconds in results.items():
        per_case = seconds / len(cases)
        print(f"| {name} | {per_case * 1e6:,.1f} µs | {len(cases) / seconds:,.0f} | {seconds / floor:,.1f} |")
    if "evaluate, durable-rules" in results:
        ratio = results["evaluate, durable-rules"] / results["evaluate, reference"]
        print(f"\ndurable-rules takes {ratio:.1f}× the reference interpreter's time per case.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
