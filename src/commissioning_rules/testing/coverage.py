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

      with collect(my_policy) as coverage:
          run_my_tests()
      assert not coverage.never_fired()

Under pytest the plugin is registered when the package is installed (a ``pytest11`` entry point):
``pytest --rule-coverage`` prints the report at the end of the session, ``--rule-coverage=strict`` also fails
the session, saying why, when a rule of the policy was not reached for sure; ``--cr-policy FILE`` reports against
a council's policy file instead of the Norwich framework, and lists the rules that file added, disabled and
overrode, with how often each fired.

Counting follows the policy: an evaluation is counted when it ran under the policy reported on (the same
version hash); evaluations under any other policy are only tallied as such. Rules are counted by id.

**Reached for sure, or only by chance.** An evaluation inside a hypothesis test that draws its examples at
random (the default) may not happen on the next run; one outside hypothesis, in an ``@example``, or in a test
run with ``derandomize=True`` happens on every run. A rule fired only by random examples is reported as
*reached only by chance*, and ``strict`` counts it as not reached, so a session's verdict never flips between
runs. Evaluations in other processes are not seen.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections import Counter
from typing import Any, Iterable, Iterator, Mapping, Sequence

from commissioning_rules.models.decision import Decision
from commissioning_rules.policy import Policy

__all__ = ["RuleCoverage", "collect", "policy_changes"]


def policy_changes(policy: Policy, base: Policy | None = None) -> dict[str, Any]:
    """What ``policy`` changed in ``base``'s rules (default: the Norwich framework): rule ids ``added`` and
    ``disabled``, and ``overridden`` — each rule some rule of ``policy`` overrides, with the rules overriding it
    (overrides the base already had are left out)."""
    base = base if base is not None else Policy.default()
    ours = {rule.id: rule for rule in policy.rules}
    theirs = {rule.id: rule for rule in base.rules}
    overridden: dict[str, list[str]] = {}
    for rule in policy.rules:
        already = set(theirs[rule.id].overrides) if rule.id in theirs else set()
        for target in rule.overrides:
            if target not in already:
                overridden.setdefault(target, []).append(rule.id)
    return {
        "added": [rule_id for rule_id in ours if rule_id not in theirs],
        "disabled": [rule_id for rule_id in theirs if rule_id not in ours],
        "overridden": overridden,
    }


def _by_chance() -> bool:
    """Whether the running evaluation happens inside a hypothesis test drawing its examples at random (so a
    later run may not make it): not in an ``@example`` (or the final replay of a failure), not derandomized."""
    if "hypothesis.control" not in sys.modules:  # hypothesis is not running (nor, perhaps, installed)
        return False
    from hypothesis import settings
    from hypothesis.control import current_build_context, currently_in_test_context

    if not currently_in_test_context() or current_build_context().is_final:
        return False
    default = settings.default
    return not (default is not None and default.derandomize)


def _some(ids: list[str], shown: int = 8) -> str:
    return ", ".join(ids[:shown]) + (f" and {len(ids) - shown} more (listed above)" if len(ids) > shown else "")


