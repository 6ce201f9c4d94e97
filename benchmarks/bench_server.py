"""Speed of the HTTP service against calling the library directly, measured in one run.

    python benchmarks/bench_server.py [--requests 5000] [--clients 32] [--workers 1] [--engine NAME] [--whole]

Starts ``commissioning-rules serve`` on a free port of 127.0.0.1 (stopped at the end), sends ``--requests``
POST /v1/decisions from ``--clients`` concurrent clients (threads, each with its own keep-alive connection), and
checks every answer: 0 errors and every Decision identical, byte for byte, to the library's. Then it evaluates the
same cases with the library in this process (one after another, then from the same number of threads) and
prints requests/s and the median and 99th percentile latency of each, with the ratios. Responses are checked and
discarded as they come (only their latencies are kept).
"""

from __future__ import annotations

import argparse
import hashlib
import json
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
    results = {}
    with LiveServer(server_args) as server:
        run_concurrently(min(200, args.requests), args.clients, http_worker(server.url))  # warm-up
        results[f"HTTP, {args.clients} clients, {args.workers} worker(s)"] = run_concurrently(
            args.requests, args.clients, http_worker(server.url))
    run_concurrently(min(200, args.requests), 1, library_worker)  # warm-up
    results["library, one thread"] = run_concurrently(args.requests, 1, library_worker)
    results[f"library, {args.clients} threads"] = run_concurrently(args.requests, args.clients, library_worker)

    kind = "whole" if args.whole else "gate"
    print(f"# {args.requests} requests ({args.distinct} distinct {kind} cases), {engine}; Python "
          f"{platform.python_version()} on {platform.machine()}; errors: {len(errors)}")
    print("| variant | requests/s | p50 latency | p99 latency | time × library |")
    print("|---|---|---|---|---|")
    floor = results["library, one thread"][0]
    for name, (seconds, latencies) in results.items():
        print(f"| {name} | {args.requests / seconds:,.0f} | {statistics.median(latencies) * 1e3:,.1f} ms | "
              f"{percentile(latencies, 0.99) * 1e3:,.1f} ms | {seconds / floor:,.2f} |")
    for error in errors[:10]:
        print(error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
