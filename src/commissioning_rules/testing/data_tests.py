"""Tests as data: a folder of YAML or JSON files, each a case and the parts of its Decision you expect.

A policy officer can read and write these without Python (OpenFisca's discipline)::

    # turnover_at_threshold.yaml
    name: a turnover of exactly £5,000.00 needs no published accounts
    description: '3.5.1: "Organisations with an annual turnover of above £5,000 must publish …"'
    case:
      as_of: 2026-04-01
      organisation: {annual_turnover: "5000.00", accounts: none, ...}
    expect:
      eligibility:
        criteria:
          - {criterion: financial_systems, status: met}

``expect`` is compared with the Decision's JSON data with its sources (``model_dump(mode="json")`` inside
``sources_included()``, so an expectation may pin the sentence a finding quotes) as a **subset**: a mapping's keys must be
present with matching values (other keys are ignored); a list's items must each match a different item of the
Decision's list, in any order (an empty list means the Decision's list must be empty); ``null`` means the
Decision has none; other values must be equal (dates as ``YYYY-MM-DD``, money as in the JSON contract).
Optional keys: ``engine`` (``reference`` or ``durable-rules``), ``as_of`` (overrides the case's); ``fired`` and
``not_fired`` (rule ids that must, or must not, fire); ``policy`` (``{name: ..., version: ...}``: the policy the
test was written for — run under another, the test fails saying so; leave ``version`` out to pin the name only);
``holds`` (names of the shipped properties, :mod:`commissioning_rules.testing.properties`, that must hold for
the case: ``[gate_monotonic]`` checks again every one-step improvement of it); and, for properties that compare
two cases, ``variant`` (``{case: ..., expect: ...}``, a second case and what to expect of it) with ``same``
(paths whose values must be equal in both decisions). ``expect`` may be left out when ``holds``, ``fired`` or
``not_fired`` says what to check. A path names a Decision's
field, items of a list by their criterion or id: ``eligibility.criteria[financial_systems].status``,
``monitoring.level``. A file holds one test, or several as a list under ``tests:``.

Run a folder with ``commissioning-rules test DIR`` (:func:`main`), from Python with :func:`run_data_tests`, or
under pytest: with :func:`parametrize`, or by this module's pytest plugin (registered when the package is
installed), which collects ``test_*.yaml``/``test_*.yml``/``test_*.json`` data-test files and runs them under
``--cr-policy FILE`` (else the Norwich framework); its ``cr_policy`` fixture gives your own tests the same
policy. ``save_example`` (:mod:`commissioning_rules.testing.regression`, also reachable here) turns a
counterexample (e.g. a property's shrunk case) into such a file in one call; so do a property's violation
(``violation.save(path, policy)``) and :func:`save_on_failure` in a hypothesis test.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import yaml

from commissioning_rules.engine import ENGINES, EngineName, engine_name
from commissioning_rules.evaluate import evaluate
from commissioning_rules.models.case import Case
from commissioning_rules.models.decision import sources_included
from commissioning_rules.policy import Policy
from commissioning_rules.policy_file import YamlLoader
# The regression-file names (documented in ``testing.regression``) stay reachable here: ``data_tests.save_example``.
from commissioning_rules.testing.regression import (
    NOT_EXPECTED as NOT_EXPECTED,
    as_json_value,
    expectation_at as expectation_at,
    expected_from as expected_from,
    pinned as pinned,
    save_example as save_example,
    value_at as value_at,
)

__all__ = [
    "DataTest",
    "DataTestError",
    "DataTestResult",
    "data_test_files",
    "format_results",
    "load_data_tests",
    "main",
    "mismatches",
    "parametrize",
    "run_data_tests",
    "save_on_failure",
]

SUFFIXES = (".yaml", ".yml", ".json")
_TEST_KEYS = {
    "name", "description", "case", "expect", "engine", "as_of", "policy", "fired", "not_fired", "variant", "same", "holds",
}
#: Keys that say, without ``expect``, what a test checks.
_CHECKS = ("expect", "holds", "fired", "not_fired")


class DataTestError(ValueError):
    """A test file is malformed: not YAML/JSON, or a test without ``case`` and something to check."""


def mismatches(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where ``actual`` (a Decision as JSON) does not contain ``expected``; empty when it does."""
    where = path or "(decision)"
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [f"{where}: expected a mapping with {sorted(expected)}, got {json.dumps(actual, default=str)}"]
        found: list[str] = []
        for key, value in expected.items():
            at = f"{path}.{key}" if path else str(key)
            if key not in actual:
                found.append(f"{at}: expected {json.dumps(value, default=str)}, but the Decision has no {key!r}")
            else:
                found += mismatches(value, actual[key], at)
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: expected a list, got {json.dumps(actual, default=str)}"]
        if not expected:
            return [] if not actual else [f"{where}: expected an empty list, got {len(actual)} items"]
        unused = list(range(len(actual)))
        found = []
        for item in expected:
            match = next((i for i in unused if not mismatches(item, actual[i])), None)
            if match is None:
                found.append(f"{where}: no item matches {json.dumps(item, default=str)}")
            else:
                unused.remove(match)
        return found
    if expected != actual:
        return [f"{where}: expected {json.dumps(expected, default=str)}, got {json.dumps(actual, default=str)}"]
    return []


