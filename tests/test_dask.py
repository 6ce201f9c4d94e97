"""Cluster runs (commissioning_rules.dask_runs, batch --dask): the same outcomes as one process, on a real
LocalCluster of two worker processes on 127.0.0.1, started once for this module."""

from __future__ import annotations

import gzip
import json
import os
import signal
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import dask
import pytest
from click.testing import CliRunner

import commissioning_rules as cr
from commissioning_rules import dask_runs
from commissioning_rules.batch import ItemError, evaluate_lines
from commissioning_rules.cli import cli
from commissioning_rules.compare import CaseDifference, Unevaluated

EXAMPLES = resources.files("commissioning_rules.examples")
GOOD = EXAMPLES.joinpath("cases.jsonl").read_text("utf-8").splitlines()
LUNCH_CLUB = json.loads(EXAMPLES.joinpath("community_lunch_club.json").read_text("utf-8"))
COUNCIL_POLICY = EXAMPLES.joinpath("council-policy.yaml").read_text("utf-8")
#: Lines of every kind the batch meets, bad ones included (line numbers below count from 1).
MIXED = [
    GOOD[0], "{not json", GOOD[1], json.dumps({"organisation": {"kind": "guild"}}), "",
    json.dumps(LUNCH_CLUB), '["a", "list"]', json.dumps({**LUNCH_CLUB, "as_of": "1990-01-01"}), *GOOD[2:],
]
BAD = {2: "invalid_json", 4: "invalid_case", 5: "empty_line", 7: "invalid_case", 8: "parameter_error"}


def write_cases(path: Path, lines: list[str], end: str = "\n") -> Path:
    path.write_text(end.join(lines) + end, "utf-8")
    return path


def single_machine(path: Path, policy: cr.Policy | None = None) -> str:
    """What the one-process batch writes for a file (the reference every cluster run must equal)."""
    lines = (line.rstrip(b"\r\n") for line in path.read_bytes().splitlines(keepends=True))
    return "".join(text + "\n" for text, _ in evaluate_lines(lines, policy=policy, as_json=True))


@pytest.fixture(scope="module")
def client():
    with dask_runs.connect("local", workers=2) as client:
        client.wait_for_workers(2, timeout=120)
        yield client


def assert_compiled_once_per_worker(client, policy: cr.Policy, engine: str, tasks: int) -> None:
    """The policy was rebuilt from what was shipped, and compiled once in each worker that ran the run's
    tasks, however many it ran (more tasks than twice the workers: some worker ran several)."""
    key = (dask_runs._prepare([policy], None, None).digests[0], engine)
    compiled = [counts.get(key, 0) for counts in client.run(lambda: dict(dask_runs._compilations)).values()]
    assert tasks > 2 * len(compiled) and sum(compiled) >= 1 and max(compiled) == 1


# --- without a cluster: the partition function and the reading ------------------------------------


def test_a_partition_is_evaluated_by_an_ordinary_function_as_evaluate_many_does():
    items = [("cases.jsonl", n, line.encode()) for n, line in enumerate(MIXED, start=1)]
    results = dask_runs.evaluate_partition(items, as_of=None)
    expected = list(evaluate_lines(MIXED))
    assert [r.outcome for r in results] == expected
    assert [(r.file, r.line) for r in results] == [("cases.jsonl", n) for n in range(1, len(MIXED) + 1)]
    assert {r.line: r.outcome.kind for r in results if isinstance(r.outcome, ItemError)} == BAD
    # already parsed cases too, as evaluate_many takes them
    parsed = dask_runs.evaluate_partition([("memory", 1, LUNCH_CLUB)], engine="reference")
    assert parsed[0].outcome == cr.evaluate(LUNCH_CLUB, engine="reference")


