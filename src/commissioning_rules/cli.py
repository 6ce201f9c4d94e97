"""The ``commissioning-rules`` command: evaluate cases, in bulk too, print the JSON Schemas, the rule catalogue and
the policy's static checks. For council workflows that are not written in Python.

Built on click (Pallets): mature, widely used, one small dependency, with ``--help`` on every command and a
progress bar of its own (shown only when stderr is a terminal).
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import json
import os
import stat
import sys
import textwrap
import threading
import traceback
from dataclasses import asdict, is_dataclass
from typing import IO, Any, Callable, Iterator, TextIO, TypeVar

import click
from pydantic import ValidationError

from commissioning_rules import __version__
from commissioning_rules.batch import ItemError, evaluate_lines, evaluate_many, load_json, to_json_line
from commissioning_rules.catalogue import catalogue
from commissioning_rules.engine import ENGINES, EngineName, default_engine, engine_name
from commissioning_rules.models import Case, Decision
from commissioning_rules.policy import Policy
from commissioning_rules.policy_file import PolicyFileError
from commissioning_rules.schema import KINDS, SchemaUnavailable, schema_for

PROG = "commissioning-rules"
#: Exit statuses, the same for every command.
EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_CODES = f"""\b
Exit status:
  {EXIT_OK}  success: every case evaluated (check: no findings; compare: no decision differs)
  {EXIT_REJECTED}  a case or some batch lines were rejected (check: findings; compare: decisions differ)
  {EXIT_USAGE}  usage or file error: bad option, unreadable file, bad policy file, engine not available
  {EXIT_INTERNAL}  internal error: a bug, please report it with the input that caused it"""
#: Rejections listed one by one on stderr before the batch summary.
REJECTIONS_SHOWN = 20
_WRAP = 100


class UsageFailure(click.ClickException):
    """A usage or file error: reported on stderr, exit status 2."""

    exit_code = EXIT_USAGE


# --- shared options -----------------------------------------------------------------------------------

_as_of_option = click.option(
    "--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
    help="Apply the policy at this date (overrides the case's own as_of; default: the case's, else today).",
)
_policy_option = click.option(
    "--policy", "policy_file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
    help="A council's policy file layered over the Norwich framework (Policy.from_file).",
)
_engine_option = click.option(
    "--engine", type=click.Choice(ENGINES), default=None,
    help="The rules engine (default: compiled; durable-rules where it imports). Decisions differ only "
    "in their 'engine' field.",
)


_sources_option = click.option(
    "--sources/--no-sources", default=False, show_default=True,
    help="Write each Decision with the sentence every finding quotes and where each parameter's value comes from, "
    "or (the default) without them: each rule cited by its id and section, the rule catalogue ('rules') quoting "
    "it once. A decision record always keeps the Decision with its sources.",
)

_record_option = click.option(
    "--record", "record_db", default=None, metavar="DB",
    help="Store a decision record of each decision in DB: an SQLite file path or a database URL "
    "(postgresql://user@host/db). Needs the records extra.",
)
_Command = TypeVar("_Command", bound=Callable[..., Any])
#: Said on stderr when cases had no ``as_of`` and no ``--as-of`` was given: the policy was applied as of today.
_UNDATED = "warning: {count} no as_of: evaluated at today's date, {today} (give as_of in the case, or --as-of)"
#: How a Decision evaluated at today's date reads in the compact JSON of a batch line.
_UNDATED_JSON = '"as_of_source":"today"'


def _format_option(default: str, choices: tuple[str, ...]) -> Callable[[_Command], _Command]:
    return click.option("--format", "output_format", type=click.Choice(choices), default=default, show_default=True,
                        help="Output format.")


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def _load_policy(path: str | None) -> Policy | None:
    """``--policy FILE`` as a Policy (``None`` without it); a bad file is a usage error naming the file."""
    if path is None:
        return None
    try:
        return Policy.from_file(path)
    except PolicyFileError as error:  # it names the file (and line, key) itself
        raise UsageFailure(str(error)) from None
    except (OSError, ValueError) as error:  # ValueError covers ParameterError and pydantic's ValidationError
        raise UsageFailure(f"{path}: {error}") from None


def _rejection(outcome: ItemError, where: str) -> str:
    lines = [f"{where}: {outcome.message}"]
    if len(outcome.errors) > 1:
        lines += [f"  - {e.field or 'the case'}: {e.message}" for e in outcome.errors]
    return "\n".join(lines)


# --- the command group --------------------------------------------------------------------------------


class _Commands(click.Group):
    """The command group; a file name where a command belongs is pointed at ``evaluate``."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            name = args[0] if args else ""
            if name == "-":
                raise click.UsageError(f"no command '-'; to evaluate a case from stdin: {PROG} evaluate - --format text",
                                       ctx) from None
            if name.endswith((".json", ".jsonl")) or os.path.isfile(name):
                raise click.UsageError(f"no command {name!r}; to evaluate a case file: "
                                       f"{PROG} evaluate {name} --format text", ctx) from None
            raise


@click.group(
    cls=_Commands,
    help="Norwich City Council's Commissioning framework (2014) as explainable rules, from the command line. "
    "Without a command, runs 'demo'.",
    epilog=EXIT_CODES,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": _WRAP},
)
@click.version_option(__version__, prog_name=PROG)
@click.pass_context
def cli(context: click.Context) -> None:
    if context.invoked_subcommand is None:
        context.invoke(demo)
        click.echo(f"(that was '{PROG} demo'; '{PROG} --help' lists every command)", err=True)


#: The bundled case ``demo`` evaluates (``commissioning_rules/examples/``).
DEMO_CASE = "community_lunch_club.json"


@cli.command(epilog=EXIT_CODES)
@_engine_option
def demo(engine: str | None = None) -> None:
    """Evaluate a bundled example case (a community lunch club applying for a grant) and explain its Decision.

    A real evaluation on the installed engine; 'evaluate CASE.json --format text' does the same for a case of
    your own.
    """
    from importlib import resources

    case = json.loads(resources.files("commissioning_rules.examples").joinpath(DEMO_CASE).read_text("utf-8"))
    outcomes = _start(lambda: evaluate_many([case], engine=engine_name(engine)))
    outcome = next(outcomes)
    if not isinstance(outcome, Decision):  # the bundled case is valid: a rejection is a bug (exit status 3)
        raise RuntimeError(f"the bundled example {DEMO_CASE} was rejected: {outcome.message}")
    click.echo(outcome.explain(), nl=False)


