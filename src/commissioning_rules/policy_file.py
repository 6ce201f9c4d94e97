"""A council's policy file: YAML layered over a base policy (the Norwich framework unless told otherwise).

Three steps, each on its own:

1. reading the YAML (:func:`read_yaml`): ``yaml.safe_load`` (tags that would build Python objects are refused:
   nothing in the file is executed) and the line of every key, from the node tree;
2. the file's shape, described once by the pydantic models below (:class:`PolicyFile` and the models it is made
   of): required and unknown keys, text, dates, booleans, units. The JSON Schema of a policy file
   (:func:`json_schema`, ``commissioning-rules schema policy``) is generated from the same models;
3. what a schema cannot say, checked against the base policy: that a rule's fields exist and its operands fit
   them, that overrides and disabled rules name real rules, that an added rule concludes what its rule set
   understands.

Every problem found is reported, not only the first: a :class:`PolicyFileError` names the file and, for each
problem, the line, the key and what was expected (with a "did you mean" where a name is close to a real one).
``examples/council-policy.yaml`` is a complete example. The keys::

    name: Example Borough Council commissioning policy     # required
    description: ...                                       # optional
    effective_from: 2024-04-01                             # optional: check() proves every parameter has a value then
    parameters:                                            # dated values layered over the base's history
      accounts_threshold:                                  # an existing parameter: values (same date replaces),
        values:                                            #   optionally placeholder / description
          - {effective_from: 2024-04-01, value: "10000.00", source: "Cabinet, 12 March 2024, minute 7"}
      local_figure: {description: ..., unit: GBP, section: "local 4.2", values: [...]}   # a new parameter
    disable:                                               # rules switched off, by id, with the reason
      - {rule: living_wage.encouraged, reason: "..."}
    rules:                                                 # rules added, as data (no Python)
      - id: local.financial_systems.small_charity.not_applicable
        ruleset: organisation_criteria                     # the rule set whose assemble step reads it
        section: "Example BC 4.2"
        source: "The sentence of the council's policy, verbatim."
        when: {all_of: [{eq: {organisation.kind: charity}}, {lte: {organisation.annual_turnover: {param: local_figure}}}]}
        then: {topic: financial_systems, outcome: not_applicable}
        because: "plain English with {organisation.annual_turnover} and {param.local_figure}"
        overrides: [financial_systems.published_accounts.not_met]   # the more specific rule wins
    tables:                                                # single-hit decision tables for check()
      - {ruleset: organisation_criteria, topic: management, id_prefix: management.constitution.}

Conditions map one-to-one onto the rule combinators: ``{is_true: PATH}``, ``{is_false: PATH}``,
``{eq|neq|gt|gte|lt|lte: {PATH: OPERAND}}``, ``{one_of: {PATH: [OPERAND, ...]}}``, ``{all_of: [...]}``,
``{any_of: [...]}``, ``{not: CONDITION}``. An operand is a constant of the field's type (money as a quoted
decimal string, dates as YYYY-MM-DD, an enum member's name) or ``{param: NAME}``. An added rule must conclude
on a (topic, outcome) its rule set already concludes on, so the rule set's assemble step understands it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import os
import re
import types
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Callable, ClassVar, Literal, Mapping, NamedTuple, Union

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StringConstraints,
    Tag,
    ValidationError,
    model_validator,
)

from commissioning_rules.engine.rule import (
    PARAMETER_PLACEHOLDER,
    Compare,
    Conclusion,
    Condition,
    DecisionTable,
    Param,
    Rule,
    RuleSet,
    all_of,
    any_of,
    not_,
    one_of,
    override_cycles,
)
from commissioning_rules.fact_schema import FactSchema, FieldSpec, fact_schema, fact_subjects, operand_fits
from commissioning_rules.parameters import UNITS, Parameter, ParameterError, ParameterValue, _convert

if TYPE_CHECKING:  # policy.py imports this module (Policy.from_file): a policy is built there, from a Layered
    from commissioning_rules.policy import Policy

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Limit:
    """One bound on a policy file: its value, the unit it is counted in, and when and why it was set."""

    name: str
    value: int
    unit: str
    since: dt.date
    why: str


#: The bounds every policy file is held to (docs: guides/adopting.md, "Limits"). The example council file is
#: 3 KB, 4 levels deep and about 150 nodes; a policy that adds 1,600 rules is about 800 KB.
LIMITS = (
    Limit("max_bytes", 1_048_576, "bytes", dt.date(2026, 11, 25),
          "about 2,000 added rules; reading is refused before the file is parsed (a 100 MB file took a minute)"),
    Limit("max_depth", 32, "levels of nested mappings and lists", dt.date(2026, 11, 25),
          "the deepest key of the format is 6 levels down; conditions nest all_of/any_of/not a few levels more"),
    Limit("max_nodes", 200_000, "YAML nodes after every alias is expanded", dt.date(2026, 11, 25),
          "anchors and aliases stay usable; an alias bomb (billions of nodes from a few lines) is refused"),
    Limit("max_number_digits", 20, "characters of a number written unquoted", dt.date(2026, 11, 25),
          "money is quoted, and at most 13 digits of pounds and 2 of pence; a 5,000-digit integer is refused before it is built"),
)
MAX_BYTES, MAX_DEPTH, MAX_NODES, MAX_NUMBER_DIGITS = (limit.value for limit in LIMITS)



@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong in a policy file: the ``line`` (1-based, when known), the ``key`` and what was ``expected``."""

    line: int | None
    key: str
    expected: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.key or 'top level'}: {self.expected}" if self.line else f"{self.key or 'top level'}: {self.expected}"


