"""Batches streamed both ways: cases are evaluated as they arrive and each result is sent as it is ready.

The input is a JSON array or JSON lines; the output has the same form, one result per item in order: the
Decision, or the item's error as the command line's ``batch`` writes it (``{"error": {"line": N, ...}}`` for
JSON lines, numbered from 1; ``{"error": {"item": N, ...}}`` for an array, counted from 0). When the stream must
end early (the body passes ``max_batch_bytes``, an item passes ``max_item_bytes``, more than
``max_batch_items``, an array that stops being JSON, a client that stops sending), the results so far stand and
the last element is ``{"problem": {...}}``: RFC 9457 problem details, as the status line has already been sent.

Three things make this safe:

* **the body is read by a task of its own**, as fast as the client sends it, into a queue (bounded by
  ``max_batch_bytes``): most HTTP clients (curl, requests, httpx) send the whole body before they read any of
  the response, so a server that stopped reading while its own writes were blocked would deadlock with them;
* **one reader of ``receive``**: Starlette's ``StreamingResponse`` listens for the disconnect by calling
  ``receive`` itself under ASGI < 2.4 (uvicorn's HTTP is 2.3), which would swallow the body; :class:`BatchResponse`
  does not, and the reader task notices the disconnect and stops the evaluation;
* **evaluation off the event loop**: each chunk of items is evaluated by ``evaluate_lines`` (the CLI's batch: the
  same parsing, the same error records) in the thread pool. (A case without ``as_of`` is evaluated at the date
  its chunk is; on a server keeping records, each chunk's Decisions are stored in one transaction before any of
  them is sent.)

Array elements are framed with the standard library's JSON scanner (``JSONDecoder.raw_decode``) and then parsed
again by the library's strict parser; a framing library (ijson) would bring its own, laxer, number and
duplicate-key handling.
"""

from __future__ import annotations

import asyncio
import codecs
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from commissioning_rules.batch import ItemError, Outcome, evaluate_lines, to_json_line
from commissioning_rules.models.decision import Decision
from commissioning_rules.server.dependencies import (
    JSON_TYPES, JSONL_TYPES, body_chunks, check_declared_length, media_type, too_large,
)
from commissioning_rules.server.problems import Problem, as_problem, log, problem_record
from commissioning_rules.server.recording import Recorder
from commissioning_rules.server.settings import Settings

#: Items evaluated per trip to the thread pool.
CHUNK_ITEMS = 32
_END = object()
_WHITESPACE = " \t\r\n"


@dataclass
class _Body:
    """The request body, read by a task of its own into a queue of chunks, which a second task frames into a
    queue of items (see the module docstring). Both queues end with ``_END`` or a :class:`Problem`."""

    request: Request
    limit: int
    idle: float
    chunks: asyncio.Queue[object] = field(default_factory=asyncio.Queue)
    items: asyncio.Queue[object] = field(default_factory=asyncio.Queue)
    disconnected: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self, framer: Callable[[_Body], AsyncIterator[bytes | str]]) -> None:
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._read()), loop.create_task(self._frame(framer(self)))]

    async def _read(self) -> None:
        total = 0
        try:
            async for chunk in body_chunks(self.request, self.idle):
                total += len(chunk)
                if total > self.limit:
                    self.chunks.put_nowait(too_large(self.limit, "max_batch_bytes"))
                    return
                self.chunks.put_nowait(chunk)
            self.chunks.put_nowait(_END)
            # then wait for the client to go away, so an abandoned stream stops being evaluated
            while (await self.request.receive())["type"] != "http.disconnect":
                pass
            self.disconnected = True
        except Problem as problem:
            self.chunks.put_nowait(problem)
        except ClientDisconnect:
            self.disconnected = True
            self.chunks.put_nowait(Problem(400, "the client went away before the request body was complete",
                                           kind="incomplete-body", title="Request body incomplete"))

    async def _frame(self, items: AsyncIterator[bytes | str]) -> None:
        try:
            async for item in items:
                self.items.put_nowait(item)
            self.items.put_nowait(_END)
        except Problem as problem:
            self.items.put_nowait(problem)
        except Exception as error:  # a bug: end the stream with a 500 rather than leave it waiting
            log.error("batch framing failed on %s", self.request.url.path, exc_info=error)
            self.items.put_nowait(as_problem(error))

    async def next(self) -> bytes | None:
        """The next chunk, ``None`` at the end; a problem reading it is raised."""
        chunk = await self.chunks.get()
        if chunk is _END:
            return None
        if isinstance(chunk, Problem):
            raise chunk
        return chunk  # type: ignore[return-value]

    def stop(self) -> None:
        for task in self.tasks:
            task.cancel()


