"""Hypothesis strategies for cases, valid by construction, that concentrate on what breaks a policy.

    from commissioning_rules.testing import strategies as crst

    @given(crst.cases())                       # any case, under the default policy
    def test_something(case): ...

    @given(crst.cases(my_policy, require=("organisation",)))
    def test_gate(case): ...

Every strategy follows a :class:`~commissioning_rules.Policy` and an ``as_of`` date:

* **money** lands at, just below and just above every value a ``GBP`` parameter has ever had (``£4,999.99``,
  ``£5,000.00``, ``£5,000.01`` for the default accounts threshold; a council's £10,000 beside it), and strictly
  between two successive values of a parameter that changed (where the old value and the new decide
  differently), read from the policy's parameters, so a council's own thresholds — and any threshold a new rule
  set adds — get their own boundaries without changing this module. A field the policy's rules compare with
  parameters (turnover with the accounts threshold, an award's value with the monitoring bands) lands on
  *those* parameters' values;
* **dates**: ``as_of`` lands on either side of every date a parameter changes value half the time (each side
  alike: the day before or any day of the old value; the day, the day after or any day of the new value), and
  is otherwise drawn where every parameter of the policy has a value in force; other dates favour month ends,
  leap days, the dates parameters take effect and ``as_of`` itself;
* ``around="accounts_threshold"`` (on :func:`cases` and each part's strategy) aims at one parameter (or
  several): most dates straddle its changes and most amounts land on or between its values;
* **every enum member** and every tri-state answer (yes / no / not stated) is drawn.

Strategies are derived from the case models' fields, so a field added to a model is generated too.
Cross-field rules of the models (an award ends after it starts, additional-criterion ids are unique) are
respected by construction; every case drawn validates.
"""

from __future__ import annotations

import calendar
import difflib
import datetime as dt
import functools
import string
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, Callable, Iterable

from hypothesis import strategies as st
from pydantic import BaseModel

from commissioning_rules.models.case import (
    Accounts,
    AdditionalCriterion,
    Award,
    BusinessPlan,
    Case,
    CASE_PARTS,
    ChartCriterion,
    Delivery,
    Departure,
    InsuranceCover,
    Option,
    Organisation,
    Provision,
    Review,
    Service,
)
from commissioning_rules.engine.rule import Compare, Param
from commissioning_rules.models.types import MAX_MONEY
from commissioning_rules.policy import Policy

PENNY = Decimal("0.01")
#: The latest ``as_of`` drawn (the earliest is where every parameter of the policy has a value in force).
LATEST_AS_OF = dt.date(2040, 12, 31)
#: The range dates inside a case (award start and end, notice served) are drawn from.
EARLIEST_DATE = dt.date(2010, 1, 1)
LATEST_DATE = dt.date(2045, 12, 31)
#: Ordinary amounts drawn beside the boundaries (most grants and contracts are below this).
TYPICAL_MONEY = Decimal("2000000")

__all__ = [
    "additional_criteria",
    "as_of_dates",
    "awards",
    "boundary_amounts",
    "cases",
    "change_dates",
    "compared_parameters",
    "dates",
    "deliveries",
    "departures",
    "earliest_as_of",
    "money",
    "options",
    "organisations",
    "provisions",
    "requirement_fields",
    "reviews",
    "services",
]


# --- what the policy says is interesting ---------------------------------------------------------------


def _policy(policy: Policy | None) -> Policy:
    return policy if policy is not None else Policy.default()


def boundary_amounts(policy: Policy | None = None, as_of: dt.date | None = None) -> list[Decimal]:
    """Amounts at, a penny below and a penny above every ``GBP`` parameter of ``policy``.

    With ``as_of``, the values in force at that date; without, every dated value the policy has ever had.
    Always includes £0.00 and £0.01. Sorted, without repeats.
    """
    amounts = {Decimal("0.00"), PENNY}
    for parameter in _policy(policy).parameters.values():
        if parameter.unit != "GBP":
            continue
        if as_of is None:
            values = [v.value for v in parameter.values]
        else:
            in_force = [v for v in parameter.values if v.effective_from <= as_of]
            values = [in_force[-1].value] if in_force else []
        for value in values:
            amounts.update(v for v in (value - PENNY, value, value + PENNY) if Decimal(0) <= v <= MAX_MONEY)
    return sorted(a.quantize(PENNY) for a in amounts)