class PolicyFileError(ValueError):
    """A policy file is malformed. ``problems`` lists everything found wrong, in file order; ``file``, ``line``
    (1-based, when known), ``key`` and ``expected`` describe the first."""

    def __init__(self, file: str, line: int | None, key: str, expected: str, *, more: tuple[Problem, ...] = ()) -> None:
        self.file, self.line, self.key, self.expected = file, line, key, expected
        self.problems: tuple[Problem, ...] = (Problem(line, key, expected), *more)
        if not more:
            super().__init__(f"{file}, {self.problems[0]}")
        else:
            listed = "\n".join(f"  {problem}" for problem in self.problems)
            super().__init__(f"{file}: {len(self.problems)} problems\n{listed}")

    @classmethod
    def of(cls, file: str, problems: list[Problem]) -> PolicyFileError:
        ordered = sorted(problems, key=lambda p: (p.line is None, p.line or 0))
        first, *more = ordered
        return cls(file, first.line, first.key, first.expected, more=tuple(more))


def _key_text(key: Key) -> str:
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# --- step 1: reading the YAML ----------------------------------------------------------------------------


class Lines:
    """Line numbers of every key of the document, from the YAML node tree (composing builds no objects)."""

    def __init__(self, node: yaml.Node | None, origin: str) -> None:
        self.origin = origin
        self.lines: dict[Key, int] = {}
        if node is not None:
            self._walk(node, ())

    def _walk(self, node: yaml.Node, key: Key) -> None:
        self.lines.setdefault(key, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                name = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
                if name in seen:
                    raise PolicyFileError(self.origin, key_node.start_mark.line + 1, _key_text((*key, name)), "this key is given twice")
                seen.add(name)
                self.lines[(*key, name)] = key_node.start_mark.line + 1
                self._walk(value_node, (*key, name))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, (*key, i))

    def problem(self, key: Key, expected: str) -> Problem:
        probe = tuple(part if isinstance(part, int) else str(part) for part in key)
        while probe and probe not in self.lines:
            probe = probe[:-1]
        return Problem(self.lines.get(probe), _key_text(key), expected)


def _yaml_error(origin: str, error: yaml.YAMLError) -> PolicyFileError:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    return PolicyFileError(origin, mark.line + 1 if mark else None, "", f"not valid YAML ({problem})")