async def _lines(body: _Body, max_item: int) -> AsyncIterator[bytes]:
    """JSON lines: each line (``\r\n`` or ``\n``) of the body. Blank lines at the very end are ignored (a blank
    line between cases is that line's error, as in the command line's batch)."""
    pending, blanks = b"", 0
    while (chunk := await body.next()) is not None:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            line = line.removesuffix(b"\r")
            if not line.strip():
                blanks += 1
                continue
            for _ in range(blanks):
                yield b""
            blanks = 0
            yield line
        if len(pending) > max_item:
            raise _item_too_large(max_item)
    if pending.strip():
        for _ in range(blanks):
            yield b""
        yield pending.removesuffix(b"\r")


async def _elements(body: _Body, max_item: int) -> AsyncIterator[str]:
    """A JSON array: the text of each element, as soon as it is complete."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    scanner = json.JSONDecoder()
    text, pos, offset, done = "", 0, 0, False  # offset: characters dropped from the front of ``text``

    async def more() -> bool:
        nonlocal text, pos, offset, done
        chunk = await body.next()
        try:
            piece = decoder.decode(chunk or b"", final=chunk is None)
        except UnicodeDecodeError as error:
            raise _invalid(f"the body is not UTF-8 text ({error.reason})") from None
        text, offset, pos = text[pos:] + piece, offset + pos, 0
        done = chunk is None
        return not done

    async def skip_space() -> None:
        nonlocal pos
        while True:
            while pos < len(text) and text[pos] in _WHITESPACE:
                pos += 1
            if pos < len(text) or not await more():
                return

    await skip_space()
    if text[pos:pos + 1] != "[":
        raise _invalid("expected a JSON array of cases (or send JSON lines as application/x-ndjson)")
    pos += 1
    await skip_space()
    if text[pos:pos + 1] == "]":
        pos += 1
    else:
        while True:
            while True:
                try:
                    _, end = scanner.raw_decode(text, pos)
                except json.JSONDecodeError as error:
                    if done:
                        raise _invalid(f"not valid JSON at character {offset + error.pos}: {error.msg}") from None
                else:
                    if end < len(text) or done:
                        break
                if len(text) - pos > max_item:
                    raise _item_too_large(max_item)
                await more()
            yield text[pos:end]
            pos = end
            await skip_space()
            separator = text[pos:pos + 1]
            pos += 1
            if separator == "]":
                break
            if separator != ",":
                raise _invalid(f"expected ',' or ']' after an element at character {offset + pos - 1}")
            await skip_space()
    await skip_space()
    if pos < len(text):
        raise _invalid(f"unexpected text after the array at character {offset + pos}")


def _invalid(detail: str) -> Problem:
    return Problem(400, detail, kind="invalid-json", title="The body is not valid JSON")


def _item_too_large(limit: int) -> Problem:
    return Problem(413, f"one item of the batch is larger than the limit of {limit:,} bytes (max_item_bytes)",
                   kind="item-too-large", title="Batch item too large")


class BatchResponse(StreamingResponse):
    """A streamed response that leaves ``receive`` to the body reader (see the module docstring)."""

    def __init__(self, chunks: AsyncIterator[str], media: str, on_close: Callable[[], None]) -> None:
        super().__init__(chunks, media_type=media, headers={"cache-control": "no-store"})
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.stream_response(send)
        except OSError:  # the client went away while we were writing (ASGI 2.4 servers)
            pass
        finally:
            self.on_close()
            await self.body_iterator.aclose()  # type: ignore[attr-defined]


def with_members(decision_json: str, members: dict[str, Any]) -> str:
    """The Decision's own JSON with members added at the end (its bytes otherwise unchanged)."""
    extra = "".join(f",{json.dumps(k)}:{json.dumps(v, ensure_ascii=False)}" for k, v in members.items())
    return decision_json[:-1] + extra + "}"