@dataclass(frozen=True)
class DataTest:
    """One test: a case and the parts of its Decision expected."""

    path: Path
    name: str
    case: Mapping[str, Any]
    expect: Mapping[str, Any]
    description: str = ""
    engine: str | None = None
    as_of: dt.date | None = None
    index: int = 0
    policy: Mapping[str, str] | None = None
    fired: tuple[str, ...] = ()
    not_fired: tuple[str, ...] = ()
    variant: Mapping[str, Any] | None = None
    same: tuple[str, ...] = ()
    holds: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.path.name}::{self.name}"

    def __str__(self) -> str:
        return self.id

    def run(self, policy: Policy | None = None, engine: EngineName | None = None) -> DataTestResult:
        """Evaluate the case (and its variant) and compare; an invalid case, a failing evaluation or a policy
        other than the one the test records is an error, not a crash."""
        used = policy if policy is not None else Policy.default()
        if self.policy:
            recorded = {key: str(value) for key, value in self.policy.items()}
            if recorded.get("name", used.name) != used.name or recorded.get("version", used.version) != used.version:
                return DataTestResult(
                    self,
                    error=f"written for {recorded.get('name')!r} (version {recorded.get('version', 'any')}) but run under "
                    f"{used.name!r} (version {used.version}): check the expectation still holds under this policy and "
                    "save the test again (or leave 'version' out of its 'policy' to pin the name only)",
                )
        try:
            decision = evaluate(self.case, policy=policy, as_of=self.as_of, engine=engine_name(engine or self.engine))
            other = (
                evaluate(self.variant["case"], policy=policy, as_of=self.as_of, engine=engine_name(engine or self.engine))
                if self.variant else None
            )
        except Exception as error:  # noqa: BLE001 - reported as the test's error
            return DataTestResult(self, error=f"{type(error).__name__}: {error}")
        with sources_included():  # an expectation may name any part of the Decision, the sentences quoted too
            dumped = decision.model_dump(mode="json")
            variant = other.model_dump(mode="json") if other is not None else {}
        found = mismatches(as_json_value(self.expect), dumped)
        fired = {finding.rule for finding in decision.findings}
        found += [f"rule {rule} was expected to fire but did not" for rule in self.fired if rule not in fired]
        found += [f"rule {rule} was expected not to fire but fired" for rule in self.not_fired if rule in fired]
        if other is not None and self.variant is not None:
            found += [f"variant: {m}" for m in mismatches(as_json_value(self.variant.get("expect") or {}), variant)]
            for path in self.same:
                try:
                    mine, theirs = value_at(dumped, path), value_at(variant, path)
                except KeyError as error:
                    found.append(f"{path}: {error.args[0]} (case or variant)")
                    continue
                if mine != theirs:
                    found.append(f"{path}: {json.dumps(mine, default=str)} for the case but {json.dumps(theirs, default=str)} for the variant; expected the same")
        found += self._properties(used, engine or self.engine)
        return DataTestResult(self, mismatches=found)

    def _properties(self, policy: Policy, engine: str | None) -> list[str]:
        """What each property in ``holds`` found wrong with the case (nothing when it holds or does not apply)."""
        if not self.holds:
            return []
        from commissioning_rules.testing.properties import PropertyViolation, property_spec

        case = Case.model_validate(self.case)
        if self.as_of is not None:
            case = case.model_copy(update={"as_of": self.as_of})
        found = []
        for name in self.holds:
            spec = property_spec(name)
            try:
                spec.check(case, policy, **({"engine": engine_name(engine)} if spec.takes_engine and engine else {}))
            except PropertyViolation as violation:
                found.append(f"property {name} does not hold: {violation.message}")
            except AssertionError as error:
                found.append(f"property {name} does not hold: {error}")
            except Exception as error:  # noqa: BLE001 - reported as the test's mismatch, not a traceback
                found.append(f"property {name} could not be checked: {type(error).__name__}: {error}")
        return found

    def check(self, policy: Policy | None = None, engine: EngineName | None = None) -> None:
        """Run, and raise ``AssertionError`` listing every mismatch (for pytest)."""
        result = self.run(policy, engine)
        if not result.passed:
            raise AssertionError(result.explain())


