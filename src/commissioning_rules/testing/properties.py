"""Ready-made properties a policy must hold, for the Norwich framework or any council's own policy.

Each property is a plain function of one case (and a policy): it returns ``True`` when it checked something,
``False`` when it does not apply to that case (e.g. no award, or the policy decides no monitoring), and raises
:class:`PropertyViolation` — an ``AssertionError`` carrying the case as JSON — when the policy breaks it::

    from commissioning_rules.testing import properties
    properties.living_wage_never_decides(case, policy)     # one case

    def test_my_policy():                                   # every property, on generated cases, from pytest
        properties.check_all(my_policy)

:func:`check_all` runs every property with hypothesis on cases from
:func:`commissioning_rules.testing.strategies.cases`; a failure is shrunk to a minimal case and reported as
JSON, ready for :func:`commissioning_rules.testing.data_tests.save_example` (or, in one call,
:meth:`PropertyViolation.save`).

Your own property joins them as a :class:`PropertySpec`: a function ``(case, policy, *, engine=None) -> bool``
(``True``: it checked something; ``False``: it does not apply to the case) that raises
:class:`PropertyViolation` — or simply fails an ``assert`` — when the policy breaks it::

    def small_groups_need_no_audit(case, policy, *, engine=None):
        ...
        assert decision.eligibility.eligible, "a small group was refused"
        return True

    properties.check_all(my_policy, extra=[properties.PropertySpec("small_groups_need_no_audit",
                                                                   small_groups_need_no_audit, require=("organisation",))])

In your own hypothesis tests, :func:`case_json` shows a case as its minimal JSON; a :class:`Case` prints that way
in hypothesis's "Falsifying example" too.

The properties, and the policy text they come from:

* ``deterministic`` — same case, same Decision, whatever was evaluated in between (the JSON contract's
  guarantees, docs/json-contract.md: ``evaluate`` is a pure function of case, policy and as_of);
* ``engines_agree`` — every engine (compiled, durable_rules where it imports) gives the reference interpreter's
  Decision but for ``engine``;
* ``complete`` — every rule set whose inputs the case has gives its answer (the JSON contract's
  guarantees: every valid case gets an answer);
* ``gate_monotonic`` — showing one more organisational requirement never turns eligible into ineligible (3.5.1);
* ``living_wage_never_decides`` — paying the living wage, or not, decides nothing (2.3: "encourages");
* ``monitoring_never_lighter`` — monitoring is never lighter as the award's value or complexity rises (3.7);
* ``notice_never_shorter`` — an award that is not time-limited gets at least the policy's notice period (3.8).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import difflib
import json
import re
import threading
import weakref
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from commissioning_rules.compare import EXPLANATIONS
from commissioning_rules.engine import ENGINES, EngineName, durable_available, engine_name
from commissioning_rules.engine.rule import AssemblyContext, Firing, Firings, RuleSet
from commissioning_rules.evaluate import evaluate
from commissioning_rules.models.case import Accounts, BusinessPlan, Case, Complexity, InsuranceCover
from commissioning_rules.models.decision import Decision
from commissioning_rules.models.types import MAX_MONEY
from commissioning_rules.policy import Policy

if TYPE_CHECKING:
    from hypothesis import settings as Settings

#: Monitoring levels from lightest to most intensive (the JSON contract's ``monitoring.level``).
MONITORING_LEVELS = ("light", "standard", "intensive")
#: Ladders of the organisation's graded answers, weakest first: a step up shows more (3.5.1).
ACCOUNTS_LADDER = ((None, Accounts.none, Accounts.unexamined), (Accounts.independently_examined, Accounts.audited))
BUSINESS_PLAN_LADDER = ((None, BusinessPlan.none), (BusinessPlan.in_development,), (BusinessPlan.in_place,))
COMPLEXITY_LADDER = (Complexity.low, Complexity.medium, Complexity.high)
#: Decision fields that record how a decision was made rather than what was decided.
BOOKKEEPING = ("as_of", "as_of_source", "policy", "engine", "findings", "parameters")


class PropertyViolation(AssertionError):
    """A policy broke a property on ``case``. ``str()`` shows the property, what went wrong and the case as JSON.

    ``decision`` is the Decision the policy gave ``case`` (where there was one); for a property comparing a
    case with a changed copy of it (a requirement shown, the living wage paid, a higher value), ``variant`` is
    that copy. Pass either case and the Decision you expected to
    :func:`~commissioning_rules.testing.data_tests.save_example` to keep the counterexample as a regression test.
    """

    def __init__(
        self,
        prop: str,
        message: str,
        case: Case,
        decision: Decision | None = None,
        variant: Case | None = None,
        *,
        expect: dict[str, Any] | None = None,
        variant_expect: dict[str, Any] | None = None,
        same: Sequence[str] = (),
    ) -> None:
        self.prop = prop
        self.message = message
        self.case = case
        self.decision = decision
        self.variant = variant
        #: What a correct policy decides (for ``case``, for ``variant``, and the paths equal in both), where the
        #: property can say: what :meth:`save` writes.
        self.expect = expect
        self.variant_expect = variant_expect
        self.same = tuple(same)
        super().__init__(f"{prop}: {message}\ncase (JSON):\n{case_json(case)}")

    def save(
        self, path: str | Any, policy: Policy | None = None, *, expect: dict[str, Any] | None = None,
        pin: Iterable[str] | None = None, fired: Iterable[str] = (), not_fired: Iterable[str] = (),
    ) -> Any:
        """Keep this (shrunk) counterexample as a data test, in one call, for any shipped property: the case,
        and its variant for a property comparing two, under ``holds: [<property>]`` (the test checks the property
        again on the case, pair and all, so it fails until the policy is fixed), with what a correct policy
        decides where the property can say (gate monotonic: both eligible; living wage: the same outcome either
        way; engines agree: what the reference interpreter decides). ``expect`` states what the policy should
        decide instead, ``fired`` and ``not_fired`` the rules that must, or must not, fire; ``pin`` (rule ids,
        fired or not, and paths such as ``eligibility.criteria[financial_systems].status``) keeps those parts of
        the Decision as it is. A property of your own needs one of them. Records ``policy``'s name and version (run under
        another, the test fails saying so). Returns the path written."""
        from commissioning_rules.testing.regression import save_example

        policy = _policy(policy)
        holds = [self.prop] if self.prop in PROPERTIES else []
        expected = expect if expect is not None else self.expect
        fired, not_fired = tuple(fired), tuple(not_fired)
        if not holds and expected is None and not self.same and pin is None and not fired and not not_fired:
            raise ValueError(
                f"{self.prop}: this counterexample has no expectation the file can state by itself; "
                "pass expect={...} (what the policy should decide) or pin=[...] (rule ids or paths to keep)"
            )
        keep: dict[str, Any] = {
            "variant": self.variant, "variant_expect": self.variant_expect, "same": self.same, "fired": fired, "not_fired": not_fired,
        }
        if pin is not None and expect is None:
            decision = self.decision or evaluate(self.case, policy=policy)
            return save_example(
                self.case, decision, path, name=self.prop, description=self.message, pin=pin, policy=policy, holds=holds, **keep
            )
        return save_example(
            self.case, expected or {}, path, name=self.prop, description=self.message, policy=policy, holds=holds, **keep
        )


def case_json(case: Case) -> str:
    """A case as indented JSON, leaving out what is not stated."""
    return json.dumps(case.model_dump(mode="json", exclude_none=True), indent=2)


def decided(decision: Decision, *, drop: Iterable[str] = ()) -> dict[str, Any]:
    """A Decision as JSON without the keys in ``drop``."""
    dumped = decision.model_dump(mode="json")
    for key in drop:
        dumped.pop(key, None)
    return dumped


def _evaluate(prop: str, case: Case, policy: Policy, engine: EngineName | None) -> Decision:
    """``evaluate``, with an exception on a valid case reported as a violation (a rule never raises)."""
    try:
        return evaluate(case, policy=policy, engine=engine_name(engine))
    except Exception as error:  # noqa: BLE001 - any exception on valid input is the finding
        text = str(error)
        shown = text if len(text) <= 300 else text[:300] + " …"
        raise PropertyViolation(prop, f"evaluate raised {type(error).__name__}: {shown}", case) from error


#: Keys that name an item of a list in a Decision (a criterion, an advisory, a process step …).
_ITEM_NAMES = ("criterion", "id", "name", "rule")


def _label(item: Any, index: int) -> str:
    """An item of a Decision's list by its name (``financial_systems``), else by its position."""
    if isinstance(item, dict):
        for key in _ITEM_NAMES:
            name = item.get(key)
            if isinstance(name, str):
                return name
    return str(index)


