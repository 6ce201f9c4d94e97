"""The ``commissioning-rules`` command: evaluate cases, in bulk too, print the JSON Schemas, the rule catalogue and
the policy's static checks. For council workflows that are not written in Python.

Built on click (Pallets): mature, widely used, one small dependency, with ``--help`` on every command and a
progress bar of its own (shown only when stderr is a terminal).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import textwrap
import traceback
from dataclasses import asdict, is_dataclass
from typing import Any, BinaryIO, Iterator, TextIO

import click

from commissioning_rules import __version__
from commissioning_rules.batch import ItemError, Outcome, evaluate_lines, to_json_line
from commissioning_rules.catalogue import catalogue
from commissioning_rules.engine import ENGINES
from commissioning_rules.engine import default_engine as _default_engine
from commissioning_rules.policy import Policy
from commissioning_rules.schema import KINDS, SchemaUnavailable, schema_for

PROG = "commissioning-rules"
#: Exit statuses, the same for every command.
EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_CODES = f"""\b
Exit status:
  {EXIT_OK}  success: every case evaluated (check: no findings)
  {EXIT_REJECTED}  a case or some batch lines were rejected (check: findings)
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
    help="The rules engine (default: durable-rules where it imports, else reference). Decisions differ only "
    "in their 'engine' field.",
)


def _format_option(default: str, choices: tuple[str, ...]) -> Any:
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
    except (OSError, ValueError) as error:  # ValueError covers ParameterError and pydantic's ValidationError
        raise UsageFailure(f"{path}: {error}") from None


def _rejection(outcome: ItemError, where: str) -> str:
    lines = [f"{where}: {outcome.message}"]
    if len(outcome.errors) > 1:
        lines += [f"  - {e.field or 'the case'}: {e.message}" for e in outcome.errors]
    return "\n".join(lines)


# --- the command group --------------------------------------------------------------------------------


@click.group(
    help="Norwich City Council's Commissioning framework (2014) as explainable rules, from the command line.",
    epilog=EXIT_CODES,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": _WRAP},
)
@click.version_option(__version__, prog_name=PROG)
def cli() -> None:
    pass


@cli.command(epilog=EXIT_CODES)
@click.argument("case_file", metavar="CASE.json", type=click.File("rb"))
@_as_of_option
@_policy_option
@_engine_option
@_format_option("json", ("json", "text"))
def evaluate(case_file: BinaryIO, as_of: dt.datetime | None, policy_file: str | None, engine: str | None,
             output_format: str) -> None:
    """Evaluate one case (a JSON object; '-' reads stdin) and print its Decision.

    --format json prints the Decision as the JSON contract (DESIGN.md); --format text explains it in plain
    English, quoting the framework. A rejected case is reported on stderr, field by field (with --format json,
    also as an {"error": ...} record on stdout), and the exit status is 1.
    """
    policy = _load_policy(policy_file)
    outcomes = _start(lambda: evaluate_lines([case_file.read()], policy=policy, as_of=_date(as_of), engine=engine))
    outcome = next(outcomes)
    if isinstance(outcome, ItemError):
        if output_format == "json":
            click.echo(to_json_line(outcome))
        click.echo(_rejection(outcome, case_file.name), err=True)
        sys.exit(EXIT_REJECTED)
    click.echo(outcome.model_dump_json(indent=2) if output_format == "json" else outcome.explain(), nl=output_format == "json")


def _start(begin: Any) -> Iterator[Outcome]:
    """Start a run; the run's own settings (engine, policy, date) failing is a usage error."""
    try:
        return begin()
    except (RuntimeError, ValueError, TypeError, OSError) as error:
        raise UsageFailure(str(error)) from None


def _count_lines(stream: BinaryIO) -> int | None:
    """Lines in a regular file (for the progress bar), leaving it at the start; ``None`` for a pipe."""
    try:
        if not stream.seekable():
            return None
        count = sum(1 for _ in stream)
        stream.seek(0)
        return count
    except OSError:
        return None


def _same_file(first: str, second: str) -> bool:
    try:
        return os.path.samefile(first, second)
    except (OSError, ValueError):  # "-", "<stdin>", a file not created yet
        return False


def _lines(stream: BinaryIO) -> Iterator[bytes]:
    for line in stream:
        yield line.rstrip(b"\r\n")


@cli.command(epilog=EXIT_CODES)
@click.argument("cases_file", metavar="CASES.jsonl", type=click.File("rb"))
@click.option("-o", "--output", type=click.File("w", encoding="utf-8", lazy=True), default="-", show_default=True,
              metavar="FILE", help="Where to write the decisions, one JSON line per input line.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes to evaluate in. The output is identical whatever the number.")