def earliest_as_of(policy: Policy | None = None) -> dt.date:
    """The first date at which every parameter of ``policy`` has a value in force (and the policy itself, if
    it says when it takes effect)."""
    policy = _policy(policy)
    starts = [p.values[0].effective_from for p in policy.parameters.values() if p.values]
    takes_effect = policy.effective_from
    known: list[dt.date] = [*starts, *([takes_effect] if takes_effect else [])]
    return max(known) if known else EARLIEST_DATE


def _month_ends(first: dt.date, last: dt.date) -> list[st.SearchStrategy[dt.date]]:
    """Month ends in ``[first, last]`` (none or one strategy), drawn by month number: nothing filtered away."""

    def month_end(index: int) -> dt.date:
        year, month = divmod(index, 12)
        return dt.date(year, month + 1, calendar.monthrange(year, month + 1)[1])

    low = first.year * 12 + first.month - 1  # the month of ``first``: its end is never before ``first``
    high = last.year * 12 + last.month - 1
    if month_end(high) > last:
        high -= 1
    return [st.integers(low, high).map(month_end)] if low <= high else []


def _leap_days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [
        dt.date(year, 2, 29)
        for year in range(first.year, last.year + 1)
        if calendar.isleap(year) and first <= dt.date(year, 2, 29) <= last
    ]


def _parameter_dates(policy: Policy) -> set[dt.date]:
    found: set[dt.date] = set()
    for parameter in policy.parameters.values():
        for value in parameter.values:
            found.update(value.effective_from + dt.timedelta(days=d) for d in (-1, 0, 1))
            if parameter.unit == "date":
                found.add(value.value)
    return found


def _aim(policy: Policy, around: str | Iterable[str] | None) -> tuple[str, ...]:
    """The parameter names ``around`` aims at, checked against the policy (a clear error for a typo)."""
    names = (around,) if isinstance(around, str) else tuple(around or ())
    unknown = [name for name in names if name not in policy.parameters]
    if unknown:
        close = {name: difflib.get_close_matches(name, policy.parameters, 1) for name in unknown}
        hints = "".join(f"; did you mean {c[0]!r} for {n!r}?" for n, c in close.items() if c)
        raise ValueError(f"around: {policy.name} has no parameter {', '.join(map(repr, unknown))}{hints}")
    return tuple(sorted(set(names)))


def change_dates(policy: Policy | None = None, around: str | Iterable[str] | None = None) -> dict[str, list[dt.date]]:
    """Per parameter that changes value (or only those ``around`` names), the day before, the day and the day
    after each date a later value takes effect: where a bug between the old value and the new shows."""
    policy = _policy(policy)
    aim = _aim(policy, around)
    found: dict[str, list[dt.date]] = {}
    for name, parameter in sorted(policy.parameters.items()):
        if aim and name not in aim:
            continue
        days = sorted({v.effective_from + dt.timedelta(days=d) for v in parameter.values[1:] for d in (-1, 0, 1)})
        if days:
            found[name] = days
    return found


def dates(
    first: dt.date = EARLIEST_DATE,
    last: dt.date = LATEST_DATE,
    *,
    policy: Policy | None = None,
    around: Iterable[dt.date] = (),
) -> st.SearchStrategy[dt.date]:
    """Dates in ``[first, last]`` favouring month ends, leap days, the dates ``policy``'s parameters take
    effect (and the days either side), and the days ``around`` (each given date and the days either side).
    Every draw is a date in range: nothing is filtered away."""
    return _dates(first, last, _policy(policy), tuple(around))


@functools.lru_cache(maxsize=1024)
def _dates(first: dt.date, last: dt.date, policy: Policy, around: tuple[dt.date, ...]) -> st.SearchStrategy[dt.date]:
    candidates = set(_leap_days(first, last)) | _parameter_dates(policy)
    for day in around:
        candidates.update(day + dt.timedelta(days=d) for d in (-1, 0, 1))
    special = sorted(d for d in candidates if first <= d <= last)
    choices = [st.dates(first, last), *_month_ends(first, last)]
    if special:
        choices.insert(0, st.sampled_from(special))
    return st.one_of(*choices)


