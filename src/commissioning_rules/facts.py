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
import typing
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel

from commissioning_rules.models.case import CASE_PARTS, Case

#: Case fields that hold lists of items, and the fact type each item becomes.
ITEM_FACTS = {"service.additional_criteria": "additional_criterion", "options": "option"}


@dataclass(frozen=True)
class Fact:
    type: str
    key: str
    values: dict[str, Any]
    display: dict[str, str]


def encode(value: Any) -> Any:
    """A scalar as the engines compare it (the same encoding serves facts, rule operands and parameters)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        pence = value * 100
        if pence != pence.to_integral_value():
            raise ValueError(f"{value} is not a whole number of pence")
        return int(pence)
    if isinstance(value, dt.date):
        return value.toordinal()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (int, str)):
        return value
    raise TypeError(f"cannot encode {type(value).__name__} for the engine")


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


def _base_types(annotation: Any) -> list[Any]:
    """The plain types inside an annotation: ``Annotated[Decimal, ...] | None`` gives ``[Decimal, NoneType]``."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _base_types(typing.get_args(annotation)[0])
    args = typing.get_args(annotation)
    if not args:
        return [annotation]
    return [t for arg in args for t in _base_types(arg)]


def _enum_of(annotation: Any) -> type[Enum] | None:
    return next((t for t in _base_types(annotation) if isinstance(t, type) and issubclass(t, Enum)), None)


_NEUTRAL = {bool: False, Decimal: Decimal(0), dt.date: dt.date.min, str: ""}


@dataclass(frozen=True)
class _FieldPlan:
    """How one model field becomes engine values (worked out once per model class)."""

    name: str
    enum: type[Enum] | None
    optional: bool
    unstated: Any  # the encoded value a ``None`` stands for


@functools.cache
def _plan(model: type[BaseModel]) -> tuple[_FieldPlan, ...]:
    plans = []
    for name, info in model.model_fields.items():
        enum = _enum_of(info.annotation)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        unstated: Any
        if "when_unstated" in extra:
            unstated = extra["when_unstated"]
        elif enum is not None:
            unstated = "not_stated"
        else:
            unstated = next((_NEUTRAL[t] for t in _base_types(info.annotation) if t in _NEUTRAL), None)
        plans.append(_FieldPlan(name, enum, info.default is None, encode(unstated) if unstated is not None else None))
    return tuple(plans)


def _add_items(path: str, models: tuple[BaseModel, ...], items: list[Fact]) -> None:
    """Each item of a listed part becomes a fact of its own, keyed by its place in the case."""
    for i, model in enumerate(models):
        values: dict[str, Any] = {}
        display: dict[str, str] = {}
        _flatten(model, "", values, display, items)
        items.append(Fact(ITEM_FACTS[path], f"{path}[{i}]", values, display))


def _flatten(model: BaseModel, prefix: str, values: dict[str, Any], display: dict[str, str], items: list[Fact]) -> None:
    for plan in _plan(type(model)):
        value = getattr(model, plan.name)
        path = f"{prefix}{plan.name}"
        if isinstance(value, BaseModel):
            _flatten(value, f"{path}.", values, display, items)
        elif path in ITEM_FACTS:
            _add_items(path, value, items)
        elif isinstance(value, tuple):
            display[path] = show(value)
            for member in plan.enum or ():
                values[f"{path}.{member.value}"] = member in value
        else:
            display[path] = show(value)
            if plan.optional:
                values[f"{path}_stated"] = value is not None
            values[path] = plan.unstated if value is None else encode(value)


def case_facts(case: Case) -> list[Fact]:
    """The facts of one case: the ``case`` fact first, then one fact per listed item, in input order."""
    values: dict[str, Any] = {f"has_{part}": getattr(case, part) is not None for part in CASE_PARTS}
    display: dict[str, str] = {}
    items: list[Fact] = []
    for part in CASE_PARTS:
        value = getattr(case, part)
        if isinstance(value, BaseModel):
            _flatten(value, f"{part}.", values, display, items)
        elif part in ITEM_FACTS and value:
            _add_items(part, value, items)
    return [Fact("case", "case", values, display), *items]
