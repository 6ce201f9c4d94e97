"""The fact schema: every path a rule's condition may read on each kind of fact, and its domain.

Derived from the case models (:mod:`commissioning_rules.models.case`) and the fact builder's own per-field plans
(:func:`commissioning_rules.facts.field_plans`), so it cannot drift from the facts the engines are given. Two
readers use it: a council's policy file (:mod:`commissioning_rules.policy_file`: a rule added in the file reads
fields that exist, with operands of their type) and the static checks (:mod:`commissioning_rules.check`: the
finite domains of its exact search).
"""

from __future__ import annotations

import datetime as dt
import difflib
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, Mapping

from pydantic import BaseModel

from commissioning_rules.engine.rule import Param
from commissioning_rules.engine.values import encode
from commissioning_rules.facts import ITEM_FACTS, base_types, case_facts, enum_of, field_plans
from commissioning_rules.models.case import CASE_PARTS, Case

#: Parameter units a field of each kind may be compared with.
COMPATIBLE_UNITS = {
    "boolean": ("boolean",),
    "money": ("GBP",),
    "date": ("date",),
    "integer": ("integer", "months"),
    "enum": ("text",),
    "text": ("text",),
}


@dataclass(frozen=True)
class FieldSpec:
    """One field of a fact: its path, kind, finite members (enums), and how it reads when absent or unstated.

    ``part`` is the case part whose presence the field needs (``None`` for the presence flags themselves and
    for item facts, which are always whole). ``optional`` fields may be unstated (then ``<path>_stated`` is
    false and the field reads as ``unstated``).
    """

    path: str
    kind: str  # boolean, enum, money, date, integer, text
    members: tuple[str, ...] = ()
    part: str | None = None
    optional: bool = False
    unstated: Any = None
    python_type: Any = None
    #: Precomputed into the facts by the fact builder (not a model field): its type is only known from a sample.
    computed: bool = False


@dataclass(frozen=True)
class FactSchema:
    """The fields of one fact type, and the role of every path a condition may read."""

    subject: str
    fields: Mapping[str, FieldSpec]  # by the field's own path
    paths: Mapping[str, tuple[str, str]]  # path -> (field path, role: value | stated)

    def field(self, path: str) -> tuple[FieldSpec, str] | None:
        """The field a path reads and whether it reads its value or its ``_stated`` flag."""
        found = self.paths.get(path)
        return (self.fields[found[0]], found[1]) if found else None

    def suggest(self, path: str) -> list[str]:
        return difflib.get_close_matches(path, list(self.paths), n=3, cutoff=0.6)


def _kind(annotation: Any) -> tuple[str, tuple[str, ...], Any]:
    enum = enum_of(annotation)
    if enum is not None:
        return "enum", tuple(m.value for m in enum), enum
    types = [t for t in base_types(annotation) if t is not type(None)]
    for python_type, kind in ((bool, "boolean"), (Decimal, "money"), (dt.date, "date"), (int, "integer")):
        if python_type in types:
            return kind, (), python_type
    return "text", (), str


def _model_of(annotation: Any) -> type[BaseModel] | None:
    return next((t for t in base_types(annotation) if isinstance(t, type) and issubclass(t, BaseModel)), None)


def _is_list(annotation: Any) -> bool:
    return any(typing.get_origin(a) is tuple for a in _flat_args(annotation))


def _flat_args(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) is typing.Annotated:
        return _flat_args(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for arg in typing.get_args(annotation) for a in _flat_args(arg)]
    return [annotation]


def _collect(model: type[BaseModel], prefix: str, part: str | None, out: dict[str, FieldSpec]) -> None:
    """Mirror of ``facts._flatten``, over the model's types instead of a value (what ``None`` stands for is
    read from the same per-field plan the fact builder uses)."""
    plans = {plan.name: plan for plan in field_plans(model)}
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = info.annotation
        nested = _model_of(annotation)
        if nested is not None:
            if not _is_list(annotation):
                _collect(nested, f"{path}.", part, out)
            continue  # list items become facts of their own
        kind, members, python_type = _kind(annotation)
        if _is_list(annotation):
            for member in members:
                out[f"{path}.{member}"] = FieldSpec(f"{path}.{member}", "boolean", part=part, python_type=bool)
            continue
        plan = plans[name]
        unstated = plan.unstated if plan.optional else None
        out[path] = FieldSpec(path, kind, members, part, plan.optional, unstated, python_type)