@dataclass(frozen=True)
class DataTestResult:
    test: DataTest
    mismatches: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and not self.mismatches

    def explain(self) -> str:
        if self.passed:
            return f"PASS {self.test.id}"
        lines = [f"FAIL {self.test.id}"]
        if self.error:
            lines.append(f"  error: {self.error}")
        lines += [f"  {m}" for m in self.mismatches]
        return "\n".join(lines)


def _read(path: Path) -> Any:
    text = path.read_text("utf-8")
    try:
        return json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=YamlLoader)  # noqa: S506 -- safe
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise DataTestError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {error}") from None


def load_file(path: str | Path) -> list[DataTest]:
    """The tests in one file (one test, or a list under ``tests:``)."""
    path = Path(path)
    data = _read(path)
    entries = data.get("tests") if isinstance(data, dict) and set(data) == {"tests"} else [data]
    if not isinstance(entries, list):
        raise DataTestError(f"{path}: 'tests' must be a list of tests")
    tests = []
    for i, entry in enumerate(entries):
        at = f"{path}" + (f" (test {i + 1})" if len(entries) > 1 else "")
        if not isinstance(entry, dict) or "case" not in entry or not any(key in entry for key in _CHECKS):
            raise DataTestError(f"{at}: a test is a mapping with 'case' and 'expect' (or 'holds', 'fired', 'not_fired')")
        unknown = set(entry) - _TEST_KEYS
        if unknown:
            raise DataTestError(f"{at}: unknown keys {sorted(unknown)}; expected some of {sorted(_TEST_KEYS)}")
        if not isinstance(entry["case"], dict) or not isinstance(entry.get("expect", {}), dict):
            raise DataTestError(f"{at}: 'case' and 'expect' must be mappings")
        variant = entry.get("variant")
        if variant is not None and (not isinstance(variant, dict) or "case" not in variant or set(variant) - {"case", "expect"}):
            raise DataTestError(f"{at}: 'variant' is a mapping with 'case' and, optionally, 'expect'")
        for key, what in (("fired", "rule ids"), ("not_fired", "rule ids"), ("same", "paths"), ("holds", "property names")):
            if not isinstance(entry.get(key, []), list) or not all(isinstance(v, str) for v in entry.get(key, [])):
                raise DataTestError(f"{at}: '{key}' must be a list of {what}")
        if entry.get("holds"):
            from commissioning_rules.testing.properties import property_spec

            try:
                for name in entry["holds"]:
                    property_spec(name)
            except ValueError as error:
                raise DataTestError(f"{at}: 'holds': {error}") from None
        if "policy" in entry and (not isinstance(entry["policy"], dict) or set(entry["policy"]) - {"name", "version"}):
            raise DataTestError(f"{at}: 'policy' is a mapping with 'name' and, optionally, 'version'")
        as_of = entry.get("as_of")
        if isinstance(as_of, str):
            as_of = dt.date.fromisoformat(as_of)
        tests.append(
            DataTest(
                path=path,
                name=str(entry.get("name") or (path.stem if len(entries) == 1 else f"{path.stem}[{i}]")),
                case=entry["case"],
                expect=entry.get("expect", {}),
                description=str(entry.get("description") or ""),
                engine=entry.get("engine"),
                as_of=as_of,
                index=i,
                policy=entry.get("policy"),
                fired=tuple(entry.get("fired", [])),
                not_fired=tuple(entry.get("not_fired", [])),
                variant=variant,
                same=tuple(entry.get("same", [])),
                holds=tuple(entry.get("holds", [])),
            )
        )
    return tests


