"""Speed of decision records, reported as ratios measured in one run (machines are noisy; compare ratios).

    python benchmarks/bench_records.py [--records N] [--writers W] [--postgres URL]

Against SQLite (a file in a temporary folder) and, with ``--postgres`` (or $CR_TEST_POSTGRES_URL), PostgreSQL:
records appended one per transaction, appended 256 per transaction (what ``batch --record`` does), appended by W
concurrent writers one per transaction (the full-size contention proof: the chain is verified afterwards), and
``verify`` over everything stored. Every record is the decision on the same whole case (about 13 kB of JSON).
Figures are records per second, and each as a ratio of ``evaluate`` alone on the reference engine.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
import uuid
from importlib import resources

from sqlalchemy import create_engine, text

import commissioning_rules as cr
from commissioning_rules import records
from commissioning_rules.models.case import Case

CASE = Case.model_validate(json.loads(resources.files("commissioning_rules.examples")
                                      .joinpath("community_lunch_club.json").read_text("utf-8")))


def drafts(count: int) -> list[records.Draft]:
    one = records.Draft.of(CASE, cr.evaluate(CASE, engine="reference"), records.PolicySource.of())
    return [one.model_copy(update={"record_id": str(uuid.uuid4())}) for _ in range(count)]


def timed(action) -> float:  # noqa: ANN001
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def bench(target: str, count: int, writers: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with records.Store(target) as store:
        batch = drafts(count)
        figures["append, 1 a transaction"] = count / timed(lambda: [store.append([d]) for d in batch])
        batch = drafts(count)
        figures["append, 256 a transaction"] = count / timed(
            lambda: [store.append(batch[i:i + 256]) for i in range(0, count, 256)])
    stores = [records.Store(target) for _ in range(writers)]
    per_writer = [drafts(count // writers) for _ in range(writers)]
    barrier = threading.Barrier(writers + 1)

    def write(w: int) -> None:
        barrier.wait()
        for d in per_writer[w]:
            stores[w].append([d])

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()

    def run() -> None:
        barrier.wait()
        for thread in threads:
            thread.join()

    figures[f"append, {writers} writers, 1 a transaction"] = writers * (count // writers) / timed(run)
    for store in stores:
        store.close()
    with records.Store(target) as store:
        result: list[records.Verification] = []
        seconds = timed(lambda: result.append(records.verify(store)))
        assert result[0].intact, result[0].problems[:3]
        figures["verify"] = result[0].records / seconds
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--postgres", default=os.environ.get("CR_TEST_POSTGRES_URL"))
    options = parser.parse_args()
    evaluate_rate = 200 / timed(lambda: [cr.evaluate(CASE, engine="reference") for _ in range(200)])
    print(f"evaluate (reference engine), the unit: {evaluate_rate:,.0f} a second")
    targets = {"SQLite": os.path.join(tempfile.mkdtemp(), "bench.db")}
    if options.postgres:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(records.database_url(options.postgres))
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        targets["PostgreSQL"] = f"{options.postgres}?options=-csearch_path%3D{schema}"
    try:
        for name, target in targets.items():
            for label, rate in bench(target, options.records, options.writers).items():
                print(f"{name:<10} {label:<34} {rate:>9,.0f} records a second  {rate / evaluate_rate:6.2f}× evaluate")
    finally:
        if options.postgres:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


if __name__ == "__main__":
    main()