class RuleCoverage:
    """Counts of fired rules, reported against the rule sets of ``policy`` (default: the Norwich framework).

    ``counts`` holds every firing seen, ``sure`` those in evaluations every run repeats (see the module
    docstring); ``evaluations`` counts evaluations under the policy, ``by_chance_evaluations`` those of them made
    by random examples, ``other_evaluations`` the evaluations under another policy (not counted)."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy
        self.counts: Counter[str] = Counter()
        self.sure: Counter[str] = Counter()
        self.evaluations = 0
        self.by_chance_evaluations = 0
        self.other_evaluations = 0
        self._lock = threading.Lock()

    def _policy(self) -> Policy:
        return self.policy if self.policy is not None else Policy.default()

    def add(self, decision: Decision) -> Decision:
        """Count the rules that fired for ``decision`` (its findings); returns it, to use inline."""
        if decision.policy.version != self._policy().version:
            with self._lock:
                self.other_evaluations += 1
            return decision
        self.add_fired((finding.rule for finding in decision.findings), by_chance=_by_chance())
        return decision

    def add_fired(self, rule_ids: Iterable[str], *, by_chance: bool = False, policy: Policy | None = None) -> None:
        """Count one evaluation in which the rules ``rule_ids`` fired (under ``policy``, if given: one under
        another policy than the collector's is only tallied); ``by_chance``: made by a random example."""
        ids = list(rule_ids)
        with self._lock:
            if policy is not None and policy is not self.policy and policy.version != self._policy().version:
                self.other_evaluations += 1
                return
            self.evaluations += 1
            self.counts.update(ids)
            if by_chance:
                self.by_chance_evaluations += 1
            else:
                self.sure.update(ids)

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

    def only_by_chance(self) -> dict[str, list[str]]:
        """The rules that fired only in evaluations made by random examples, per rule set (a later run may not
        reach them; rule sets with none left out)."""
        found: dict[str, list[str]] = {}
        for name, rules in self.by_ruleset().items():
            chance = [rule for rule, count in rules.items() if count and not self.sure.get(rule)]
            if chance:
                found[name] = chance
        return found

    def changes(self) -> dict[str, Any]:
        """:func:`policy_changes` of the policy reported on, with how often each rule named fired."""
        changes = policy_changes(self._policy())
        count = self.counts.get
        return {
            "added": {rule: count(rule, 0) for rule in changes["added"]},
            "disabled": changes["disabled"],
            "overridden": {
                rule: {"fired": count(rule, 0), "by": {by: count(by, 0) for by in overriding}}
                for rule, overriding in changes["overridden"].items()
            },
        }

    def strict_failures(self) -> list[str]:
        """Why ``--rule-coverage=strict`` fails (empty when every rule was reached for sure)."""
        never = [rule for rules in self.never_fired().values() for rule in rules]
        chance = [rule for rules in self.only_by_chance().values() for rule in rules]
        reasons = []
        if never:
            reasons.append(f"{len(never)} rule(s) of {self._policy().name} never fired: {_some(never)}")
        if chance:
            reasons.append(
                f"{len(chance)} rule(s) fired only in randomly generated examples, which a later run may not "
                f"draw: {_some(chance)} (pin each with a data test or an @example, or run hypothesis with "
                "derandomize=True)"
            )
        return reasons

    def as_dict(self) -> dict[str, Any]:
        """The report as data: evaluations seen, per rule set the rules fired, fired only by chance and never
        fired, and what the policy changed in the Norwich framework's rules."""
        chance = self.only_by_chance()
        return {
            "policy": {"name": self._policy().name, "version": self._policy().version},
            "evaluations": self.evaluations,
            "by_chance_evaluations": self.by_chance_evaluations,
            "other_evaluations": self.other_evaluations,
            "rulesets": {
                name: {
                    "fired": sorted(rule for rule, count in rules.items() if count),
                    "only_by_chance": chance.get(name, []),
                    "never_fired": [rule for rule, count in rules.items() if not count],
                }
                for name, rules in self.by_ruleset().items()
            },
            "changes": self.changes(),
        }

    def report(self) -> str:
        """Plain text: per rule set, how many of its rules fired, then each rule that never did or did only by
        chance; then the rules the policy added, disabled and overrode, each with how often it fired."""
        policy = self._policy()
        head = f"Rule coverage over {self.evaluations} evaluations ({policy.name}, version {policy.version})"
        if self.by_chance_evaluations:
            head += f"; {self.by_chance_evaluations} of them by randomly generated examples"
        lines = [head]
        if self.other_evaluations:
            lines.append(f"  ({self.other_evaluations} evaluations under other policies are not counted)")
        for ruleset in policy.rulesets:
            counts = {rule.id: self.counts.get(rule.id, 0) for rule in ruleset.rules}
            fired = sum(1 for count in counts.values() if count)
            lines.append(f"  {ruleset.name} ({ruleset.section}): {fired} of {len(counts)} rules fired")
            for rule in ruleset.rules:
                if not counts[rule.id]:
                    lines.append(f"    never fired: {rule.id} ({rule.section})")
                elif not self.sure.get(rule.id):
                    lines.append(
                        f"    only by chance: {rule.id} ({rule.section}), fired {counts[rule.id]} times, all in "
                        "randomly generated examples"
                    )
        changes = self.changes()
        if any(changes.values()):
            lines.append(f"Rules {policy.name} changed in {Policy.default().name}:")
            lines += [f"  added: {rule}, fired {n} times" for rule, n in changes["added"].items()]
            lines += [f"  disabled: {rule} (cannot fire)" for rule in changes["disabled"]]
            for rule, seen in changes["overridden"].items():
                by = ", ".join(f"{other} (fired {n} times)" for other, n in seen["by"].items())
                lines.append(f"  overridden: {rule}, fired {seen['fired']} times; overridden by {by}")
        return "\n".join(lines)


# --- recording every evaluation ---------------------------------------------------------------------------

_collectors: list[RuleCoverage] = []
_patch_lock = threading.Lock()
_original_engine: Any = None


class _RecordingEngine:
    """A compiled engine that reports the rules it fires to every active collector."""

    def __init__(self, engine: Any, policy: Policy) -> None:
        self._engine = engine
        self._policy = policy
        self._rules = policy.rules

    def run(self, facts: Sequence[Any], parameters: Mapping[str, Any]) -> list[tuple[int, int]]:
        fired: list[tuple[int, int]] = self._engine.run(facts, parameters)
        ids = [self._rules[r].id for r, _ in fired]
        chance = _by_chance()
        for collector in list(_collectors):
            collector.add_fired(ids, by_chance=chance, policy=self._policy)
        return fired

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def _recording_engine(self: Policy, name: str) -> Any:
    return _RecordingEngine(_original_engine(self, name), self)


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


# --- pytest plugin (entry point ``commissioning_rules.testing.coverage``): ``--rule-coverage[=strict]`` ------------

_SESSION_KEY = "commissioning_rules_rule_coverage"


def pytest_addoption(parser: Any) -> None:
    from commissioning_rules.testing.pytest_policy import add_policy_option

    add_policy_option(parser)
    group = parser.getgroup("commissioning_rules")
    group.addoption(
        "--rule-coverage",
        nargs="?",
        const="report",
        default=None,
        choices=("report", "strict"),
        help="report which rules of the policy (--cr-policy, else the Norwich framework) fired during the "
        "session; 'strict' fails the session, saying why, if any was not reached for sure",
    )


def pytest_configure(config: Any) -> None:
    if config.getoption("--rule-coverage", default=None):
        from commissioning_rules.testing.pytest_policy import session_policy

        coverage = RuleCoverage(session_policy(config))
        start(coverage)
        setattr(config, _SESSION_KEY, coverage)


def pytest_unconfigure(config: Any) -> None:
    coverage = getattr(config, _SESSION_KEY, None)
    if coverage is not None:
        stop(coverage)


def _strict(config: Any) -> bool:
    mode: str | None = config.getoption("--rule-coverage", default=None)
    return mode == "strict"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    coverage = getattr(config, _SESSION_KEY, None)
    if coverage is not None:
        terminalreporter.write_sep("-", "rule coverage")
        terminalreporter.write_line(coverage.report())
        if _strict(config):
            failures = coverage.strict_failures()
            if failures:
                terminalreporter.write_line("rule coverage (strict) FAILED:", red=True, bold=True)
                for reason in failures:
                    terminalreporter.write_line(f"  {reason}", red=True)
            else:
                terminalreporter.write_line("rule coverage (strict) passed: every rule was reached for sure")


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    coverage = getattr(session.config, _SESSION_KEY, None)
    if coverage is not None and _strict(session.config) and coverage.strict_failures() and session.exitstatus == 0:
        session.exitstatus = 1
