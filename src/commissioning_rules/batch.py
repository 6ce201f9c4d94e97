"""Many cases at once: ``evaluate_many`` yields, in input order, a Decision or an :class:`ItemError` per item.

A bad item never stops the run: it becomes an :class:`ItemError` naming the item and the field at fault, and
the next item is evaluated. One policy, one engine and one "today" serve the whole run, so the output is the
same whatever the number of worker processes (``workers > 1`` uses ``concurrent.futures`` with processes:
durable_rules holds the GIL, so threads would give no speed, docs/engines.md).

Errors that concern the whole run (an unknown engine, a policy that cannot be compiled) are raised at once,
before anything is yielded. Whatever else goes wrong on one item (an exception of any kind while it is read,
validated or evaluated) becomes that item's error record, ``kind="evaluation_failed"``, and the run goes on:
only a failure of the run itself (a worker process lost, the output unwritable, ``MemoryError``) ends it.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import difflib
import gc
import json
import multiprocessing
import multiprocessing.connection
import os
import pickle
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Iterable, Iterator, Literal, Mapping, overload

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from commissioning_rules.engine import EngineName, default_engine
from commissioning_rules.evaluate import evaluate
from commissioning_rules.facts import base_types
from commissioning_rules.models.case import Case
from commissioning_rules.models.decision import Decision
from commissioning_rules.models.types import parse_date
from commissioning_rules.parameters import ParameterError
from commissioning_rules.policy import Policy

#: Items sent to a worker process at a time, and chunks in flight per worker (bounds memory on huge inputs).
CHUNK_SIZE = 64
CHUNKS_IN_FLIGHT_PER_WORKER = 4

ErrorKind = Literal["empty_line", "invalid_json", "invalid_case", "parameter_error", "evaluation_failed"]


class FieldError(BaseModel):
    """One problem with an item: the dotted path of the field (``None`` for the item as a whole) and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str | None
    message: str
    type: str


class ItemError(BaseModel):
    """An item that could not be evaluated, in place of its Decision.

    ``item`` is the item's position: counting from 0 in :func:`evaluate_many`, the line number (from 1) in a
    JSONL batch. ``field`` is the first field at fault (dotted, list positions in brackets:
    ``service.additional_criteria[0].met``) or ``None`` when the whole item is at fault (bad JSON, an empty
    line, not an object); ``errors`` lists every problem found.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    item: int
    kind: ErrorKind
    field: str | None
    message: str
    errors: tuple[FieldError, ...] = ()


Outcome = Decision | ItemError


def field_path(location: Iterable[int | str]) -> str | None:
    """A pydantic error location as a dotted path: ``("service", "additional_criteria", 0, "met")`` →
    ``service.additional_criteria[0].met``; the empty location → ``None``."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or None


def _fields_at(location: tuple[int | str, ...]) -> list[str]:
    """The fields the case model has at ``location`` (a list item's model for an index), or none."""
    model: type[BaseModel] | None = Case
    for step in location:
        if isinstance(step, int):
            continue  # an item of a list: its model is the list's
        info = model.model_fields.get(step) if model is not None else None
        model = next((t for t in base_types(info.annotation) if isinstance(t, type) and issubclass(t, BaseModel)),
                     None) if info is not None else None
    return sorted(model.model_fields) if model is not None else []


def _message(error: ErrorDetails) -> str:
    """pydantic's message, except that an unknown field names the one probably meant, else the fields there are."""
    if error["type"] != "extra_forbidden" or not error["loc"]:
        return error["msg"]
    name, known = str(error["loc"][-1]), _fields_at(error["loc"][:-1])
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"unknown field {name!r} (did you mean {close[0]!r}?)"
    return f"unknown field {name!r}" + (f"; expected one of {', '.join(known)}" if known else "")


def _validation_error(item: int, error: ValidationError) -> ItemError:
    errors = tuple(
        FieldError(field=field_path(e["loc"]), message=_message(e), type=e["type"])
        for e in error.errors(include_url=False)
    )
    first = errors[0]
    where = first.field or "the case"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ItemError(item=item, kind="invalid_case", field=first.field, message=f"{where}: {first.message}{more}", errors=errors)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def load_json(text: str | bytes) -> Any:
    """Parse one JSON document strictly: ``NaN``/``Infinity``, repeated keys and nesting too deep for the parser
    are rejected; a number with a fraction or an exponent (``5000.5``, ``5e3``) stays a float, which the case
    model refuses for money with the contract's message. Raises ``ValueError`` (``JSONDecodeError`` included)."""
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise ValueError("objects and lists nested too deeply to read") from None