def as_of_dates(policy: Policy | None = None, *, around: str | Iterable[str] | None = None) -> st.SearchStrategy[dt.date]:
    """Dates to apply ``policy`` at, from the first date all its parameters are in force to 2040: half of them
    on either side of a date a parameter changes value (each changing parameter alike; each side alike: the day
    before or any day of the old value, the day, the day after or any day of the new), with ``around`` three in
    four on the changes of the parameters named. Nothing is filtered away."""
    policy = _policy(policy)
    return _as_of_dates(policy, _aim(policy, around))


def _sides(first: dt.date, last: dt.date, before: dt.date, change: dt.date, after: dt.date) -> list[st.SearchStrategy[dt.date]]:
    """Dates on either side of ``change`` (a value in force from ``before`` is replaced there by one in force
    until ``after``), within ``[first, last]``, each side alike: the day before or any day of the old value; the
    day, the day after or any day of the new value."""
    sides: list[st.SearchStrategy[dt.date]] = []
    eve = change - dt.timedelta(days=1)
    if first <= eve <= last:
        sides.append(st.one_of(st.just(eve), st.dates(max(first, before), eve)))
    if first <= change <= last:
        days = [day for day in (change, change + dt.timedelta(days=1)) if day <= last]
        sides.append(st.one_of(st.sampled_from(days), st.dates(change, max(change, min(last, after - dt.timedelta(days=1))))))
    return [st.one_of(*sides)] if sides else []


@functools.lru_cache(maxsize=64)
def _as_of_dates(policy: Policy, aim: tuple[str, ...]) -> st.SearchStrategy[dt.date]:
    first = earliest_as_of(policy)
    anywhere = dates(first, LATEST_AS_OF, policy=policy)
    straddles = []
    for name in change_dates(policy, aim):
        values = policy.parameters[name].values
        starts = [v.effective_from for v in values] + [LATEST_AS_OF + dt.timedelta(days=1)]
        sides = [side for i in range(1, len(values)) for side in _sides(first, LATEST_AS_OF, starts[i - 1], starts[i], starts[i + 1])]
        if sides:
            straddles.append(st.one_of(*sides))
    if not straddles:
        return anywhere
    changes = st.one_of(*straddles)
    return _weighted([changes, changes, changes, anywhere] if aim else [changes, anywhere])


