"""Random cases in bulk, for differential runs too large for hypothesis (10⁵ cases and more).

    from commissioning_rules.testing.samples import random_cases
    for case in random_cases(100_000, policy, seed=1): ...

Hypothesis (:mod:`~commissioning_rules.testing.strategies`) finds and shrinks counterexamples but draws a case
in milliseconds; this draws one in tens of microseconds, from a seeded ``random.Random`` (the same seed gives
the same cases). It follows the same models and the same policy boundaries: every field of every case part,
derived from the models (a field added to a model is drawn too); each part present or absent; every optional
field sometimes not stated; every enum member; money at, a penny below and a penny above each threshold in
force half the time; ``as_of`` on and the day before each date a parameter changes, or spread over the
policy's years; other dates around ``as_of`` and month ends. A draw the models reject (a cross-field rule, such
as an award ending before it starts) is drawn again.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import random
import string
import typing
from decimal import Decimal
from enum import Enum
from typing import Any, Iterable, Iterator

from pydantic import BaseModel, ValidationError

from commissioning_rules.models.case import CASE_PARTS, Case
from commissioning_rules.policy import Policy
from commissioning_rules.testing.strategies import LATEST_AS_OF, boundary_amounts, earliest_as_of, plain_type

_LETTERS = string.ascii_letters + string.digits + " -'&"


@functools.lru_cache(maxsize=None)
def _shape(annotation: Any) -> tuple[str, Any, bool]:
    """What to draw for a field: (kind, its enum members or model, whether ``None`` is allowed); worked out once."""
    plain, optional = plain_type(annotation)
    if typing.get_origin(plain) is tuple:
        item, _ = plain_type(typing.get_args(plain)[0])
        if isinstance(item, type) and issubclass(item, Enum):
            return "enums", tuple(item), optional
        return "models", item, optional
    if isinstance(plain, type) and issubclass(plain, BaseModel):
        return "model", plain, optional
    if isinstance(plain, type) and issubclass(plain, Enum):
        return "enum", tuple(plain), optional
    kinds = {bool: "bool", Decimal: "money", dt.date: "date", str: "text"}
    if plain in kinds:
        return kinds[plain], None, optional
    raise TypeError(f"no random values for fields of type {annotation!r}; add them to testing/samples.py")


class _Drawer:
    def __init__(self, rng: random.Random, policy: Policy) -> None:
        self.rng = rng
        self.policy = policy
        self.first = earliest_as_of(policy)
        self.days = (LATEST_AS_OF - self.first).days
        # Dates to apply the policy at: each date a parameter takes effect and the day before, and a spread
        # of others (a few hundred, so the money boundaries in force are worked out once per date).
        changes = {v.effective_from for p in policy.parameters.values() for v in p.values}
        around = {d + dt.timedelta(days=k) for d in changes for k in (-1, 0)}
        spread = {self.first + dt.timedelta(days=rng.randint(0, self.days)) for _ in range(200)}
        self.as_of_dates = sorted(d for d in around | spread if self.first <= d <= LATEST_AS_OF)
        self._boundaries: dict[dt.date, list[Decimal]] = {}

    def date(self, around: dt.date) -> dt.date:
        rng = self.rng
        pick = rng.random()
        if pick < 0.3:
            return around + dt.timedelta(days=rng.randint(-3, 3))
        if pick < 0.5:  # a month end near as_of
            year, month = around.year + rng.randint(-1, 1), rng.randint(1, 12)
            return dt.date(year, month, calendar.monthrange(year, month)[1])
        return self.first + dt.timedelta(days=rng.randint(0, self.days))

    def money(self, as_of: dt.date) -> Decimal:
        if as_of not in self._boundaries:
            self._boundaries[as_of] = boundary_amounts(self.policy, as_of)
        if self.rng.random() < 0.5:
            return self.rng.choice(self._boundaries[as_of])
        return Decimal(self.rng.randint(0, 50_000_000)) / 100

    def value(self, annotation: Any, as_of: dt.date) -> Any:
        rng = self.rng
        kind, inner, optional = _shape(annotation)
        if optional and rng.random() < 0.15:
            return None
        if kind == "bool":
            return rng.random() < 0.7
        if kind == "enum":
            return rng.choice(inner)
        if kind == "enums":
            return [m for m in inner if rng.random() < 0.5]
        if kind == "model":
            return self.model(inner, as_of)
        if kind == "models":
            return [self.model(inner, as_of) for _ in range(rng.randint(0, 3))]
        if kind == "money":
            return self.money(as_of)
        if kind == "date":
            return self.date(as_of)
        return "".join(rng.choice(_LETTERS) for _ in range(rng.randint(1, 12))).strip() or "x"

    def model(self, model: type[BaseModel], as_of: dt.date) -> dict[str, Any]:
        return {name: self.value(info.annotation, as_of) for name, info in model.model_fields.items()}


def random_cases(n: int, policy: Policy | None = None, *, seed: int = 0) -> Iterator[Case]:
    """``n`` valid cases drawn at random under ``policy`` (default: the Norwich framework), reproducibly."""
    policy = policy if policy is not None else Policy.default()
    drawer = _Drawer(random.Random(seed), policy)
    made = 0
    while made < n:
        as_of = drawer.rng.choice(drawer.as_of_dates)
        fields: dict[str, Any] = {"as_of": as_of}
        for part in CASE_PARTS:
            if drawer.rng.random() < 0.7:
                fields[part] = drawer.value(Case.model_fields[part].annotation, as_of)
        try:
            case = Case.model_validate(fields)
        except ValidationError:
            continue  # a cross-field rule of the models: draw again
        made += 1
        yield case


def engine_disagreements(
    cases: Iterable[Case], policy: Policy | None = None, engines: Iterable[str] = ("compiled", "durable-rules")
) -> Iterator[tuple[Case, str, list[tuple[str, str]], list[tuple[str, str]]]]:
    """For each case where an engine fires other rules than the reference interpreter: (case, engine, what it
    fired, what the reference fired), as (rule id, fact key) pairs. Nothing is yielded when they all agree.

    The firings are everything a Decision is built from besides the case (the rest is one code path for every
    engine), so agreeing firings mean identical Decisions at a fraction of the cost of building them."""
    from commissioning_rules.evaluate import fired

    policy = policy if policy is not None else Policy.default()
    engines = tuple(engines)
    for case in cases:
        as_of = case.as_of or dt.date.today()
        expected = fired(case, policy=policy, as_of=as_of, engine="reference")
        for engine in engines:
            got = fired(case, policy=policy, as_of=as_of, engine=engine)
            if got != expected:
                yield case, engine, got, expected
