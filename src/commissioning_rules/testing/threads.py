"""Many threads at once: races provoked on purpose, for comparing with a sequential run.

    from commissioning_rules.testing.threads import released_together
    outcomes = released_together(work, lambda item: cr.evaluate(item).model_dump_json(), threads=64)

Every thread waits at a barrier until all have started, and the interpreter switches threads every microsecond
(``sys.setswitchinterval``), so evaluations interleave as closely as they can. Needs nothing but the standard
library.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable, Sequence

#: The switch interval while the threads run: a switch every few bytecodes (the default is 5 ms).
SWITCH_INTERVAL_S = 1e-6


def released_together(work: Sequence[Any], run: Callable[[Any], Any], *, threads: int) -> list[Any]:
    """``run(item)`` for every item of ``work``, spread over ``threads`` threads released together.

    Returns one outcome per item, in the order of ``work``: what ``run`` returned, or the exception it raised
    (an exception is an outcome to compare, not a reason to stop). Thread ``t`` takes items ``t``,
    ``t + threads``, ...
    """
    outcomes: list[Any] = [None] * len(work)
    barrier = threading.Barrier(threads)

    def thread(first: int) -> None:
        barrier.wait()
        for i in range(first, len(work), threads):
            try:
                outcomes[i] = run(work[i])
            except Exception as error:  # noqa: BLE001 -- reported as this item's outcome
                outcomes[i] = error

    interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        pool = [threading.Thread(target=thread, args=(t,), name=f"released-together-{t}") for t in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    return outcomes
