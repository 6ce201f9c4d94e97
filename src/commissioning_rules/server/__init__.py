"""The HTTP service: ``commissioning-rules serve`` (FastAPI on uvicorn; ``pip install "commissioning-rules[server]"``).

This package imports the library; nothing in the library imports it. Every trap of FastAPI, Starlette and
uvicorn that bears on this service, and how it is defeated:

* **Body size.** uvicorn does not limit a request body, nor does FastAPI unless told (``max_body_size``, new in
  recent releases and off by default): a body parameter reads it all into memory. We never use body parameters; ``dependencies.read_body`` refuses a declared ``Content-Length``
  over the limit before reading (413) and counts bytes as they arrive (``limits.yaml``).
* **Slow bodies.** uvicorn has no body read timeout, so a client that stops sending holds a connection for
  ever: each chunk must arrive within ``body_idle_seconds`` (408).
* **JSON numbers.** FastAPI parses bodies with ``json.loads``: money becomes a float, ``NaN`` and repeated keys
  pass. Bodies are parsed by the library's own strict parser (``batch.load_json``: ``Decimal``, no ``NaN``, no
  repeated keys), exactly as the command line does.
* **Blocking the event loop.** Evaluation is CPU-bound: an ``async def`` endpoint that evaluated would stall
  every other request. Evaluating endpoints are plain ``def`` (FastAPI runs them in anyio's thread pool, 40
  threads), or hand each chunk to ``anyio.to_thread`` (the batch). durable-rules holds the GIL, so threads give
  concurrency, not parallelism: cores are used by ``--workers`` processes.
* **Worker processes.** uvicorn starts workers only from an import string, never from an application object:
  ``serve`` passes the settings through the environment (``Settings.to_environment``, never the tokens
  themselves) and each worker builds its app with ``app.app_from_environment`` and compiles its own policy.
  Spawned workers do not inherit the parent's logging set-up either: ``serve`` hands uvicorn a ``log_config``,
  which uvicorn applies in every worker, so the request log is not lost with ``--workers 2``.
* **Streaming.** Starlette's ``StreamingResponse`` calls ``receive`` itself to watch for a disconnect under ASGI
  < 2.4 (uvicorn's HTTP speaks 2.3), which would swallow a body still being read; and most clients send the
  whole body before reading anything, which deadlocks a server that reads only as fast as it writes. The batch
  reads its body in a task of its own into a bounded queue and answers with ``streaming.BatchResponse``.
* **BaseHTTPMiddleware** runs the endpoint in a task group of its own and buffers through memory streams; the
  request log is a plain ASGI middleware instead.
* **Errors.** FastAPI answers validation errors with its own ``{"detail": [...]}``, ``HTTPException`` with
  ``{"detail": "..."}``, and an unhandled exception with ``text/plain`` "Internal Server Error" (a traceback
  with ``debug=True``). One handler (``problems.problem_response``) renders all of them as RFC 9457 problem
  details; ``debug`` is never set; a 500 logs its traceback on the server and says nothing of it.
* **Input echoed back.** pydantic's error text quotes the input (``input_value=...``): messages are built from
  each error's ``msg`` and location only, so a problem never repeats an applicant's data.
* **Docs assets from CDNs.** FastAPI's ``/docs`` and ``/redoc`` pages load Swagger UI and ReDoc from a CDN, a
  favicon from fastapi.tiangolo.com and fonts from Google; Swagger UI sends the document's URL to
  validator.swagger.io. Councils' networks block CDNs: the assets come from ``fastapi-offline``'s bundled copies,
  served by this server at ``/docs/assets``, ReDoc without web fonts, and Swagger UI's ``validatorUrl`` is off.
* **Logging.** uvicorn's access log prints the full URL with its query string; ``serve`` turns it off and
  ``app.RequestLog`` logs method, path, status, duration and record id only, never a body.
* **Import races in the thread pool.** Probing from many threads at once whether an optional module imports
  can see a half-imported module and answer wrongly (seen with durable_rules on Python 3.13 under load): the app
  resolves its engine once, at start-up, into its settings, and no request probes anything.
* **Access tokens.** ``==`` on secrets leaks by timing: tokens are held as SHA-256 digests and compared with
  ``hmac.compare_digest``, against every configured token.
* **Location header.** Built from the Host header, an absolute URL would be the client's to choose: the
  ``Location`` of a stored record is the relative path ``/v1/records/{id}``.
"""

from __future__ import annotations

MISSING = ('the HTTP service needs the "server" extra: pip install "commissioning-rules[server]"')


class ServerUnavailable(ImportError):
    """FastAPI, uvicorn or fastapi-offline is not installed."""


try:
    import fastapi  # noqa: F401
    import fastapi_offline  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as error:
    raise ServerUnavailable(f"{MISSING} ({error.name} is missing)") from None

from commissioning_rules.server.app import app_from_environment, create_app  # noqa: E402
from commissioning_rules.server.settings import Settings, SettingsError  # noqa: E402

__all__ = ["MISSING", "ServerUnavailable", "Settings", "SettingsError", "app_from_environment", "create_app"]