class YamlLoader(yaml.SafeLoader):
    """The safe loader for YAML a person writes (policy files, data tests), except that a date that is no date
    (``2024-13-01``) stays text: the model reading it then reports it at its key, with every other problem,
    instead of loading stopping at it with a bare ``ValueError``."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):  # an explicit !!timestamp tag on a list or mapping
        raise yaml.constructor.ConstructorError(None, None, "a timestamp must be a scalar", node.start_mark)
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:  # YAML's pattern matched, the calendar refused it (month 13, 30 February)
        return loader.construct_scalar(node)


YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def read_yaml(text: str, origin: str) -> tuple[Any, Lines]:
    """The document ``text`` as Python data (the safe loader's) and the line of each of its keys."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        lines = Lines(node, origin)
        data = yaml.load(text, Loader=YamlLoader)  # noqa: S506 -- the safe loader with one constructor changed
    except yaml.YAMLError as error:
        raise _yaml_error(origin, error) from None
    return data, lines


class Layered(NamedTuple):
    """A policy file layered over its base policy: what :meth:`Policy.from_file` builds the new policy from."""

    name: str
    rulesets: tuple[RuleSet, ...]
    parameters: Mapping[str, Parameter]
    effective_from: dt.date | None


def load_policy_file(path: str | os.PathLike[str], base: Policy) -> Layered:
    """Read and layer the policy file at ``path`` over ``base``."""
    origin = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # never more than the bound, however large the file
    except OSError as error:
        raise PolicyFileError(origin, None, "", f"cannot be read ({error.strerror})") from None
    if len(data) > MAX_BYTES:
        raise PolicyFileError(origin, None, "", f"the file is larger than {MAX_BYTES:,} bytes, the most a policy file may be")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise PolicyFileError(origin, line, "", f"not UTF-8 text (byte {data[error.start]:#04x} at offset {error.start})") from None
    return load_policy_text(text, origin, base)


def _check_bounds(text: str, origin: str) -> None:
    """Refuse a document past any of :data:`LIMITS`, streaming its YAML events (nothing is built)."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise PolicyFileError(origin, None, "", f"the file is larger than {MAX_BYTES:,} bytes, the most a policy file may be")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built: the same events, faster
    depth, nodes = 0, 0
    open_anchors: list[tuple[str | None, int]] = []  # per open collection: its anchor, and the node count at its start
    anchored: dict[str, int] = {}  # anchor → nodes it stands for, expanded
    resolver = yaml.resolver.Resolver()  # how safe_load will type each plain scalar
    numbers = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    try:
        for event in yaml.parse(text, Loader=loader):
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise PolicyFileError(origin, line, "", f"nested more than {MAX_DEPTH} levels deep")
                open_anchors.append((event.anchor, nodes))
                nodes += 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
                anchor, start = open_anchors.pop()
                if anchor is not None:
                    anchored[anchor] = nodes - start
            elif isinstance(event, yaml.ScalarEvent):
                nodes += 1
                if event.anchor is not None:
                    anchored[event.anchor] = 1
                if (len(event.value) > MAX_NUMBER_DIGITS and event.implicit[0]
                        # types-PyYAML leaves Resolver.resolve unannotated
                        and resolver.resolve(yaml.ScalarNode, event.value, event.implicit) in numbers):  # type: ignore[no-untyped-call]
                    raise PolicyFileError(origin, line, "", f"a number written in more than {MAX_NUMBER_DIGITS} characters (money is a quoted string)")
            elif isinstance(event, yaml.AliasEvent) and event.anchor is not None:
                nodes += anchored.get(event.anchor, 1)  # an unknown alias is the parser's error, below
            if nodes > MAX_NODES:
                raise PolicyFileError(origin, line, "", f"more than {MAX_NODES:,} YAML nodes once aliases are expanded")
    except yaml.YAMLError as error:
        raise _yaml_error(origin, error) from None


def load_policy_text(text: str, origin: str, base: Policy) -> Layered:
    """Layer the policy document ``text`` (named ``origin`` in errors) over ``base``."""
    _check_bounds(text, origin)
    data, lines = read_yaml(text, origin)
    if data is None:
        raise PolicyFileError(origin, None, "", "the file is empty; expected a mapping with at least 'name'")
    try:
        document = PolicyFile.model_validate(data)
    except ValidationError as error:
        raise PolicyFileError.of(origin, [_problem(e, lines) for e in error.errors()]) from None
    return _Layer(base, lines).apply(document)


# --- step 2: the file's shape, as models -------------------------------------------------------------------

_ID_PATTERN = r"^[A-Za-z0-9_.\-]+$"
_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"


def _no_datetime(value: Any) -> Any:
    if isinstance(value, dt.datetime):  # YAML reads "2024-04-01 10:00" as a datetime: a date has no time
        raise ValueError("expected a date YYYY-MM-DD, with no time of day")
    return value


Text = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1)]
Date = Annotated[dt.date, BeforeValidator(_no_datetime)]
RuleId = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, pattern=_ID_PATTERN)]
ParameterName = Annotated[str, StringConstraints(strict=True, pattern=_NAME_PATTERN)]
Unit = Literal["GBP", "months", "integer", "text", "date", "boolean"]
#: An operand: a constant of the compared field's type (money as a quoted decimal string, dates as YYYY-MM-DD,
#: an enumeration member's name) or a parameter reference ``{param: NAME}``; checked against the field in step 3.
Operand = Annotated[Any, Field(description="a constant of the field's type, or {param: NAME}")]


class _Part(BaseModel):
    """A part of a policy file: unknown keys are errors, nothing is coerced from another type."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)
    #: What the part is, in error messages ("expected a rule (a mapping with keys ...)").
    what: ClassVar[str] = "a mapping"


class DatedValue(_Part):
    """A parameter's value from a date on, with the source that sets it."""

    what: ClassVar[str] = "a dated value"
    effective_from: Date
    value: Operand
    source: Text


class ParameterEntry(_Part):
    """A parameter: for one the base policy has, dated values layered over its history (and optionally
    ``placeholder``, ``description``); for a new one, its whole definition (description, unit, section, values)."""

    what: ClassVar[str] = "a parameter"
    #: The keys a parameter the base policy already has may take.
    LAYERED: ClassVar[tuple[str, ...]] = ("values", "placeholder", "description")
    description: Text | None = None
    unit: Unit | None = None
    section: Text | None = None
    placeholder: StrictBool | None = None
    values: list[DatedValue] = []


class Disable(_Part):
    """A rule of the base policy switched off, and why."""

    what: ClassVar[str] = "a rule to disable"
    rule: RuleId
    reason: Text


#: A rule to disable: its id alone, or ``{rule: ID, reason: WHY}``. The tags are the union's branches; they
#: appear in pydantic's error locations and are left out of the keys an error names.
_TAGS = ("rule id", "rule and reason")
DisableEntry = Annotated[
    Union[Annotated[RuleId, Tag(_TAGS[0])], Annotated[Disable, Tag(_TAGS[1])]],
    Discriminator(lambda value: _TAGS[0] if isinstance(value, str) else _TAGS[1]),
]


class FieldOperand(_Part):
    """``{FIELD: OPERAND}``: exactly one field of the fact, and what it is compared with."""

    model_config = ConfigDict(extra="allow", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _one_field(cls, value: Any) -> Any:
        if not isinstance(value, dict) or len(value) != 1:
            got = f"{len(value)} fields" if isinstance(value, dict) else _kind(value)
            raise ValueError(f"expected a mapping of one field to its operand, e.g. "
                             f"{{organisation.annual_turnover: \"5000.00\"}}, got {got}")
        return value

    @property
    def field_and_operand(self) -> tuple[str, Any]:
        ((path, operand),) = (self.model_extra or {}).items()
        return str(path), operand


class When(_Part):
    """A condition: a mapping with exactly one operator. The operators map one-to-one onto the rule combinators."""

    what: ClassVar[str] = "a condition"
    is_true: Text | None = None
    is_false: Text | None = None
    eq: FieldOperand | None = None
    neq: FieldOperand | None = None
    gt: FieldOperand | None = None
    gte: FieldOperand | None = None
    lt: FieldOperand | None = None
    lte: FieldOperand | None = None
    one_of: FieldOperand | None = None
    all_of: Annotated[list[When], Field(min_length=1)] | None = None
    any_of: Annotated[list[When], Field(min_length=1)] | None = None
    not_: When | None = Field(default=None, alias="not")
    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"minProperties": 1, "maxProperties": 1},
    )

    @model_validator(mode="before")
    @classmethod
    def _one_operator(cls, value: Any) -> Any:
        if isinstance(value, dict) and len(value) != 1:
            raise ValueError(f"expected a condition: a mapping with exactly one of {list(OPERATORS)}, got {len(value)} keys")
        return value

    @property
    def operator(self) -> tuple[str, Any]:
        ((name, argument),) = [(n, v) for n, v in self.__dict__.items() if v is not None]
        return ("not" if name == "not_" else name), argument


