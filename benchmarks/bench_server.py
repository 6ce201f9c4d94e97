"""Speed of the HTTP service against calling the library directly, measured in one run.

    python benchmarks/bench_server.py [--requests 5000] [--clients 32] [--workers 1] [--engine NAME] [--whole]

Starts ``commissioning-rules serve`` on a free port of 127.0.0.1 (stopped at the end), sends ``--requests``
POST /v1/decisions from ``--clients`` concurrent clients (threads, each with its own keep-alive connection), and
checks every answer: 0 errors and every Decision identical, byte for byte, to the library's. Then it evaluates the
same cases with the library in this process (one after another, then from the same number of threads) and
prints requests/s and the median and 99th percentile latency of each, and the CPU time each request costs (the
server process's for HTTP, this process's for the library): on a busy machine wall-clock figures measure the
scheduler as much as the code, CPU time per request does not. Responses are checked and discarded as they come
(only their latencies are kept).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_evaluate import make_cases  # noqa: E402

import commissioning_rules as cr  # noqa: E402
from commissioning_rules.engine import default_engine  # noqa: E402
from commissioning_rules.server.process import LiveServer  # noqa: E402


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) used so far by this process, or by process ``pid`` and its children (Linux)."""
    if pid is None:
        return time.process_time()
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # the process, or one of its children
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def percentile(latencies: list[float], fraction: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_concurrently(requests: int, clients: int, make_worker: Callable[[], Callable[[int], None]]) -> tuple[float, list[float]]:
    """``requests`` calls of a worker's function spread over ``clients`` threads: wall time and each latency."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)

    def client(number: int) -> None:
        work = make_worker()
        own = latencies[number]
        barrier.wait()
        for i in range(number, requests, clients):
            started = time.perf_counter()
            work(i)
            own.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, [x for own in latencies for x in own]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--engine", default=None)
    parser.add_argument("--whole", action="store_true", help="whole cases (every rule set) instead of gate cases")
    parser.add_argument("--distinct", type=int, default=500, help="distinct cases, cycled through")
    args = parser.parse_args()
    engine = args.engine or default_engine()
    cases = make_cases(args.distinct, whole=args.whole)
    bodies = [json.dumps(c).encode() for c in cases]
    expected = [hashlib.sha256(cr.evaluate(c, engine=engine).model_dump_json().encode()).digest() for c in cases]
    errors: list[str] = []

    def http_worker(url: str) -> Callable[[], Callable[[int], None]]:
        def make() -> Callable[[int], None]:
            client = httpx.Client(base_url=url, timeout=120, headers={"content-type": "application/json"})

            def work(i: int) -> None:
                k = i % len(cases)
                try:
                    response = client.post("/v1/decisions", content=bodies[k])
                except httpx.HTTPError as error:
                    errors.append(f"request {i}: {error!r}")
                    return
                if response.status_code != 200 or hashlib.sha256(response.content).digest() != expected[k]:
                    errors.append(f"request {i}: {response.status_code} {response.text[:200]}")

            return work

        return make

    def library_worker() -> Callable[[int], None]:
        def work(i: int) -> None:
            cr.evaluate(cases[i % len(cases)], engine=engine).model_dump_json()

        return work

    server_args = ["--workers", str(args.workers), "--log-level", "warning"] + (["--engine", engine] if args.engine else [])
    results: dict[str, tuple[float, list[float], float]] = {}

    def measured(name: str, clients: int, make: Callable[[], Callable[[int], None]], pid: int | None = None) -> None:
        before = cpu_seconds(pid)
        seconds, latencies = run_concurrently(args.requests, clients, make)
        results[name] = (seconds, latencies, cpu_seconds(pid) - before)

    with LiveServer(server_args) as server:
        assert server.process is not None
        run_concurrently(min(200, args.requests), args.clients, http_worker(server.url))  # warm-up
        measured(f"HTTP, {args.clients} clients, {args.workers} worker(s)", args.clients, http_worker(server.url),
                 server.process.pid)
    run_concurrently(min(200, args.requests), 1, library_worker)  # warm-up
    measured("library, one thread", 1, library_worker)
    measured(f"library, {args.clients} threads", args.clients, library_worker)

    kind = "whole" if args.whole else "gate"
    print(f"# {args.requests} requests ({args.distinct} distinct {kind} cases), {engine}; Python "
          f"{platform.python_version()} on {platform.machine()}; errors: {len(errors)}")
    print("| variant | requests/s | p50 latency | p99 latency | CPU per request | CPU × library |")
    print("|---|---|---|---|---|---|")
    floor = results["library, one thread"][2]
    for name, (seconds, latencies, cpu) in results.items():
        print(f"| {name} | {args.requests / seconds:,.0f} | {statistics.median(latencies) * 1e3:,.1f} ms | "
              f"{percentile(latencies, 0.99) * 1e3:,.1f} ms | {cpu / args.requests * 1e3:,.2f} ms | {cpu / floor:,.1f} |")
    for error in errors[:10]:
        print(error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