def _difference(left: Any, right: Any, path: str = "") -> str:
    """Where two JSON values first differ, as ``path: left != right``; list items named by their criterion,
    id or name (``eligibility.criteria[financial_systems].status``), not their position."""
    if isinstance(left, dict) and isinstance(right, dict):
        # an outcome (a status, a level) before the words explaining it (reasons, because …)
        for key in sorted(set(left) | set(right), key=lambda k: (k in EXPLANATIONS, k)):
            if left.get(key) != right.get(key):
                return _difference(left.get(key), right.get(key), f"{path}.{key}" if path else key)
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        for i, (a, b) in enumerate(zip(left, right)):
            if a != b:
                label = _label(a, i)
                return _difference(a, b, f"{path}[{label if label == _label(b, i) else i}]")
    return f"{path or '(whole)'}: {json.dumps(left, default=str)} != {json.dumps(right, default=str)}"


def _expectation(decision: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The Decision's value at ``path`` as a data test's expectation, or ``None`` where a path cannot name it
    (a list item without a name, the whole Decision)."""
    from commissioning_rules.testing.regression import expectation_at

    try:
        return expectation_at(decision, path)
    except (KeyError, ValueError):
        return None


def rules_deciding(
    decision: Decision, criterion: str, policy: Policy | None = None, outcome: str | None = None
) -> list[str]:
    """The rules that fired for ``criterion`` in ``decision`` (ids; only those concluding ``outcome``, if
    given), found by the rules' conclusions."""
    conclusions = {rule.id: rule.then for rule in _policy(policy).rules}
    return [
        f.rule for f in decision.findings
        if f.rule in conclusions and conclusions[f.rule].topic == criterion
        and outcome in (None, conclusions[f.rule].outcome)
    ]


def _behind(path: str, decisions: Sequence[tuple[str, Decision]], policy: Policy) -> str:
    """For a difference in a criterion, the rules that fired for it in each decision, named."""
    match = re.match(r"eligibility\.criteria\[([^\]]+)\]", path)
    if not match:
        return ""
    criterion = match.group(1)
    shown = [f"{label}: {', '.join(rules_deciding(d, criterion, policy)) or 'none'}" for label, d in decisions]
    return f" (rules that fired for {criterion} — " + "; ".join(shown) + ")"


def _policy(policy: Policy | None) -> Policy:
    return policy if policy is not None else Policy.default()


def _engines(engine: EngineName | None) -> list[EngineName]:
    """``[engine]``, or every engine that runs here (durable_rules does not import on Python 3.13+)."""
    return [engine] if engine else [e for e in ENGINES if e != "durable-rules" or durable_available()]


# --- the properties --------------------------------------------------------------------------------------


def deterministic(
    case: Case, policy: Policy | None = None, *, others: Sequence[Case] = (), engine: EngineName | None = None
) -> bool:
    """The same case gives the same Decision twice, with ``others`` evaluated in between (isolation).

    Checked on every engine available (or only ``engine``)."""
    policy = _policy(policy)
    for name in _engines(engine):
        first = _evaluate("deterministic", case, policy, name)
        for other in others:
            _evaluate("deterministic", other, policy, name)
        again = _evaluate("deterministic", case, policy, name)
        if first != again:
            raise PropertyViolation(
                "deterministic",
                f"engine {first.engine}: a second evaluation (after {len(others)} other cases) differs at "
                + (where := _difference(decided(first), decided(again)))
                + _behind(where, [("first", first), ("second", again)], policy),
                case,
                first,
            )
    return True


def engines_agree(case: Case, policy: Policy | None = None) -> bool:
    """Every engine that runs here gives the reference interpreter's Decision, but for its ``engine`` field
    (the compiled engine everywhere; durable_rules where it imports, not on Python 3.13+)."""
    policy = _policy(policy)
    reference = _evaluate("engines_agree", case, policy, "reference")
    expected = decided(reference, drop=["engine"])
    for name in _engines(None):
        if name == "reference":
            continue
        other = _evaluate("engines_agree", case, policy, name)
        got = decided(other, drop=["engine"])
        if got != expected:
            where = _difference(got, expected)
            raise PropertyViolation(
                "engines_agree",
                f"{name} != reference at " + where + _behind(where, [(name, other), ("reference", reference)], policy),
                case,
                reference,
                expect=_expectation(expected, where.split(":", 1)[0]),
            )
    return True


_recorded = threading.local()
_instrumented: "weakref.WeakKeyDictionary[Policy, Policy]" = weakref.WeakKeyDictionary()
_instrumented_lock = threading.Lock()


def _recording(policy: Policy) -> Policy:
    """``policy`` with each rule set's ``assemble`` wrapped to record what it returned (same rules, same
    parameters, so the same decisions); made once per policy."""

    def wrap(ruleset: RuleSet) -> RuleSet:
        original = ruleset.assemble

        def assemble(firings: Firings, context: AssemblyContext) -> dict[str, Any]:
            produced = original(firings, context)
            calls = getattr(_recorded, "calls", None)
            if calls is not None:
                calls.append((ruleset.name, produced))
            return produced

        clone = copy.copy(ruleset)  # no __post_init__: the rules stay exactly as they are
        object.__setattr__(clone, "assemble", assemble)
        return clone

    with _instrumented_lock:
        if policy not in _instrumented:
            # Everything else is kept (origin, dates, and the compiled engines: the rules are the same objects).
            _instrumented[policy] = dataclasses.replace(policy, rulesets=tuple(wrap(rs) for rs in policy.rulesets))
        return _instrumented[policy]


def complete(case: Case, policy: Policy | None = None, *, engine: EngineName | None = None) -> bool:
    """Every rule set whose inputs the case has gives an answer, and the Decision carries it.

    Generic over the policy's rule sets: a rule set is *active* when every case part in its ``inputs`` is
    present; its ``assemble`` must then run once and return Decision fields, at least one of them answered
    (not ``None``), each found in the Decision. Rule sets whose inputs are missing must not run, nor rule sets an
    earlier stage's decision rules out (their ``requires`` gates: 3.5, 3.4.1), whose fields must then be ``None``
    and whose gate must be among the findings."""
    policy = _policy(policy)
    recording = _recording(policy)
    _recorded.calls = []
    try:
        decision = _evaluate("complete", case, recording, engine)
        calls = list(_recorded.calls)
    finally:
        _recorded.calls = None
    produced: dict[str, list[Any]] = {}
    for name, output in calls:
        produced.setdefault(name, []).append(output)
    fields = set(Decision.model_fields) - set(BOOKKEEPING)
    dumped = decision.model_dump(mode="json")

    def fail(message: str) -> PropertyViolation:
        return PropertyViolation("complete", message, case, decision)

    stages = {name: getattr(decision, name) for name in fields}
    fired = {f.rule for f in decision.findings}
    for ruleset in policy.rulesets:
        active = all(getattr(case, part, None) is not None for part in ruleset.inputs)
        outputs = produced.get(ruleset.name, [])
        if not active:
            if outputs:
                raise fail(f"rule set {ruleset.name} ran although the case lacks one of its inputs {ruleset.inputs}")
            continue
        gate = next((g for g in ruleset.requires if g.blocks(stages) is not None), None)
        if gate is not None:
            if outputs:
                raise fail(f"rule set {ruleset.name} ran although {gate.after} rules it out ({gate.id})")
            answered = [name for name in ruleset.decides if stages.get(name) is not None]
            if answered or gate.id not in fired:
                raise fail(f"rule set {ruleset.name} is ruled out by {gate.id}, yet the Decision answers {answered} "
                           f"or lacks the gate's finding")
            continue
        if len(outputs) != 1:
            raise fail(f"rule set {ruleset.name} (inputs {ruleset.inputs} present) assembled {len(outputs)} times")
        output = outputs[0]
        if not isinstance(output, dict) or not output:
            raise fail(f"rule set {ruleset.name} gave no answer: its assemble returned {output!r}")
        unknown = set(output) - fields
        if unknown:
            raise fail(f"rule set {ruleset.name} returned fields the Decision does not have: {sorted(unknown)}")
        if all(value is None for value in output.values()):
            raise fail(f"rule set {ruleset.name} answered nothing: every field it returned is None ({sorted(output)})")
        for key, value in output.items():
            if value is None:
                continue
            shown = [v.model_dump(mode="json") if hasattr(v, "model_dump") else v for v in value] if isinstance(value, list) else (
                value.model_dump(mode="json") if hasattr(value, "model_dump") else value
            )
            if isinstance(shown, list):
                missing = [item for item in shown if item not in dumped.get(key, [])]
                if missing:
                    raise fail(f"rule set {ruleset.name} answered {key} items the Decision lacks: {missing}")
            elif dumped.get(key) != shown:
                raise fail(f"rule set {ruleset.name} answered {key}={shown!r} but the Decision has {dumped.get(key)!r}")
    return True


def improvements(case: Case) -> list[tuple[str, Case]]:
    """Every one-step improvement of the case's organisational answers, described.

    One more requirement shown (each not-true requirement made true, each missing insurance cover added, each
    unmet additional criterion met); the living wage paid (encouraged, 2.3, so never a reason to fail); accounts raised from none/unexamined/not stated to independently examined
    or audited; the business plan raised one step (none → in development → in place)."""
    from commissioning_rules.testing.strategies import ENCOURAGED_ONLY, requirement_fields

    organisation = case.organisation
    if organisation is None:
        return []
    found: list[tuple[str, Case]] = []

    def with_organisation(**changes: Any) -> Case:
        return case.model_copy(update={"organisation": organisation.model_copy(update=changes)})

    for name in (*requirement_fields(), *ENCOURAGED_ONLY):
        if getattr(organisation, name) is not True:
            found.append((f"organisation.{name}: {getattr(organisation, name)} -> True", with_organisation(**{name: True})))
    for cover in InsuranceCover:
        if cover not in organisation.insurance:
            found.append((f"organisation.insurance: add {cover.value}", with_organisation(insurance=(*organisation.insurance, cover))))
    for ladder, name in ((ACCOUNTS_LADDER, "accounts"), (BUSINESS_PLAN_LADDER, "business_plan")):
        now = getattr(organisation, name)
        rung = next(i for i, step in enumerate(ladder) if now in step)
        if rung + 1 < len(ladder):
            for better in ladder[rung + 1]:
                shown = getattr(now, "value", None)
                found.append((f"organisation.{name}: {shown} -> {getattr(better, 'value', None)}", with_organisation(**{name: better})))
    service = case.service
    if service is not None:
        for i, criterion in enumerate(service.additional_criteria):
            if not criterion.met:
                items = list(service.additional_criteria)
                items[i] = criterion.model_copy(update={"met": True})
                improved = service.model_copy(update={"additional_criteria": tuple(items)})
                found.append((f"service.additional_criteria[{i}].met: False -> True", case.model_copy(update={"service": improved})))
    return found


def gate_monotonic(case: Case, policy: Policy | None = None, *, engine: EngineName | None = None) -> bool:
    """Showing one more organisational requirement never turns eligible into ineligible (3.5.1).

    Applies to cases whose organisation is eligible as given; every one-step improvement
    (:func:`improvements`) must stay eligible."""
    policy = _policy(policy)
    before = _evaluate("gate_monotonic", case, policy, engine)
    if before.eligibility is None or not before.eligibility.eligible:
        return False
    for change, improved in improvements(case):
        after = _evaluate("gate_monotonic", improved, policy, engine)
        if after.eligibility is None or not after.eligibility.eligible:
            failed = [c.criterion for c in (after.eligibility.criteria if after.eligibility else []) if c.status.value == "not_met"]
            because = "; ".join(f"{c} by {', '.join(rules_deciding(after, c, policy, 'not_met')) or 'no rule'}" for c in failed)
            raise PropertyViolation(
                "gate_monotonic",
                f"eligible as given, but ineligible after {change} (criteria now not met: {because})",
                case,
                before,
                variant=improved,
                expect={"eligibility": {"eligible": True}},
                variant_expect={"eligibility": {"eligible": True}},
            )
    return True


def living_wage_never_decides(case: Case, policy: Policy | None = None, *, engine: EngineName | None = None) -> bool:
    """Paying the living wage, not paying it, or not saying, changes nothing but advisories and findings (2.3:
    the council "encourages organisations to pay the living wage where possible")."""
    if case.organisation is None:
        return False
    policy = _policy(policy)
    ignore = ("advisories", "findings", "parameters")
    base = _evaluate("living_wage_never_decides", case, policy, engine)
    for pays in (None, True, False):
        if pays == case.organisation.pays_living_wage:
            continue
        variant = case.model_copy(update={"organisation": case.organisation.model_copy(update={"pays_living_wage": pays})})
        other = _evaluate("living_wage_never_decides", variant, policy, engine)
        left, right = decided(base, drop=ignore), decided(other, drop=ignore)
        if left != right:
            where = _difference(left, right)
            raise PropertyViolation(
                "living_wage_never_decides",
                f"pays_living_wage {case.organisation.pays_living_wage} -> {pays} changes "
                + where
                + _behind(where, [(f"pays_living_wage {case.organisation.pays_living_wage}", base), (f"pays_living_wage {pays}", other)], policy),
                case,
                base,
                variant=variant,
                same=[where.split(":", 1)[0]],
            )
    return True


def _higher_values(value: Decimal, policy: Policy, as_of: dt.date | None) -> list[Decimal]:
    from commissioning_rules.testing.strategies import PENNY, boundary_amounts

    higher = {v for v in boundary_amounts(policy, as_of) if v > value}
    higher.update(v for v in (value + PENNY, value * 2, value * 10) if value < v <= MAX_MONEY)
    return sorted(higher)


def monitoring_never_lighter(case: Case, policy: Policy | None = None, *, engine: EngineName | None = None) -> bool:
    """Monitoring is never lighter when the award's value or its complexity rises (3.7: proportionate).

    Applies when the case has an award and the policy decides ``monitoring.level`` for it; values tried are
    every policy boundary above the award's value, a penny more, double and ten times."""
    award = case.award
    if award is None:
        return False
    policy = _policy(policy)
    base = _evaluate("monitoring_never_lighter", case, policy, engine)
    if base.monitoring is None:
        return False

    def rank(decision: Decision) -> int:
        level = decision.monitoring.level if decision.monitoring else None
        level = getattr(level, "value", level)  # an enum member or its text
        if level not in MONITORING_LEVELS:
            raise PropertyViolation(
                "monitoring_never_lighter", f"monitoring.level {level!r} is not one of {MONITORING_LEVELS}", case, decision
            )
        return MONITORING_LEVELS.index(level)

    start = rank(base)
    variants: list[tuple[str, dict[str, Any]]] = [
        (f"award.value {award.value} -> {v}", {"value": v}) for v in _higher_values(award.value, policy, case.as_of)
    ]
    variants += [
        (f"award.complexity {award.complexity.value} -> {c.value}", {"complexity": c})
        for c in COMPLEXITY_LADDER[COMPLEXITY_LADDER.index(award.complexity) + 1 :]
    ]
    for change, update in variants:
        raised = case.model_copy(update={"award": award.model_copy(update=update)})
        after = _evaluate("monitoring_never_lighter", raised, policy, engine)
        if after.monitoring is not None and rank(after) < start:
            raise PropertyViolation(
                "monitoring_never_lighter",
                f"monitoring {MONITORING_LEVELS[start]} becomes {MONITORING_LEVELS[rank(after)]} after {change}",
                case,
                base,
                variant=raised,
            )
    return True


#: Names tried, in order, for the ordinary notice period (3.8) when ``notice_never_shorter`` is not told one.
NOTICE_PARAMETER_NAMES = (
    "notice_ordinary_months", "notice_period_months", "notice_period", "ordinary_notice_period", "ordinary_notice_months",
    "notice_months",
)


def notice_parameter(policy: Policy | None = None) -> str | None:
    """The name of the policy's ordinary notice period (a ``months`` parameter), or ``None`` if it has none.

    A parameter named in :data:`NOTICE_PARAMETER_NAMES`; otherwise the one ``months`` parameter whose name
    mentions notice and not a reduction (``reduced``, ``time_limited``, ``short``), preferring ``ordinary``."""
    parameters = _policy(policy).parameters
    for name in NOTICE_PARAMETER_NAMES:
        if name in parameters and parameters[name].unit == "months":
            return name
    candidates = [
        name for name, p in parameters.items()
        if p.unit == "months" and "notice" in name and not any(w in name for w in ("reduced", "time_limited", "short"))
    ]
    ordinary = [name for name in candidates if "ordinary" in name]
    if len(ordinary) == 1:
        return ordinary[0]
    return candidates[0] if len(candidates) == 1 else None


def notice_never_shorter(
    case: Case, policy: Policy | None = None, *, engine: EngineName | None = None, parameter: str | None = None
) -> bool:
    """An award that is not time-limited gets at least the policy's ordinary notice period (3.8: "ordinarily
    three months"; reduced or none only for time-limited awards).

    Applies when the case has such an award, the policy decides ``notice.months`` and it has a notice-period
    parameter (``parameter``, or :func:`notice_parameter`) in force at ``as_of``."""
    award = case.award
    if award is None or award.time_limited:
        return False
    policy = _policy(policy)
    name = parameter or notice_parameter(policy)
    if name is None:
        return False
    decision = _evaluate("notice_never_shorter", case, policy, engine)
    if decision.notice is None:
        return False
    period = policy.parameters[name].at(decision.as_of).value
    if decision.notice.months < period:
        raise PropertyViolation(
            "notice_never_shorter",
            f"award not time-limited, but notice is {decision.notice.months} months, shorter than {name} = {period}",
            case,
            decision,
        )
    return True


# --- running them all ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PropertySpec:
    """A property: its ``name``, its ``check`` function ``(case, policy, *, engine=None) -> bool``, the case
    parts it needs (``require``), whether it also draws other cases (``draws_others``: passed as ``others=``)
    and whether it takes ``engine=`` (``takes_engine``)."""

    name: str
    check: Callable[..., bool]
    require: tuple[str, ...] = ()
    draws_others: bool = False
    takes_engine: bool = True


PROPERTIES: dict[str, PropertySpec] = {
    spec.name: spec
    for spec in (
        PropertySpec("deterministic", deterministic, draws_others=True),
        PropertySpec("engines_agree", engines_agree, takes_engine=False),
        PropertySpec("complete", complete),
        PropertySpec("gate_monotonic", gate_monotonic, require=("organisation",)),
        PropertySpec("living_wage_never_decides", living_wage_never_decides, require=("organisation",)),
        PropertySpec("monitoring_never_lighter", monitoring_never_lighter, require=("award",)),
        PropertySpec("notice_never_shorter", notice_never_shorter, require=("award",)),
    )
}


@dataclasses.dataclass
class PropertyResult:
    """How one property fared: ``examples`` run, how many it ``applied`` to, and its violation if any."""

    name: str
    examples: int = 0
    applied: int = 0
    violation: PropertyViolation | None = None

    @property
    def status(self) -> str:
        if self.violation is not None:
            return "failed"
        return "passed" if self.applied else "skipped"


class PropertiesFailed(AssertionError):
    """One or more properties failed; ``results`` holds every result, ``violations`` the shrunk failures."""

    def __init__(self, results: list[PropertyResult]) -> None:
        self.results = results
        self.violations = [r.violation for r in results if r.violation is not None]
        super().__init__("\n\n".join(str(v) for v in self.violations))

    def save(self, directory: Any, policy: Policy | None = None) -> list[Any]:
        """Each violation as ``directory/<property>.yaml`` (see :meth:`PropertyViolation.save`); returns the
        paths written. A violation of a property of your own that states no expectation cannot be saved
        without one: the others are written, then a ``ValueError`` names it (save it with
        ``violation.save(path, policy, expect=...)``)."""
        from pathlib import Path

        saved, unsaved = [], []
        for violation in self.violations:
            try:
                saved.append(violation.save(Path(directory) / f"{violation.prop}.yaml", policy))
            except ValueError:
                unsaved.append(violation.prop)
        if unsaved:
            raise ValueError(
                f"saved {len(saved)} violation(s) in {directory}; not {', '.join(unsaved)}: a property of your own "
                "states no expectation: save it with violation.save(path, policy, expect={...} or pin=[...])"
            )
        return saved


def default_settings(max_examples: int = 100, *, derandomize: bool = False) -> Settings:
    """Hypothesis settings for policy properties: no deadline (durable's first compile is slow), quiet (the
    violation carries the minimal case as JSON), one bug per property; ``derandomize`` for the same cases on
    every run."""
    from hypothesis import HealthCheck, Verbosity, settings

    return settings(
        max_examples=max_examples,
        derandomize=derandomize,
        deadline=None,
        database=None,
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def property_spec(prop: str | PropertySpec, extra: Iterable[PropertySpec] = ()) -> PropertySpec:
    """The property called ``prop`` (a shipped one, or one of ``extra``), or ``prop`` itself if a spec; an
    unknown name is a ``ValueError`` listing the known ones."""
    if isinstance(prop, PropertySpec):
        return prop
    known = {**PROPERTIES, **{spec.name: spec for spec in extra}}
    if prop not in known:
        close = difflib.get_close_matches(str(prop), known, 1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown property {prop!r}{hint} The properties are {sorted(known)}; add your own with "
            "PropertySpec(name, function, require=...) passed to check() or check_all(extra=[...])"
        )
    return known[prop]


def check(
    name: str | PropertySpec,
    policy: Policy | None = None,
    *,
    as_of: dt.date | None = None,
    max_examples: int = 100,
    settings: Any = None,
    engine: EngineName | None = None,
    exclude: Iterable[str] = (),
) -> PropertyResult:
    """Run the property called ``name`` (or a :class:`PropertySpec` of your own) on generated cases; never raises
    for a violation (see ``.violation``). An ``AssertionError`` a property raises counts as its violation."""
    from hypothesis import given
    from hypothesis import strategies as st

    from commissioning_rules.testing.strategies import cases

    spec = property_spec(name)
    policy = _policy(policy)
    result = PropertyResult(spec.name)
    exclude = tuple(exclude)
    strategy = cases(policy, as_of, require=spec.require, exclude=exclude)
    others = st.lists(cases(policy, as_of, exclude=exclude), max_size=3) if spec.draws_others else st.just([])
    options: dict[str, Any] = {"engine": engine} if spec.takes_engine else {}

    chosen: Settings = settings or default_settings(max_examples)

    @chosen
    @given(case=strategy, others=others)
    def run(case: Case, others: list[Case]) -> None:
        result.examples += 1
        extra = {"others": others} if spec.draws_others else {}
        try:
            applied = spec.check(case, policy, **options, **extra)
        except PropertyViolation:
            raise
        except AssertionError as error:  # a property of your own that simply asserts
            raise PropertyViolation(spec.name, str(error) or "assertion failed", case) from error
        if applied:
            result.applied += 1

    try:
        run()
    except PropertyViolation as violation:
        result.violation = violation
    except ExceptionGroup as group:  # settings with report_multiple_bugs=True: keep the first violation
        matched, _ = group.split(PropertyViolation)
        if matched is None:
            raise
        result.violation = _first_leaf(matched)
    return result


def _first_leaf(group: BaseExceptionGroup) -> Any:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


def check_all(
    policy: Policy | None = None,
    *,
    as_of: dt.date | None = None,
    max_examples: int = 100,
    properties: Iterable[str] | None = None,
    settings: Any = None,
    engine: EngineName | None = None,
    exclude: Iterable[str] = (),
    extra: Iterable[PropertySpec] = (),
) -> list[PropertyResult]:
    """Run every property (or those named) against ``policy`` on generated cases.

    ``exclude`` names case parts never generated; ``extra`` adds properties of your own (each a
    :class:`PropertySpec`), run after the shipped ones (or, named in ``properties``, where named). Returns one :class:`PropertyResult` per property when all pass (a property that applied to no case — e.g.
    monitoring, when the policy decides none — is ``skipped``); raises :class:`PropertiesFailed`, an
    ``AssertionError`` listing each violation with its shrunk case as JSON, when any fails. Use it in pytest::

        def test_policy_holds():
            properties.check_all(my_policy)
    """
    extra = tuple(extra)
    names = list(properties) if properties is not None else [*PROPERTIES, *(spec.name for spec in extra)]
    specs = [property_spec(name, extra) for name in names]  # every name checked before any runs
    results = [
        check(spec, policy, as_of=as_of, max_examples=max_examples, settings=settings, engine=engine, exclude=exclude)
        for spec in specs
    ]
    if any(r.violation for r in results):
        raise PropertiesFailed(results)
    return results


def summary(results: Iterable[PropertyResult]) -> str:
    """One line per property: status, examples run and how many it applied to."""
    return "\n".join(f"{r.name}: {r.status} ({r.applied} of {r.examples} examples applied)" for r in results)
