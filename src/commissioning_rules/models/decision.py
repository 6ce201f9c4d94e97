"""The Decision: what ``evaluate`` returns. ``model_dump(mode="json")`` is the output contract (docs/json-contract.md)."""

from __future__ import annotations

import contextlib
import datetime as dt
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, Callable, ClassVar, Iterator, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field

_OUTPUT = ConfigDict(extra="forbid", frozen=True)


_SOURCES: ContextVar[bool] = ContextVar("commissioning_rules_sources", default=False)


@contextlib.contextmanager
def sources_included() -> Iterator[None]:
    """Within this block, a Decision's JSON (``model_dump``, ``model_dump_json``) carries the sentence each finding
    quotes and where each parameter's value comes from; outside it, each rule is cited by id and section only.

    The sentences are always on the models (``finding.source``), and ``explain()`` always quotes them; only the
    JSON leaves them out unless asked: they live once in the rule catalogue (``commissioning-rules rules``).
    ``Decision.to_json(sources=True)`` is this block around one ``model_dump_json``. Per thread and per asyncio
    task (a context variable), so a service answering two requests at once keeps each one's choice."""
    token = _SOURCES.set(True)
    try:
        yield
    finally:
        _SOURCES.reset(token)


def _unsourced(value: str | None) -> bool:
    """A ``source`` field's ``exclude_if``: left out of the JSON unless it was asked for (:func:`sources_included`)."""
    return value is None or not _SOURCES.get()


class Later:
    """A field value worked out the first time anything reads the model: ``function(*args)``."""

    __slots__ = ("function", "args")

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self.function = function
        self.args = args

    def __call__(self) -> Any:
        return self.function(*self.args)


class Output(BaseModel):
    """The base of every output model: a value of the JSON contract, compared by its fields."""

    model_config = _OUTPUT

    def __eq__(self, other: object) -> bool:
        # pydantic also compares private attributes; an output model's only one is what is still to be worked out
        if not isinstance(other, BaseModel):
            return NotImplemented
        mine, theirs = self.__dict__, other.__dict__  # read first: a pending model becomes its public class
        return type(self) is type(other) and mine == theirs


class Lazy(Output):
    """An output model that may be built with some fields left to be worked out the first time anything reads it
    (a :class:`Later` given to :func:`trusted`): the words of a decision, which most callers never read.

    Such a model is built as its *pending* twin, a private subclass that intercepts every read (see
    :class:`_Pending`); once its values are worked out it becomes this class again, so a complete model (and one
    built with nothing left to work out, or validated from JSON) is read at full speed.
    """

class _Pending:
    """The reads of a pending model (a :class:`Lazy` model with fields still to be worked out, held in its private
    ``_later``). What reads a model reads its instance ``__dict__`` or a field by name: the attribute,
    ``model_dump`` and ``model_dump_json`` (also inside another model), ``==``, ``repr``, pickling, copying. Each
    is intercepted here and works every field out first, so what is read is always complete and the JSON
    contract does not change; the model then turns into its public class. Working the values out is idempotent:
    threads racing to do it store equal values."""

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        try:
            private = object.__getattribute__(self, "__pydantic_private__")
        except AttributeError:  # while pydantic validates a new instance
            private = None
        if private:
            pending = private.get("_later")
            if pending and (name == "__dict__" or name in pending):
                values = {field: value() for field, value in pending.items()}
                object.__getattribute__(self, "__dict__").update(values)
                _set_private(self, None)
                public = _PUBLIC.get(type(self))
                if public is not None:  # a twin (a Decision is always its own class: see Decision)
                    object.__setattr__(self, "__class__", public)
        return object.__getattribute__(self, name)

    def _complete_then(self, method: str, *args: Any) -> Any:
        """``method`` of the model with every field worked out: its public class's (a twin has become it), or the
        next class's after this one (a Decision, still its own class)."""
        self.__dict__
        if isinstance(self, _Pending):
            return getattr(super(), method)(*args)
        return getattr(self, method)(*args)

    def __getstate__(self) -> dict[Any, Any]:
        state: dict[Any, Any] = self._complete_then("__getstate__")
        return state

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self._complete_then("__reduce_ex__", protocol)

    def __copy__(self) -> Any:
        return self._complete_then("__copy__")

    def __deepcopy__(self, memo: Any = None) -> Any:
        return self._complete_then("__deepcopy__", memo)


#: Each pending twin's public class, and each public class's pending twin.
_PUBLIC: dict[type, type] = {}
_TWINS: dict[type, type] = {}


