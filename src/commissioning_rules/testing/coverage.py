"""Rule coverage: which rules fired at least once, and which never did, per rule set.

A policy author's tests may never exercise some sentence of the policy; coverage shows which. Two ways to
collect it:

* feed Decisions to a collector yourself::

      coverage = RuleCoverage()
      for case in my_cases:
          coverage.add(evaluate(case))
      print(coverage.report())

* or record every evaluation inside a block, however ``evaluate`` was called (directly, through the CLI's
  functions, in hypothesis tests)::

      with collect() as coverage:
          run_my_tests()
      assert not coverage.never_fired()

Under pytest, ``-p commissioning_rules.testing.coverage --rule-coverage`` prints the report at the end of the
session; ``--rule-coverage=strict`` also fails the session if a rule never fired.

Rules are counted by id, the id being stable and unique within a policy; the report lists the rule sets of the
policy given (default: the Norwich framework). Evaluations in other processes are not seen.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from typing import Any, Iterable, Iterator, Mapping, Sequence

from commissioning_rules.models.decision import Decision
from commissioning_rules.policy import Policy

__all__ = ["RuleCoverage", "collect"]


class RuleCoverage:
    """Counts of fired rules, reported against the rule sets of ``policy``."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy
        self.counts: Counter[str] = Counter()
        self.evaluations = 0
        self._lock = threading.Lock()

    def _policy(self) -> Policy:
        return self.policy if self.policy is not None else Policy.default()

    def add(self, decision: Decision) -> Decision:
        """Count the rules that fired for ``decision`` (its findings); returns it, to use inline."""
        self.add_fired(finding.rule for finding in decision.findings)
        return decision

    def add_fired(self, rule_ids: Iterable[str]) -> None:
        """Count one evaluation in which the rules ``rule_ids`` fired."""
        ids = list(rule_ids)
        with self._lock:
            self.evaluations += 1
            self.counts.update(ids)

    def by_ruleset(self) -> dict[str, dict[str, int]]:
        """For each rule set of the policy, each rule's id and how many times it fired (0: never)."""
        return {
            ruleset.name: {rule.id: self.counts.get(rule.id, 0) for rule in ruleset.rules}
            for ruleset in self._policy().rulesets
        }

    def never_fired(self) -> dict[str, list[str]]:
        """The rules that never fired, per rule set (rule sets with none left out)."""
        return {
            name: [rule for rule, count in rules.items() if count == 0]
            for name, rules in self.by_ruleset().items()
            if any(count == 0 for count in rules.values())
        }

    def as_dict(self) -> dict[str, Any]:
        """The report as data: evaluations seen, and per rule set the rules fired and never fired."""
        return {
            "evaluations": self.evaluations,
            "rulesets": {
                name: {
                    "fired": sorted(rule for rule, count in rules.items() if count),
                    "never_fired": [rule for rule, count in rules.items() if not count],
                }
                for name, rules in self.by_ruleset().items()
            },
        }

    def report(self) -> str:
        """Plain text: per rule set, how many of its rules fired, then each rule that never did."""
        lines = [f"Rule coverage over {self.evaluations} evaluations ({self._policy().name})"]
        for ruleset in self._policy().rulesets:
            counts = {rule.id: self.counts.get(rule.id, 0) for rule in ruleset.rules}
            fired = sum(1 for count in counts.values() if count)
            lines.append(f"  {ruleset.name} ({ruleset.section}): {fired} of {len(counts)} rules fired")
            sections = {rule.id: rule.section for rule in ruleset.rules}
            lines += [f"    never fired: {rule} ({sections[rule]})" for rule, count in counts.items() if not count]
        return "\n".join(lines)


# --- recording every evaluation ---------------------------------------------------------------------------

_collectors: list[RuleCoverage] = []
_patch_lock = threading.Lock()
_original_engine: Any = None


class _RecordingEngine:
    """A compiled engine that reports the rules it fires to every active collector."""

    def __init__(self, engine: Any, rules: Sequence[Any]) -> None:
        self._engine = engine
        self._rules = rules

    def run(self, facts: Sequence[Any], parameters: Mapping[str, Any]) -> list[tuple[int, int]]:
        fired: list[tuple[int, int]] = self._engine.run(facts, parameters)
        ids = [self._rules[r].id for r, _ in fired]
        for collector in list(_collectors):
            collector.add_fired(ids)
        return fired

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def _recording_engine(self: Policy, name: str) -> Any:
    return _RecordingEngine(_original_engine(self, name), self.rules)


def start(coverage: RuleCoverage) -> None:
    """Record every evaluation (any policy, any engine, any thread of this process) into ``coverage``."""
    global _original_engine
    with _patch_lock:
        if not _collectors:
            _original_engine = Policy.engine
            Policy.engine = _recording_engine  # type: ignore[method-assign]
        _collectors.append(coverage)


def stop(coverage: RuleCoverage) -> None:
    """Stop recording into ``coverage`` (the last collector stopped restores ``Policy.engine``)."""
    global _original_engine
    with _patch_lock:
        if coverage in _collectors:
            _collectors.remove(coverage)
        if not _collectors and _original_engine is not None:
            Policy.engine = _original_engine  # type: ignore[method-assign]
            _original_engine = None


@contextlib.contextmanager
def collect(policy: Policy | None = None) -> Iterator[RuleCoverage]:
    """Within the block, record the rules fired by every evaluation; report against ``policy``'s rule sets."""
    coverage = RuleCoverage(policy)
    start(coverage)
    try:
        yield coverage
    finally:
        stop(coverage)


# --- pytest plugin: ``-p commissioning_rules.testing.coverage --rule-coverage[=strict]`` ----------------------

_SESSION_KEY = "commissioning_rules_rule_coverage"


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("commissioning_rules")
    group.addoption(
        "--rule-coverage",
        nargs="?",
        const="report",
        default=None,
        choices=("report", "strict"),
        help="report which rules of the default policy fired during the session; 'strict' fails the session "
        "if any never fired",
    )


def pytest_configure(config: Any) -> None:
    if config.getoption("--rule-coverage", default=None):
        coverage = RuleCoverage()
        start(coverage)
        setattr(config, _SESSION_KEY, coverage)


def pytest_unconfigure(config: Any) -> None:
    coverage = getattr(config, _SESSION_KEY, None)
    if coverage is not None:
        stop(coverage)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    coverage = getattr(config, _SESSION_KEY, None)
    if coverage is not None:
        terminalreporter.write_sep("-", "rule coverage")
        terminalreporter.write_line(coverage.report())


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    coverage = getattr(session.config, _SESSION_KEY, None)
    if coverage is not None and session.config.getoption("--rule-coverage") == "strict" and coverage.never_fired():
        session.exitstatus = 1