def test_lines_are_numbered_across_blocks_as_the_batch_numbers_them(tmp_path):
    long_line = json.dumps({**LUNCH_CLUB, "service": {**LUNCH_CLUB["service"], "name": "x" * 3000}})
    lines = [*MIXED, long_line, "", *MIXED]
    plain = write_cases(tmp_path / "a.jsonl", lines, end="\r\n")
    bare = tmp_path / "b.jsonl"
    bare.write_bytes(b"\n".join(line.encode() for line in lines))  # no final newline
    (tmp_path / "c.jsonl").write_bytes(b"")  # an empty file: no lines, no partition
    with gzip.open(tmp_path / "d.jsonl.gz", "wt", encoding="utf-8") as packed:  # read whole: cannot be split
        packed.write("\n".join(lines) + "\n")
    with dask.config.set(scheduler="sync"):
        bag = dask_runs.read_cases(str(tmp_path / "*"), blocksize=700)
        items = bag.compute()
    assert bag.npartitions > 10
    expected = [(str(path), n, line.encode()) for path in (plain, bare, tmp_path / "d.jsonl.gz")
                for n, line in enumerate(lines, start=1)]
    assert [(Path(f).name, n, t) for f, n, t in items] == [(Path(f).name, n, t) for f, n, t in expected]


def test_parts_written_by_the_workers_concatenate_to_the_single_machine_output(tmp_path):
    path = write_cases(tmp_path / "cases.jsonl", MIXED * 3)
    with dask.config.set(scheduler="sync"):
        results = dask_runs.evaluate_bag(dask_runs.read_cases(str(path), blocksize=4000))
        parts = dask_runs.write_jsonl(results, str(tmp_path / "out"), compression="gzip")
    assert len(parts) == results.npartitions > 3 and all(part.endswith(".jsonl.gz") for part in parts)
    assert b"".join(gzip.decompress(Path(part).read_bytes()) for part in sorted(parts)).decode() == single_machine(path)


def test_reading_nothing_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such"):
        dask_runs.read_cases(str(tmp_path / "no-such-*.jsonl"))
    with pytest.raises(IsADirectoryError, match=r"\*\.jsonl"):
        dask_runs.read_cases(str(tmp_path))


# --- on the cluster ---------------------------------------------------------------------------------


def test_a_bag_gives_what_evaluate_many_gives_and_each_worker_compiles_the_policy_once(client, tmp_path):
    first = write_cases(tmp_path / "cases-1.jsonl", MIXED * 4)
    write_cases(tmp_path / "cases-2.jsonl", GOOD * 2)
    bag = dask_runs.read_cases(str(tmp_path / "cases-*.jsonl"), blocksize=6000)
    assert bag.npartitions >= 6
    results = dask_runs.evaluate_bag(bag, client=client).compute()
    expected = [*evaluate_lines(MIXED * 4), *evaluate_lines(GOOD * 2)]
    assert [r.outcome for r in results] == expected
    assert [(Path(r.file).name, r.line) for r in results if isinstance(r.outcome, ItemError)] == [
        ("cases-1.jsonl", n + len(MIXED) * k) for k in range(4) for n in BAD
    ]
    assert results[0].file == str(first)
    assert_compiled_once_per_worker(client, cr.Policy.default(), results[0].outcome.engine, bag.npartitions)


def test_a_policy_file_is_shipped_to_the_workers_not_read_there(client, tmp_path):
    file = tmp_path / "our-policy.yaml"
    file.write_text(COUNCIL_POLICY, "utf-8")
    policy = cr.Policy.from_file(file)
    bag = dask_runs.read_cases(str(write_cases(tmp_path / "cases.jsonl", GOOD * 3)), blocksize=2500)
    results = dask_runs.evaluate_bag(bag, policy=policy, client=client, as_of="2026-06-30")
    file.unlink()  # the workers never see the file: the policy travels with the run
    outcomes = [r.outcome for r in results.compute()]
    assert outcomes == list(cr.evaluate_many([json.loads(line) for line in GOOD * 3], policy=policy,
                                             as_of="2026-06-30"))
    assert {o.policy.version for o in outcomes} == {policy.version} != {cr.Policy.default().version}
    assert_compiled_once_per_worker(client, policy, outcomes[0].engine, results.npartitions)