def _pending_twin(cls: type[BaseModel]) -> type[BaseModel]:
    """The class a model of ``cls`` is built as while it has fields to work out: ``cls`` itself where it intercepts
    its reads always (a Decision), else its twin, made once."""
    if issubclass(cls, _Pending):
        return cls
    twin = _TWINS.get(cls)
    if twin is None:
        twin = type(cls.__name__, (_Pending, cls), {"__module__": cls.__module__, "__qualname__": cls.__qualname__, "__doc__": cls.__doc__})
        _PUBLIC[twin] = cls
        _TWINS[cls] = twin  # made once per class (racing threads may make two; either works)
    return twin


Model = TypeVar("Model", bound=Output)

_SLOTS = BaseModel.__dict__
_new = object.__new__
_set_dict = _SLOTS["__dict__"].__set__
_set_fields = _SLOTS["__pydantic_fields_set__"].__set__
_set_extra = _SLOTS["__pydantic_extra__"].__set__
_set_private = _SLOTS["__pydantic_private__"].__set__
#: Stands, in a plan's defaults, for a required field (one every caller gives).
_REQUIRED = object()


@dataclass(frozen=True)
class _Plan:
    """An output model's fields in order with their defaults, those whose default is a new empty list, every
    field's name (the fields counted as set), and whether some field may be worked out later."""

    defaults: dict[str, Any]
    lists: tuple[str, ...]
    names: set[str]
    lazy: bool


_PLANS: dict[type[BaseModel], _Plan] = {}


def _plan(cls: type[BaseModel]) -> _Plan:
    fields = cls.model_fields
    plan = _PLANS[cls] = _Plan(
        {name: _REQUIRED if info.is_required() else None if info.default == [] else info.default for name, info in fields.items()},
        tuple(name for name, info in fields.items() if not info.is_required() and info.default == []),
        set(fields),
        issubclass(cls, Lazy),
    )
    return plan


def trusted(cls: type[Model], **values: Any) -> Model:
    """A model from values this library made from validated input, not validated again; a field not given takes
    its default, and a :class:`Later` value is worked out on first read (see :class:`Lazy`).

    What pydantic's ``model_construct`` does, at a third of its cost (a Decision's words are dozens of small
    models): the fields are stored in the model's order, as validation stores them (the JSON writes them in that
    order); every field counts as set (one set per class, never changed: pydantic copies it before an update)."""
    plan = _PLANS.get(cls) or _plan(cls)
    stored = {**plan.defaults, **values}
    for name in plan.lists:
        if name not in values:
            stored[name] = []  # a new list for each model: models never share one
    later = None
    if plan.lazy:
        for name, value in values.items():
            if type(value) is Later:
                if later is None:
                    later = {}
                later[name] = value
    # a pending model is built as its twin, a subclass of ``cls``
    model = cast(Model, _new(cls if later is None else _TWINS.get(cls) or _pending_twin(cls)))
    _set_dict(model, stored)
    _set_fields(model, plan.names)
    _set_extra(model, None)
    _set_private(model, {"_later": later} if later else None)
    return model


class Status(str, Enum):
    met = "met"
    not_met = "not_met"
    not_applicable = "not_applicable"


class Finding(Output):
    """A rule that fired: its id, the section and sentence it encodes, and why, with the facts used.

    ``source`` is the sentence quoted. The JSON carries it only when asked (:func:`sources_included`,
    ``Decision.to_json(sources=True)``); a finding read back from JSON without it has ``None`` (the rule catalogue
    quotes it, by ``rule``)."""

    model_config = _OUTPUT

    rule: str
    section: str
    because: str
    source: str | None = Field(None, exclude_if=_unsourced)
    subject: str = "case"


def _complete(cls: type[Model], stored: dict[str, Any]) -> Model:
    """A ``cls`` with every field in ``stored``, in the model's order, and nothing left to work out: :func:`trusted`
    for a model every decision makes by the dozen, its values written out by the caller."""
    model = _new(cls)
    _set_dict(model, stored)
    _set_fields(model, (_PLANS.get(cls) or _plan(cls)).names)
    _set_extra(model, None)
    _set_private(model, None)
    return model


def finding(rule: str, section: str, because: str, source: str | None, subject: str) -> Finding:
    """A :class:`Finding` from values this library made."""
    return _complete(Finding, {"rule": rule, "section": section, "because": because, "source": source, "subject": subject})