@_as_of_option
@_policy_option
@_engine_option
def batch(cases_file: BinaryIO, output: TextIO, workers: int, as_of: dt.datetime | None, policy_file: str | None,
          engine: str | None) -> None:
    """Evaluate a JSONL file of cases (one JSON object per line; '-' reads stdin).

    Writes one line per input line, in input order: the Decision as JSON, or for a line that cannot be
    evaluated an error record {"error": {"line": N, "kind": ..., "field": ..., "message": ..., "errors": [...]}}
    naming its line number and the field at fault (kind: empty_line, invalid_json, invalid_case,
    parameter_error). The run goes on past bad lines; a summary (evaluated, rejected) ends on stderr, and the
    exit status is 1 if any line was rejected. One engine serves the whole run. A progress bar is shown only
    when stderr is a terminal.
    """
    _load_policy(policy_file)  # a bad policy file is a usage error before any case is read
    if _same_file(cases_file.name, output.name):
        raise UsageFailure(f"the output {output.name} is the input: write the decisions to another file")
    if callable(getattr(output, "open", None)):  # click opens a named file lazily: open it now, before any case
        try:
            output.open()
        except click.FileError as error:
            raise UsageFailure(error.format_message()) from None
    total = _count_lines(cases_file) if sys.stderr.isatty() else None
    lines = _lines(cases_file)
    outcomes = _start(lambda: evaluate_lines(lines, workers=workers, policy_file=policy_file, as_of=_date(as_of),
                                             engine=engine, as_json=True))
    evaluated, rejected = 0, []
    bar = click.progressbar(length=total, file=sys.stderr, label="evaluating") if total else None
    try:
        for text, error in outcomes:
            output.write(text + "\n")
            if error is not None:
                if len(rejected) < REJECTIONS_SHOWN:
                    click.echo(_rejection(error, f"line {error.item}"), err=True)
                rejected.append(error.item)
            else:
                evaluated += 1
            if bar is not None:
                bar.update(1)
    except BrokenPipeError:
        raise  # the reader went away (e.g. `| head`): click ends quietly
    except OSError as error:  # the input could not be read or the output written (a full disk …)
        raise UsageFailure(f"batch stopped: {error}") from None
    finally:
        if bar is not None:
            bar.render_finish()
    try:
        output.flush()
    except OSError as error:
        raise UsageFailure(f"batch stopped: {error}") from None
    if len(rejected) > REJECTIONS_SHOWN:
        click.echo(f"... and {len(rejected) - REJECTIONS_SHOWN} more rejected lines (see the error records)", err=True)
    click.echo(f"{evaluated} evaluated, {len(rejected)} rejected", err=True)
    sys.exit(EXIT_REJECTED if rejected else EXIT_OK)


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
    return "\n".join(out).rstrip() + "\n"


@cli.command(epilog=EXIT_CODES)
@_policy_option
@_format_option("text", ("text", "json"))
def rules(policy_file: str | None, output_format: str) -> None:
    """Print the rule catalogue: each rule's id, section, quoted source, condition in words and parameters."""
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
                   f"(version {policy.version})", err=True)
    sys.exit(EXIT_REJECTED if findings else EXIT_OK)


@cli.command("test", epilog=EXIT_CODES)
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@_policy_option
@_engine_option
@click.option("-v", "--verbose", is_flag=True, help="List passing tests too.")
def test_command(directory: str, policy_file: str | None, engine: str | None, verbose: bool) -> None:
    """Run the data tests under DIRECTORY (YAML or JSON files: a case and the expected parts of its Decision).
    Exit status 1 if any fails."""
    from commissioning_rules.testing.data_tests import format_results, run_data_tests

    results = run_data_tests(directory, policy=_load_policy(policy_file), engine=engine)
    if not results:
        raise UsageFailure(f"{directory}: no data tests (*.yaml, *.yml, *.json)")
    click.echo(format_results(results, verbose=verbose))
    sys.exit(EXIT_OK if all(r.passed for r in results) else EXIT_REJECTED)


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
        settings.policy.engine(settings.engine or _default_engine())  # fail here, not in every worker
    except (SettingsError, OSError, ValueError, RuntimeError) as error:
        raise UsageFailure(f"{policy_file}: {error}" if policy_file and "tokens" not in str(error) else str(error)) from None
    if records and not settings.token_digests:
        click.echo("note: no access tokens configured, so the records endpoints are off "
                   f"(--tokens-file FILE or {TOKENS_VARIABLE})", err=True)
    os.environ.update(settings.to_environment(tokens_file))
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run("commissioning_rules.server:app_from_environment", factory=True, host=host, port=port,
                workers=workers, access_log=False, log_level=log_level, timeout_graceful_shutdown=30,
                log_config=None)


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
