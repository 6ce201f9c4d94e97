"""From a validated case to the facts the engines see, and the words a finding shows.

Two readings of each fact, by dotted path:

* **engine values** — total and typed for every engine: money as integer pence, dates as ordinals, enums as
  their string value, a list of enum members as one boolean per member, and every optional field present (its
  value when stated, else the meaning its model declares via ``when_unstated``) beside a ``<field>_stated``
  flag. Nothing a rule reads is ever missing or ``None``.
* **values as given** — the same paths as the case gives them, shown as a person reads them (``£5,000.01``,
  ``not stated``) to fill a rule's ``because`` template (:func:`raw_expression`, :func:`show`).

A case becomes one ``case`` fact (every part nested under its name, with ``has_<part>`` flags) plus one fact
per item of each listed part (``additional_criterion``, ``option``). :func:`_flatten` is the plain reading of
this layout; what runs is generated from the same steps once (:func:`case_facts`, :func:`read_lines`,
:func:`raw_expression`) and proven equal to it (``tests/test_facts.py``). Each fact's engine values are worked
out only when an engine asks for them: the compiled engine reads the validated models themselves.
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
    shower = _SHOWERS.get(type(value))
    if shower is None:
        if isinstance(value, Enum) and not isinstance(value, bool):
            shower = _SHOWERS[type(value)] = _enum_text  # each enum's type, once (racing threads store the same)
        else:
            return _show(value)
    return shower(value)


def _enum_text(member: Enum) -> str:
    return str(member._value_).replace("_", " ")


def _show(value: Any) -> str:
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


#: :func:`show` by the value's exact type, for the types a case holds (words are shown by the thousand).
_SHOWERS: dict[type, Callable[[Any], str]] = {
    type(None): lambda value: "not stated",
    bool: lambda value: "yes" if value else "no",
    Decimal: lambda value: f"£{value:,.2f}",
    dt.date: dt.date.isoformat,
    str: str,
    int: str,
    tuple: lambda value: ", ".join(map(show, value)) if value else "none",
}


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
        return _ENUM_VALUE
    if dt.date in types:
        return dt.date.toordinal
    if Decimal in types:
        return _pence
    return None


def _pence(value: Decimal) -> int:
    """Money as integer pence, as :func:`encode` gives it: a case's money is validated to whole pence."""
    return int(value.scaleb(2))


_ENUM_VALUE = operator.attrgetter("value")
#: Each encoding written out in the compiled reading (``{0}``: the value).
_INLINE: dict[Callable[[Any], Any], str] = {_ENUM_VALUE: "{0}.value", dt.date.toordinal: "{0}.toordinal()", _pence: "int({0}.scaleb(2))"}


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
        _flatten(model, "", values, {}, items)
        items.append(Fact(ITEM_FACTS[path], f"{path}[{i}]", values, model))


def _flatten(model: BaseModel, prefix: str, values: dict[str, Any], raw: dict[str, Any], items: list[Fact]) -> None:
    """``model``'s engine values into ``values`` and its values as given into ``raw``, by path: the plain reading
    of the layout above, which the generated readings follow."""
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


#: Where a line of generated code stores one engine value: ``store(path, expression)`` gives the line (without
#: its indent), or ``None`` to leave the path out.
Store = Callable[[str, str], "str | None"]


def _reading(
    model: type[BaseModel], prefix: str, variable: str, indent: str, constants: dict[str, Any], store: Store,
    items: Callable[[str, str], str] | None = None,
) -> list[str]:
    """Lines of Python storing the engine values of ``variable`` (a ``model`` at ``prefix`` in the case): the steps
    of :func:`_flatten`, written out once for this model at this place, each value through ``store``. A listed part
    becomes ``items(path, variable)`` (its items are facts of their own), or nothing without ``items``.

    A field none of whose paths is stored is not read at all."""
    lines: list[str] = []
    for n, step in enumerate(_steps(model, prefix)):
        path = step.path
        if store(path, "") is None and store(step.stated, "") is None and not any(
            store(other, "") is not None for other in _paths_under(model, step)
        ) and not (step.kind == "items" and items):
            continue
        value = f"{variable}_{n}"
        body: list[str] = []
        unstated = f"_u{len(constants)}"
        constants[unstated] = step.plan.unstated

        def put(target: str, expression: str, indent: str = indent) -> None:
            line = store(target, expression)
            if line is not None:
                body.append(indent + line)

        encoded = value
        if step.plan.enum is not None and step.kind == "scalar":  # a dict lookup: an enum's ``value`` is a slow property
            constants[f"_v{len(constants)}"] = {member: member.value for member in step.plan.enum}
            encoded = f"_v{len(constants) - 1}[{value}]"
        elif step.encoding is not None:
            encoded = _INLINE[step.encoding].format(value)
        if step.kind == "scalar":
            if step.plan.optional:
                put(step.stated, f"{value} is not None")
                put(path, f"{unstated} if {value} is None else {encoded}")
            else:
                put(path, encoded)
        else:  # a model, a list of members or of items: when not stated, a scalar's reading
            if step.plan.optional:
                put(step.stated, "False", indent + "    ")
            put(path, unstated, indent + "    ")
            when_none, body = body or [f"{indent}    pass"], []
            when_given: list[str] = []
            if step.kind == "members":
                for member_path, member in step.members:
                    constants[f"_m{len(constants)}"] = member
                    line = store(member_path, f"_m{len(constants) - 1} in {value}")
                    if line is not None:
                        when_given.append(f"{indent}    {line}")
            elif step.kind == "model":
                when_given = _reading(_model_type(model, step.name), f"{path}.", value, indent + "    ", constants, store, items)
            elif items is not None:
                when_given = [f"{indent}    {items(path, value)}"]
            body += [f"{indent}if {value} is None:", *when_none, f"{indent}else:", *(when_given or [f"{indent}    pass"])]
        if body:
            lines += [f"{indent}{value} = {variable}.{step.name}", *body]
    return lines


