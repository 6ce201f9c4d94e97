"""What-if: ``compare(cases, policy_a, policy_b)`` — which cases does a policy change move, and how?

Each case is evaluated under both policies at the same ``as_of`` (the argument, else the case's own, else
today) with the same engine. A case is reported when its *outcome* differs: any field of the Decision other
than the explanation of it. So ``eligibility.eligible``, each criterion's ``status``, ``route.route``,
``monitoring.level``, ``notice.months``, which advisories are given … count; the words of ``reasons``,
``to_meet``, ``because`` and advisory messages, the findings and the parameters used do not (they change with every
parameter value, even where the outcome does not). Lists of items are matched by their identifying key
(a criterion by ``criterion``, an advisory or process step by ``id``), so a change reads as
``eligibility.criteria[financial_systems].status: not_met → met``. Each reported case also lists the rules that
fired under one policy only. A case whose evaluation fails under one policy only (a parameter with no value at
``as_of``) is reported with the error; one that fails alike under both is listed in ``unevaluated``; a case
that is not valid input is a ``pydantic.ValidationError``, as in ``evaluate``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping, cast

from pydantic import BaseModel, ConfigDict

from commissioning_rules.engine import EngineName
from commissioning_rules.evaluate import evaluate
from commissioning_rules.models.case import Case
from commissioning_rules.models.decision import Decision
from commissioning_rules.parameters import ParameterError
from commissioning_rules.policy import Policy

#: Decision fields that explain an outcome rather than being one.
EXPLANATIONS = frozenset({"as_of", "as_of_source", "policy", "engine", "findings", "parameters", "reasons", "because", "message", "source", "to_meet"})
#: Keys that identify an item of a list of outcomes.
IDENTIFIERS = ("criterion", "id", "name", "rule")

_OUTPUT = ConfigDict(extra="forbid", frozen=True)


class Change(BaseModel):
    """One outcome that differs: its path in the Decision, and its value under each policy (``None``: absent)."""

    model_config = _OUTPUT

    path: str
    a: Any = None
    b: Any = None

    def __str__(self) -> str:
        return f"{self.path}: {_shown(self.a)} → {_shown(self.b)}"


class CaseDifference(BaseModel):
    """A case whose decision differs between the two policies. ``label`` names the case as a person would: its
    ``reference``, else its organisation's name, else its position (``case 3``)."""

    model_config = _OUTPUT

    index: int
    label: str = ""
    as_of: dt.date
    changes: list[Change]
    rules_only_a: list[str] = []
    rules_only_b: list[str] = []
    error_a: str | None = None
    error_b: str | None = None

    def change(self, path: str) -> Change | None:
        return next((c for c in self.changes if c.path == path), None)

    def describe(self, name_a: str = "A", name_b: str = "B", unit: str = "case") -> str:
        """The difference in words, naming policy A and policy B; ``unit`` names what ``index`` counts
        ("case" in a list, "line" in a file)."""
        position, as_of = f"{unit} {self.index}", f"as of {self.as_of.isoformat()}"
        named = self.label and self.label != position
        lines = [f"{self.label} ({position}, {as_of}):" if named else f"{position} ({as_of}):"]
        lines += [f"  {change}" for change in self.changes]
        if self.rules_only_a:
            lines.append(f"  rules fired only under {name_a}: " + ", ".join(self.rules_only_a))
        if self.rules_only_b:
            lines.append(f"  rules fired only under {name_b}: " + ", ".join(self.rules_only_b))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()


class Unevaluated(BaseModel):
    """A case neither policy could decide, with the same error under both (e.g. a parameter with no value)."""

    model_config = _OUTPUT

    index: int
    error: str


class Comparison(BaseModel):
    """Every case whose decision differs, out of ``cases`` compared, between policy A and policy B; and the
    cases that neither policy could decide (never silently counted as unchanged)."""

    model_config = _OUTPUT

    policy_a: dict[str, str]
    policy_b: dict[str, str]
    cases: int
    differences: list[CaseDifference]
    unevaluated: list[Unevaluated] = []

    @property
    def changed(self) -> list[int]:
        """Indexes of the cases whose decision differs."""
        return [d.index for d in self.differences]

    def __str__(self) -> str:
        head = (
            f"{len(self.differences)} of {self.cases} cases decided differently by {self.policy_b['name']} "
            f"(B, version {self.policy_b['version']}) than by {self.policy_a['name']} (A, version "
            f"{self.policy_a['version']}); each change reads A → B"
        )
        failed = [f"case {u.index} could not be decided under either policy: {u.error}" for u in self.unevaluated]
        return "\n".join([head, *(d.describe("A", "B") for d in self.differences), *failed])


def outcomes(decision: Decision) -> dict[str, Any]:
    """A decision's outcomes as ``{path: value}``, explanations left out (see the module docstring)."""
    return flatten(decision.model_dump(mode="json"))


def flatten(data: Any, skip: frozenset[str] = EXPLANATIONS) -> dict[str, Any]:
    """Decision JSON data as ``{path: value}``, leaving out the keys in ``skip`` (by default the explanations;
    a replay, which must reproduce every byte, skips nothing)."""
    flat: dict[str, Any] = {}
    _flatten(data, "", flat, skip)
    return flat


