"""Cases by the million on a Dask cluster: read, evaluate and compare as Dask bags (the ``dask`` extra).

    from commissioning_rules import dask_runs
    cases = dask_runs.read_cases("s3://council-grants/cases-*.jsonl")        # (file, line, text) per line
    results = dask_runs.evaluate_bag(cases, policy=policy, client=client)  # Result(file, line, outcome)
    dask_runs.write_jsonl(results, "s3://council-grants/decisions/")        # the batch format, in order
    dask_runs.write_parquet(results, "s3://council-grants/summary/")       # one flat row per case
    changed = dask_runs.compare_bag(cases, policy_a, policy_b).compute()    # only the cases that move

The work on a partition is an ordinary function (:func:`evaluate_partition`, :func:`compare_partition`) over
a list of ``(file, line, text)``, built from ``batch.py``'s own per-line evaluation, and tested without a
cluster; Dask only schedules it (its ``map_partitions`` idiom). The module is named ``dask_runs`` so that it
never stands in for the ``dask`` package itself.

Dask's traps, and how each is defeated here:

* **Pickling the policy.** A :class:`Policy` holds a lock and its compiled engines (durable_rules' live in C and
  in process-global state): it does not pickle, and pickled into every task it would travel with each of them.
  The run's settings travel as one small value (:class:`_Run`: the policy's constructor fields, pickled by
  ``batch.py``'s recipe, the date, the engine, "today"): scattered to every worker once (``broadcast=True``)
  when a client is given, else one literal key of the graph that every task depends on. Each worker process
  rebuilds and compiles a policy once, keyed by the recipe's hash (:func:`_policies_of`), and keeps it for
  every later task and run; tests count the compilations on each worker.
* **Ordering of bags.** A bag keeps partition order, and ``compute`` concatenates in it, but anything that
  shuffles (``groupby``, ``foldby``, ``distinct``, dataframes) does not, and a task's place on the cluster is
  arbitrary. Nothing here shuffles; each item carries its file and line; a glob is expanded sorted, a list of
  files is kept in its order; :func:`in_order` gathers partitions strictly in order; output parts are named
  with zero-padded numbers, so their names sort in input order.
* **Line numbers across blocks.** Reading a big file in byte blocks (as ``read_text`` does) loses the line
  numbers: a block does not know how many lines came before it. :func:`read_cases` counts the lines of every
  block but the last of a file first (bytes only, no parsing: a small fraction of evaluating them), so each
  partition starts from its true line number and an error record names the same line the single-machine
  batch names. Compressed files cannot be split, and are read whole, one partition each.
* **Retries doubling output.** When a worker dies, the scheduler runs its tasks again elsewhere
  (``distributed.scheduler.allowed-failures`` times). A task that appended to an output would write twice.
  Every task here is pure (it returns its results) or writes one whole file of its own, truncating it first
  (:func:`write_jsonl`, :func:`write_parquet`): a rerun replaces the file, never adds to it. Nothing is
  appended anywhere but by the client, in :func:`in_order`'s order, once per partition.
* **Worker memory.** ``bag.compute()`` brings everything to the client, and a Decision object is several times
  the size of its JSON. Partitions are bounded by ``blocksize`` (bytes of input); decisions are turned into
  text in the same task that made them (a bag's ``map`` fuses into it), so Decision objects never cross the
  network; :func:`in_order` keeps a bounded window of partitions in flight and releases each once written;
  :func:`write_jsonl`/:func:`write_parquet` write from the workers, so nothing at all comes back.
  ``to_textfiles`` is not used: it writes a lone newline for an empty partition, breaking byte equality.
* **Context that does not travel.** ``sources_included()`` (a Decision's JSON with the sentences its findings
  quote) is a context variable of the client's thread; a task runs in a worker's thread, where it is unset.
  Whether a Decision is written with its sources is therefore an argument of the task itself (``sources=``),
  never the client's context.
* **LocalCluster start-up.** Starting workers costs seconds (each process imports the library), a cluster
  left open leaks processes and ports, and by default it listens on every interface, starts a dashboard, and
  serves HTTP on port 8787 (a second cluster finds it taken). :func:`connect` binds 127.0.0.1, starts no
  dashboard, serves HTTP on a free port, and is a context manager that always closes what it started; the
  tests share one cluster per module. Worker processes are spawned, so a script that starts a
  ``LocalCluster`` needs ``if __name__ == "__main__":``.
* **A bag's default scheduler.** Without a client, ``bag.compute()`` starts a pool of processes for each call
  (each importing the library and compiling the policy again, and needing the ``__main__`` guard). The
  writers here compute on threads when there is no client; give ``compute(scheduler="threads")`` yourself,
  or better, a client.
* **Processes versus threads.** Evaluation holds the GIL (durable_rules' C extension and the pure-Python
  interpreter alike), so threads in a worker add no speed: :func:`connect` starts one thread per worker
  process; on a real cluster start workers with ``--nthreads 1`` and as many processes as cores. Threads stay
  correct (evaluation is thread-safe, and the policy cache is locked), only not faster.
* **Workers that differ from the client.** A worker with another version of this library, or where the
  engine does not import (durable_rules on Python 3.13), would decide differently or fail in every task.
  :func:`check_workers` asks every worker before the run and names the ones that differ.
* **"Today" on many machines.** A case without ``as_of`` is decided at the run's date: read once on the
  client and shipped with the run, never on a worker (a run across midnight, or workers in other time zones,
  would otherwise decide alike cases differently).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import hashlib
import io
import os
import threading
from typing import Any, Iterable, Iterator, Mapping, NamedTuple, Sequence

try:
    import dask.bag as db
    from dask.base import compute, tokenize
    from dask.bytes.core import read_block_from_file
    from dask.delayed import Delayed, delayed
    from dask.utils import parse_bytes
    from fsspec.core import OpenFile, get_fs_token_paths
    from fsspec.utils import infer_compression
    from distributed import KilledWorker
    from distributed.comm.core import CommClosedError
except ImportError:  # pragma: no cover - exercised by the CLI test with the extra missing
    raise ImportError(
        "running on Dask needs the dask extra: pip install 'commissioning-rules[dask]'"
    ) from None

from pydantic import ValidationError

from commissioning_rules import __version__
from commissioning_rules.batch import (
    ItemError,
    _evaluate_item,
    _evaluate_line,
    _policy_from_recipe,
    _policy_recipe,
    _read_line,
    _settings,
    _validation_error,
    load_json,
    to_json_line,
)
from commissioning_rules.compare import CaseDifference, Unevaluated, compare_case
from commissioning_rules.engine import EngineName, default_engine, durable_available
from commissioning_rules.models.case import Case
from commissioning_rules.models.decision import Decision
from commissioning_rules.parameters import ParameterError
from commissioning_rules.policy import Policy

#: What a run on a cluster may fail with that is not a bug of ours: the cluster went away, or a task's worker
#: died more often than ``distributed.scheduler.allowed-failures`` allows.
CLUSTER_FAILURES = (KilledWorker, CommClosedError)
#: Bytes of input per partition: about 450 whole cases (2.3 KB each), about a second of work on one core.
DEFAULT_BLOCKSIZE = "1 MiB"
#: Compiled policies kept by a worker process (policy variants of an analysis, one run after another).
POLICIES_KEPT = 16


class Result(NamedTuple):
    """One line of input and what became of it: a Decision or the line's :class:`ItemError` (from
    :func:`evaluate_bag`), or a ``CaseDifference``/``Unevaluated``/``ItemError`` (from :func:`compare_bag`).
    ``reference`` is the case's own ``reference`` where the line gives one."""

    file: str
    line: int
    outcome: Any
    reference: str | None = None