def _paths_under(model: type[BaseModel], step: _Step) -> list[str]:
    """Every engine path below ``step`` (a list of members' own paths, or a nested model's fields')."""
    if step.kind == "members":
        return [member_path for member_path, _ in step.members]
    if step.kind == "model":
        nested = _model_type(model, step.name)
        return [p for inner in _steps(nested, f"{step.path}.") for p in (inner.path, inner.stated, *_paths_under(nested, inner))]
    return []


def _model_type(model: type[BaseModel], name: str) -> type[BaseModel]:
    """The model a field holds (``Organisation | None`` gives ``Organisation``; ``tuple[Option, ...]``, ``Option``)."""
    return next(t for t in base_types(model.model_fields[name].annotation) if isinstance(t, type) and issubclass(t, BaseModel))


def _item_model(path: str) -> type[BaseModel]:
    """The model of each item of the listed part at ``path`` (``options`` gives ``Option``)."""
    owner, _, name = path.rpartition(".")
    return _model_type(Case if not owner else _model_type(Case, owner), name)


def _subject_model(subject: str) -> type[BaseModel]:
    """The model a fact of kind ``subject`` is read from: the case, or one listed item's."""
    return Case if subject == "case" else _item_model(next(path for path, kind in ITEM_FACTS.items() if kind == subject))


def _case_reading(
    variable: str, indent: str, constants: dict[str, Any], store: Store, items: Callable[[str, str], str] | None = None
) -> list[str]:
    """:func:`_reading` for the whole case in ``variable``: each part's ``has_<part>`` flag, then each part given
    (its items through ``items``, in the case's order)."""
    lines = [f"{indent}{line}" for part in CASE_PARTS if (line := store(f"has_{part}", f"{variable}.{part} is not None"))]
    for part in CASE_PARTS:
        local = f"{variable}_{part}"
        if part in ITEM_FACTS:
            if items is not None:
                lines += [f"{indent}{local} = {variable}.{part}", f"{indent}if {local}: {items(part, local)}"]
            continue
        inner = _reading(_model_type(Case, part), f"{part}.", local, indent + "    ", constants, store, items)
        if inner:
            lines += [f"{indent}{local} = {variable}.{part}", f"{indent}if {local} is not None:", *inner]
    return lines


def _into_dict(path: str, expression: str) -> str:
    return f"values[{path!r}] = {expression}"


def read_lines(subject: str, wanted: Mapping[str, str], variable: str, indent: str) -> tuple[list[str], dict[str, Any]]:
    """For an engine compiled to read the validated models directly: lines of Python that set each local variable
    named in ``wanted`` (by the path it stands for) from ``variable``, a fact's model (:attr:`Fact.model`: the
    case, or one listed item) of kind ``subject``, exactly as the fact's engine values hold it. A path the fact
    has no value for is not set (the engine starts every local as missing). Also the constants the lines use."""
    constants: dict[str, Any] = {}

    def store(path: str, expression: str) -> str | None:
        return f"{wanted[path]} = {expression}" if path in wanted else None

    if subject == "case":
        return _case_reading(variable, indent, constants, store), constants
    return _reading(_subject_model(subject), "", variable, indent, constants, store), constants


class Values(Mapping[str, Any]):
    """A fact's engine values by path, worked out from its model when first read (an engine compiled to read the
    models directly never needs them; the reference interpreter, durable_rules and the words do)."""

    __slots__ = ("_read", "_model", "_values")

    def __init__(self, read: Callable[[Any], dict[str, Any]], model: Any) -> None:
        self._read = read
        self._model = model
        self._values: dict[str, Any] | None = None

    @property
    def plain(self) -> dict[str, Any]:
        """The values as a plain dict."""
        values = self._values
        if values is None:
            values = self._values = self._read(self._model)  # racing threads store equal dicts: harmless
        return values

    def __getitem__(self, path: str) -> Any:
        return self.plain[path]

    def get(self, path: str, default: Any = None) -> Any:
        return self.plain.get(path, default)

    def __contains__(self, path: object) -> bool:
        return path in self.plain

    def __iter__(self) -> Iterator[str]:
        return iter(self.plain)

    def __len__(self) -> int:
        return len(self.plain)

    def __eq__(self, other: object) -> bool:
        return self.plain == (other.plain if isinstance(other, Values) else other)

    __hash__ = None  # type: ignore[assignment]  # a mapping