def test_compare_bag_finds_what_compare_finds(client, tmp_path):
    council = cr.Policy.from_yaml(COUNCIL_POLICY)
    cases = [*(json.loads(line) for line in GOOD), LUNCH_CLUB, {**LUNCH_CLUB, "as_of": "1990-01-01"}]
    path = write_cases(tmp_path / "cases.jsonl", [json.dumps(case) for case in cases] + ["{bad"])
    found = dask_runs.compare_bag(dask_runs.read_cases(str(path), blocksize=3000), cr.Policy.default(), council,
                                  client=client).compute()
    expected = cr.compare(cases, cr.Policy.default(), council)
    assert expected.differences, "the example council policy must change some decisions"
    assert [r.outcome for r in found if isinstance(r.outcome, CaseDifference)] == expected.differences
    assert [r.outcome for r in found if isinstance(r.outcome, Unevaluated)] == expected.unevaluated
    assert [(r.line, r.outcome.kind) for r in found if isinstance(r.outcome, ItemError)] == [(len(cases) + 1, "invalid_json")]


def test_parquet_summary_has_one_flat_row_per_line(client, tmp_path):
    import pyarrow.parquet as pq

    path = write_cases(tmp_path / "cases.jsonl", MIXED * 2)
    results = dask_runs.evaluate_bag(dask_runs.read_cases(str(path), blocksize=5000), client=client)
    dask_runs.write_parquet(results, str(tmp_path / "summary"))
    rows = pq.read_table(tmp_path / "summary").to_pylist()
    assert rows == [dask_runs.summary(r) for r in results.compute()]
    assert [row["line"] for row in rows] == list(range(1, 2 * len(MIXED) + 1))
    assert {row["line"]: row["error_kind"] for row in rows if row["error_kind"]} == {
        **BAD, **{n + len(MIXED): kind for n, kind in BAD.items()}}
    lunch = rows[5]
    decision = cr.evaluate(LUNCH_CLUB)
    assert (lunch["eligible"], lunch["as_of"], lunch["policy_version"]) == (
        decision.eligibility.eligible, decision.as_of, decision.policy.version)


# --- the command line (in this process: the cluster's scheduler is a real tcp:// address all the same) ----


def batch(*args: str) -> Any:
    result = CliRunner().invoke(cli, ["batch", *args])
    assert "Traceback" not in result.output and not isinstance(result.exception, AssertionError), result.output
    return result


def test_batch_on_a_cluster_writes_each_file_byte_for_byte_as_one_process_does(client, tmp_path):
    first = write_cases(tmp_path / "cases-1.jsonl", MIXED * 5)
    second = write_cases(tmp_path / "cases-2.jsonl", GOOD)
    policy = tmp_path / "policy.yaml"
    policy.write_text(COUNCIL_POLICY, "utf-8")
    out = tmp_path / "out"
    options = ["--policy", str(policy), "--as-of", "2026-06-30"]
    result = batch(str(tmp_path / "cases-*.jsonl"), "-o", f"{out}/", "--dask", client.scheduler.address, *options)
    assert result.exit_code == 1, result.output  # some lines rejected
    assert sorted(os.listdir(out)) == ["cases-1.jsonl", "cases-2.jsonl"]
    rejected = 0
    for source in (first, second):
        alone = batch(str(source), *options)
        assert (out / source.name).read_text("utf-8") == alone.stdout
        rejected += alone.stdout.count('{"error"')
    assert f"{first} line 2: not valid JSON" in result.stderr
    assert result.stderr.strip().endswith(f"{5 * len(MIXED) + len(GOOD) - rejected} evaluated, {rejected} rejected")
    council = cr.Policy.from_file(policy)
    assert json.loads((out / "cases-2.jsonl").read_text("utf-8").splitlines()[0])["policy"]["version"] == council.version