OPERATORS = ("is_true", "is_false", "eq", "neq", "gt", "gte", "lt", "lte", "one_of", "all_of", "any_of", "not")


class Then(_Part):
    """What a rule concludes: a topic and its outcome."""

    what: ClassVar[str] = "a conclusion"
    topic: Text
    outcome: Text


class RuleEntry(_Part):
    """A rule added as data (no Python): it must conclude a (topic, outcome) its rule set already concludes on."""

    what: ClassVar[str] = "a rule"
    id: RuleId
    ruleset: Text
    section: Text
    source: Text
    when: When
    then: Then
    because: Text
    subject: Text = "case"
    overrides: list[RuleId] = []


class TableEntry(_Part):
    """A single-hit decision table ``check()`` proves complete and unambiguous."""

    what: ClassVar[str] = "a decision table"
    ruleset: Text
    topic: Text
    id_prefix: Text | None = None
    subject: Text = "case"
    inputs: list[Text] = []


class PolicyFile(_Part):
    """A council's policy file, layered over a base policy (the Norwich framework unless told otherwise)."""

    what: ClassVar[str] = "a policy"
    model_config = ConfigDict(extra="forbid", frozen=True, title="commissioning_rules policy file")
    name: Text
    description: Text | None = None
    effective_from: Date | None = None
    parameters: dict[ParameterName, ParameterEntry] = {}
    disable: list[DisableEntry] = []
    rules: list[RuleEntry] = []
    tables: list[TableEntry] = []