def data_test_files(directory: str | Path) -> list[Path]:
    """Every YAML/JSON file of data tests under ``directory`` (or the file itself), sorted. Under a folder, a file
    that is not meant as data tests (no ``case``, ``expect`` or ``tests`` key: a policy file kept beside them)
    is left out; one that cannot be read is kept, to be reported."""
    root = Path(directory)
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in SUFFIXES and _looks_like_data_tests(p))


def load_data_tests(directory: str | Path) -> list[DataTest]:
    """Every test in every YAML/JSON file under ``directory``; a malformed file raises :class:`DataTestError`."""
    return [test for path in data_test_files(directory) for test in load_file(path)]


def run_data_tests(
    directory: str | Path, *, policy: Policy | None = None, engine: EngineName | None = None
) -> list[DataTestResult]:
    """Run every test under ``directory``. A malformed file gives one failed result naming it."""
    results: list[DataTestResult] = []
    for path in data_test_files(directory):
        try:
            tests = load_file(path)
        except (DataTestError, OSError, UnicodeDecodeError) as error:
            placeholder = DataTest(path=path, name=path.stem, case={}, expect={})
            results.append(DataTestResult(placeholder, error=str(error)))
            continue
        results += [test.run(policy, engine) for test in tests]
    return results


def format_results(results: Iterable[DataTestResult], *, verbose: bool = False) -> str:
    """Each failure with its mismatches (and each pass when ``verbose``), then a one-line summary."""
    results = list(results)
    failed = [r for r in results if not r.passed]
    lines = [r.explain() for r in results if verbose or not r.passed]
    lines.append(f"{len(results) - len(failed)} passed, {len(failed)} failed, {len(results)} data tests")
    return "\n".join(lines)


def main(argv: list[str] | None = None, *, policy: Policy | None = None) -> int:
    """``commissioning-rules test DIR``: run the data tests under DIR; exit 0 if all pass, 1 if any fails,
    2 if DIR holds none or does not exist. ``policy`` lets a caller (the CLI's ``--policy``) pass a policy."""
    parser = argparse.ArgumentParser(prog="commissioning-rules test", description="Run data tests (YAML/JSON).")
    parser.add_argument("directory", help="a folder of test files (searched recursively), or one file")
    parser.add_argument("--engine", choices=ENGINES, default=None)
    parser.add_argument("-v", "--verbose", action="store_true", help="list passing tests too")
    args = parser.parse_args(argv)
    if not Path(args.directory).exists():
        print(f"commissioning-rules test: {args.directory}: no such file or directory", file=sys.stderr)
        return 2
    results = run_data_tests(args.directory, policy=policy, engine=args.engine)
    if not results:
        print(f"commissioning-rules test: no data tests (*.yaml, *.yml, *.json) under {args.directory}", file=sys.stderr)
        return 2
    print(format_results(results, verbose=args.verbose))
    return 0 if all(r.passed for r in results) else 1


# --- turning a counterexample into a regression test -----------------------------------------------------------


def _final_run() -> bool:
    """Whether a failure now is the one to keep: outside hypothesis, or hypothesis's final replay of the shrunk
    (minimal) failing example — not each of the many failing calls while it shrinks."""
    if "hypothesis.control" not in sys.modules:  # hypothesis is not running (nor, perhaps, installed)
        return True
    from hypothesis.control import current_build_context, currently_in_test_context

    return not currently_in_test_context() or current_build_context().is_final


