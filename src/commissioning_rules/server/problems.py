"""Every error the service returns is an RFC 9457 problem details document (``application/problem+json``).

Routers and dependencies raise :class:`Problem` once, where the error is found; :func:`problem_response` is the
one exception handler that renders it, and it also turns FastAPI's and Starlette's own errors (an unknown path,
a wrong method, a bad query parameter) and any unexpected exception into the same shape. An unexpected
exception is logged with its traceback on the server and answered with a 500 that says nothing of it.

Members besides the standard ``type``, ``title``, ``status``, ``detail`` and ``instance``: ``errors``, one per
problem found, each with the dotted ``field`` path (``organisation.annual_turnover``, list positions in
brackets), the ``message`` and the error ``type`` — the library's own :class:`~commissioning_rules.batch.FieldError`,
as the command line reports them.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from commissioning_rules.batch import FieldError, ItemError, field_path

MEDIA_TYPE = "application/problem+json"
#: Problem types of our own (``about:blank`` is used for plain HTTP statuses: 404, 405, 413, 415 …).
TYPE_PREFIX = "urn:commissioning-rules:problem:"

log = logging.getLogger("commissioning_rules.server")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, with the field-by-field ``errors`` of a rejected request."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] = []


class Problem(Exception):
    """An error to answer with: raised where it is found, rendered by :func:`problem_response`.

    ``kind`` names a problem type of ours (``invalid-case`` → ``urn:commissioning-rules:problem:invalid-case``);
    without it the type is ``about:blank`` and the title the HTTP status phrase.
    """

    def __init__(self, status: int, detail: str, *, kind: str | None = None, title: str | None = None,
                 errors: tuple[FieldError, ...] | list[FieldError] = (), headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.title = title or HTTPStatus(status).phrase
        self.errors = list(errors)
        self.headers = headers or {}

    def details(self, instance: str | None = None) -> ProblemDetails:
        return ProblemDetails(
            type=TYPE_PREFIX + self.kind if self.kind else "about:blank",
            title=self.title, status=self.status, detail=self.detail, instance=instance, errors=self.errors,
        )

    @classmethod
    def from_item_error(cls, error: ItemError) -> Problem:
        """A case that could not be evaluated, as the library reports it: 400 when the body is not one JSON
        document, 422 when the case or its date is not valid (every field at fault listed)."""
        status = 400 if error.kind in ("invalid_json", "empty_line") else 422
        kind = {"invalid_json": "invalid-json", "empty_line": "invalid-json"}.get(error.kind, error.kind.replace("_", "-"))
        detail = error.message if error.kind != "empty_line" else "the request body is empty: expected a JSON document"
        return cls(status, detail, kind=kind, title=_TITLES.get(kind), errors=error.errors)


_TITLES = {
    "invalid-json": "The body is not valid JSON",
    "invalid-case": "The case is not valid",
    "parameter-error": "The policy has no value in force at that date",
}


def _from_request_validation(error: RequestValidationError) -> Problem:
    """FastAPI's own validation of the path and query: fields named as ``query.as_of``."""
    errors = [
        FieldError(field=field_path(e.get("loc", ())), message=str(e.get("msg", "")), type=str(e.get("type", "")))
        for e in error.errors()
    ]
    first = errors[0] if errors else None
    detail = f"{first.field}: {first.message}" if first else "the request is not valid"
    return Problem(422, detail, kind="invalid-request", title="The request is not valid", errors=errors)


def validation_problem(error: ValidationError, kind: str, title: str, prefix: str = "") -> Problem:
    """A pydantic ``ValidationError`` (never its ``str``, which quotes the input) as a problem listing every field."""
    errors = [
        FieldError(field=field_path((*([prefix] if prefix else []), *e["loc"])), message=e["msg"], type=e["type"])
        for e in error.errors(include_url=False, include_input=False)
    ]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return Problem(422, f"{errors[0].field or 'the body'}: {errors[0].message}{more}", kind=kind, title=title, errors=errors)


def as_problem(error: Exception) -> Problem:
    """Any exception as the problem to answer with."""
    if isinstance(error, Problem):
        return error
    if isinstance(error, RequestValidationError):
        return _from_request_validation(error)
    if isinstance(error, HTTPException):  # Starlette's routing: 404 unknown path, 405 wrong method
        detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
        return Problem(error.status_code, detail, headers=dict(error.headers or {}))
    return Problem(500, "the server could not answer this request: the error is logged on the server",
                   kind="internal-error", title="Internal server error")


async def problem_response(request: Request, error: Exception) -> Response:
    """The one exception handler: every error, as ``application/problem+json``."""
    problem = as_problem(error)
    if problem.status >= 500 and not isinstance(error, Problem):
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    body = problem.details(instance=request.url.path).model_dump_json()
    return Response(body, status_code=problem.status, media_type=MEDIA_TYPE, headers=problem.headers)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses an endpoint may give."""
    return {s: {"model": ProblemDetails, "content": {MEDIA_TYPE: {}}} for s in statuses}


def problem_record(problem: Problem, instance: str | None = None) -> dict[str, Any]:
    """A problem as the JSON value that ends a batch stream early (``{"problem": …}``)."""
    return {"problem": problem.details(instance).model_dump(mode="json")}