# --- reading ----------------------------------------------------------------------------------------


def _split(block: bytes) -> list[bytes]:
    """A block's lines as the single-machine batch reads a file: split after each newline, line ends cut."""
    return [line.rstrip(b"\r\n") for line in io.BytesIO(block)]


def _count_lines(file: OpenFile, offset: int, length: int | None) -> int:
    return len(_split(read_block_from_file(file, offset, length, b"\n")))


def _numbered_lines(file: OpenFile, offset: int, length: int | None, first: int) -> list[tuple[str, int, bytes]]:
    block = read_block_from_file(file, offset, length, b"\n")
    return [(file.path, first + i, line) for i, line in enumerate(_split(block))]


def expand(urlpath: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
           storage_options: Mapping[str, Any] | None = None) -> tuple[Any, list[str]]:
    """The filesystem and the files ``urlpath`` names: a path, a glob (expanded sorted) or a list of either
    (kept in its order), local or any fsspec URL. Raises ``FileNotFoundError`` when nothing matches."""
    urlpaths = [urlpath] if isinstance(urlpath, (str, os.PathLike)) else list(urlpath)
    if not urlpaths:
        raise FileNotFoundError("no input files given")
    fs, paths = None, []
    for one in urlpaths:
        fs, _, found = get_fs_token_paths(os.fspath(one), mode="rb", storage_options=dict(storage_options or {}))
        if not any(char in os.fspath(one) for char in "*?["):  # a glob only finds what exists
            found = [path for path in found if fs.exists(path)]
        if not found:
            raise FileNotFoundError(f"{os.fspath(one)}: no such file (nor any file matching it)")
        for path in found:
            if fs.isdir(path):
                raise IsADirectoryError(f"{path} is a directory: name its files, e.g. {path}/*.jsonl")
            if path not in paths:
                paths.append(path)
    return fs, paths