def _failed(item: int, error: Exception) -> ItemError:
    """Anything unforeseen on one item, as that item's error record (the run goes on)."""
    message = f"evaluation failed: {type(error).__name__}: {error}"[:2000]
    return ItemError(item=item, kind="evaluation_failed", field=None, message=message,
                     errors=(FieldError(field=None, message=message, type="evaluation_failed"),))


def _evaluate_item(
    item: int,
    case: Case | Mapping[str, Any],
    policy: Policy,
    as_of: dt.date | None,
    engine: EngineName,
    today: dt.date,
) -> Outcome:
    """One item: validate it, then evaluate it at ``as_of``, else its own ``as_of``, else the run's ``today``."""
    try:
        case = case if isinstance(case, Case) else Case.model_validate(case)
    except ValidationError as error:
        return _validation_error(item, error)
    except Exception as error:  # noqa: BLE001 -- one item's failure is that item's record
        return _failed(item, error)
    try:
        return evaluate(case, policy=policy, as_of=as_of, engine=engine, today=today)
    except ParameterError as error:
        return ItemError(
            item=item, kind="parameter_error", field="as_of", message=str(error),
            errors=(FieldError(field="as_of", message=str(error), type="parameter_error"),),
        )
    except Exception as error:  # noqa: BLE001 -- e.g. an EngineError: recorded, and the run goes on
        return _failed(item, error)


def _read_line(number: int, line: bytes | str) -> Any:
    """One line of a JSONL batch parsed (``number`` counts from 1), or its error record: empty or not JSON."""
    if not line.strip():
        message = "empty line: expected one case as a JSON object"
        return ItemError(item=number, kind="empty_line", field=None, message=message,
                         errors=(FieldError(field=None, message=message, type="empty_line"),))
    try:
        return load_json(line)
    except Exception as error:  # JSONDecodeError, UnicodeDecodeError, our own rejections, anything else
        message = f"not valid JSON: {error}"
        return ItemError(item=number, kind="invalid_json", field=None, message=message,
                         errors=(FieldError(field=None, message=message, type="invalid_json"),))


def _evaluate_line(
    number: int, line: bytes | str, policy: Policy, as_of: dt.date | None, engine: EngineName, today: dt.date
) -> Outcome:
    """One line of a JSONL batch (``number`` counts from 1): an empty line or bad JSON is an error record."""
    data = _read_line(number, line)
    return data if isinstance(data, ItemError) else _evaluate_item(number, data, policy, as_of, engine, today)


# --- running a whole input, in one process or several --------------------------------------------------

_worker: dict[str, Any] = {}


def _policy_recipe(policy: Policy | None, policy_file: str | None) -> tuple[str, Any]:
    """How a worker process gets the run's policy: the default, a policy file to load, or a pickled value."""
    if policy_file is not None:
        return ("file", policy_file)
    if policy is None or policy is Policy.default():
        return ("default", None)
    # A Policy holds a lock and compiled engines, which stay behind: its constructor fields cross instead.
    try:
        fields = {f.name: getattr(policy, f.name) for f in dataclasses.fields(policy) if f.init and not f.name.startswith("_")}
        return ("pickled", pickle.dumps((type(policy), fields)))
    except Exception as error:  # a policy holding something that cannot cross a process boundary
        raise ValueError(
            f"this policy cannot be sent to worker processes ({error}); evaluate with workers=1"
        ) from None


def _policy_from_recipe(recipe: tuple[str, Any]) -> Policy:
    kind, payload = recipe
    if kind == "default":
        return Policy.default()
    if kind == "file":
        return Policy.from_file(payload)
    cls, fields = pickle.loads(payload)
    policy: Policy = cls(**fields)
    return policy


def _end_with_parent() -> None:
    """End this worker process as soon as the process that started it ends, however it ended.

    A killed parent never runs the pool's shutdown, and a spawned worker blocked on its task queue would
    otherwise live on. ``parent_process().sentinel`` is the read end of a pipe only the parent holds open:
    it becomes ready when the parent is gone (portable, and no polling).
    """
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)  # no cleanup to run: the parent that would read our results is gone

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def _start_worker(recipe: tuple[str, Any], as_of: dt.date | None, engine: EngineName, today: dt.date,
                  as_json: bool, sources: bool, recorded: bool) -> None:
    _end_with_parent()
    policy = _policy_from_recipe(recipe)
    policy.engine(engine)  # compile once per process, before the first case
    _worker.update(policy=policy, as_of=as_of, engine=engine, today=today, as_json=as_json, sources=sources,
                   recorded=recorded)
    # Everything the worker holds for good (the library, the compiled policy, what fork copied from the parent) is
    # put out of the collector's reach: its collections then walk only what the cases make, and never touch (so
    # never copy) the pages shared with the parent.
    gc.freeze()