class ParameterUsed(Output):
    """A parameter a fired rule read: the value in force at ``as_of`` and where it comes from."""

    model_config = _OUTPUT

    name: str
    value: str
    unit: str
    effective_from: dt.date
    #: Where the value comes from (in the JSON only when asked, like a finding's).
    source: str | None = Field(None, exclude_if=_unsourced)
    placeholder: bool = False


class CriterionResult(Lazy):
    """One row of chart 3.5.1 (or one additional criterion) and its result."""

    model_config = _OUTPUT

    criterion: str
    status: Status
    reasons: list[str]
    section: str
    #: For a criterion not met: what the applicant would need to show, in words, from the failing rules' conditions.
    to_meet: list[str] = []


def criterion_result(criterion: str, status: Status, reasons: list[str], section: str, to_meet: list[str]) -> CriterionResult:
    """A complete :class:`CriterionResult` from values this library made."""
    return _complete(
        CriterionResult, {"criterion": criterion, "status": status, "reasons": reasons, "section": section, "to_meet": to_meet}
    )


class Eligibility(Lazy):
    """3.5: an applicant meeting every applicable organisational criterion; otherwise no further consideration.

    ``eligible`` is decided at once; the criteria, with their reasons, are worked out when first read."""

    model_config = _OUTPUT

    eligible: bool
    criteria: list[CriterionResult]
    #: The applicant's name, where the case states it.
    organisation: str | None = None


class Advisory(Lazy):
    """An encouragement or caution that never decides anything (e.g. the living wage, 2.3)."""

    model_config = _OUTPUT

    id: str
    section: str
    message: str


class PolicyRef(Output):
    model_config = _OUTPUT

    name: str
    version: str


# --- sourcing (2.1, 3.4, 3.5, 3.6) -------------------------------------------------------------------


class OptionAppraisal(Output):
    """One option appraised for best value (2.1), in the order the case lists it.

    Economy is its ``whole_life_cost``; efficiency its ``sroi`` (total value per pound of whole-life cost, the
    glossary's "ratio of total benefits [...] to total investments"; ``None`` where the cost is nil);
    effectiveness whether it ``meets_required_outcomes``. ``rank`` orders the options meeting the outcomes
    (1 is best value); an option missing them is never ranked.
    """

    model_config = _OUTPUT

    name: str
    whole_life_cost: Decimal
    total_value: Decimal
    sroi: Decimal | None
    meets_required_outcomes: bool
    rank: int | None = None


class BestValue(Lazy):
    """2.1: the option giving best value among those meeting the required outcomes (``None`` if none does)."""

    model_config = _OUTPUT

    option: str | None
    options: list[OptionAppraisal] = []
    reason: str = ""


class DeliveryDecision(Lazy):
    """3.4.1: self, partnership or external delivery, and why."""

    model_config = _OUTPUT

    method: str
    reasons: list[str] = []


class ProcessStep(Output):
    """One step of a route's process, from the "Process" column of chart 3.4.2."""

    model_config = _OUTPUT

    id: str
    text: str


class RouteDecision(Lazy):
    """3.4.2: procurement, grant, grant in kind or none; its process, agreement and the cost of non-compliance."""

    model_config = _OUTPUT

    route: str
    process: list[ProcessStep] = []
    agreement: str | None = None
    legally_binding: bool | None = None
    non_compliance: str | None = None
    reasons: list[str] = []
    #: For ``none``: each route and the facts its row of chart 3.4.2 needs that the case does not give.
    to_meet: list[str] = []


class Approval(Lazy):
    """3.5: who decides and who is told; for procurement, the procedure, the regime in force and its threshold.

    ``placeholders`` names every placeholder parameter (one the council is expected to set) that decided it.
    """

    model_config = _OUTPUT

    decided_by: str
    notified: list[str] = []
    procedure: str | None = None
    regime: str | None = None
    threshold: Decimal | None = None
    reaches_threshold: bool | None = None
    placeholders: list[str] = []
    reasons: list[str] = []


class AwardTerm(Lazy):
    """One thing the contract or award letter must set out (3.6), or why it does not apply."""

    model_config = _OUTPUT

    id: str
    text: str
    required: bool
    reason: str


class AwardTerms(Output):
    """3.6: the agreement document and what it must set out."""

    model_config = _OUTPUT

    agreement: str
    terms: list[AwardTerm] = []


# --- after the award (1.3, 3.7, 3.8) -----------------------------------------------------------------


class MonitoringLevel(str, Enum):
    """How closely an award is monitored (3.7: "proportionate to the value and complexity of the arrangement")."""

    light = "light"
    standard = "standard"
    intensive = "intensive"

    @property
    def rank(self) -> int:
        """0 (light) to 2 (intensive): a heavier level has a higher rank."""
        return list(MonitoringLevel).index(self)


