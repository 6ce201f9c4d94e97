"""Power of the testing kit's strategies: how often they find a bug that lives between a parameter's old and new
values. Not a timed test: a figure for the property-testing guide (docs/guides/property-testing.md).

    python benchmarks/bench_strategy_power.py [--seeds 10] [--examples 300]

The policy is the fictional county's file of the test suite (tests/policies/county-policy.yaml): the accounts
threshold raised from £5,000 to £10,000 on 2026-04-01, a rule disabled, a rule added, an override. The property,
as the county might state it: "an organisation with an annual turnover of at most £10,000 is never required to
publish examined accounts". It is false only before 2026-04-01 (when £5,000 was in force), for a turnover in
(£5,000, £10,000] and accounts not examined. For each seed, hypothesis runs the property on
``strategies.cases(policy, require=("organisation",))`` with ``max_examples``; the figure is in how many seeds
it was found false, with the plain strategy and aimed at the threshold (``around="accounts_threshold"``), and
how many examples the finding took (the first failing example; the median over the seeds that found it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from decimal import Decimal
from pathlib import Path

from hypothesis import Phase, given, seed, settings

import commissioning_rules as cr
from commissioning_rules.testing import strategies as crst

COUNTY = Path(__file__).resolve().parent.parent / "tests" / "policies" / "county-policy.yaml"
LIMIT = Decimal("10000.00")
RULE = "financial_systems.published_accounts.not_met"


class Found(AssertionError):
    pass


def trial(policy: cr.Policy, which: int, examples: int, around: str | None) -> int | None:
    """The number of examples until the property was found false with seed ``which``, or None."""
    tried = 0

    @seed(which)
    @settings(max_examples=examples, database=None, deadline=None, phases=(Phase.generate,), derandomize=False)
    @given(crst.cases(policy, require=("organisation",), around=around))
    def turnover_up_to_10000_never_needs_examined_accounts(case):
        nonlocal tried
        tried += 1
        turnover = case.organisation.annual_turnover
        if turnover is not None and turnover <= LIMIT:
            fired = {finding.rule for finding in cr.evaluate(case, policy=policy, engine="reference").findings}
            if RULE in fired:
                raise Found(case.as_of)

    try:
        turnover_up_to_10000_never_needs_examined_accounts()
    except Found:
        return tried
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--examples", type=int, default=300)
    args = parser.parse_args(argv)
    policy = cr.Policy.from_file(COUNTY)
    print(f"Python {sys.version.split()[0]}, {args.seeds} seeds, {args.examples} examples each")
    for around in (None, "accounts_threshold"):
        found = [n for n in (trial(policy, s, args.examples, around) for s in range(args.seeds)) if n is not None]
        label = "cases(policy)" if around is None else f"cases(policy, around={around!r})"
        median = f", median {statistics.median(found):.0f} examples to find it" if found else ""
        print(f"{label}: found false in {len(found)} of {args.seeds} seeds{median}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