def json_schema() -> dict[str, Any]:
    """The shape of a policy file as JSON Schema (draft 2020-12), generated from :class:`PolicyFile`.

    It describes structure only: :func:`load_policy_text` also checks what a schema cannot (that a rule's
    paths exist and its operands fit their fields, that overrides and disabled rules name real rules).
    """
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **PolicyFile.model_json_schema()}


# --- pydantic's errors, as the file's author reads them ----------------------------------------------------

_EXPECTED: dict[str, str] = {
    "string_type": "expected non-empty text",
    "string_too_short": "expected non-empty text",
    "bool_type": "expected true or false",
    "date_type": "expected a date YYYY-MM-DD",
    "date_parsing": "expected a date YYYY-MM-DD",
    "date_from_datetime_parsing": "expected a date YYYY-MM-DD",
    "date_from_datetime_inexact": "expected a date YYYY-MM-DD",
}


def _model_at(loc: Key) -> type[_Part] | None:
    """The model of the mapping at ``loc`` (inside a :class:`PolicyFile`), following the fields' annotations."""
    annotation: Any = PolicyFile
    for part in loc:
        annotation = _unwrap(annotation, mapping=True)
        if isinstance(annotation, type) and issubclass(annotation, _Part):
            fields = {f.alias or name: f for name, f in annotation.model_fields.items()}
            if part not in fields:
                return None
            annotation = fields[part].annotation
        elif typing.get_origin(annotation) is list and isinstance(part, int):
            annotation = typing.get_args(annotation)[0]
        elif typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            return None
    annotation = _unwrap(annotation, mapping=True)
    return annotation if isinstance(annotation, type) and issubclass(annotation, _Part) else None


