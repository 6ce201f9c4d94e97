"""The application: :func:`create_app` assembles the routers, the one problem handler, request logging, the
OpenAPI document and the interactive API pages (served from this machine, never from a CDN)."""

from __future__ import annotations

import dataclasses
import logging
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from commissioning_rules import __version__
from commissioning_rules.engine import default_engine
from commissioning_rules.schema import openapi_components
from commissioning_rules.server.problems import Problem, problem_response
from commissioning_rules.server.recording import Recorder
from commissioning_rules.server.routers import decisions, health, policy, records, rules, schemas
from commissioning_rules.server.settings import Settings

log = logging.getLogger("commissioning_rules.server")

DESCRIPTION = """\
Norwich City Council's *Commissioning framework* (2014) as explainable rules, over HTTP.

Errors are RFC 9457 problem details (`application/problem+json`) listing every field at fault. The records
endpoints need a bearer token. See the guide "Serving decisions over HTTP" in the documentation.
"""


class RequestLog:
    """Logs one line per request with the standard ``logging`` module: method, path, status, duration and the
    record id where one was stored. Never the body, the query string or the headers (tokens, applicants' data).

    A plain ASGI middleware, not Starlette's ``BaseHTTPMiddleware`` (which buffers streamed responses through
    a task group of its own and so would break the batch stream's single reader of ``receive``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: list[int] = []

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            record = scope.get("state", {}).get("record_id")
            log.info("%s %s %s %.1fms%s", scope["method"], scope["path"], status[0] if status else "-",
                     (time.perf_counter() - started) * 1000, f" record={record}" if record else "")


def _openapi(app: FastAPI) -> Any:
    """FastAPI's document, with the case and the Decision (and everything they use) taken from the library's
    own schema generator: the same definitions as ``commissioning-rules schema``."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = document.setdefault("components", {}).setdefault("schemas", {})
            components.update(openapi_components())
            app.openapi_schema = document
        return app.openapi_schema

    return build


def create_app(settings: Settings | None = None) -> FastAPI:
    """The HTTP service for ``settings`` (default: the Norwich framework, no records, no tokens)."""
    # The engine is chosen once, here, never per request (see the package notes: import races in the thread pool).
    settings = settings or Settings()
    engine = settings.engine or default_engine()
    settings = dataclasses.replace(settings, engine=engine)

    recorder = Recorder(settings.records, settings.policy, settings.policy_text) if settings.records else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.policy.engine(engine)  # compile before the first request, and fail at start-up if it cannot
        log.info("serving %s (version %s) on %s%s", settings.policy.name, settings.policy.version, engine,
                 f", records in {recorder.store.url}" if recorder else "")
        yield
        if recorder is not None:
            recorder.close()

    app = FastAPIOffline(
        title="commissioning_rules", version=__version__, description=DESCRIPTION, lifespan=lifespan,
        static_url="/docs/assets", swagger_ui_parameters={"validatorUrl": None},
    )
    app.state.settings = settings
    app.state.recorder = recorder
    for router in (decisions.router, records.router, policy.router, rules.router, schemas.router, health.router):
        app.include_router(router)
    for error in (Problem, RequestValidationError, HTTPException, Exception):
        app.add_exception_handler(error, problem_response)
    app.add_middleware(RequestLog)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app


def app_from_environment() -> FastAPI:
    """The application a uvicorn worker process builds (``commissioning-rules serve``: settings from the
    environment, see :meth:`Settings.to_environment`)."""
    return create_app(Settings.from_environment())