def test_batch_on_a_cluster_to_one_file_or_stdout(client, tmp_path):
    cases = write_cases(tmp_path / "cases.jsonl", GOOD)
    out = tmp_path / "decisions.jsonl"
    result = batch(str(cases), "-o", str(out), "--dask", client.scheduler.address)
    assert result.exit_code == 0, result.output
    assert out.read_text("utf-8") == single_machine(cases) == batch(str(cases), "--dask", client.scheduler.address).stdout
    assert os.listdir(tmp_path) == ["cases.jsonl", "decisions.jsonl"]  # no partial file left behind


def test_batch_on_a_cluster_writes_sources_only_when_asked(client, tmp_path):
    """The client's ``sources_included()`` does not reach a worker: ``--sources`` travels with each task."""
    cases = write_cases(tmp_path / "cases.jsonl", GOOD)
    with_sources = batch(str(cases), "--sources", "--dask", client.scheduler.address).stdout
    assert with_sources == batch(str(cases), "--sources").stdout
    assert with_sources.count('"source":') > with_sources.count("\n") > 0
    assert '"source":' not in batch(str(cases), "--dask", client.scheduler.address).stdout


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["{dir}/none-*.jsonl", "-o", "{dir}/out/"], "no such file"),
        (["{dir}/cases.jsonl", "{dir}/again/cases.jsonl", "-o", "{dir}/out/"], "outputs would collide"),
        (["{dir}/cases.jsonl", "{dir}/again/cases.jsonl", "-o", "{dir}/out.jsonl"], "give -o a directory"),
        (["{dir}/cases.jsonl", "-o", "{dir}/"], "is the input"),
        (["-", "-o", "{dir}/out.jsonl"], "not stdin"),
        (["{dir}/cases.jsonl", "--workers", "2"], "with 'local' only"),
    ],
)
def test_batch_on_a_cluster_refuses_what_it_cannot_do_with_a_usage_error(client, tmp_path, arguments, message):
    write_cases(tmp_path / "cases.jsonl", GOOD)
    (tmp_path / "again").mkdir()
    write_cases(tmp_path / "again" / "cases.jsonl", GOOD)
    result = batch(*(a.format(dir=tmp_path) for a in arguments), "--dask", client.scheduler.address)
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert (tmp_path / "cases.jsonl").read_text("utf-8") == "\n".join(GOOD) + "\n"


def test_an_unreachable_scheduler_is_a_usage_error_naming_it(tmp_path):
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = batch(str(write_cases(tmp_path / "cases.jsonl", GOOD)), "--dask", "tcp://127.0.0.1:9")
    assert result.exit_code == 2 and "tcp://127.0.0.1:9" in result.stderr, result.output


def test_without_the_dask_extra_batch_dask_says_what_to_install(monkeypatch, tmp_path):
    import commissioning_rules

    monkeypatch.delitem(sys.modules, "commissioning_rules.dask_runs")
    monkeypatch.delattr(commissioning_rules, "dask_runs")
    monkeypatch.setitem(sys.modules, "dask", None)
    result = batch(str(write_cases(tmp_path / "c.jsonl", GOOD)), "--dask", "local")
    assert result.exit_code == 2
    assert "pip install 'commissioning-rules[dask]'" in result.stderr


# --- last, as it leaves one worker restarting ---------------------------------------------------------


def _die_once(results, marker: str):
    """In a worker: the first task to get here kills its own process (SIGKILL), mid-task."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return results
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_killed_mid_run_loses_nothing_and_doubles_nothing(client, tmp_path):
    path = write_cases(tmp_path / "cases.jsonl", MIXED * 6)
    bag = dask_runs.read_cases(str(path), blocksize=8000)
    marker = str(tmp_path / "killed")
    results = dask_runs.evaluate_bag(bag, client=client).map_partitions(_die_once, marker)
    parts = dask_runs.write_jsonl(results, str(tmp_path / "out"))
    assert os.path.exists(marker), "a worker must have been killed during the run"
    assert int(Path(marker).read_text()) not in client.run(os.getpid).values()
    gathered = b"".join(Path(part).read_bytes() for part in sorted(parts))
    assert gathered.decode("utf-8") == single_machine(path)