def _unwrap(annotation: Any, *, mapping: bool) -> Any:
    """``X | None`` → ``X``; ``Annotated[X, ...]`` → ``X``; a union of a scalar and a model → the model."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in options if isinstance(_unwrap(a, mapping=False), type) and issubclass(_unwrap(a, mapping=False), _Part)]
            annotation = models[0] if mapping and models else options[0]
        else:
            return annotation


def _problem(error: Any, lines: Lines) -> Problem:
    loc: Key = tuple(part for part in error["loc"] if part not in _TAGS)
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        known = [f.alias or n for n, f in parent.model_fields.items()] if parent else []
        name = str(loc[-1])
        if parent is When:
            return lines.problem(loc, f"unknown operator {name!r}" + _hint(name, known) + f"; expected one of {list(OPERATORS)}")
        return lines.problem(loc, f"unknown key {name!r}" + _hint(name, known) + f"; expected one of {sorted(known)}")
    if kind == "missing":
        return lines.problem(loc[:-1], f"missing required key {loc[-1]!r}")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        model = _model_at(loc)
        if model is not None:
            keys = sorted(f.alias or n for n, f in model.model_fields.items())
            return lines.problem(loc, f"expected {model.what} (a mapping with keys {keys}), got {_kind(value)}")
        return lines.problem(loc, f"expected a mapping, got {_kind(value)}")
    if kind == "list_type":
        return lines.problem(loc, f"expected a list, got {_kind(value)}")
    if kind == "too_short":
        return lines.problem(loc, "expected at least one entry")
    if kind == "literal_error":
        return lines.problem(loc, f"expected one of {list(UNITS)}, got {_kind(value)}")
    if kind == "string_pattern_mismatch":
        if "[key]" in loc:
            where = loc[: loc.index("[key]")]
            return lines.problem(where, "expected a parameter name (a letter, then letters, digits and underscores)")
        return lines.problem(loc, f"expected an id of letters, digits, '.', '_' and '-', got {_kind(value)}")
    if kind == "value_error":
        return lines.problem(loc, str(error["ctx"]["error"]))
    if kind in _EXPECTED:
        return lines.problem(loc, f"{_EXPECTED[kind]}, got {_kind(value)}")
    return lines.problem(loc, f"{error['msg']}, got {_kind(value)}")


# --- step 3: layering over the base policy, with what a schema cannot check ------------------------------


class _Layer:
    def __init__(self, base: Policy, lines: Lines) -> None:
        self.base = base
        self.lines = lines
        self.problems: list[Problem] = []

    def fail(self, key: Key, expected: str) -> None:
        self.problems.append(self.lines.problem(key, expected))

    def apply(self, document: PolicyFile) -> Layered:
        parameters = self.parameters(document.parameters)
        disabled = self.disabled(document.disable)
        rulesets = {rs.name: rs for rs in self.base.rulesets}
        kept = {rs.name: tuple(r for r in rs.rules if r.id not in disabled) for rs in self.base.rulesets}
        added = self.rules(document.rules, rulesets, kept, disabled, parameters)
        tables = self.tables(document.tables, rulesets)
        if self.problems:
            raise PolicyFileError.of(self.lines.origin, self.problems)
        new_rulesets = tuple(
            dataclasses.replace(
                rs,
                rules=kept[rs.name] + tuple(rule for rule, target in added if target == rs.name),
                tables=rs.tables + tuple(t for t, target in tables if target == rs.name),
            )
            for rs in self.base.rulesets
        )
        return Layered(document.name, new_rulesets, parameters, document.effective_from)

    def parameters(self, entries: Mapping[str, ParameterEntry]) -> dict[str, Parameter]:
        merged = dict(self.base.parameters)
        for name, entry in entries.items():
            at: Key = ("parameters", name)
            existing = self.base.parameters.get(name)
            given = entry.model_fields_set
            if existing is None:
                missing = [key for key in ("description", "unit", "section", "values") if key not in given]
                if missing:
                    self.fail(at, f"new parameter {name!r} needs {', '.join(map(repr, missing))} (it is not in the base policy"
                              + _hint(name, self.base.parameters).replace(" (", "; ", 1).rstrip(")") + ")")
                    continue
                assert entry.unit is not None and entry.description is not None and entry.section is not None
                values = self.values(entry.values, (*at, "values"), name, entry.unit, ())
                if not entry.values:
                    self.fail((*at, "values"), "expected at least one dated value")
                merged[name] = Parameter(name, entry.description, entry.unit, entry.section, bool(entry.placeholder), values)
                continue
            for key in sorted(given - set(ParameterEntry.LAYERED)):
                self.fail((*at, key), f"unknown key {key!r} for parameter {name!r}, which the base policy defines; "
                          f"expected one of {sorted(ParameterEntry.LAYERED)}")
            merged[name] = dataclasses.replace(
                existing,
                values=self.values(entry.values, (*at, "values"), name, existing.unit, existing.values),
                placeholder=existing.placeholder if entry.placeholder is None else entry.placeholder,
                description=entry.description or existing.description,
            )
        return merged

    def values(self, entries: list[DatedValue], key: Key, name: str, unit: str, history: tuple[ParameterValue, ...]) -> tuple[ParameterValue, ...]:
        by_date = {v.effective_from: v for v in history}
        given: set[dt.date] = set()
        for i, entry in enumerate(entries):
            at = (*key, i)
            if entry.effective_from in given:
                self.fail((*at, "effective_from"), f"two values of {name} take effect on {entry.effective_from.isoformat()}")
            given.add(entry.effective_from)
            try:
                value = _convert(name, unit, entry.value)
            except ParameterError as error:
                self.fail((*at, "value"), f"{str(error).removeprefix(name + ': ')} (unit {unit})")
                continue
            by_date[entry.effective_from] = ParameterValue(entry.effective_from, value, entry.source)
        return tuple(sorted(by_date.values(), key=lambda v: v.effective_from))

    def disabled(self, entries: list[str | Disable]) -> set[str]:
        known = {rule.id for rule in self.base.rules}
        ids: set[str] = set()
        for i, entry in enumerate(entries):
            at: Key = ("disable", i) if isinstance(entry, str) else ("disable", i, "rule")
            rule_id = entry if isinstance(entry, str) else entry.rule
            if rule_id not in known:
                self.fail(at, f"no rule {rule_id!r} in the base policy" + _hint(rule_id, known))
            ids.add(rule_id)
        return ids

    def rules(self, entries: list[RuleEntry], rulesets: Mapping[str, Any], kept: Mapping[str, tuple[Rule, ...]], disabled: set[str], parameters: Mapping[str, Parameter]) -> list[tuple[Rule, str]]:
        added: list[tuple[Rule, str]] = []
        existing = {rule.id for rules in kept.values() for rule in rules}
        for i, body in enumerate(entries):
            at: Key = ("rules", i)
            count = len(self.problems)
            if body.id in existing:
                self.fail((*at, "id"), f"a rule {body.id!r} already exists (disable it first to replace it)")
            existing.add(body.id)
            if body.ruleset not in rulesets:
                self.fail((*at, "ruleset"), f"no rule set {body.ruleset!r}; expected one of {sorted(rulesets)}")
            schema = fact_schema(body.subject)
            if schema is None:
                self.fail((*at, "subject"), f"expected one of {list(fact_subjects())}, got {body.subject!r}")
                continue
            conclusion = Conclusion(body.then.topic, body.then.outcome)
            if body.ruleset in rulesets:
                understood = sorted({(r.subject, r.then.topic, r.then.outcome) for r in rulesets[body.ruleset].rules})
                if (body.subject, conclusion.topic, conclusion.outcome) not in understood:
                    shown = [f"{t}/{o}" for s, t, o in understood if s == body.subject]
                    self.fail((*at, "then"), f"rule set {body.ruleset} does not conclude {conclusion.topic}/{conclusion.outcome} "
                              f"about {body.subject} facts; expected one of {shown}")
            when = self.condition(body.when, (*at, "when"), schema, parameters)
            self.placeholders(body.because, (*at, "because"), schema, parameters)
            if when is None or len(self.problems) > count:
                continue
            rule = Rule(body.id, body.section, body.source, when, conclusion, body.because, body.subject, overrides=tuple(body.overrides))
            added.append((rule, body.ruleset))
        if not self.problems:
            self.overrides(added, kept, disabled)
        return added

    def overrides(self, added: list[tuple[Rule, str]], kept: Mapping[str, tuple[Rule, ...]], disabled: set[str]) -> None:
        every = {rule.id: rule for rules in kept.values() for rule in rules} | {rule.id: rule for rule, _ in added}
        for i, (rule, _) in enumerate(added):
            for j, target in enumerate(rule.overrides):
                at: Key = ("rules", i, "overrides", j)
                if target == rule.id:
                    self.fail(at, "a rule cannot override itself")
                elif target in disabled:
                    self.fail(at, f"rule {target!r} is disabled by this file, so there is nothing to override")
                elif target not in every:
                    self.fail(at, f"no rule {target!r} to override" + _hint(target, every))
                elif every[target].subject != rule.subject:
                    self.fail(at, f"rule {target!r} is about {every[target].subject} facts, this rule about {rule.subject} facts")
        cycles = override_cycles(list(every.values()))
        if cycles:
            first = next(i for i, (rule, _) in enumerate(added) if rule.id in cycles[0])
            self.fail(("rules", first, "overrides"), "rules override each other: " + " → ".join(cycles[0] + [cycles[0][0]]))

    def tables(self, entries: list[TableEntry], rulesets: Mapping[str, Any]) -> list[tuple[DecisionTable, str]]:
        tables = []
        for i, body in enumerate(entries):
            if body.ruleset not in rulesets:
                self.fail(("tables", i, "ruleset"), f"no rule set {body.ruleset!r}; expected one of {sorted(rulesets)}")
                continue
            tables.append((DecisionTable(body.topic, body.id_prefix or "", body.subject, tuple(body.inputs)), body.ruleset))
        return tables

    # --- the condition language ----------------------------------------------------------------------------

    def condition(self, node: When, key: Key, schema: FactSchema, parameters: Mapping[str, Parameter]) -> Condition | None:
        operator, argument = node.operator
        at = (*key, operator)
        if operator in ("all_of", "any_of"):
            parts = [self.condition(c, (*at, i), schema, parameters) for i, c in enumerate(argument)]
            if any(part is None for part in parts):
                return None
            return all_of(*parts) if operator == "all_of" else any_of(*parts)  # type: ignore[arg-type]
        if operator == "not":
            inner = self.condition(argument, at, schema, parameters)
            return None if inner is None else not_(inner)
        if operator in ("is_true", "is_false"):
            found = self.path(argument, at, schema)
            if found is None:
                return None
            spec, role = found
            if spec.kind != "boolean" and role != "stated":
                self.fail(at, f"{argument} is a {spec.kind} field, not true/false; use eq, gt, one_of …")
                return None
            return Compare(argument, "eq", operator == "is_true")
        path, operand = argument.field_and_operand
        found = self.path(path, (*at, path), schema)
        if found is None:
            return None
        spec, role = found
        if operator == "one_of":
            if not isinstance(operand, list) or not operand:
                self.fail((*at, path), f"expected a list of at least one operand, got {_kind(operand)}")
                return None
            items = [self.operand(o, (*at, path, i), spec, role, "eq", parameters) for i, o in enumerate(operand)]
            return None if any(item is _INVALID for item in items) else one_of(path, items)
        value = self.operand(operand, (*at, path), spec, role, operator, parameters)
        return None if value is _INVALID else Compare(path, operator, value)

    def path(self, path: str, key: Key, schema: FactSchema) -> tuple[FieldSpec, str] | None:
        found = schema.field(path)
        if found is None:
            hint = schema.suggest(path)
            self.fail(key, f"a {schema.subject} fact has no field {path!r}" + (f" (did you mean {', '.join(hint)}?)" if hint else ""))
        return found

    def operand(self, raw: Any, key: Key, spec: FieldSpec, role: str, operator: str, parameters: Mapping[str, Parameter]) -> Any:
        kind = "boolean" if role == "stated" else spec.kind
        value: Any
        expected: Callable[[], str] | None = None
        if isinstance(raw, dict):
            if set(raw) != {"param"} or not isinstance(raw["param"], str):
                self.fail(key, f"expected a parameter reference {{param: NAME}}, got {_kind(raw)}")
                return _INVALID
            name = raw["param"]
            if name not in parameters:
                self.fail((*key, "param"), f"no parameter {name!r}" + _hint(name, parameters))
                return _INVALID
            value = Param(name)
        elif kind == "boolean":
            value, expected = raw, (None if isinstance(raw, bool) else (lambda: "expected true or false"))
        elif kind == "money":
            try:
                value = _convert(spec.path, "GBP", raw)
            except ParameterError:
                self.fail(key, f"expected an amount of money as a quoted decimal string such as \"10000.00\", got {_kind(raw)}")
                return _INVALID
        elif kind == "date":
            value = raw if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime) else _iso_date(raw)
            expected = None if value is not None else (lambda: "expected a date YYYY-MM-DD")
        elif kind == "integer":
            value = raw
            expected = None if isinstance(raw, int) and not isinstance(raw, bool) else (lambda: "expected a whole number")
        elif kind == "enum":
            value = spec.python_type(raw) if raw in spec.members else None
            expected = None if value is not None else (lambda: f"expected one of {list(spec.members)}")
        else:
            value = raw.strip() if isinstance(raw, str) else raw
            expected = None if isinstance(raw, str) and raw.strip() else (lambda: "expected non-empty text")
        if expected is not None:
            self.fail(key, f"{expected()}, got {_kind(raw)}")
            return _INVALID
        why = operand_fits(spec, role, operator, value, {n: p.unit for n, p in parameters.items()})
        if why:
            self.fail(key, why)
            return _INVALID
        return value

    def placeholders(self, text: str, key: Key, schema: FactSchema, parameters: Mapping[str, Parameter]) -> None:
        for name in PARAMETER_PLACEHOLDER.findall(text):
            if name not in parameters:
                self.fail(key, f"{{param.{name}}} names no parameter" + _hint(name, parameters))
        shown = set(schema.fields) | {path.rsplit(".", 1)[0] for path in schema.fields}
        for path in _FACT_PLACEHOLDER.findall(text):
            if not path.startswith("param.") and path not in shown:
                self.fail(key, f"{{{path}}} names no field of a {schema.subject} fact" + _hint(path, shown))


_INVALID = object()
_FACT_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]+)\}")


def _iso_date(raw: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, (dict, list)):
        return f"a {type(value).__name__}"
    return f"{value!r} ({type(value).__name__})"


def _hint(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