@contextlib.contextmanager
def save_on_failure(
    case: Case | Mapping[str, Any],
    path: str | Path,
    *,
    expect: Mapping[str, Any] | None = None,
    pin: Iterable[str] | None = None,
    policy: Policy | None = None,
    name: str | None = None,
    fired: Iterable[str] = (),
    not_fired: Iterable[str] = (),
) -> Iterator[None]:
    """In your own property test, keep the shrunk counterexample as a data test, in one call::

        @given(crst.cases(policy))
        def test_small_groups(case):
            with data_tests.save_on_failure(case, "regressions/small_groups.yaml", policy=policy,
                                            expect={"eligibility": {"eligible": True}}):
                assert ...

    When the block fails, the file is written once, for the minimal case hypothesis reports (not for every
    failing example it tries while shrinking), and the failure goes on. ``expect`` states what the policy
    should decide, ``fired`` and ``not_fired`` the rules that must, or must not, fire; ``pin`` (rule ids,
    paths) keeps parts of the Decision as it is instead."""
    fired, not_fired = tuple(fired), tuple(not_fired)
    try:
        yield
    except Exception:
        if _final_run():
            if expect is None and pin is None and not fired and not not_fired:
                raise ValueError(
                    "save_on_failure: give expect= (what the policy should decide), fired= or not_fired= (rules that "
                    "must, or must not, fire) or pin= (what to keep)"
                ) from None
            if pin is None:
                recorded = policy or Policy.default()
                save_example(case, expect or {}, path, name=name, policy=recorded, fired=fired, not_fired=not_fired)
            else:
                decision = evaluate(case, policy=policy)
                save_example(case, decision, path, name=name, pin=pin, policy=policy, fired=fired, not_fired=not_fired)
        raise


# --- pytest ------------------------------------------------------------------------------------------------------


def parametrize(directory: str | Path, argname: str = "data_test") -> Any:
    """A ``pytest.mark.parametrize`` over the tests under ``directory``, one pytest test each::

        @data_tests.parametrize(Path(__file__).parent / "data")
        def test_data(data_test):
            data_test.check()
    """
    import pytest

    tests = load_data_tests(directory)
    return pytest.mark.parametrize(argname, tests, ids=[t.id for t in tests])


def pytest_addoption(parser: Any) -> None:
    from commissioning_rules.testing.pytest_policy import add_policy_option

    add_policy_option(parser)


def _looks_like_data_tests(path: Path) -> bool:
    """Whether a YAML/JSON file is meant as data tests (a mapping with ``case``, ``expect`` or ``tests``), so
    another tool's ``test_*.json`` or a policy file is left alone; a malformed data test is still collected and
    reported, not skipped."""
    try:
        data = _read(path)
    except (DataTestError, OSError, UnicodeDecodeError):
        return True  # reported as the file's error when collected
    return isinstance(data, dict) and bool({"case", "expect", "tests"} & set(data))


def pytest_collect_file(parent: Any, file_path: Path) -> Any:
    """Collect ``test_*.yaml``/``.yml``/``.json`` data-test files; each test runs under the session's policy
    (``--cr-policy FILE``, else the Norwich framework)."""
    if file_path.suffix in SUFFIXES and file_path.name.startswith("test_") and _looks_like_data_tests(file_path):
        return _DataTestFile.from_parent(parent, path=file_path)
    return None


def _cr_policy(request: Any) -> Policy:
    """The policy the session tests: ``--cr-policy FILE`` (or the ``cr_policy`` setting), else the Norwich
    framework. Use it in your own tests, e.g. ``properties.check_all(cr_policy)``."""
    from commissioning_rules.testing.pytest_policy import session_policy

    return session_policy(request.config)


if "pytest" in sys.modules:  # loaded as a plugin (the command line imports this module without pytest)
    import pytest

    cr_policy = pytest.fixture(scope="session", name="cr_policy")(_cr_policy)


def _pytest_classes() -> tuple[Any, Any]:
    import pytest

    class DataTestFile(pytest.File):
        def collect(self) -> Iterator[Any]:
            for test in load_file(self.path):
                yield DataTestItem.from_parent(self, name=test.name, test=test)

    class DataTestItem(pytest.Item):
        def __init__(self, *, test: DataTest, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.test = test

        def runtest(self) -> None:
            from commissioning_rules.testing.pytest_policy import session_policy

            self.test.check(session_policy(self.config))

        def repr_failure(self, excinfo: Any, style: Any = None) -> Any:
            if isinstance(excinfo.value, AssertionError):
                return str(excinfo.value)
            return super().repr_failure(excinfo)

        def reportinfo(self) -> tuple[Any, int, str]:
            return self.path, 0, f"data test: {self.name}"

    return DataTestFile, DataTestItem


class _Lazy:
    """The pytest node classes, built on first use (pytest is only needed when collecting under pytest)."""

    _classes: tuple[Any, Any] | None = None

    @classmethod
    def from_parent(cls, parent: Any, **kwargs: Any) -> Any:
        if cls._classes is None:
            cls._classes = _pytest_classes()
        return cls._classes[0].from_parent(parent, **kwargs)


_DataTestFile = _Lazy