class MonitoringPlan(Output):
    """3.7, 3.7.1, 3.7.2: how an award is monitored and evaluated.

    ``level`` sets how often the provider reports against the performance targets in the contract or grant
    award letter and how many monitoring visits a year there are; equalities monitoring and an evaluation agreed
    at the outset are always part of the plan; ``provider_tools_accepted`` are the provider's own robust tools
    accepted as evidence; ``other_funder_monitoring_considered`` says the council will consider using another
    public funder's monitoring and evaluation systems already in place.
    """

    model_config = _OUTPUT

    level: MonitoringLevel
    reporting_interval_months: int
    visits_per_year: int
    #: The first report's due date (the start plus the interval, never after the agreement's end), when the award
    #: gives its start.
    first_report_due: dt.date | None = None
    against_performance_targets: bool = True
    equalities_monitoring: bool = True
    evaluation_agreed_at_outset: bool = True
    provider_tools_accepted: list[str] = []
    other_funder_monitoring_considered: bool = False


class Notice(Lazy):
    """3.8: the notice given when funding ends, the date it ends (when served) and the duties that go with it."""

    model_config = _OUTPUT

    months: int
    ends_on: dt.date | None = None
    #: The latest date notice can be served so that it ends by the agreement's end (``award.ends_on``).
    serve_by: dt.date | None = None
    time_limited: bool = False
    duties: list[str] = []


class ReviewDecision(str, Enum):
    """3.8: "decisions to extend, re-commission or decommission"."""

    extend = "extend"
    re_commission = "re_commission"
    decommission = "decommission"


class ReviewOutcome(Output):
    """3.8: the outcome of the end-of-agreement review and the one reason (decision-table row) that gave it."""

    model_config = _OUTPUT

    outcome: ReviewDecision
    reason: str


class DepartureDecision(Output):
    """1.3: whether a departure from the framework is permitted, for which reason, and on what basis."""

    model_config = _OUTPUT

    permitted: bool
    reason: str
    basis: str


#: Where a Decision's ``as_of`` came from: the caller's argument, the case's own ``as_of``, or today's date.
AsOfSource = Literal["argument", "case", "today"]


class Decision(_Pending, Lazy):
    """The decision on one case, with every rule that fired and the parameters it used.

    A Decision intercepts its reads itself rather than through a twin class, so ``type(evaluate(case))`` is always
    ``Decision`` (its reads are few: the parts it holds are read at full speed once they are complete).

    ``evaluate`` decides the outcomes at once and leaves the words (``findings``, ``parameters``, and the reasons
    inside the outcomes) to be worked out the first time anything reads them (:class:`Output`).
    """

    model_config = _OUTPUT

    as_of: dt.date
    as_of_source: AsOfSource
    policy: PolicyRef
    engine: str
    eligibility: Eligibility | None = None
    best_value: BestValue | None = None
    delivery: DeliveryDecision | None = None
    route: RouteDecision | None = None
    approval: Approval | None = None
    award_terms: AwardTerms | None = None
    monitoring: MonitoringPlan | None = None
    notice: Notice | None = None
    review: ReviewOutcome | None = None
    departure: DepartureDecision | None = None
    advisories: list[Advisory] = []
    findings: list[Finding] = []
    parameters: list[ParameterUsed] = []

    #: How a Decision is put into words; ``commissioning_rules.explain`` installs itself here when imported, so
    #: the contract's models never import the prose.
    explainer: ClassVar[Callable[..., str] | None] = None

    __hash__ = None  # type: ignore[assignment]  # lists inside: a Decision was never hashable

    def to_json(self, *, sources: bool = False, indent: int | None = None) -> str:
        """The JSON contract (``model_dump_json``): each finding cites its rule by id and section; with
        ``sources=True`` it also quotes the sentence, and each parameter says where its value comes from (what a
        record keeps; several times larger)."""
        if not sources:
            return self.model_dump_json(indent=indent)
        with sources_included():
            return self.model_dump_json(indent=indent)

    def explain(self, verbose: bool = False) -> str:
        """The decision in plain English, citing and quoting the framework (``commissioning_rules.explain``): short
        (the decision, its reasons, what to do); ``verbose=True`` adds every criterion, the rules that fired and
        the parameters used."""
        assert Decision.explainer is not None, "importing commissioning_rules installs the explainer"
        return Decision.explainer(self, verbose=verbose)