def _partitions(
    urlpath: Any, blocksize: int | str | None, storage_options: Mapping[str, Any] | None
) -> tuple[list[Delayed], list[str], list[str]]:
    """The delayed partitions of (file, line, text), the file each partition reads, and every file matched.

    Line numbers of a file's later blocks come from counting the earlier blocks' lines first (see the module
    docstring): computed here, with the current scheduler, so the graph carries plain integers."""
    fs, paths = expand(urlpath, storage_options)
    size_of_block = parse_bytes(blocksize) if isinstance(blocksize, str) else blocksize
    spans: list[tuple[OpenFile, int, int | None]] = []
    keys = {}
    for path in paths:
        compression = infer_compression(path)
        file = OpenFile(fs, path, compression=compression)
        info = fs.info(path)
        size, keys[path] = info.get("size"), tokenize(info)
        if size == 0:
            continue  # an empty file has no lines, and its output is empty too
        if compression or size_of_block is None or size is None or size <= size_of_block:
            spans.append((file, 0, None))
        else:
            spans += [(file, offset, min(size_of_block, size - offset)) for offset in range(0, size, size_of_block)]
    # every block after the first of its file starts after the lines of the blocks before it
    follows = [i > 0 and spans[i - 1][0].path == file.path for i, (file, _, _) in enumerate(spans)]
    counts = [delayed(_count_lines, pure=True)(*spans[i - 1]) for i, after in enumerate(follows) if after]
    counted = iter(compute(*counts))
    parts, owners, first = [], [], 1
    for (file, offset, length), after in zip(spans, follows):
        first = first + next(counted) if after else 1
        token = tokenize(keys[file.path], file.path, offset, length, first)
        parts.append(delayed(_numbered_lines, pure=True)(file, offset, length, first,
                                                         dask_key_name=f"read-cases-{token}"))
        owners.append(file.path)
    return parts, owners, paths


def read_cases(
    urlpath: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    blocksize: int | str | None = DEFAULT_BLOCKSIZE,
    storage_options: Mapping[str, Any] | None = None,
) -> db.Bag:
    """JSON-lines files (a path, a glob, a list; local or any fsspec URL) as a bag of ``(file, line, text)``:
    ``line`` counts from 1 in its file, ``text`` is the line's bytes without its line end, exactly as the
    single-machine batch reads it (so an empty line or bad JSON becomes that line's error record). Partitions
    are blocks of at most ``blocksize`` bytes (``None``: one per file), in file order, never spanning files.
    The files must be readable where the workers run (a shared filesystem or an object store)."""
    parts, _, _ = _partitions(urlpath, blocksize, storage_options)
    bag: db.Bag = db.from_delayed(parts) if parts else db.from_sequence([], npartitions=1)
    return bag


# --- what travels to the workers: the run, once -------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Run:
    """Everything a run's tasks share: the policies (as recipes), the date, the engine and "today"."""

    recipes: tuple[tuple[str, Any], ...]
    as_of: dt.date | None
    engine: EngineName
    today: dt.date

    @property
    def digests(self) -> tuple[str, ...]:
        return tuple(hashlib.sha256(repr(recipe).encode()).hexdigest()[:20] for recipe in self.recipes)


#: This process's policies by recipe hash, each with the engines compiled for it (oldest first).
_policies: collections.OrderedDict[str, tuple[Policy, set[str]]] = collections.OrderedDict()
_policies_lock = threading.Lock()
#: How many times this process compiled each (recipe hash, engine): read by the tests through client.run.
_compilations: collections.Counter[tuple[str, str]] = collections.Counter()