def _compile(name: str, lines: list[str], constants: dict[str, Any]) -> Callable[..., Any]:
    namespace: dict[str, Any] = {**constants, "Fact": Fact, "Values": Values}
    exec("\n".join(lines), namespace)  # noqa: S102 - field names and paths of our own models
    function: Callable[..., Any] = namespace[name]
    return function


@functools.cache
def _case_values() -> Callable[[Case], dict[str, Any]]:
    """The ``case`` fact's engine values, compiled once: straight-line code reading each field of a case once."""
    constants: dict[str, Any] = {}
    lines = ["def case_values(case):", "    values = {}", *_case_reading("case", "    ", constants, _into_dict), "    return values"]
    return _compile("case_values", lines, constants)


@functools.cache
def _item_values(path: str) -> Callable[[BaseModel], dict[str, Any]]:
    """One listed item's engine values, compiled once per listed part."""
    constants: dict[str, Any] = {}
    lines = ["def item_values(item):", "    values = {}"]
    lines += _reading(_item_model(path), "", "item", "    ", constants, _into_dict)
    lines.append("    return values")
    return _compile("item_values", lines, constants)


@functools.cache
def _facts() -> Callable[[Case], list[Fact]]:
    """:func:`case_facts` compiled once: the ``case`` fact, then each listed item's, in the order the case gives
    them (the order :func:`plain_case_facts` reads them in), each with its values worked out when first read."""
    constants: dict[str, Any] = {"case_values": _case_values()}
    for n, path in enumerate(ITEM_FACTS):
        constants[f"item_values_{n}"] = _item_values(path)

    def each_item(path: str, variable: str) -> str:
        n, kind = list(ITEM_FACTS).index(path), ITEM_FACTS[path]
        return (
            f"items += [Fact({kind!r}, f'{path}[{{i}}]', Values(item_values_{n}, item), item) "
            f"for i, item in enumerate({variable})]"
        )

    lines = [
        "def case_facts(case):", "    items = []",
        *_case_reading("case", "    ", constants, lambda path, expression: None, each_item),
        "    return [Fact('case', 'case', Values(case_values, case), case), *items]",
    ]
    return _compile("case_facts", lines, constants)


def case_facts(case: Case) -> list[Fact]:
    """The facts of one case: the ``case`` fact first, then one fact per listed item, in input order; each fact's
    values are worked out when first read, and each carries the model it reads (:attr:`Fact.model`)."""
    facts: list[Fact] = _facts()(case)
    return facts


#: What :func:`raw_expression` gives where a fact has no value at a path (its words say "not described").
ABSENT = object()


def raw_expression(subject: str, path: str, variable: str, temporary: str) -> str | None:
    """A Python expression reading ``path`` from ``variable``, the model of a ``subject`` fact (the case, or one
    listed item), for the words: the value as given (``None`` where not stated, shown "not stated"), where
    :func:`_flatten` lays out such a value; else ``ABSENT`` (a part or model not given, a list's members, an
    engine-only flag: shown "not described"). ``None`` when no fact of that kind ever has the path. It names its
    intermediate values ``<temporary>_<n>``."""
    model = _subject_model(subject)
    names = path.split(".")
    prefix, expression, guards = "", variable, 0
    if model is Case:  # a part first: absent when the case does not give it
        part = names.pop(0)
        if part not in CASE_PARTS or part in ITEM_FACTS or not names:
            return None
        model, prefix = _model_type(Case, part), f"{part}."
        expression = f"(ABSENT if ({temporary}_{guards} := {variable}.{part}) is None else "
        guards += 1
        inner = f"{temporary}_{guards - 1}"
    else:
        inner = variable
    while names:
        name = names.pop(0)
        step = next((s for s in _steps(model, prefix) if s.name == name), None)
        if step is None or step.kind == "items":
            return None
        if not names:
            if step.kind == "model":  # raw holds a model's path only when it is not given
                read = f"(None if {inner}.{name} is None else ABSENT)"
            else:
                read = f"{inner}.{name}"
            return (expression + read + ")" * guards) if guards else read
        if step.kind != "model":
            return None
        expression = (expression if guards else "") + f"(ABSENT if ({temporary}_{guards} := {inner}.{name}) is None else "
        inner = f"{temporary}_{guards}"
        guards += 1
        model, prefix = _model_type(model, name), f"{step.path}."
    return None


def plain_case_facts(case: Case) -> list[Fact]:
    """:func:`case_facts` read plainly, field by field, as the layout above says: what the compiled reading is
    proven equal to (``tests/test_facts.py``)."""
    values: dict[str, Any] = {f"has_{part}": getattr(case, part) is not None for part in CASE_PARTS}
    items: list[Fact] = []
    for part in CASE_PARTS:
        value = getattr(case, part)
        if isinstance(value, BaseModel):
            _flatten(value, f"{part}.", values, {}, items)
        elif part in ITEM_FACTS and value:
            _add_items(part, value, items)
    return [Fact("case", "case", values, case), *items]
