"""The engines proven identical on many random cases: every engine against the reference interpreter.

    python benchmarks/prove_engines_agree.py [--cases 100000] [--seed 2014] [--policy FILE] [--engine compiled ...]

Draws ``--cases`` cases (``commissioning_rules.testing.samples.random_cases``: every part and field, money at
each threshold, dates where parameters change) and compares what each engine fires on each with what the
reference interpreter fires, as (rule id, fact key) pairs: everything a Decision is built from besides the case
itself, so agreement here means identical Decisions. The default policy, then the council example policy
(added rules, overrides, disabled rules), or ``--policy``. Exits 1 on the first disagreement, printing it.
The suite runs the same comparison on fewer cases (tests/test_compiled_engine.py).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from importlib import resources

import commissioning_rules as cr
from commissioning_rules.engine import durable_available
from commissioning_rules.testing.samples import engine_disagreements, random_cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--policy", help="a council policy file (default: the built-in and the example council's)")
    parser.add_argument("--engine", action="append", help="an engine to compare (repeatable; default: every one here)")
    args = parser.parse_args()
    engines = tuple(args.engine or (("compiled", "durable-rules") if durable_available() else ("compiled",)))
    if args.policy:
        policies = {args.policy: cr.Policy.from_file(args.policy)}
    else:
        example = resources.files("commissioning_rules.examples").joinpath("council-policy.yaml").read_text("utf-8")
        policies = {"default": cr.Policy.default(), "council example": cr.Policy.from_yaml(example)}
    print(f"# Python {platform.python_version()}; engines {', '.join(engines)} against reference; seed {args.seed}")
    for label, policy in policies.items():
        start = time.perf_counter()

        def counted(cases):
            for n, case in enumerate(cases, start=1):
                if n % 10_000 == 0:
                    print(f"  {label}: {n:,} cases agree so far ({time.perf_counter() - start:,.0f} s)", flush=True)
                yield case

        drawn = counted(random_cases(args.cases, policy, seed=args.seed))
        for case, engine, got, expected in engine_disagreements(drawn, policy, engines):
            print(f"{label}: {engine} differs from reference on {case.model_dump_json()}")
            print(f"  {engine}: {got}\n  reference: {expected}")
            return 1
        print(f"{label}: {args.cases:,} cases, every engine fires exactly what the reference fires ({time.perf_counter() - start:,.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