def _policies_of(run: _Run) -> tuple[Policy, ...]:
    """The run's policies, rebuilt and compiled once per process (then kept for later tasks and runs)."""
    found = []
    with _policies_lock:
        for digest, recipe in zip(run.digests, run.recipes):
            if digest not in _policies:
                _policies[digest] = (_policy_from_recipe(recipe), set())
                while len(_policies) > POLICIES_KEPT:
                    _policies.popitem(last=False)
            _policies.move_to_end(digest)
            policy, engines = _policies[digest]
            if run.engine not in engines:
                policy.engine(run.engine)
                engines.add(run.engine)
                _compilations[(digest, run.engine)] += 1
            found.append(policy)
    return tuple(found)


def _prepare(policies: Sequence[Policy | None], as_of: dt.date | str | None, engine: EngineName | None) -> _Run:
    """Check the run's settings on the client (an unknown engine, a bad date raise here, before any task)."""
    checked = [_settings(policy, None, as_of, engine) for policy in policies]
    _, as_of, engine, today = checked[0]
    return _Run(tuple(_policy_recipe(policy, None) for policy, *_ in checked), as_of, engine, today)


def _ship(run: _Run, client: Any) -> Any:
    """The run as one thing every task refers to: scattered to each worker once, or one key of the graph."""
    if client is not None:
        [future] = client.scatter([run], broadcast=True, hash=True)
        return future
    return delayed(run, name=f"commissioning-rules-run-{tokenize(run)}")


# --- the work on one partition: ordinary functions ----------------------------------------------------


def _reference(text: Any) -> str | None:
    """The case's own ``reference``, where its line gives one (looked for only in lines that mention it)."""
    if isinstance(text, (Case, Mapping)):
        reference = text.get("reference") if isinstance(text, Mapping) else text.reference
    elif (isinstance(text, bytes) and b'"reference"' in text) or (isinstance(text, str) and '"reference"' in text):
        try:
            data = load_json(text)
        except ValueError:
            return None
        reference = data.get("reference") if isinstance(data, dict) else None
    else:
        return None
    return reference if isinstance(reference, str) else None


def evaluate_partition(
    items: Iterable[tuple[str, int, Any]],
    policy: Policy | None = None,
    *,
    as_of: dt.date | str | None = None,
    engine: EngineName | None = None,
    today: dt.date | None = None,
) -> list[Result]:
    """Evaluate one partition: for each ``(file, line, text)`` its :class:`Result`, in order.

    ``text`` is a JSONL line (bytes or str: an empty line or bad JSON is the line's error record, as in the
    single-machine batch) or an already parsed case (a mapping or a ``Case``). Settings as ``evaluate_many``;
    ``today`` is the date for cases without one (default: today)."""
    return list(_results(items, policy, as_of, engine, today))


def _results(
    items: Iterable[tuple[str, int, Any]], policy: Policy | None, as_of: dt.date | str | None, engine: EngineName | None,
    today: dt.date | None,
) -> Iterator[Result]:
    """Each item's :class:`Result`, made when asked for (a caller that consumes them one by one keeps no
    Decision alive: see :func:`_batch_part`)."""
    policy, as_of, checked, run_today = _settings(policy, None, as_of, engine)
    today = today or run_today
    for file, line, text in items:
        yield Result(file, line, _evaluate_line(line, text, policy, as_of, checked, today)
                     if isinstance(text, (bytes, str)) else _evaluate_item(line, text, policy, as_of, checked, today),
                     _reference(text))


def _evaluate_shipped(items: Iterable[tuple[str, int, Any]], run: _Run) -> list[Result]:
    [policy] = _policies_of(run)
    return evaluate_partition(items, policy, as_of=run.as_of, engine=run.engine, today=run.today)


def compare_partition(
    items: Iterable[tuple[str, int, Any]],
    policy_a: Policy,
    policy_b: Policy,
    *,
    as_of: dt.date | str | None = None,
    engine: EngineName | None = None,
    today: dt.date | None = None,
) -> list[Result]:
    """Compare one partition under two policies, as ``cr.compare`` does: a :class:`Result` only for each case
    whose decision changes (a ``CaseDifference``, its ``index`` the line's position in its file from 0),
    that neither policy can decide (``Unevaluated``), or that is not a valid case (its ``ItemError``: unlike
    ``cr.compare``, one bad line does not stop the comparison of the others)."""
    (policy_a, as_of, engine, run_today), (policy_b, *_) = (
        _settings(policy_a, None, as_of, engine), _settings(policy_b, None, as_of, engine))
    today = today or run_today
    found = []
    for file, line, text in items:
        outcome = _compare_one(line, text, policy_a, policy_b, as_of, engine, today)
        if outcome is not None:
            found.append(Result(file, line, outcome, _reference(text)))
    return found