def _weighted(strategies: list[st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of ``strategies``, each entry equally likely (so an entry given twice is drawn twice as often)."""
    return st.sampled_from(strategies).flatmap(lambda strategy: strategy)


def compared_parameters(policy: Policy | None = None) -> dict[str, frozenset[str]]:
    """For each field name the policy's rules compare with a parameter (``annual_turnover``, ``value`` …), the
    names of those parameters. Read from the rules' conditions, so a council's own rules count too."""
    found: dict[str, set[str]] = {}

    def walk(condition: Any) -> None:
        if isinstance(condition, Compare):
            if isinstance(condition.operand, Param):
                found.setdefault(condition.path.rsplit(".", 1)[-1], set()).add(condition.operand.name)
            return
        for part in condition.conditions:
            walk(part)

    for rule in _policy(policy).rules:
        walk(rule.when)
    return {name: frozenset(params) for name, params in found.items()}


def _boundary_groups(policy: Policy, names: Iterable[str]) -> list[tuple[Decimal, ...]]:
    """Per ``GBP`` parameter named, every value it has had, a penny either side of each."""
    groups = []
    for name in sorted(names):
        parameter = policy.parameters.get(name)
        if parameter is None or parameter.unit != "GBP":
            continue
        amounts = {
            a.quantize(PENNY) for v in parameter.values for a in (v.value - PENNY, v.value, v.value + PENNY)
            if Decimal(0) <= a <= MAX_MONEY
        }
        if amounts:
            groups.append(tuple(sorted(amounts)))
    return groups


def _between_groups(policy: Policy, names: Iterable[str]) -> list[tuple[Decimal, Decimal]]:
    """Per ``GBP`` parameter named that has changed value, the amounts strictly between each pair of its
    successive values (a penny inside each end): where the old value and the new decide differently."""
    spans = []
    for name in sorted(names):
        parameter = policy.parameters.get(name)
        if parameter is None or parameter.unit != "GBP":
            continue
        for old, new in zip(parameter.values, parameter.values[1:]):
            low, high = sorted((old.value, new.value))
            if high - low > 2 * PENNY:
                spans.append(((low + PENNY).quantize(PENNY), (high - PENNY).quantize(PENNY)))
    return sorted(set(spans))


def _between(policy: Policy, names: Iterable[str]) -> list[st.SearchStrategy[Decimal]]:
    """None or one strategy: amounts between a named parameter's successive values (:func:`_between_groups`)."""
    spans = _between_groups(policy, names)
    return [st.one_of(*(
        st.decimals(low, high, places=2, allow_nan=False, allow_infinity=False) for low, high in spans
    ))] if spans else []


def money(
    policy: Policy | None = None,
    as_of: dt.date | None = None,
    *,
    around: str | Iterable[str] | None = None,
    field: str | None = None,
) -> st.SearchStrategy[Decimal]:
    """Amounts in pounds (whole pence): at or a penny either side of a value some ``GBP`` parameter has had
    (every value it has ever had: ``as_of`` does not narrow them, since the bug often lives between the old value
    and the new), strictly between two successive values of a parameter that changed, or anywhere — one in three
    each (half and half where no parameter changed). With ``field`` (a field name such as ``annual_turnover``),
    the parameters the policy's rules compare that field with; with ``around``, four in seven draws (two in
    three where no parameter changed) land on or between the values of the parameters named."""
    policy = _policy(policy)
    return _money(policy, _aim(policy, around), field)


@functools.lru_cache(maxsize=256)
def _money(policy: Policy, aim: tuple[str, ...], field: str | None) -> st.SearchStrategy[Decimal]:
    money_parameters = [name for name, p in policy.parameters.items() if p.unit == "GBP"]
    compared = compared_parameters(policy).get(field or "", frozenset())
    groups = _boundary_groups(policy, compared or money_parameters) + [(Decimal("0.00"), PENNY)]
    boundaries = st.one_of(*(st.sampled_from(group) for group in groups))
    ordinary = st.one_of(
        st.decimals(Decimal(0), TYPICAL_MONEY, places=2, allow_nan=False, allow_infinity=False),
        st.decimals(Decimal(0), MAX_MONEY, places=2, allow_nan=False, allow_infinity=False),
    )
    between = _between(policy, compared or money_parameters)
    aimed = _boundary_groups(policy, aim)
    if not aimed:
        return st.one_of(boundaries, *between, ordinary)
    on_aim = st.one_of(*(st.sampled_from(group) for group in aimed), *_between(policy, aim))
    return _weighted([on_aim, on_aim, on_aim, on_aim, boundaries, *between, ordinary])


# --- strategies derived from the models' fields ----------------------------------------------------------


#: Yes/no facts the policy encourages but never requires (2.3: the living wage).
ENCOURAGED_ONLY = ("pays_living_wage",)


def requirement_fields() -> tuple[str, ...]:
    """The organisation's requirements: yes/no facts that, not stated, count as not shown (3.5.1).

    Making one of them true shows one more organisational requirement; the facts that decide whether a
    criterion *applies* (employs staff, handles personal data …) are read as applying when unstated instead,
    and the living wage (:data:`ENCOURAGED_ONLY`) is encouraged, not required."""
    return tuple(
        name
        for name, info in Organisation.model_fields.items()
        if isinstance(info.json_schema_extra, dict)
        and info.json_schema_extra.get("when_unstated") is False
        and name not in ENCOURAGED_ONLY
    )


@dataclass(frozen=True)
class _Context:
    """What the strategies of one case follow: the policy, the date applied, and the parameters aimed at."""

    policy: Policy
    as_of: dt.date | None
    aim: tuple[str, ...] = ()

    def money(self, field: str | None = None) -> st.SearchStrategy[Decimal]:
        return _money(self.policy, self.aim, field)

    def dates(self) -> st.SearchStrategy[dt.date]:
        around = (self.as_of,) if self.as_of else ()
        return dates(policy=self.policy, around=around)


def _context(policy: Policy | None, as_of: dt.date | None, around: str | Iterable[str] | None = None) -> _Context:
    policy = _policy(policy)
    return _Context(policy, as_of, _aim(policy, around))


_TEXT = st.text(string.ascii_letters + string.digits + " -'&", min_size=1, max_size=24).filter(str.strip)


def _plain(annotation: Any) -> tuple[Any, bool]:
    """The type inside an annotation, and whether ``None`` is allowed: ``Money | None`` → (Decimal, True)."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _plain(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        inner, _ = _plain(args[0])
        return inner, len(args) < len(typing.get_args(annotation))
    return annotation, False


#: The same, for the other modules that draw cases from the models (``samples``).
plain_type = _plain


def _strategy_for(annotation: Any, context: _Context, field: str | None = None) -> st.SearchStrategy[Any]:
    plain, optional = _plain(annotation)
    strategy: st.SearchStrategy[Any]
    if typing.get_origin(plain) is tuple:
        item, _ = _plain(typing.get_args(plain)[0])
        if isinstance(item, type) and issubclass(item, Enum):
            strategy = st.lists(st.sampled_from(list(item)), unique=True).map(tuple)
        else:
            strategy = st.lists(_model(item, context), max_size=3).map(tuple)
    elif isinstance(plain, type) and issubclass(plain, BaseModel):
        strategy = _model(plain, context)
    elif isinstance(plain, type) and issubclass(plain, Enum):
        strategy = st.sampled_from(list(plain))
    elif plain is bool:
        strategy = st.booleans()
    elif plain is Decimal:
        strategy = context.money(field)
    elif plain is dt.date:
        strategy = context.dates()
    elif plain is str:
        strategy = _TEXT
    else:  # pragma: no cover - a new kind of field: say so rather than guess
        raise TypeError(f"no strategy for fields of type {annotation!r}; add one to testing/strategies.py")
    # "not stated" first, so failures shrink towards the least said.
    return st.one_of(st.none(), strategy) if optional else strategy


def _fields(model: type[BaseModel], context: _Context, **overrides: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            name: overrides[name] if name in overrides else _strategy_for(info.annotation, context, name)
            for name, info in model.model_fields.items()
        }
    )


def _model(model: type[BaseModel], context: _Context) -> st.SearchStrategy[Any]:
    builders: dict[type[BaseModel], Callable[[], st.SearchStrategy[Any]]] = {
        Organisation: lambda: organisations(context.policy, context.as_of),
        Service: lambda: services(context.policy, context.as_of),
        AdditionalCriterion: additional_criteria,
        Delivery: deliveries,
        Provision: provisions,
        Option: lambda: options(context.policy, context.as_of),
        Award: lambda: awards(context.policy, context.as_of),
        Review: lambda: reviews(context.policy, context.as_of),
        Departure: departures,
    }
    if model in builders:
        return builders[model]()
    return _fields(model, context).map(model.model_validate)


# --- one strategy per case part ----------------------------------------------------------------------------

def _mostly(good: list[Any], bad: list[Any], odds: int = 19) -> st.SearchStrategy[Any]:
    """One of ``good`` about ``odds`` times in ``odds + 1``, else one of ``bad``."""
    return st.sampled_from(good * odds * len(bad) + bad * len(good))


_MOSTLY_TRUE = _mostly([True], [None, False], odds=38)


def organisations(
    policy: Policy | None = None,
    as_of: dt.date | None = None,
    *,
    compliant: bool | None = None,
    around: str | Iterable[str] | None = None,
) -> st.SearchStrategy[Organisation]:
    """Organisations of every kind and answer. ``compliant=True`` leans each requirement towards being shown
    (so eligible organisations are common and monotonicity has something to test); ``False`` draws every
    answer evenly; ``None`` (the default) draws from both. (An organisation has no dates: ``as_of`` is
    accepted for a uniform call; amounts land on every value the parameters have had.)"""
    policy = _policy(policy)
    return _organisations(policy, _aim(policy, around), compliant)


@functools.lru_cache(maxsize=256)
def _organisations(policy: Policy, aim: tuple[str, ...], compliant: bool | None) -> st.SearchStrategy[Organisation]:
    if compliant is None:
        return st.one_of(_organisations(policy, aim, False), _organisations(policy, aim, True))
    context = _Context(policy, None, aim)
    overrides: dict[str, st.SearchStrategy[Any]] = {}
    if compliant:
        overrides = {name: _MOSTLY_TRUE for name in requirement_fields()}
        overrides["accounts"] = _mostly([Accounts.audited, Accounts.independently_examined], [Accounts.unexamined, Accounts.none, None])
        overrides["business_plan"] = _mostly([BusinessPlan.in_place, BusinessPlan.in_development], [BusinessPlan.none, None])
        every_cover = tuple(InsuranceCover)
        some_covers = _strategy_for(Organisation.model_fields["insurance"].annotation, context)
        overrides["insurance"] = st.sampled_from([True] * 9 + [False]).flatmap(
            lambda all_covers: st.just(every_cover) if all_covers else some_covers
        )
    return _fields(Organisation, context, **overrides).map(Organisation.model_validate)


@functools.lru_cache(maxsize=8)
def additional_criteria(*, compliant: bool | None = None) -> st.SearchStrategy[AdditionalCriterion]:
    """A grant- or contract-specific criterion (3.5), met or not."""
    met = _mostly([True], [False]) if compliant else st.booleans()
    return st.builds(AdditionalCriterion, id=_TEXT, description=_TEXT, met=met)


def services(
    policy: Policy | None = None,
    as_of: dt.date | None = None,
    *,
    compliant: bool | None = None,
    around: str | Iterable[str] | None = None,
) -> st.SearchStrategy[Service]:
    """Services with and without children and vulnerable adults, and up to three additional criteria
    (unique ids). (No amounts or dates: ``as_of`` and ``around`` are accepted for a uniform call.)"""
    return _services(_policy(policy), compliant)


@functools.lru_cache(maxsize=64)
def _services(policy: Policy, compliant: bool | None) -> st.SearchStrategy[Service]:
    context = _context(policy, None)
    extra = st.lists(additional_criteria(compliant=compliant), max_size=3, unique_by=lambda c: c.id).map(tuple)
    # Mostly every chart row (the default, and what a failure shrinks to), sometimes a specification's own choice.
    rows = st.one_of(st.just(tuple(ChartCriterion)), st.lists(st.sampled_from(list(ChartCriterion)), unique=True).map(tuple))
    return _fields(Service, context, additional_criteria=extra, specification_criteria=rows).map(Service.model_validate)


def deliveries(policy: Policy | None = None, as_of: dt.date | None = None) -> st.SearchStrategy[Delivery]:
    """Facts for choosing self, partnership or external delivery (3.4.1). (No amounts or dates here: ``policy`` and ``as_of`` are accepted for a uniform call.)"""
    return _deliveries()


@functools.lru_cache(maxsize=1)
def _deliveries() -> st.SearchStrategy[Delivery]:
    return _fields(Delivery, _context(None, None)).map(Delivery.model_validate)


def provisions(policy: Policy | None = None, as_of: dt.date | None = None) -> st.SearchStrategy[Provision]:
    """Facts for choosing procurement, grant or grant in kind (3.4.2). (No amounts or dates here: ``policy`` and ``as_of`` are accepted for a uniform call.)"""
    return _provisions()


@functools.lru_cache(maxsize=1)
def _provisions() -> st.SearchStrategy[Provision]:
    return _fields(Provision, _context(None, None)).map(Provision.model_validate)


def options(
    policy: Policy | None = None, as_of: dt.date | None = None, *, around: str | Iterable[str] | None = None
) -> st.SearchStrategy[Option]:
    """One costed and valued option (2.1); amounts at the policy's boundaries."""
    policy = _policy(policy)
    return _options(policy, _aim(policy, around))


@functools.lru_cache(maxsize=256)
def _options(policy: Policy, aim: tuple[str, ...]) -> st.SearchStrategy[Option]:
    return _fields(Option, _Context(policy, None, aim)).map(Option.model_validate)


def awards(
    policy: Policy | None = None, as_of: dt.date | None = None, *, around: str | Iterable[str] | None = None
) -> st.SearchStrategy[Award]:
    """Awards of every route and complexity; values at the policy's boundaries; an award never ends before it
    starts (the two dates are put in order)."""
    return _awards(_context(policy, as_of, around))


@functools.lru_cache(maxsize=1024)
def _awards(context: _Context) -> st.SearchStrategy[Award]:

    def in_order(fields: dict[str, Any]) -> Award:
        start, end = fields["starts_on"], fields["ends_on"]
        if start and end and end < start:
            fields = {**fields, "starts_on": end, "ends_on": start}
        return Award.model_validate(fields)

    return _fields(Award, context).map(in_order)


def reviews(
    policy: Policy | None = None, as_of: dt.date | None = None, *, around: str | Iterable[str] | None = None
) -> st.SearchStrategy[Review]:
    """End-of-agreement reviews (3.8), with notice served on dates around ``as_of`` and month ends."""
    return _reviews(_context(policy, as_of, around))


@functools.lru_cache(maxsize=1024)
def _reviews(context: _Context) -> st.SearchStrategy[Review]:
    return _fields(Review, context).map(Review.model_validate)


def departures(policy: Policy | None = None, as_of: dt.date | None = None) -> st.SearchStrategy[Departure]:
    """Departures from the framework, documented or not (1.3). (No amounts or dates here: ``policy`` and ``as_of`` are accepted for a uniform call.)"""
    return _departures()


@functools.lru_cache(maxsize=1)
def _departures() -> st.SearchStrategy[Departure]:
    return _fields(Departure, _context(None, None)).map(Departure.model_validate)


@functools.lru_cache(maxsize=4096)
def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Absent (``None``, shrunk towards) or drawn from ``strategy``."""
    return st.one_of(st.none(), strategy)


@functools.lru_cache(maxsize=256)
def _option_lists(option: st.SearchStrategy[Option]) -> st.SearchStrategy[tuple[Option, ...]]:
    return st.lists(option, max_size=4).map(tuple)


@st.composite
def _cases(
    draw: st.DrawFn, policy: Policy, as_of: dt.date | None, require: tuple[str, ...], exclude: tuple[str, ...], aim: tuple[str, ...]
) -> Case:
    as_of = as_of or draw(_as_of_dates(policy, aim))
    compliant = draw(st.booleans())
    context = _Context(policy, as_of, aim)
    parts: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
        "organisation": lambda: _organisations(policy, aim, compliant),
        "service": lambda: services(policy, as_of, compliant=compliant),
        "delivery": deliveries,
        "provision": provisions,
        "options": lambda: _option_lists(_options(policy, aim)),
        "award": lambda: _awards(context),
        "review": lambda: _reviews(context),
        "departure": departures,
    }
    fields: dict[str, Any] = {"as_of": as_of}
    for part in CASE_PARTS:
        if part in exclude:
            continue
        strategy = parts[part]() if part in parts else _strategy_for(Case.model_fields[part].annotation, context, part)
        if part in require:
            fields[part] = draw(strategy)
        else:
            fields[part] = draw(_maybe(strategy))
    return Case.model_validate(fields)


def cases(
    policy: Policy | None = None,
    as_of: dt.date | None = None,
    *,
    require: Iterable[str] = (),
    exclude: Iterable[str] = (),
    around: str | Iterable[str] | None = None,
) -> st.SearchStrategy[Case]:
    """Whole cases under ``policy`` (default: the Norwich framework).

    ``as_of`` fixes the date applied; otherwise it is drawn by :func:`as_of_dates`: half the time on either
    side of a date some parameter changes value, else anywhere every parameter is in force. Amounts land on,
    and between, every value the parameters they are compared with have ever had. ``around`` (a parameter
    name, or several) aims both at that parameter: most dates straddle its changes, most amounts land on or
    between its values. Each part is
    present or absent at random, except the parts in ``require`` (always present) and ``exclude`` (never
    present).
    """
    policy = _policy(policy)
    require, exclude = tuple(require), tuple(exclude)
    unknown = (set(require) | set(exclude)) - set(CASE_PARTS)
    if unknown:
        raise ValueError(f"unknown case parts {sorted(unknown)}; the parts are {CASE_PARTS}")
    return _cases(policy, as_of, require, exclude, _aim(policy, around))