async def batch_response(request: Request, settings: Settings, as_of: dt.date | None,
                         recorder: Recorder | None = None, sources: bool = False) -> BatchResponse:
    """Start streaming the results of a batch request. Errors found before the first item (wrong media type, a
    declared length over the limit, a body that is not an array) are raised, to be answered with their status."""
    media = media_type(request, JSON_TYPES + JSONL_TYPES)
    check_declared_length(request, settings.limit("max_batch_bytes"), "max_batch_bytes")
    lines = media in JSONL_TYPES
    max_item = settings.limit("max_item_bytes")
    body = _Body(request, settings.limit("max_batch_bytes"), settings.limit("body_idle_seconds"))
    body.start(lambda b: _lines(b, max_item) if lines else _elements(b, max_item))
    first = await body.items.get()
    if isinstance(first, Problem):
        body.stop()
        raise first
    run = _Run(settings, as_of, lines, first_number=1 if lines else 0, path=request.url.path, recorder=recorder,
               sources=sources)
    return BatchResponse(run.results(first, body), media, body.stop)


@dataclass
class _Run:
    settings: Settings
    as_of: dt.date | None
    lines: bool
    first_number: int
    path: str
    recorder: Recorder | None = None
    #: Each Decision written with its sources (the sentences its findings quote), or without them (the default);
    #: records keep them whatever this says.
    sources: bool = False

    def _evaluate(self, raw: list[bytes | str], first: int) -> str:
        """One chunk, in a worker thread: the results written out, numbered from ``first``; with a records
        store, the chunk's Decisions are stored first, in one transaction (a failure raises a problem)."""
        outcomes = list(evaluate_lines(raw, policy=self.settings.policy, as_of=self.as_of, engine=self.settings.engine))
        ids: dict[int, str] = {}
        if self.recorder is not None:
            decided = [(k, o) for k, o in enumerate(outcomes) if isinstance(o, Decision)]
            stored = self.recorder.store_decisions([(raw[k], o) for k, o in decided])
            ids = {k: record_id for (k, _), record_id in zip(decided, stored)}
        return ("" if self.lines else ",").join(self._write(o, first, ids.get(k)) for k, o in enumerate(outcomes))

    def _write(self, outcome: Outcome, first: int, record_id: str | None) -> str:
        if isinstance(outcome, Decision):
            text = outcome.to_json(sources=self.sources)
            if record_id is not None:
                text = with_members(text, {"record_id": record_id})
        else:
            numbered = outcome.model_copy(update={"item": first + outcome.item - 1})
            text = to_json_line(numbered) if self.lines else json.dumps(
                {"error": numbered.model_dump(mode="json")}, ensure_ascii=False, separators=(",", ":"))
        return text + "\n" if self.lines else text

    def _joined(self, text: str, started: bool) -> str:
        return text if self.lines else ("," if started else "[") + text

    async def results(self, first: object, body: _Body) -> AsyncIterator[str]:
        """Evaluate the items as they come: whatever has arrived (up to ``CHUNK_ITEMS``) goes to the thread pool at
        once, so a slow sender gets each result as soon as its case is complete."""
        limit = self.settings.limit("max_batch_items")
        number, started, ending, done = self.first_number, False, None, False
        item: object = first
        while not done:
            chunk: list[bytes | str] = []
            while True:
                if item is _END or isinstance(item, Problem):
                    ending, done = (item if isinstance(item, Problem) else None), True
                    break
                if number - self.first_number + len(chunk) >= limit:
                    ending = Problem(413, f"the batch has more than {limit:,} items (max_batch_items): the items after "
                                          "them were not evaluated", kind="too-many-items", title="Too many items")
                    done = True
                    break
                chunk.append(item)  # type: ignore[arg-type]
                if len(chunk) == CHUNK_ITEMS or body.items.empty():
                    break
                item = body.items.get_nowait()
            if body.disconnected:
                return
            if chunk:
                try:
                    text = await anyio.to_thread.run_sync(self._evaluate, chunk, number)
                except Problem as problem:  # the records store failed: nothing unrecorded is sent
                    ending = problem
                    break
                number += len(chunk)
                yield self._joined(text, started)
                started = True
            if not done:
                item = await body.items.get()
        if ending is not None:
            record = json.dumps(problem_record(ending, self.path), ensure_ascii=False, separators=(",", ":"))
            yield self._joined(record + ("\n" if self.lines else ""), started)
            started = True
        if not self.lines:
            yield "]" if started else "[]"