def _compare_one(line: int, text: Any, policy_a: Policy, policy_b: Policy, as_of: dt.date | None, engine: EngineName,
                 today: dt.date) -> CaseDifference | Unevaluated | ItemError | None:
    data = _read_line(line, text) if isinstance(text, (bytes, str)) else text
    if isinstance(data, ItemError):
        return data
    try:
        case = data if isinstance(data, Case) else Case.model_validate(data)
    except ValidationError as error:
        return _validation_error(line, error)
    try:
        return compare_case(case, policy_a, policy_b, as_of=as_of or case.as_of or today, engine=engine,
                            index=line - 1)
    except ParameterError as error:  # the same error under both policies
        return Unevaluated(index=line - 1, error=str(error))


def _compare_shipped(items: Iterable[tuple[str, int, Any]], run: _Run) -> list[Result]:
    policy_a, policy_b = _policies_of(run)
    return compare_partition(items, policy_a, policy_b, as_of=run.as_of, engine=run.engine, today=run.today)


# --- bags ---------------------------------------------------------------------------------------------


def evaluate_bag(
    bag: db.Bag,
    *,
    policy: Policy | None = None,
    as_of: dt.date | str | None = None,
    engine: EngineName | None = None,
    client: Any = None,
) -> db.Bag:
    """A bag of ``(file, line, text)`` (:func:`read_cases`) evaluated: a bag of :class:`Result`, in input order,
    each holding the line's Decision or its :class:`~commissioning_rules.batch.ItemError` (the line number in
    ``item``), as the single-machine batch gives them.

    The settings are those of ``evaluate_many``, checked here. The policy travels to each worker once and is
    compiled there once: scattered to every worker of ``client`` now (the bag must then be computed on that
    client), or without a client carried by one key of the graph."""
    run = _prepare([policy], as_of, engine)
    evaluated: db.Bag = bag.map_partitions(_evaluate_shipped, _ship(run, client))
    return evaluated


def compare_bag(
    bag: db.Bag,
    policy_a: Policy,
    policy_b: Policy,
    *,
    as_of: dt.date | str | None = None,
    engine: EngineName | None = None,
    client: Any = None,
) -> db.Bag:
    """Only the cases whose decision changes between the two policies, and how (``cr.compare``'s
    ``CaseDifference``), with those neither can decide and the lines that are not valid cases: a bag of
    :class:`Result` in input order (see :func:`compare_partition`). Policies travel as in :func:`evaluate_bag`."""
    run = _prepare([policy_a, policy_b], as_of, engine)
    changed: db.Bag = bag.map_partitions(_compare_shipped, _ship(run, client))
    return changed


def _json_lines(results: Iterable[Result], sources: bool) -> str:
    return "".join(to_json_line(result.outcome, sources=sources) + "\n" for result in results)


def to_json_lines(results: db.Bag, *, sources: bool = False) -> db.Bag:
    """Each result's outcome as its batch line (``to_json_line``: a Decision's JSON, with its sources only if
    ``sources=True``, or ``{"error": …}``), written in the task that evaluated it, so no Decision object crosses
    the network."""
    lines: db.Bag = results.map(lambda result: to_json_line(result.outcome, sources=sources))
    return lines


def _part_names(urlpath: str, count: int, suffix: str, storage_options: Mapping[str, Any] | None,
                compression: str | None = None) -> list[OpenFile]:
    width = max(5, len(str(count - 1)))
    directory = urlpath.rstrip("/")
    fs, _, _ = get_fs_token_paths(directory, mode="wb", storage_options=dict(storage_options or {}))
    fs.makedirs(directory, exist_ok=True)
    return [OpenFile(fs, f"{directory}/part-{i:0{width}d}{suffix}", mode="wb", compression=compression)
            for i in range(count)]