def _work(chunk: list[tuple[int, Any, bool]]) -> list[Any]:
    w = _worker
    outcomes = [
        _evaluate_line(n, x, w["policy"], w["as_of"], w["engine"], w["today"]) if is_line
        else _evaluate_item(n, x, w["policy"], w["as_of"], w["engine"], w["today"])
        for n, x, is_line in chunk
    ]
    return [_as_json(o, w["sources"], w["recorded"]) for o in outcomes] if w["as_json"] else outcomes


def _as_json(outcome: Outcome, sources: bool, recorded: bool) -> tuple[Any, ...]:
    """An outcome written as its JSON line (in the worker: a string crosses back far faster than a Decision), and
    its error; with ``recorded``, also the Decision's JSON with its sources (what a record keeps; ``None`` for an
    error), made from the same Decision object."""
    line = to_json_line(outcome, sources=sources)
    if not isinstance(outcome, Decision):
        return (line, outcome, None) if recorded else (line, outcome)
    if not recorded:
        return line, None
    return line, None, line if sources else outcome.to_json(sources=True)


def _chunks(items: Iterable[tuple[int, Any, bool]], size: int) -> Iterator[list[tuple[int, Any, bool]]]:
    chunk: list[tuple[int, Any, bool]] = []
    for entry in items:
        chunk.append(entry)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _run(
    items: Iterable[tuple[int, Any, bool]],
    *,
    workers: int,
    policy: Policy | None,
    policy_file: str | None,
    as_of: dt.date | str | None,
    engine: EngineName | None,
    as_json: bool = False,
    sources: bool = False,
    recorded: bool = False,
) -> Iterator[Any]:
    """Check the run's settings now (raising at once), then return the iterator of outcomes in input order."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number of at least 1, got {workers!r}")
    policy, as_of, engine, today = _settings(policy, policy_file, as_of, engine)
    if workers == 1:
        outcomes = (
            _evaluate_line(n, x, policy, as_of, engine, today) if is_line
            else _evaluate_item(n, x, policy, as_of, engine, today)
            for n, x, is_line in items
        )
        return (_as_json(o, sources, recorded) for o in outcomes) if as_json else outcomes
    recipe = _policy_recipe(policy, policy_file)
    return _in_processes(items, workers, recipe, as_of, engine, today, as_json, sources, recorded)


def _settings(
    policy: Policy | None, policy_file: str | None, as_of: dt.date | str | None, engine: EngineName | None
) -> tuple[Policy, dt.date | None, EngineName, dt.date]:
    """A run's policy (compiled), date, engine and "today", checked: any of them wrong raises here, at once."""
    if isinstance(as_of, str):
        as_of = parse_date(as_of)
    if as_of is not None and (not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime)):
        raise TypeError(f"as_of must be a date or 'YYYY-MM-DD', got {as_of!r}")
    if policy is not None and policy_file is not None:
        raise ValueError("give a policy or a policy file, not both")
    if policy_file is not None:
        policy = Policy.from_file(policy_file)
    policy = policy or Policy.default()
    engine = engine or default_engine()
    policy.engine(engine)  # an unknown or unavailable engine fails here, before any item
    today = dt.date.today()  # read once: every item of the run without a date gets the same one
    return policy, as_of, engine, today