def _flatten(value: Any, path: str, flat: dict[str, Any], skip: frozenset[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                _flatten(item, f"{path}.{key}" if path else key, flat, skip)
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            label = next((str(item[k]) for k in IDENTIFIERS if isinstance(item, dict) and k in item), None)
            if label is None:
                _flatten(item, f"{path}[{i}]", flat, skip)
                continue
            flat[f"{path}[{label}]"] = "given"  # the item's presence is an outcome (an advisory given …)
            _flatten({k: v for k, v in item.items() if k not in IDENTIFIERS}, f"{path}[{label}]", flat, skip)
        return
    flat[path] = value


def changes(flat_a: Mapping[str, Any], flat_b: Mapping[str, Any]) -> list[Change]:
    """Every path whose value differs between two flattened decisions, in the order they list them; an item
    given under one only is one change, not one per field of it."""
    differing = [
        path for path in sorted(flat_a.keys() | flat_b.keys(), key=_order(flat_a, flat_b))
        if flat_a.get(path) != flat_b.get(path)
    ]
    items = [path for path in differing if path.endswith("]")]
    return [
        Change(path=path, a=flat_a.get(path), b=flat_b.get(path))
        for path in differing
        if not any(path.startswith(item) and path != item for item in items)
    ]


def _shown(value: Any) -> str:
    if value is None:
        return "absent"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("_", " ") if isinstance(value, str) else str(value)


def _evaluate(case: Case, policy: Policy, as_of: dt.date, engine: EngineName | None) -> tuple[Decision | None, str | None]:
    try:
        return evaluate(case, policy=policy, as_of=as_of, engine=engine), None
    except ParameterError as error:
        return None, str(error)


def compare_case(
    case: Case | Mapping[str, Any],
    policy_a: Policy,
    policy_b: Policy,
    *,
    as_of: dt.date | str | None = None,
    engine: EngineName | None = None,
    index: int = 0,
) -> CaseDifference | None:
    """How one case's decision differs between the two policies; ``None`` when the outcomes are the same.

    A case neither policy can decide (the same ``ParameterError`` under both) raises that error.
    """
    case = case if isinstance(case, Case) else Case.model_validate(case)
    if isinstance(as_of, str):
        as_of = dt.date.fromisoformat(as_of)
    as_of = as_of or case.as_of or dt.date.today()
    a, error_a = _evaluate(case, policy_a, as_of, engine)
    b, error_b = _evaluate(case, policy_b, as_of, engine)
    flat_a = outcomes(a) if a else {}
    flat_b = outcomes(b) if b else {}
    found = changes(flat_a, flat_b)
    if not found and error_a == error_b:
        if error_a is not None:
            raise _Unevaluated(error_a)
        return None
    fired_a = {f.rule for f in a.findings} if a else set()
    fired_b = {f.rule for f in b.findings} if b else set()
    return CaseDifference(
        index=index,
        label=case_label(case, index),
        as_of=as_of,
        changes=found,
        rules_only_a=sorted(fired_a - fired_b),
        rules_only_b=sorted(fired_b - fired_a),
        error_a=error_a,
        error_b=error_b,
    )


def case_label(case: Case, index: int) -> str:
    """A case named as a person would: its ``reference``, else its organisation's name, else ``case N``."""
    if case.reference:
        return case.reference
    if case.organisation is not None and case.organisation.name:
        return case.organisation.name
    return f"case {index}"


class _Unevaluated(ParameterError):
    pass


def _order(flat_a: Mapping[str, Any], flat_b: Mapping[str, Any]) -> Any:
    """Paths in the order the decisions list them (A's first), so changes read like the Decision."""
    position = {path: i for i, path in enumerate([*flat_a, *(p for p in flat_b if p not in flat_a)])}
    return lambda path: position[path]


def compare(
    cases: Iterable[Case | Mapping[str, Any]] | Case | Mapping[str, Any],
    policy_a: Policy,
    policy_b: Policy,
    *,
    as_of: dt.date | str | None = None,
    engine: EngineName | None = None,
) -> Comparison:
    """Every case whose decision differs between ``policy_a`` and ``policy_b``, and how (one case or many)."""
    one = isinstance(cases, (Case, Mapping))
    items = cast(Iterable[Case | Mapping[str, Any]], [cases] if one else cases)
    differences = []
    unevaluated = []
    count = 0
    for index, case in enumerate(items):
        count += 1
        try:
            difference = compare_case(case, policy_a, policy_b, as_of=as_of, engine=engine, index=index)
        except _Unevaluated as error:
            unevaluated.append(Unevaluated(index=index, error=str(error)))
            continue
        if difference is not None:
            differences.append(difference)
    return Comparison(
        policy_a={"name": policy_a.name, "version": policy_a.version},
        policy_b={"name": policy_b.name, "version": policy_b.version},
        cases=count,
        differences=differences,
        unevaluated=unevaluated,
    )