def _write_text(results: Iterable[Result], file: OpenFile, sources: bool) -> str:
    with file as out:  # "wb" truncates: a task run again replaces its part, never adds to it
        out.write(_json_lines(results, sources).encode("utf-8"))
    written: str = file.path  # fsspec has no types
    return written


def write_jsonl(results: db.Bag, urlpath: str, *, compression: str | None = None,
                storage_options: Mapping[str, Any] | None = None, sources: bool = False) -> list[str]:
    """Write each partition's outcomes as the batch's JSON lines, from the workers, to ``urlpath/part-NNNNN.jsonl``
    (a directory, local to the workers or any fsspec URL; ``compression="gzip"`` writes ``.jsonl.gz``). The parts
    in name order, concatenated, are the single-machine batch's output (for one input file: byte for byte).
    Each Decision is written with its sources only if ``sources=True``. Returns the paths written."""
    suffix = ".jsonl" + {None: "", "gzip": ".gz", "bz2": ".bz2", "xz": ".xz", "zstd": ".zst"}.get(compression, "")
    files = _part_names(urlpath, results.npartitions, suffix, storage_options, compression)
    writes = [delayed(_write_text)(part, file, sources) for part, file in zip(results.to_delayed(), files)]
    return list(compute(*writes))


# --- a flat summary, as Parquet -------------------------------------------------------------------------

#: The columns of the Parquet summary, in order (see :func:`summary`).
SUMMARY_COLUMNS = (
    ("file", "string"), ("line", "int64"), ("reference", "string"), ("as_of", "date32"),
    ("policy_version", "string"), ("eligible", "bool_"), ("delivery", "string"), ("route", "string"),
    ("approval", "string"), ("monitoring_level", "string"), ("notice_months", "int32"),
    ("notice_ends_on", "date32"), ("review", "string"), ("error_kind", "string"), ("error_field", "string"),
    ("error_message", "string"),
)


def summary(result: Result) -> dict[str, Any]:
    """One result as a flat row for analysts' tools: where it came from, the outcomes that matter most
    (eligible, delivery, route, who approves, monitoring level, notice), or the error. ``None``: not decided."""
    row: dict[str, Any] = dict.fromkeys(name for name, _ in SUMMARY_COLUMNS)
    row.update(file=result.file, line=result.line, reference=result.reference)
    outcome = result.outcome
    if isinstance(outcome, ItemError):
        row.update(error_kind=outcome.kind, error_field=outcome.field, error_message=outcome.message)
    elif isinstance(outcome, Decision):
        row.update(
            as_of=outcome.as_of,
            policy_version=outcome.policy.version,
            eligible=outcome.eligibility.eligible if outcome.eligibility else None,
            delivery=outcome.delivery.method if outcome.delivery else None,
            route=outcome.route.route if outcome.route else None,
            approval=outcome.approval.decided_by if outcome.approval else None,
            monitoring_level=outcome.monitoring.level.value if outcome.monitoring else None,
            notice_months=outcome.notice.months if outcome.notice else None,
            notice_ends_on=outcome.notice.ends_on if outcome.notice else None,
            review=outcome.review.outcome.value if outcome.review else None,
        )
    else:
        raise TypeError(f"a summary is of an evaluation's result, not of {type(outcome).__name__}")
    return row


def _write_parquet_part(results: Iterable[Result], file: OpenFile) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in SUMMARY_COLUMNS])
    table = pa.Table.from_pylist([summary(result) for result in results], schema=schema)
    with file as out:
        pq.write_table(table, out)
    written: str = file.path  # fsspec has no types
    return written


def write_parquet(results: db.Bag, urlpath: str, *, storage_options: Mapping[str, Any] | None = None) -> list[str]:
    """Write the flat :func:`summary` of every result as Parquet, from the workers, one file per partition
    (``urlpath/part-NNNNN.parquet``; read the directory as one table with pyarrow, DuckDB, pandas or Spark).
    Returns the paths written."""
    files = _part_names(urlpath, results.npartitions, ".parquet", storage_options)
    writes = [delayed(_write_parquet_part)(part, file) for part, file in zip(results.to_delayed(), files)]
    return list(compute(*writes))