@cli.command(epilog=EXIT_CODES)
@click.argument("case_file", metavar="CASE.json", type=click.File("rb"))
@_as_of_option
@_policy_option
@_engine_option
@_format_option("json", ("json", "text"))
@_sources_option
@_record_option
@click.option("--supersedes", default=None, metavar="RECORD_ID",
              help="With --record: the id of the record this decision corrects.")
@click.option("--verbose", is_flag=True, help="With --format text: every criterion, the rules that fired and the parameters used.")
def evaluate(case_file: IO[bytes], as_of: dt.datetime | None, policy_file: str | None, engine: str | None,
             output_format: str, sources: bool, record_db: str | None, supersedes: str | None,
             verbose: bool = False) -> None:
    """Evaluate one case (a JSON object; '-' reads stdin) and print its Decision.

    --format json prints the Decision as the JSON contract (docs/json-contract.md); --format text explains it
    in plain English, quoting the framework. A rejected case is reported on stderr, field by field (with --format json,
    also as an {"error": ...} record on stdout), and the exit status is 1. With --record DB the decision is
    stored as a decision record first (its id on stderr); if it cannot be stored, no decision is printed and
    the exit status is 2.
    """
    if supersedes is not None and record_db is None:
        raise UsageFailure("--supersedes needs --record DB")
    recorder = _Recorder(record_db, policy_file) if record_db else None
    policy = recorder.policy if recorder else _load_policy(policy_file)
    data = case_file.read()
    outcomes = _start(lambda: evaluate_lines([data], policy=policy, as_of=_date(as_of), engine=engine_name(engine)))
    outcome = next(outcomes)
    if isinstance(outcome, ItemError):
        if output_format == "json":
            record = json.loads(to_json_line(outcome))
            # one case, not a batch: "line" is where in the file the JSON breaks (null: the case as a whole)
            record["error"]["line"] = _json_error_line(data)
            click.echo(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        click.echo(_rejection(outcome, case_file.name), err=True)
        sys.exit(EXIT_REJECTED)
    if outcome.as_of_source == "today":
        click.echo(_UNDATED.format(count="the case has", today=outcome.as_of.isoformat()), err=True)
    if recorder is not None:
        (record,) = recorder.store([(data, outcome)], supersedes=supersedes)
        click.echo(f"recorded {record.record_id} (position {record.seq}) in {recorder.url}", err=True)
    text = outcome.to_json(sources=sources, indent=2) if output_format == "json" else outcome.explain(verbose=verbose)
    click.echo(text, nl=output_format == "json")


def _json_error_line(text: bytes) -> int | None:
    """The line (from 1) at which ``text`` stops being JSON; ``None`` when it parses."""
    try:
        load_json(text)
    except json.JSONDecodeError as error:
        return error.lineno
    except ValueError:  # not UTF-8, or a value we reject (NaN, a repeated key): no position
        return None
    return None


def _start(begin: Callable[[], Iterator[Any]]) -> Iterator[Any]:
    """Start a run; the run's own settings (engine, policy, date) failing is a usage error."""
    try:
        return begin()
    except (RuntimeError, ValueError, TypeError, OSError) as error:
        raise UsageFailure(str(error)) from None


def _count_lines(stream: IO[bytes]) -> int | None:
    """Lines in a regular file (for the progress bar), leaving it at the start; ``None`` for a pipe."""
    try:
        if not stream.seekable():
            return None
        count = sum(1 for _ in stream)
        stream.seek(0)
        return count
    except OSError:
        return None


def _same_file(stream: IO[bytes] | TextIO | str, path: str) -> bool:
    """Whether ``stream`` (an open input, stdout, or a path) is the file at ``path``: compared by device and
    inode, so a redirection (``batch - -o FILE < FILE``), a second name or a link is caught as well as the same
    name."""
    try:
        mine = os.stat(stream) if isinstance(stream, str) else os.fstat(stream.fileno())
        theirs = os.stat(path)
    except (OSError, ValueError, AttributeError):  # not a real file, or ``path`` not created yet
        return False
    return (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino)


def _same_stream(first: IO[bytes] | TextIO, second: IO[bytes] | TextIO) -> bool:
    """Whether two open streams are one regular file (``batch FILE >> FILE``)."""
    try:
        a, b = os.fstat(first.fileno()), os.fstat(second.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISREG(a.st_mode) and (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _lines(stream: IO[bytes]) -> Iterator[bytes]:
    """The input's lines without their line ends; blank lines at the very end (an editor's trailing newlines)
    are dropped, a blank line between cases is kept (it becomes that line's error record)."""
    blank: list[bytes] = []
    for raw in stream:
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            blank.append(line)
            continue
        yield from blank
        blank.clear()
        yield line


# --- batch output: never over the input, flushed every second, resumable ------------------------------

#: The longest a finished Decision waits in memory before it is in the output file: a kill loses at most the
#: cases in flight and this much.
FLUSH_INTERVAL_S = 0.5


class _LineWriter:
    """Writes JSON lines to a binary stream; a helper thread flushes at least every :data:`FLUSH_INTERVAL_S`.

    Flushing per line would cost a system call per case; flushing only at the end would lose everything
    written so far when the process is killed. A flush error (a full disk) is raised by the next write or by
    :meth:`close`.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._error: OSError | None = None
        self._flusher = threading.Thread(target=self._flush_periodically, name="batch-output-flush", daemon=True)
        self._flusher.start()

    def _flush_periodically(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL_S):
            with self._lock:
                try:
                    self._stream.flush()
                except OSError as error:
                    self._error = error
                    return

    def write(self, line: str) -> None:
        with self._lock:
            if self._error is not None:
                raise self._error
            self._stream.write(line.encode("utf-8") + b"\n")

    def stop(self) -> None:
        """End the helper thread (also when the run failed: nothing is flushed then)."""
        self._stop.set()
        self._flusher.join()

    def close(self) -> None:
        self.stop()
        with self._lock:
            if self._error is not None:
                raise self._error
            self._stream.flush()


def _kept_lines(path: str, handle: IO[bytes]) -> list[bytes]:
    """For ``--resume``: the complete lines already in the output; a partial last line is cut off the file."""
    data = handle.read()
    complete = data[: data.rfind(b"\n") + 1]
    kept = complete.splitlines()
    for number, line in enumerate(kept, start=1):
        if not (line.startswith(b"{") and line.endswith(b"}")):
            raise UsageFailure(f"{path} line {number} is not a batch record: not resuming over it")
    handle.seek(len(complete))
    handle.truncate()
    return kept


def _open_output(path: str, cases_file: IO[bytes], overwrite: bool, resume: bool) -> tuple[IO[bytes], list[bytes]]:
    """The batch's output stream, opened before any case is read, and (``--resume``) the lines kept in it."""
    if path == "-":
        if resume:
            raise UsageFailure("--resume continues an output file: give it with -o FILE")
        stdout = sys.stdout.buffer
        if _same_stream(cases_file, stdout):
            raise UsageFailure("the output is the input: write the decisions to another file")
        return stdout, []
    if _same_file(cases_file, path):
        raise UsageFailure(f"the output {path} is the input: write the decisions to another file")
    exists = os.path.exists(path)
    if exists and not (overwrite or resume):
        raise UsageFailure(f"{path} exists: --overwrite replaces it, --resume continues it")
    try:
        if resume and exists:
            handle: IO[bytes] = open(path, "r+b")  # noqa: SIM115 -- closed by the batch command
            return handle, _kept_lines(path, handle)
        return open(path, "wb"), []  # noqa: SIM115
    except OSError as error:
        raise UsageFailure(f"Could not open file {path!r}: {error.strerror or error}") from None


@cli.command(epilog=EXIT_CODES)
@click.argument("cases", metavar="CASES.jsonl", nargs=-1, required=True)
@click.option("-o", "--output", "output_path", type=click.Path(allow_dash=True), default="-",
              show_default=True, metavar="FILE",
              help="Where to write the decisions, one JSON line per input line (with --dask: a directory for one "
              "output per input file). Never the input file itself.")
@click.option("--overwrite/--no-overwrite", default=True, show_default=True,
              help="Replace an existing FILE (the default: a batch is rerun whole), or refuse to touch it.")
@click.option("--resume", is_flag=True,
              help="Continue a batch that was cut short: keep every complete line already in FILE, drop a partial "
              "last line, and carry on from the next input line. The finished FILE is byte-identical to an "
              "uninterrupted run (cases without a date get the resumed run's date: give --as-of to fix it).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes to evaluate in (with --dask local: Dask worker processes, default one per core). "
              "The output is identical whatever the number.")
@click.option("--dask", "dask_address", metavar="ADDRESS", default=None,
              help="Evaluate on a Dask cluster: its scheduler (tcp://host:8786) or 'local' for one on this machine "
              "(needs: pip install 'commissioning-rules[dask]'). CASES may then be globs and fsspec URLs the workers "
              "can read.")
@_as_of_option
@_policy_option
@_engine_option
@_sources_option
@_record_option
@click.pass_context
def batch(ctx: click.Context, cases: tuple[str, ...], output_path: str, overwrite: bool, resume: bool, workers: int,
          dask_address: str | None, as_of: dt.datetime | None, policy_file: str | None, engine: str | None,
          sources: bool, record_db: str | None) -> None:
    """Evaluate a JSONL file of cases (one JSON object per line; '-' reads stdin).

    Writes one line per input line, in input order: the Decision as JSON, or for a line that cannot be
    evaluated an error record {"error": {"line": N, "kind": ..., "field": ..., "message": ..., "errors": [...]}}
    naming its line number and the field at fault (kind: empty_line, invalid_json, invalid_case,
    parameter_error, evaluation_failed). The run goes on past bad lines, whatever went wrong on them;
    a summary (evaluated, rejected) ends on stderr, and the exit status is 1 if any line was rejected. One
    engine serves the whole run. Finished lines reach FILE at least every second, so a run that is killed
    loses only the cases in flight: --resume carries on from there. A progress bar is shown only when stderr
    is a terminal.

    With --record DB, every decision is stored as a decision record, one transaction per chunk of lines, and a
    chunk's lines are written only once its records are committed; if the database fails, the run stops
    (exit status 2) and the output holds exactly the lines whose records were stored.

    With --dask the cases are evaluated on a Dask cluster, and CASES may be several files or globs ('cases-*.jsonl',
    s3://bucket/cases-*.jsonl). -o FILE takes the output of one input file; -o DIRECTORY/ one output per input file,
    named as it. Each output is byte for byte what the single-machine batch writes for that file.
    """
    policy = _load_policy(policy_file)  # a bad policy file is a usage error before any case is read
    if dask_address is not None:
        if record_db:
            raise UsageFailure("--record is not available with --dask: record a run on one machine")
        if resume:
            raise UsageFailure("--resume is not available with --dask: resume a run on one machine")
        explicit = ctx.get_parameter_source("workers") is not click.core.ParameterSource.DEFAULT
        _batch_on_dask(cases, output_path, dask_address, workers if explicit else None, _date(as_of), policy,
                       engine_name(engine), sources)
        return
    if len(cases) != 1:
        raise UsageFailure("batch reads one file (several files or a glob need --dask)")
    cases_file: IO[bytes] = click.File("rb").convert(cases[0], ctx.command.params[0], ctx)
    recorder = _Recorder(record_db, policy_file) if record_db else None
    stream, kept = _open_output(output_path, cases_file, overwrite, resume)
    try:
        _run_batch(cases_file, stream, kept, recorder, policy_file, sources, workers=workers, as_of=_date(as_of),
                   engine=engine_name(engine))
    finally:
        if stream is not sys.stdout.buffer:
            stream.close()


def _run_batch(cases_file: IO[bytes], stream: IO[bytes], kept: list[bytes], recorder: _Recorder | None,
               policy_file: str | None, sources: bool, **run: Any) -> None:
    total = _count_lines(cases_file) if sys.stderr.isatty() else None
    lines = _lines(cases_file)
    for _ in kept:  # --resume: these input lines have their records already
        if next(lines, None) is None:
            raise UsageFailure(f"the output has {len(kept)} lines but the input fewer: it is not this batch's output")
    rejected = [n for n, line in enumerate(kept, start=1) if line.startswith(b'{"error":')]
    evaluated = len(kept) - len(rejected)
    first_line = len(kept) + 1
    if recorder is not None:
        outcomes = recorder.batch(lines, lambda teed: _start(lambda: evaluate_lines(
            teed, policy=recorder.policy, as_json=True, first_line=first_line, sources=sources, recorded=True, **run)))
    else:
        outcomes = _start(lambda: evaluate_lines(lines, policy_file=policy_file, as_json=True, first_line=first_line,
                                                 sources=sources, **run))
    undated = 0
    bar = click.progressbar(length=total - len(kept), file=sys.stderr, label="evaluating") if total else None
    writer = _LineWriter(stream)
    try:
        for text, failure in outcomes:
            writer.write(text)
            if failure is not None:
                if len(rejected) < REJECTIONS_SHOWN:
                    click.echo(_rejection(failure, f"line {failure.item}"), err=True)
                rejected.append(failure.item)
            else:
                evaluated += 1
                undated += _UNDATED_JSON in text
            if bar is not None:
                bar.update(1)
        writer.close()
    except BrokenPipeError:
        raise  # the reader went away (e.g. `| head`): click ends quietly
    except OSError as error:  # the input could not be read or the output written (a full disk …)
        raise UsageFailure(f"batch stopped: {error}") from None
    finally:
        writer.stop()
        if bar is not None:
            bar.render_finish()
    if len(rejected) > REJECTIONS_SHOWN:
        click.echo(f"... and {len(rejected) - REJECTIONS_SHOWN} more rejected lines (see the error records)", err=True)
    if undated:
        click.echo(_UNDATED.format(count=f"{undated} case{' has' if undated == 1 else 's have'}",
                                   today=dt.date.today().isoformat()), err=True)
    click.echo(f"{evaluated} evaluated, {len(rejected)} rejected", err=True)
    sys.exit(EXIT_REJECTED if rejected else EXIT_OK)


def _batch_on_dask(cases: tuple[str, ...], output: str, address: str, workers: int | None, as_of: dt.date | None,
                   policy: Policy | None, engine: EngineName | None, sources: bool) -> None:
    """``batch --dask``: evaluate on a cluster, write each input file's output in order, report as ``batch``."""
    try:
        from commissioning_rules import dask_runs
    except ImportError as error:
        raise UsageFailure(str(error)) from None
    if "-" in cases:
        raise UsageFailure("--dask reads files or URLs the workers can open, not stdin")
    try:
        _, files = dask_runs.expand(list(cases))
    except OSError as error:
        raise UsageFailure(str(error)) from None
    targets = _dask_targets(files, output)
    evaluated, rejected = 0, 0
    with contextlib.ExitStack() as stack:
        try:
            client = stack.enter_context(dask_runs.connect(address, workers=workers))
            dask_runs.check_workers(client, engine)
            files, parts = dask_runs.batch_parts(files, client=client, policy=policy, as_of=as_of, engine=engine,
                                                 sources=sources)
        except (OSError, RuntimeError, ValueError, TypeError) as error:
            raise UsageFailure(f"--dask {address}: {error}") from None
        outputs = {file: stack.enter_context(_Output(target)) for file, target in targets.items()}
        try:
            for file, part in parts:
                outputs[file].write(part.text)
                evaluated += part.evaluated
                for failure in part.errors:
                    if rejected < REJECTIONS_SHOWN:
                        click.echo(_rejection(failure, f"{file} line {failure.item}"), err=True)
                    rejected += 1
        except (OSError, *dask_runs.CLUSTER_FAILURES) as error:  # an input the workers cannot read, a lost cluster
            raise UsageFailure(f"batch stopped: {error}") from None
        for out in outputs.values():
            out.finish()
    if rejected > REJECTIONS_SHOWN:
        click.echo(f"... and {rejected - REJECTIONS_SHOWN} more rejected lines (see the error records)", err=True)
    click.echo(f"{evaluated} evaluated, {rejected} rejected", err=True)
    sys.exit(EXIT_REJECTED if rejected else EXIT_OK)


def _dask_targets(files: list[str], output: str) -> dict[str, str]:
    """Where each input file's output goes: ``output`` itself for one file, ``output/NAME`` into a directory."""
    if output.endswith(("/", os.sep)) or os.path.isdir(output):
        os.makedirs(output, exist_ok=True)
        names = [os.path.basename(file) for file in files]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise UsageFailure(f"several input files are called {', '.join(repeated)}: their outputs would collide")
        targets = {file: os.path.join(output, name) for file, name in zip(files, names)}
    elif len(files) == 1:
        targets = {files[0]: output}
    else:
        raise UsageFailure(f"{len(files)} input files: give -o a directory (ending in /) for one output per file")
    for file, target in targets.items():
        if _same_file(file, target):
            raise UsageFailure(f"the output {target} is the input: write the decisions to another place")
    return targets


class _Output:
    """One output of ``batch --dask``: stdout, or a file written beside its final name and renamed into place
    when complete (a run cut short never leaves an output that looks finished)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.partial = None if target == "-" else os.path.join(
            os.path.dirname(target) or ".", f".{os.path.basename(target)}.partial")
        self.stream: TextIO = sys.stdout

    def __enter__(self) -> _Output:
        if self.partial is not None:
            try:
                self.stream = open(self.partial, "w", encoding="utf-8", newline="")
            except OSError as error:
                raise UsageFailure(f"cannot write {self.target}: {error.strerror}") from None
        return self

    def write(self, text: str) -> None:
        self.stream.write(text)

    def finish(self) -> None:
        self.stream.flush()
        if self.partial is not None:
            self.stream.close()
            os.replace(self.partial, self.target)
            self.partial = None

    def __exit__(self, *exc: object) -> None:
        if self.partial is not None:  # not finished: leave nothing that looks like an output
            self.stream.close()
            os.unlink(self.partial)


@cli.command(epilog=EXIT_CODES)
@click.argument("kind", type=click.Choice(KINDS), default="case", required=False)
def schema(kind: str) -> None:
    """Print the JSON Schema (draft 2020-12) of a case (the default), a decision or a policy file.

    Generated from the library's own models, so other systems can validate before they call us.
    """
    try:
        click.echo(json.dumps(schema_for(kind), indent=2, ensure_ascii=False))
    except SchemaUnavailable as error:
        raise UsageFailure(str(error)) from None


# --- the rule catalogue -------------------------------------------------------------------------------


def _wrap(label: str, text: str, indent: str = "    ") -> str:
    return textwrap.fill(text, _WRAP, initial_indent=f"{indent}{label}", subsequent_indent=indent + "  ")


def catalogue_text(entries: dict[str, Any]) -> str:
    """The catalogue for a person to read."""
    count = sum(len(rs["rules"]) for rs in entries["rulesets"])
    out = [f"{entries['policy']['name']} (version {entries['policy']['version']}): {count} rules", ""]
    for ruleset in entries["rulesets"]:
        out.append(f"{ruleset['section']} {ruleset['title']} [{ruleset['name']}; needs: {', '.join(ruleset['inputs'])}]")
        for rule in ruleset["rules"]:
            subject = "" if rule["subject"] == "case" else f" (for each {rule['subject']})"
            out.append(f"  {rule['id']} ({rule['section']}){subject}")
            out.append(_wrap("source: ", f"\"{rule['source']}\""))
            out.append(_wrap("when: ", rule["condition"]))
            out.append(_wrap("then: ", f"{rule['conclusion']['topic']} is {rule['conclusion']['outcome']}"))
            out.append(_wrap("because: ", rule["because"]))
            if rule["parameters"]:
                out.append(_wrap("parameters: ", ", ".join(rule["parameters"])))
        out.append("")
    if entries["parameters"]:
        out.append("Parameters")
        for name, parameter in entries["parameters"].items():
            note = ", placeholder the council is expected to set" if parameter["placeholder"] else ""
            out.append(f"  {name} ({parameter['unit']}, {parameter['section']}{note}): {parameter['description']}")
            for value in parameter["values"]:
                out.append(_wrap("", f"from {value['effective_from']}: {value['value']} (source: {value['source']})"))
        out.append("")
    if entries["gates"]:
        out.append("Stage gates (a later stage follows only from an earlier stage's decision)")
        for gate in entries["gates"]:
            out.append(f"  {gate['id']} ({gate['section']})")
            out.append(_wrap("source: ", f"\"{gate['source']}\""))
            allowed = " or ".join(str(value) for value in gate["allows"])
            out.append(_wrap("when: ", f"{gate['after']}.{gate['attribute']} is not {allowed}"))
            out.append(_wrap("then: ", f"no decision from {', '.join(gate['rulesets'])}"))
            out.append(_wrap("because: ", gate["because"]))
    return "\n".join(out).rstrip() + "\n"


@cli.command(epilog=EXIT_CODES)
@_policy_option
@_format_option("text", ("text", "json"))
def rules(policy_file: str | None, output_format: str) -> None:
    """Print the rule catalogue: each rule's id, section, quoted source, condition in words and parameters, and
    each stage gate (a later stage following only from an earlier one's decision) with the sentence it quotes."""
    entries = catalogue(_load_policy(policy_file) or Policy.default())
    if output_format == "json":
        click.echo(json.dumps(entries, indent=2, ensure_ascii=False))
    else:
        click.echo(catalogue_text(entries), nl=False)


# --- static checks and data tests ---------------------------------------------------------------------


def _finding_json(finding: Any) -> Any:
    if hasattr(finding, "model_dump"):
        return finding.model_dump(mode="json")
    if is_dataclass(finding) and not isinstance(finding, type):
        return json.loads(json.dumps(asdict(finding), default=str))
    return str(finding)


@cli.command(epilog=EXIT_CODES)
@_policy_option
@_format_option("text", ("text", "json"))
def check(policy_file: str | None, output_format: str) -> None:
    """Run the policy's static checks (commissioning_rules.check): rules without a source, undefined or
    undated parameters, incomplete or overlapping decision tables, rules that can never fire. Exit status 1
    if anything is found."""
    from commissioning_rules.check import check as run_checks

    policy = _load_policy(policy_file) or Policy.default()
    findings = run_checks(policy)
    if output_format == "json":
        click.echo(json.dumps([_finding_json(f) for f in findings], indent=2, ensure_ascii=False))
    else:
        for finding in findings:
            click.echo(str(finding))
        click.echo(f"{len(findings)} finding{'' if len(findings) == 1 else 's'} in {policy.name} "
                   f"(version {policy.version})")
    sys.exit(EXIT_REJECTED if findings else EXIT_OK)


@cli.command(epilog=EXIT_CODES)
@click.argument("cases_file", metavar="CASES.jsonl", type=click.File("rb"))
@click.option("--policy", "policy_file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Policy A: a council's policy file (default: the Norwich framework as published).")
@click.option("--against", "against_file", type=click.Path(dir_okay=False), required=True, metavar="FILE",
              help="Policy B, the policy file compared with A.")
@_as_of_option
@_engine_option
@_format_option("text", ("text", "json"))
def compare(cases_file: IO[bytes], policy_file: str | None, against_file: str, as_of: dt.datetime | None,
            engine: str | None, output_format: str) -> None:
    """What changes between two policies: evaluate every case of a JSONL file (one case per line; '-' reads
    stdin) under policy A (--policy) and policy B (--against), and list each case whose decision differs, by
    its line number, with every outcome that changes and the rules that fired under one policy only.

    Lines that are not valid cases are reported on stderr and left out of the comparison. Exit status 1 if any
    decision differs or any line was rejected, 0 if every case is decided the same under both.
    """
    from commissioning_rules.compare import compare as compare_policies
    from commissioning_rules.engine import EngineUnavailable, build_engine

    policy_a = _load_policy(policy_file) or Policy.default()
    policy_b = _load_policy(against_file) or Policy.default()
    try:
        build_engine(engine or "reference", ())  # an engine that cannot run is a usage error, before any case
    except (EngineUnavailable, ValueError) as error:
        raise UsageFailure(str(error)) from None
    lines: list[int] = []
    cases: list[Case] = []
    rejected: list[ItemError] = []
    for number, line in enumerate(_lines(cases_file), start=1):
        try:
            cases.append(Case.model_validate(load_json(line)))
            lines.append(number)
        except (ValueError, ValidationError):  # not JSON, or not a case: the batch's own error record for it
            for outcome in evaluate_lines([line], policy=policy_a, engine="reference"):
                if isinstance(outcome, ItemError):
                    rejected.append(outcome.model_copy(update={"item": number}))
    try:
        comparison = compare_policies(cases, policy_a, policy_b, as_of=_date(as_of), engine=engine_name(engine))
    except (RuntimeError, ValueError) as error:
        raise UsageFailure(str(error)) from None
    differences = [d.model_copy(update={"index": lines[d.index]}) for d in comparison.differences]
    unevaluated = [u.model_copy(update={"index": lines[u.index]}) for u in comparison.unevaluated]
    if output_format == "json":
        record = comparison.model_copy(update={"differences": differences, "unevaluated": unevaluated}).model_dump(mode="json")
        for entry in (*record["differences"], *record["unevaluated"]):
            entry["line"] = entry.pop("index")
        record["rejected"] = [json.loads(to_json_line(item))["error"] for item in rejected]
        click.echo(json.dumps(record, indent=2, ensure_ascii=False))
    else:
        for difference in differences:
            click.echo(difference.describe(unit="line"))
        for undecided in unevaluated:
            click.echo(f"line {undecided.index}: could not be decided under either policy: {undecided.error}")
        click.echo(f"{len(differences)} of {comparison.cases} cases decided differently by {policy_b.name} "
                   f"(version {policy_b.version}) than by {policy_a.name} (version {policy_a.version})")
    for item in rejected[:REJECTIONS_SHOWN]:
        click.echo(_rejection(item, f"line {item.item}"), err=True)
    if rejected:
        click.echo(f"{len(rejected)} line{'' if len(rejected) == 1 else 's'} rejected, not compared", err=True)
    sys.exit(EXIT_REJECTED if differences or unevaluated or rejected else EXIT_OK)


@cli.command("test", epilog=EXIT_CODES)
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@_policy_option
@_engine_option
@click.option("-v", "--verbose", is_flag=True, help="List passing tests too.")
def test_command(directory: str, policy_file: str | None, engine: str | None, verbose: bool) -> None:
    """Run the data tests under DIRECTORY (YAML or JSON files: a case and the expected parts of its Decision).
    Exit status 1 if any fails."""
    from commissioning_rules.testing.data_tests import format_results, run_data_tests

    results = run_data_tests(directory, policy=_load_policy(policy_file), engine=engine_name(engine))
    if not results:
        raise UsageFailure(f"{directory}: no data tests (*.yaml, *.yml, *.json)")
    click.echo(format_results(results, verbose=verbose))
    sys.exit(EXIT_OK if all(r.passed for r in results) else EXIT_REJECTED)


# --- decision records ---------------------------------------------------------------------------------

#: Batch lines whose records are stored in one transaction.
RECORD_CHUNK = 256


def _records() -> Any:
    """The records package, or a usage error naming the extra to install."""
    try:
        from commissioning_rules import records
    except ImportError as error:
        raise UsageFailure(str(error)) from None
    return records


@contextlib.contextmanager
def _as_usage_errors() -> Iterator[None]:
    """A records operation failing (a database error, an unknown record) is a usage error, in one sentence."""
    records = _records()
    try:
        yield
    except records.RecordsError as error:
        raise UsageFailure(str(error)) from None


def _open_store(db: str) -> Any:
    with _as_usage_errors():
        return _records().Store(db)


class _Recorder:
    """Records the decisions of ``evaluate``/``batch --record``: the store, and the policy with its text."""

    def __init__(self, db: str, policy_file: str | None) -> None:
        self.records = _records()
        self.policy: Policy | None = None
        text = None
        if policy_file is not None:
            try:
                with open(policy_file, encoding="utf-8") as file:
                    text = file.read()
                self.policy = Policy.from_yaml(text, origin=policy_file)
            except (OSError, ValueError) as error:
                raise UsageFailure(f"{policy_file}: {error}") from None
        self._store = _open_store(db)
        self.url = self._store.url
        with _as_usage_errors():
            self.source = self.records.PolicySource.of(self.policy, text)

    def store(self, items: list[tuple[bytes, Any]], supersedes: str | None = None) -> list[Any]:
        """Store one record per (case line, Decision or its JSON data with sources), in one transaction."""
        from commissioning_rules.batch import load_json
        from commissioning_rules.models.case import Case

        try:
            drafts = [self.records.Draft.of(Case.model_validate(load_json(line)), decision, self.source,
                                            supersedes=supersedes) for line, decision in items]
            stored: list[Any] = self._store.append(drafts)
            return stored
        except self.records.RecordsError as error:  # not a bare usage error: say the decision was not recorded
            raise UsageFailure(f"not recorded: {error}") from None

    def batch(self, lines: Iterator[bytes], start: Any) -> Iterator[tuple[str, ItemError | None]]:
        """Run ``start(lines)`` (a batch of JSON outcomes ``evaluate_lines(..., as_json=True, recorded=True)``: each
        line to write, its error, and the Decision with its sources for its record) and yield each line and error a
        chunk at a time, each chunk only once the records of its decisions are committed."""
        pending: collections.deque[bytes] = collections.deque()

        def teed() -> Iterator[bytes]:
            for line in lines:
                pending.append(line)
                yield line

        outcomes = start(teed())

        def recorded() -> Iterator[tuple[str, ItemError | None]]:
            chunk: list[tuple[str, ItemError | None, str | None, bytes]] = []
            for text, error, kept in outcomes:
                chunk.append((text, error, kept, pending.popleft()))
                if len(chunk) == RECORD_CHUNK:
                    yield from self._commit(chunk)
                    chunk = []
            yield from self._commit(chunk)

        return recorded()

    def _commit(self, chunk: list[tuple[str, ItemError | None, str | None, bytes]]
                ) -> Iterator[tuple[str, ItemError | None]]:
        self.store([(line, json.loads(kept)) for _, _, kept, line in chunk if kept is not None])
        for text, error, _, _ in chunk:
            yield text, error


_db_option = click.option(
    "--db", "db", required=True, envvar="COMMISSIONING_RULES_DB", metavar="DB",
    help="The decision records: an SQLite file path or a database URL (default: $COMMISSIONING_RULES_DB).",
)


def _moment(value: str, option: str) -> dt.datetime:
    """A date (the start of that day, UTC) or a date and time with its offset, as an aware datetime."""
    try:
        if len(value) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=dt.timezone.utc)
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageFailure(f"{option}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS+00:00, got {value!r}") from None
    if moment.tzinfo is None:
        raise UsageFailure(f"{option}: {value!r} has no time zone: add Z (UTC) or an offset such as +01:00")
    return moment


def _echo_json(value: Any, indent: int | None = 2) -> None:
    click.echo(json.dumps(value, indent=indent, ensure_ascii=False, default=str))


@cli.group(epilog=EXIT_CODES)
def records() -> None:
    """Decision records: list, show, replay, verify, export and purge them (needs the records extra).

    Decisions are recorded by 'evaluate --record DB' and 'batch --record DB'. DB is an SQLite file path or a
    database URL such as postgresql://user@host/council_decisions.
    """


@records.command("list", epilog=EXIT_CODES)
@_db_option
@click.option("--reference", default=None, help="Only the records of this application reference.")
@click.option("--since", default=None, metavar="DATE", help="Only records evaluated on or after DATE (UTC).")
@click.option("--until", default=None, metavar="DATE", help="Only records evaluated before DATE (UTC).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many records.")
@_format_option("text", ("text", "json"))
def records_list(db: str, reference: str | None, since: str | None, until: str | None, limit: int | None,
                 output_format: str) -> None:
    """List records in chain order, one a line (--format json: one JSON object a line, without the texts)."""
    store = _open_store(db)
    found = store.records(reference=reference, since=_moment(since, "--since") if since else None,
                          until=_moment(until, "--until") if until else None, limit=limit)
    for record in _guarded(found):
        if output_format == "json":
            _echo_json(record.summary(), indent=None)
        else:
            extra = f"  supersedes {record.supersedes}" if record.supersedes else ""
            click.echo(f"{record.seq:>7}  {record.record_id}  {record.evaluated_at:%Y-%m-%d %H:%M:%S}Z  as of "
                       f"{record.as_of}  {record.reference or '-'}  policy {record.policy_version}{extra}")


def _guarded(items: Any) -> Iterator[Any]:
    """Iterate a store's results, a database failure on the way being a usage error."""
    with _as_usage_errors():
        yield from items


@records.command("show", epilog=EXIT_CODES)
@_db_option
@click.argument("record_id")
@_format_option("text", ("text", "json"))
def records_show(db: str, record_id: str, output_format: str) -> None:
    """Show one record: what was decided, on which input, under which policy and code (--format json: all of
    it, the input and decision as JSON, the policy file's text included)."""
    with _as_usage_errors():
        record = _open_store(db).get(record_id)
    if output_format == "json":
        data = record.model_dump(mode="json", exclude={"input_json", "decision_json"})
        _echo_json({**data, "input": record.input, "decision": record.decision})
        return
    lines = [f"record {record.record_id} (position {record.seq})",
             f"  evaluated at {record.evaluated_at:%Y-%m-%d %H:%M:%S.%f}Z as of {record.as_of} ({record.as_of_source})",
             f"  reference: {record.reference or '-'}"]
    if record.supersedes:
        lines.append(f"  supersedes: {record.supersedes}")
    lines += [f"  policy: {record.policy_name} (version {record.policy_version}, from {record.policy_origin})",
              f"  commissioning-rules {record.library_version} (code {record.code_sha256[:12]}), engine {record.engine}",
              f"  input sha256 {record.input_sha256}", f"  decision sha256 {record.decision_sha256}",
              f"  entry hash {record.entry_hash}", ""]
    click.echo("\n".join(lines))
    try:
        from commissioning_rules.models.decision import Decision

        click.echo(Decision.model_validate(record.decision).explain(), nl=False)
    except ValueError:  # recorded by another version whose Decision this one does not read
        _echo_json(record.decision)


@records.command("replay", epilog=EXIT_CODES)
@_db_option
@click.argument("record_ids", nargs=-1, metavar="[RECORD_ID]...")
@click.option("--all", "replay_all", is_flag=True, help="Replay every record.")
@_engine_option
@_format_option("text", ("text", "json"))
def records_replay(db: str, record_ids: tuple[str, ...], replay_all: bool, engine: str | None,
                   output_format: str) -> None:
    """Evaluate records again, from their stored input, policy, date and engine, and report identical or the
    differences (the path, the recorded value → the replayed one). Exit status 1 if any differs or cannot be
    replayed."""
    records = _records()
    if bool(record_ids) == replay_all:
        raise UsageFailure("name the records to replay, or give --all")
    store = _open_store(db)
    with _as_usage_errors():
        chosen = store.records() if replay_all else (store.get(r) for r in record_ids)
        results = [records.replay(record, engine=engine_name(engine)) for record in chosen]
    for result in results:
        if output_format == "json":
            _echo_json(result.model_dump(mode="json"), indent=None)
        else:
            click.echo(str(result))
    same = sum(r.identical for r in results)
    click.echo(f"{same} of {len(results)} replayed identically", err=True)
    sys.exit(EXIT_OK if same == len(results) else EXIT_REJECTED)


@records.command("verify", epilog=EXIT_CODES)
@_db_option
@_format_option("text", ("text", "json"))
def records_verify(db: str, output_format: str) -> None:
    """Walk the chain and check every hash. Exit status 0 intact, 1 broken (naming each record at fault).

    Keep the head hash it prints somewhere else: it shows later that no newer records were removed."""
    records = _records()
    with _as_usage_errors():
        result = records.verify(_open_store(db))
    if output_format == "json":
        _echo_json(result.model_dump(mode="json"))
    else:
        click.echo(str(result))
    sys.exit(EXIT_OK if result.intact else EXIT_REJECTED)


@records.command("export", epilog=EXIT_CODES)
@_db_option
@click.option("-o", "--output", type=click.File("w", encoding="utf-8", lazy=True), default="-", show_default=True,
              metavar="FILE", help="Where to write the export.")
def records_export(db: str, output: TextIO) -> None:
    """Export the whole chain as JSON Lines: every record and purge marker in order, exactly as stored (the
    input and decision as the canonical JSON text that was hashed), then the head. Enough to verify offline
    and to answer a subject access request or an FOI."""
    store = _open_store(db)
    for entry in _guarded(store.chain()):
        output.write(json.dumps(entry.model_dump(mode="json"), ensure_ascii=False, sort_keys=True) + "\n")
    seq, entry_hash = store.head()
    output.write(json.dumps({"kind": "head", "seq": seq, "entry_hash": entry_hash}) + "\n")


@records.command("purge", epilog=EXIT_CODES)
@_db_option
@click.option("--before", required=True, metavar="DATE",
              help="Remove every record evaluated before DATE (YYYY-MM-DD: the start of that day, UTC; or a date "
              "and time with its offset).")
@click.option("--reason", required=True, help="Why (a retention rule): kept in the chain's purge marker.")
@click.option("--yes", is_flag=True, help="Purge. Without it, only say what would be purged.")
@_format_option("text", ("text", "json"))
def records_purge(db: str, before: str, reason: str, yes: bool, output_format: str) -> None:
    """Remove whole records evaluated before a date (personal data is not kept for ever), leaving a purge marker
    in the chain (the runs removed, when, why, the hash of what went), so the chain still verifies."""
    with _as_usage_errors():
        marker = _open_store(db).purge(_moment(before, "--before"), reason, dry_run=not yes)
    if output_format == "json":
        _echo_json({"purged": bool(marker) and yes, "marker": marker.model_dump(mode="json") if marker else None})
    elif marker is None:
        click.echo(f"no records evaluated before {before}")
    elif not yes:
        click.echo(f"{marker.count} records evaluated before {before} would be purged: run again with --yes")
    else:
        click.echo(f"purged {marker.count} records; purge marker {marker.marker_id} (position {marker.seq})")


# --- the HTTP service ----------------------------------------------------------------------------------


def _limit_setting(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, int]:
    limits = {}
    for value in values:
        name, _, number = value.partition("=")
        if not number.isdigit():
            raise click.BadParameter(f"expected NAME=WHOLE_NUMBER, got {value!r}")
        limits[name.strip()] = int(number)
    return limits


@cli.command(epilog=EXIT_CODES)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@_policy_option
@click.option("--records", metavar="DB", default=None,
              help="Store a record of every decision in this database (a SQLite file path or a database URL).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes (each compiles the policy; use about one per core).")
@click.option("--tokens-file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              envvar="COMMISSIONING_RULES_TOKENS_FILE",
              help="Access tokens, one per line (also: COMMISSIONING_RULES_TOKENS, separated by commas). The records "
              "endpoints need one and are off without any.")
@click.option("--protect-evaluation", is_flag=True, help="Require an access token on the evaluation endpoints too.")
@click.option("--limit", "limits", multiple=True, metavar="NAME=VALUE", callback=_limit_setting,
              help="Change one of the service's limits (max_body_bytes, max_batch_bytes, ...; see the guide).")
@_engine_option
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info", show_default=True)
def serve(host: str, port: int, policy_file: str | None, records: str | None, workers: int, tokens_file: str | None,
          protect_evaluation: bool, limits: dict[str, int], engine: str | None, log_level: str) -> None:
    """Serve decisions over HTTP (FastAPI on uvicorn): POST /v1/decisions and more; the OpenAPI document at
    /openapi.json and the API pages at /docs. Needs the server extra: pip install "commissioning-rules[server]".
    """
    try:
        from commissioning_rules.server import Settings, SettingsError
        from commissioning_rules.server.settings import TOKENS_VARIABLE, read_tokens
    except ImportError as error:  # ServerUnavailable: one sentence naming the pip install to run
        raise UsageFailure(str(error)) from None
    import uvicorn
    try:
        settings = Settings.build(policy_file=policy_file, records=records,
                                  tokens=read_tokens(tokens_file, os.environ.get(TOKENS_VARIABLE)),
                                  protect_evaluation=protect_evaluation, engine=engine, limits=limits)
        settings.policy.engine(settings.engine or default_engine())  # fail here, not in every worker
    except (SettingsError, OSError, ValueError, RuntimeError) as error:
        raise UsageFailure(str(error)) from None  # each names its file, database or setting
    if records and not settings.token_digests:
        click.echo("note: no access tokens configured, so the records endpoints are off "
                   f"(--tokens-file FILE or {TOKENS_VARIABLE})", err=True)
    os.environ.update(settings.to_environment(tokens_file))
    # uvicorn applies log_config in every worker process (spawned workers do not inherit the parent's logging)
    logging_config = {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": log_level.upper()},
    }
    uvicorn.run("commissioning_rules.server:app_from_environment", factory=True, host=host, port=port,
                workers=workers, access_log=False, log_level=log_level, timeout_graceful_shutdown=30,
                log_config=logging_config)


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``) and return its exit status."""
    try:
        cli.main(args=argv, prog_name=PROG, standalone_mode=True)
    except SystemExit as exit:
        code = exit.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    except Exception:  # noqa: BLE001 - the last line of defence: say it is a bug, with the traceback
        traceback.print_exc()
        click.echo(f"{PROG}: internal error (a bug: please report it with the input that caused it)", err=True)
        return EXIT_INTERNAL
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