def _item_models() -> dict[str, type[BaseModel]]:
    """The model of each item fact type, found by following its dotted path in ``ITEM_FACTS`` from ``Case``."""
    models: dict[str, type[BaseModel]] = {}
    for path, fact_type in ITEM_FACTS.items():
        model: type[BaseModel] | None = Case
        for name in path.split("."):
            info = model.model_fields.get(name) if model is not None else None
            model = _model_of(info.annotation) if info is not None else None
        if model is not None:
            models[fact_type] = model
    return models


_SCHEMAS: dict[str, FactSchema] = {}


def fact_schema(subject: str) -> FactSchema | None:
    """The schema of the ``case`` fact or of an item fact (``additional_criterion``, ``option``); ``None`` if unknown."""
    if subject in _SCHEMAS:
        return _SCHEMAS[subject]
    fields: dict[str, FieldSpec] = {}
    if subject == "case":
        for part in CASE_PARTS:
            fields[f"has_{part}"] = FieldSpec(f"has_{part}", "boolean", python_type=bool)
            model = _model_of(Case.model_fields[part].annotation)
            if model is not None and not _is_list(Case.model_fields[part].annotation):
                _collect(model, f"{part}.", part, fields)
    else:
        model = _item_models().get(subject)
        if model is None:
            return None
        _collect(model, "", None, fields)
    paths: dict[str, tuple[str, str]] = {}
    for spec in fields.values():
        paths[spec.path] = (spec.path, "value")
        if spec.optional:
            paths[f"{spec.path}_stated"] = (spec.path, "stated")
    for path, value in _computed_paths(subject, paths):
        owner = path.split(".", 1)[0] if subject == "case" and "." in path else None
        kind = "boolean" if isinstance(value, bool) else "integer" if isinstance(value, int) else "text"
        fields[path] = FieldSpec(path, kind, part=owner if owner in CASE_PARTS else None, python_type=type(value), computed=True)
        paths[path] = (path, "value")
    schema = FactSchema(subject, fields, paths)
    _SCHEMAS[subject] = schema
    return schema


def _sample(model: type[BaseModel]) -> dict[str, Any]:
    """A value for every field of ``model`` (every optional field stated, one item per list)."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = info.annotation
        nested = _model_of(annotation)
        if nested is not None:
            data[name] = [_sample(nested)] if _is_list(annotation) else _sample(nested)
            continue
        kind, members, _ = _kind(annotation)
        if _is_list(annotation):
            data[name] = list(members)
            continue
        data[name] = {"boolean": True, "enum": members[0] if members else "x", "money": "1.00", "date": "2020-01-01", "integer": 1, "text": "x"}[kind]
    return data


def _computed_paths(subject: str, known: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Paths the fact builder adds beyond the models' fields (values precomputed into the facts), with a sample
    value each, found by building the facts of a case that states everything. Such a path's domain is open."""
    try:
        facts = case_facts(Case.model_validate(_sample(Case)))
    except Exception:  # a model validator refusing the sample: nothing extra is discovered  # noqa: BLE001
        return []
    fact = next((f for f in facts if f.type == subject), None)
    if fact is None:
        return []
    return [(path, value) for path, value in fact.values.items() if path not in known]


def fact_subjects() -> tuple[str, ...]:
    return ("case", *sorted(_item_models()))


def operand_fits(spec: FieldSpec, role: str, operator: str, operand: Any, units: Mapping[str, str]) -> str | None:
    """Why ``path operator operand`` compares different types, or ``None`` when it fits."""
    kind = "boolean" if role == "stated" else spec.kind
    if spec.computed and kind != "boolean":
        return None  # an integer the fact builder computed may be pence, a date ordinal or a count: not checked
    if kind == "boolean" and operator not in ("eq", "neq"):
        return f"a boolean field can only be compared for equality, not with {operator}"
    if isinstance(operand, Param):
        unit = units.get(operand.name)
        if unit is not None and unit not in COMPATIBLE_UNITS[kind]:
            return f"parameter {operand.name} (unit {unit}) is compared with a {kind} field"
        return None
    types: dict[str, type | tuple[type, ...]] = {
        "boolean": bool,
        "money": Decimal,
        "date": dt.date,
        "integer": int,
        "enum": (str, Enum),
        "text": str,
    }
    expected = types[kind]
    if isinstance(operand, bool) and kind != "boolean":
        return f"true/false is compared with a {kind} field"
    if not isinstance(operand, expected):
        return f"{operand!r} ({type(operand).__name__}) is compared with a {kind} field"
    if kind == "enum" and encode(operand) not in spec.members:
        return f"{encode(operand)!r} is not one of {list(spec.members)}"
    return None