# --- on a cluster ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def connect(address: str, *, workers: int | None = None, timeout: float | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: to the scheduler at ``address`` (``tcp://host:8786``), or with ``"local"`` to a
    ``LocalCluster`` of ``workers`` processes (default: one per core) of one thread each, on 127.0.0.1 with no
    dashboard. Everything it started is closed on leaving. An unreachable scheduler raises ``OSError`` after
    ``timeout`` seconds (default: Dask's ``distributed.comm.timeouts.connect``)."""
    from distributed import Client, LocalCluster

    if address == "local":
        # the scheduler serves HTTP (health, metrics) even without a dashboard: on 127.0.0.1, on a free port
        with LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                          # distributed documents None (no dashboard) but annotates the parameter as str
                          host="127.0.0.1", dashboard_address=None,  # pyright: ignore[reportArgumentType]
                          scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"}) as cluster, \
                Client(cluster) as client:
            yield client
        return
    if workers is not None:
        raise ValueError("the number of workers is set where a cluster is started; give it with 'local' only")
    try:
        client = Client(address) if timeout is None else Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as error:
        raise OSError(f"cannot reach the Dask scheduler at {address}: {error}") from None
    with client:
        yield client


def _worker_facts(engine: str) -> tuple[str, bool]:
    """On a worker: this library's version, and whether ``engine`` runs here."""
    return __version__, engine != "durable-rules" or durable_available()


def check_workers(client: Any, engine: EngineName | None = None, *, timeout: float = 60) -> int:
    """Wait for at least one worker and check every worker runs this library's version and can run
    ``engine``; raises ``RuntimeError`` naming those that cannot. Returns the number of worker threads."""
    engine = engine or default_engine()
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise RuntimeError(f"the Dask cluster has no worker (waited {timeout:.0f} s)") from None
    problems = []
    for worker, (version, runs) in sorted(client.run(_worker_facts, engine).items()):
        if version != __version__:
            problems.append(f"{worker} has commissioning-rules {version}, this client {__version__}")
        if not runs:
            problems.append(f"{worker} cannot run the {engine} engine (durable-rules does not import there)")
    if problems:
        raise RuntimeError("; ".join(problems))
    return sum(client.nthreads().values())


def in_order(client: Any, parts: Sequence[Delayed], window: int) -> Iterator[Any]:
    """Compute ``parts`` on ``client``, at most ``window`` at a time, yielding each one's value in order and
    releasing it from the cluster once taken (memory stays bounded however long the input)."""
    pending: collections.deque[Any] = collections.deque()
    try:
        for part in parts:
            pending.append(client.compute(part))
            if len(pending) >= window:
                yield _taken(pending.popleft())
        while pending:
            yield _taken(pending.popleft())
    finally:
        for future in pending:
            future.cancel()


def _taken(future: Any) -> Any:
    value = future.result()
    future.release()
    return value


class _BatchPart(NamedTuple):
    text: str
    evaluated: int
    errors: list[ItemError]


def _batch_part(items: Iterable[tuple[str, int, Any]], run: _Run, sources: bool) -> _BatchPart:
    """One partition's batch output, each line's Decision turned into its JSON line as soon as it is made and
    then dropped: a partition's hundreds of live Decisions would make the garbage collector walk a growing heap
    (measured: about a third more CPU a case than the single-machine batch)."""
    [policy] = _policies_of(run)
    lines, errors, evaluated = [], [], 0
    for result in _results(items, policy, run.as_of, run.engine, run.today):
        if isinstance(result.outcome, ItemError):
            errors.append(result.outcome)
        else:
            evaluated += 1
        lines.append(to_json_line(result.outcome, sources=sources) + "\n")
    return _BatchPart("".join(lines), evaluated, errors)


def batch_parts(
    urlpath: Any,
    *,
    client: Any,
    policy: Policy | None = None,
    as_of: dt.date | str | None = None,
    engine: EngineName | None = None,
    blocksize: int | str | None = DEFAULT_BLOCKSIZE,
    sources: bool = False,
) -> tuple[list[str], Iterator[tuple[str, _BatchPart]]]:
    """For the command line: every file ``urlpath`` names, and an iterator of ``(file, part)`` in input order,
    each part a partition's batch output (its JSON lines as one text, each Decision with its sources only if
    ``sources=True``), its count evaluated and its errors."""
    run = _ship(_prepare([policy], as_of, engine), client)
    parts, owners, files = _partitions(urlpath, blocksize, None)
    outputs = [delayed(_batch_part)(part, run, sources) for part in parts]
    window = 2 * max(1, sum(client.nthreads().values()))
    return files, zip(owners, in_order(client, outputs, window))