def _start_method(engine: str) -> str:
    """How worker processes start: ``fork`` on Linux where it is safe (workers start at once, sharing the
    imported library and the compiled default policy), else ``spawn`` (each worker starts clean).

    Not ``fork`` for durable-rules (its C state and locks must not be copied into a child), nor from a process
    running other threads (a lock one of them holds would stay held in the child for ever), nor on macOS
    (system libraries there are not fork-safe)."""
    if engine != "durable-rules" and sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _in_processes(
    items: Iterable[tuple[int, Any, bool]],
    workers: int,
    recipe: tuple[str, Any],
    as_of: dt.date | None,
    engine: EngineName,
    today: dt.date,
    as_json: bool,
    sources: bool,
    recorded: bool,
) -> Iterator[Any]:
    executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(_start_method(engine)),
        initializer=_start_worker,
        initargs=(recipe, as_of, engine, today, as_json, sources, recorded),
    )
    pending: collections.deque[Future[list[Any]]] = collections.deque()
    limit = workers * CHUNKS_IN_FLIGHT_PER_WORKER
    try:
        for chunk in _chunks(items, CHUNK_SIZE):
            pending.append(executor.submit(_work, chunk))
            # The oldest chunk is handed back when the limit is reached, and also as soon as it is finished: what
            # the caller writes is then everything finished so far, and a kill loses only the chunks in flight.
            while pending and (len(pending) >= limit or pending[0].done()):
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def evaluate_many(
    cases: Iterable[Case | Mapping[str, Any]],
    *,
    workers: int = 1,
    policy: Policy | None = None,
    as_of: dt.date | str | None = None,
    engine: EngineName | None = None,
) -> Iterator[Outcome]:
    """Evaluate ``cases`` in order, yielding a :class:`Decision` or an :class:`ItemError` for each.

    ``as_of`` overrides every case's own date; a case without one is evaluated at the date the run started.
    ``engine`` is one engine for the whole run (default: ``default_engine()``). ``workers > 1`` evaluates in
    that many processes (the policy must be picklable); the results are the same, in the same order.
    An unknown engine or a bad ``workers``/``as_of`` raises here, before anything is evaluated.
    """
    items = ((i, case, False) for i, case in enumerate(cases))
    return _run(items, workers=workers, policy=policy, policy_file=None, as_of=as_of, engine=engine)


@overload
def evaluate_lines(
    lines: Iterable[bytes | str],
    *,
    workers: int = 1,
    policy: Policy | None = None,
    policy_file: str | None = None,
    as_of: dt.date | str | None = None,
    engine: EngineName | None = None,
    as_json: Literal[False] = False,
    first_line: int = 1,
    sources: bool = False,
) -> Iterator[Outcome]: ...
@overload
def evaluate_lines(
    lines: Iterable[bytes | str],
    *,
    workers: int = 1,
    policy: Policy | None = None,
    policy_file: str | None = None,
    as_of: dt.date | str | None = None,
    engine: EngineName | None = None,
    as_json: Literal[True],
    first_line: int = 1,
    sources: bool = False,
    recorded: Literal[False] = False,
) -> Iterator[tuple[str, ItemError | None]]: ...
@overload
def evaluate_lines(
    lines: Iterable[bytes | str],
    *,
    workers: int = 1,
    policy: Policy | None = None,
    policy_file: str | None = None,
    as_of: dt.date | str | None = None,
    engine: EngineName | None = None,
    as_json: Literal[True],
    first_line: int = 1,
    sources: bool = False,
    recorded: Literal[True],
) -> Iterator[tuple[str, ItemError | None, str | None]]: ...
def evaluate_lines(
    lines: Iterable[bytes | str],
    *,
    workers: int = 1,
    policy: Policy | None = None,
    policy_file: str | None = None,
    as_of: dt.date | str | None = None,
    engine: EngineName | None = None,
    as_json: bool = False,
    first_line: int = 1,
    sources: bool = False,
    recorded: bool = False,
) -> Iterator[Outcome] | Iterator[tuple[str, ItemError | None]] | Iterator[tuple[str, ItemError | None, str | None]]:
    """Evaluate the lines of a JSONL batch, one case per line: one outcome per line, numbered from 1 (from
    ``first_line`` when the lines are the rest of a batch that was cut short).

    An empty line or a line that is not JSON becomes an :class:`ItemError` too, so the outcomes line up
    with the input line for line. ``policy_file`` lets worker processes load the policy themselves. With
    ``as_json`` each outcome comes as ``(json_line, item_error_or_None)``, written by :func:`to_json_line`
    where it was evaluated (each Decision without its sources unless ``sources=True``); with ``recorded`` too,
    as ``(json_line, item_error_or_None, decision_json_with_sources_or_None)``, the third what a decision record
    keeps (``batch --record``), written from the same Decision in the same place.
    """
    items = ((n, line, True) for n, line in enumerate(lines, start=first_line))
    return _run(items, workers=workers, policy=policy, policy_file=policy_file, as_of=as_of, engine=engine,
                as_json=as_json, sources=sources, recorded=recorded)


def to_json_line(outcome: Outcome, *, sources: bool = False) -> str:
    """One outcome as one line of JSON: a Decision as its JSON contract (docs/json-contract.md; with its sources
    only if ``sources=True``), an error as ``{"error": …}``."""
    if isinstance(outcome, ItemError):
        record = outcome.model_dump(mode="json")
        record = {"line": record.pop("item"), **record}
        return json.dumps({"error": record}, ensure_ascii=False, separators=(",", ":"))
    return outcome.to_json(sources=sources)
