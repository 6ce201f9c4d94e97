"""FastAPI dependencies: the settings, access control, and request bodies read within their limits.

Bodies are read here, never by FastAPI's own body parameters: those read the whole body whatever its size and
parse JSON numbers as floats (money must stay exact), accept ``NaN`` and let a repeated key silently win. Here
the declared ``Content-Length`` is checked before anything is read, the bytes are counted as they arrive, a
client that stops sending is given up on after ``body_idle_seconds``, and the JSON is parsed by the library's
own strict parser (``commissioning_rules.batch.load_json``) where it is evaluated.
"""

from __future__ import annotations

from typing import Annotated, AsyncIterator, Literal

import anyio
from fastapi import Depends, Query, Request
from starlette.requests import ClientDisconnect

from commissioning_rules.models.types import IsoDate
from commissioning_rules.server.problems import Problem
from commissioning_rules.server.recording import Recorder
from commissioning_rules.server.settings import TOKENS_FILE_VARIABLE, TOKENS_VARIABLE, Settings

JSON_TYPES = ("application/json",)
JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines")
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "application/json")


def settings(request: Request) -> Settings:
    """The running application's settings."""
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(settings)]


def recorder(request: Request) -> Recorder | None:
    """The records store (``--records``), or ``None``."""
    return request.app.state.recorder  # type: ignore[no-any-return]


RecorderDep = Annotated[Recorder | None, Depends(recorder)]
#: ``?as_of=YYYY-MM-DD``: apply the policy at this date instead of the case's own (a real calendar date only).
AsOf = Annotated[IsoDate | None, Query(description="Apply the policy at this date (YYYY-MM-DD), overriding the case's own as_of.")]
Sources = Annotated[bool, Query(description="`true` writes each Decision with the sentence every finding quotes and "
                                             "where each parameter's value comes from; by default each rule is cited "
                                             "by its id and section (GET /v1/rules/{id} quotes it). A decision record "
                                             "always keeps the Decision with its sources.")]
Explain = Annotated[Literal["text"] | None, Query(description="`text` adds `explanation`: the decision in plain English.")]


# --- access ----------------------------------------------------------------------------------------------------


def _challenge(error: str | None = None) -> dict[str, str]:
    value = 'Bearer realm="commissioning-rules"' + (f', error="{error}"' if error else "")
    return {"WWW-Authenticate": value}


def _require_token(request: Request, settings: Settings) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "this endpoint needs an access token: send the header 'Authorization: Bearer <token>'",
                      kind="unauthorized", title="Access token required", headers=_challenge())
    if not settings.token_valid(token.strip()):
        raise Problem(401, "the access token is not one this server accepts", kind="unauthorized",
                      title="Access token not valid", headers=_challenge("invalid_token"))


def records_access(request: Request, settings: SettingsDep) -> None:
    """Every records endpoint: records hold applicants' data, so a token is always required, and a server
    with no tokens configured has these endpoints switched off (never open)."""
    if not settings.token_digests:
        raise Problem(403, "the records endpoints are switched off: this server has no access tokens configured "
                      f"(start it with --tokens-file FILE or set {TOKENS_VARIABLE} or {TOKENS_FILE_VARIABLE})",
                      kind="records-off", title="Records endpoints are off")
    _require_token(request, settings)


def evaluation_access(request: Request, settings: SettingsDep) -> None:
    """The evaluation endpoints: open, unless the server was started with ``--protect-evaluation``."""
    if settings.protect_evaluation:
        _require_token(request, settings)


# --- bodies ----------------------------------------------------------------------------------------------------


def media_type(request: Request, accepted: tuple[str, ...]) -> str:
    """The request's media type (parameters such as ``charset`` ignored) if it is one of ``accepted``; else 415."""
    given = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if given not in accepted:
        raise Problem(415, f"expected a body of type {' or '.join(accepted)}, got {given or 'no Content-Type'}",
                      headers={"Accept-Post": ", ".join(accepted)})
    return given


def too_large(limit: int, name: str) -> Problem:
    return Problem(413, f"the request body is larger than the limit of {limit:,} bytes ({name})",
                   kind="body-too-large", title="Request body too large")


def check_declared_length(request: Request, limit: int, name: str) -> None:
    """Refuse at once a body whose declared ``Content-Length`` is over the limit, before reading any of it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit, name)


async def body_chunks(request: Request, idle_seconds: float) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive; 408 when none comes for ``idle_seconds``; :class:`ClientDisconnect`
    when the client goes away before the end."""
    stream = request.stream().__aiter__()
    while True:
        try:
            with anyio.fail_after(idle_seconds):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise Problem(408, f"no part of the request body arrived for {idle_seconds:g} seconds (body_idle_seconds)",
                          kind="body-timeout", title="Request body timed out") from None
        if chunk:
            yield chunk


async def read_body(request: Request, settings: Settings, accepted: tuple[str, ...]) -> bytes:
    """The whole body of a request of one of the ``accepted`` media types, at most ``max_body_bytes``."""
    media_type(request, accepted)
    limit = settings.limit("max_body_bytes")
    check_declared_length(request, limit, "max_body_bytes")
    body = bytearray()
    try:
        async for chunk in body_chunks(request, settings.limit("body_idle_seconds")):
            body += chunk
            if len(body) > limit:
                raise too_large(limit, "max_body_bytes")
    except ClientDisconnect:
        raise Problem(400, "the client went away before the request body was complete",
                      kind="incomplete-body", title="Request body incomplete") from None
    return bytes(body)


async def json_body(request: Request, settings: SettingsDep) -> bytes:
    """A JSON body (``application/json``), unparsed: the library parses it where it is evaluated."""
    return await read_body(request, settings, JSON_TYPES)


async def yaml_body(request: Request, settings: SettingsDep) -> bytes:
    """A policy file's text (YAML; JSON is YAML too)."""
    return await read_body(request, settings, YAML_TYPES)


JsonBody = Annotated[bytes, Depends(json_body)]
YamlBody = Annotated[bytes, Depends(yaml_body)]
