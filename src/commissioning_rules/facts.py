"""From a validated case to the facts the engines see, and the words a finding shows.

Two representations of each fact:

* **engine values** — total and typed for both interpreters: money as integer pence, dates as ordinals,
  enums as their string value, a list of enum members as one boolean per member, and every optional field
  present (its value when stated, else the meaning its model declares via ``when_unstated``) beside a
  ``<field>_stated`` flag. Nothing a rule reads is ever missing or ``None``.
* **display values** — the same paths as a person reads them (``£5,000.01``, ``not stated``), used to fill a
  rule's ``because`` template.

A case becomes one ``case`` fact (every part nested under its name, with ``has_<part>`` flags) plus one fact
per item of each listed part (``additional_criterion``, ``option``).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import typing
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, Callable, Iterator, Mapping

from pydantic import BaseModel

from commissioning_rules.engine.values import Fact, encode
from commissioning_rules.models.case import CASE_PARTS, Case

#: Case fields that hold lists of items, and the fact type each item becomes.
ITEM_FACTS = {"service.additional_criteria": "additional_criterion", "options": "option"}
#: Every kind of fact a case becomes.
FACT_TYPES = ("case", *ITEM_FACTS.values())


def show(value: Any) -> str:
    """A value as a person reads it."""
    if value is None:
        return "not stated"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"£{value:,.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value).replace("_", " ")
    if isinstance(value, tuple):
        return ", ".join(show(v) for v in value) if value else "none"
    return str(value)


def base_types(annotation: Any) -> list[Any]:
    """The plain types inside an annotation: ``Annotated[Decimal, ...] | None`` gives ``[Decimal, NoneType]``."""
    if typing.get_origin(annotation) is typing.Annotated:
        return base_types(typing.get_args(annotation)[0])
    args = typing.get_args(annotation)
    if not args:
        return [annotation]
    return [t for arg in args for t in base_types(arg)]


def enum_of(annotation: Any) -> type[Enum] | None:
    return next((t for t in base_types(annotation) if isinstance(t, type) and issubclass(t, Enum)), None)


_NEUTRAL = {bool: False, Decimal: Decimal(0), dt.date: dt.date.min, str: ""}


@dataclass(frozen=True)
class FieldPlan:
    """How one model field becomes engine values (worked out once per model class)."""

    name: str
    enum: type[Enum] | None
    optional: bool
    unstated: Any  # the encoded value a ``None`` stands for


@functools.cache
def field_plans(model: type[BaseModel]) -> tuple[FieldPlan, ...]:
    plans = []
    for name, info in model.model_fields.items():
        enum = enum_of(info.annotation)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        unstated: Any
        if "when_unstated" in extra:
            unstated = extra["when_unstated"]
        elif enum is not None:
            unstated = "not_stated"
        else:
            unstated = next((_NEUTRAL[t] for t in base_types(info.annotation) if t in _NEUTRAL), None)
        plans.append(FieldPlan(name, enum, info.default is None, encode(unstated) if unstated is not None else None))
    return tuple(plans)


class Display(Mapping[str, str]):
    """A fact's values as a person reads them, by path; each is put into words only when a template asks."""

    __slots__ = ("raw",)

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def __getitem__(self, path: str) -> str:
        return show(self.raw[path])

    def get(self, path: str, default: Any = None) -> Any:
        return show(self.raw[path]) if path in self.raw else default

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)


@dataclass(frozen=True)
class _Step:
    """One field of one model at one place in the case, worked out once: its paths, what kind of value it holds
    (a model, a list of items, a list of enum members, or a scalar) and how a scalar is encoded."""

    name: str
    path: str
    plan: FieldPlan
    stated: str  # the ``<path>_stated`` flag
    kind: str  # "model", "items", "members" or "scalar"
    members: tuple[tuple[str, Enum], ...]  # for a list of enum members: each member's own path
    encoding: Callable[[Any], Any] | None  # for a scalar: its encoding (``None``: compared as it is)


def _encoding(types: list[Any]) -> Callable[[Any], Any] | None:
    """How :func:`encode` treats a scalar of these types, chosen once: booleans, integers and strings as they are."""
    if any(isinstance(t, type) and issubclass(t, Enum) for t in types):
        return operator.attrgetter("value")
    if dt.date in types:
        return dt.date.toordinal
    if Decimal in types:
        return encode
    return None


@functools.cache
def _steps(model: type[BaseModel], prefix: str) -> tuple[_Step, ...]:
    steps = []
    for plan in field_plans(model):
        path = f"{prefix}{plan.name}"
        types = base_types(model.model_fields[plan.name].annotation)
        is_model = any(isinstance(t, type) and issubclass(t, BaseModel) for t in types)
        kind = "items" if path in ITEM_FACTS else "model" if is_model else "members" if ... in types else "scalar"
        members = tuple((f"{path}.{member.value}", member) for member in plan.enum or ()) if kind == "members" else ()
        steps.append(_Step(plan.name, path, plan, f"{path}_stated", kind, members, _encoding(types)))
    return tuple(steps)


def _add_items(path: str, models: tuple[BaseModel, ...], items: list[Fact]) -> None:
    """Each item of a listed part becomes a fact of its own, keyed by its place in the case."""
    for i, model in enumerate(models):
        values: dict[str, Any] = {}
        raw: dict[str, Any] = {}
        _flatten(model, "", values, raw, items)
        items.append(Fact(ITEM_FACTS[path], f"{path}[{i}]", values, Display(raw)))


def _flatten(model: BaseModel, prefix: str, values: dict[str, Any], raw: dict[str, Any], items: list[Fact]) -> None:
    for step in _steps(type(model), prefix):
        value = getattr(model, step.name)
        path = step.path
        if step.kind == "scalar" or value is None:
            raw[path] = value
            if step.plan.optional:
                values[step.stated] = value is not None
            if value is None:
                values[path] = step.plan.unstated
            else:
                values[path] = value if step.encoding is None else step.encoding(value)
        elif step.kind == "members":
            raw[path] = value
            for member_path, member in step.members:
                values[member_path] = member in value
        elif step.kind == "model":
            _flatten(value, f"{path}.", values, raw, items)
        else:
            _add_items(path, value, items)


def case_facts(case: Case) -> list[Fact]:
    """The facts of one case: the ``case`` fact first, then one fact per listed item, in input order."""
    values: dict[str, Any] = {f"has_{part}": getattr(case, part) is not None for part in CASE_PARTS}
    raw: dict[str, Any] = {}
    items: list[Fact] = []
    for part in CASE_PARTS:
        value = getattr(case, part)
        if isinstance(value, BaseModel):
            _flatten(value, f"{part}.", values, raw, items)
        elif part in ITEM_FACTS and value:
            _add_items(part, value, items)
    return [Fact("case", "case", values, Display(raw)), *items]
