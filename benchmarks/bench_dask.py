"""Cluster runs against one process, measured in one run: ``batch --dask local`` versus the single-machine batch.

    python benchmarks/bench_dask.py [--cases 100000] [--workers 2] [--engine reference] [--blocksize "4 MiB"]

Writes N generated whole cases (every part of a case present: ``bench_evaluate.make_cases``) to a JSONL file,
then evaluates the same file (a) in this one process, as ``commissioning-rules batch`` does, (b) on a
``LocalCluster`` of ``--workers`` processes of one thread each, as ``batch --dask local`` does (the same code:
``dask_runs.batch_parts``), and with ``--pool`` (c) with ``batch --workers N``'s process pool, for comparison.
Every output line is produced and discarded at once (only bytes are counted); every run must give the same
bytes (checked by a SHA-256 of the output). The cluster's start-up is timed apart from the run.

Besides the wall-clock time, the CPU time per case is reported (this process, plus every worker process on the
cluster, the workers apart from the client and scheduler): on a machine shared with other work, wall-clock ratios
measure the load as much as the code, while the CPU per case shows what the cluster's scheduling, serialisation
and transfer add. The load average is printed
with the figures. Needs the dask extra.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_evaluate import make_cases  # noqa: E402

import json  # noqa: E402

import psutil  # noqa: E402  (a dependency of distributed)

from commissioning_rules import dask_runs  # noqa: E402
from commissioning_rules.batch import evaluate_lines  # noqa: E402
from commissioning_rules.engine import default_engine  # noqa: E402


def one_process(path: Path, engine: str, workers: int = 1) -> tuple[float, float, str, int]:
    digest, size = hashlib.sha256(), 0
    cpu, start = time.process_time(), time.perf_counter()
    with path.open("rb") as lines:
        for text, _ in evaluate_lines((line.rstrip(b"\r\n") for line in lines), engine=engine, workers=workers,
                                      as_json=True):
            data = (text + "\n").encode()
            digest.update(data)
            size += len(data)
    return time.perf_counter() - start, time.process_time() - cpu, digest.hexdigest(), size


def _cpu_seconds() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


def on_dask(path: Path, engine: str, workers: int, blocksize: str
            ) -> tuple[float, float, tuple[float, float], str, int, list[int]]:
    digest, size = hashlib.sha256(), 0
    start = time.perf_counter()
    with dask_runs.connect("local", workers=workers) as client:
        dask_runs.check_workers(client, engine)
        started = time.perf_counter() - start
        # the workers, and the client with the scheduler (a LocalCluster's scheduler runs in this process)
        before = sum(client.run(_cpu_seconds).values()), _cpu_seconds()
        start = time.perf_counter()
        _, parts = dask_runs.batch_parts(str(path), client=client, engine=engine, blocksize=blocksize)
        for _, part in parts:
            data = part.text.encode()
            digest.update(data)
            size += len(data)
        elapsed = time.perf_counter() - start
        cpu = sum(client.run(_cpu_seconds).values()) - before[0], _cpu_seconds() - before[1]
        memory = sorted(client.run(lambda: psutil.Process().memory_info().rss).values())
    return started, elapsed, cpu, digest.hexdigest(), size, memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engine", default=None, help="default: the library's default engine here")
    parser.add_argument("--blocksize", default=dask_runs.DEFAULT_BLOCKSIZE)
    parser.add_argument("--pool", action="store_true", help="also time batch --workers N (a process pool)")
    args = parser.parse_args()
    engine = args.engine or default_engine()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cases.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for case in make_cases(args.cases, whole=True):
                out.write(json.dumps(case) + "\n")
        input_size = path.stat().st_size

        load = os.getloadavg()[0]
        single, single_cpu, single_hash, output_size = one_process(path, engine)
        started, clustered, cluster_cpu, cluster_hash, cluster_size, memory = on_dask(
            path, engine, args.workers, args.blocksize)
        pooled = one_process(path, engine, workers=args.workers) if args.pool else None
        load = (load + os.getloadavg()[0]) / 2

    assert cluster_hash == single_hash and cluster_size == output_size, "the cluster's output differs"
    assert pooled is None or pooled[2] == single_hash, "the process pool's output differs"
    n = args.cases
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, load average "
          f"{load:.1f} (start and end of the run); engine {engine}")
    print(f"{n:,} whole cases: input {input_size / n:,.0f} bytes a case, output {output_size / n:,.0f} bytes a case "
          f"(identical bytes from every run)")
    print(f"  one process:                 {single:8.1f} s  {n / single:8,.0f} cases/s  1.00x   "
          f"CPU {single_cpu / n * 1000:.2f} ms a case")
    print(f"  --dask local, {args.workers} workers:     {clustered:8.1f} s  {n / clustered:8,.0f} cases/s  "
          f"{single / clustered:.2f}x   CPU {sum(cluster_cpu) / n * 1000:.2f} ms a case "
          f"({sum(cluster_cpu) / single_cpu:.2f}x: workers {cluster_cpu[0] / n * 1000:.2f}, client and scheduler "
          f"{cluster_cpu[1] / n * 1000:.2f}); + {started:.1f} s to start the cluster")
    if pooled:
        print(f"  --workers {args.workers} (process pool): {pooled[0]:8.1f} s  {n / pooled[0]:8,.0f} cases/s  "
              f"{single / pooled[0]:.2f}x")
    print(f"  worker memory at the end (RSS): {', '.join(f'{m / 2**20:,.0f} MiB' for m in memory)}; "
          f"blocksize {args.blocksize}")


if __name__ == "__main__":  # the LocalCluster spawns its workers: this guard keeps them from rerunning main()
    main()
