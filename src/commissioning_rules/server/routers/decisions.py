"""``/v1/decisions``: a case → its Decision; ``/v1/decisions:batch``: many, streamed both ways."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from commissioning_rules.batch import ItemError, evaluate_lines
from commissioning_rules.models.decision import Decision
from commissioning_rules.server.dependencies import (
    JSON_TYPES, JSONL_TYPES, AsOf, Explain, JsonBody, RecorderDep, SettingsDep, Sources, evaluation_access,
    records_access,
)
from commissioning_rules.server.problems import Problem, responses
from commissioning_rules.server.settings import Settings
from commissioning_rules.server.streaming import BatchResponse, batch_response, with_members

Supersedes = Annotated[str | None, Query(description="With records: the id of the record this decision corrects.")]

router = APIRouter(prefix="/v1", tags=["decisions"], dependencies=[Depends(evaluation_access)])


class DecisionResponse(Decision):
    """The Decision (the JSON contract, unchanged), with what the request asked for besides."""

    explanation: str | None = None
    record_id: str | None = None


def decide(body: bytes, settings: Settings, as_of: dt.date | None) -> Decision:
    """Evaluate one JSON body exactly as ``commissioning-rules evaluate`` does; a bad one is raised as a problem."""
    outcome = next(evaluate_lines([body], policy=settings.policy, as_of=as_of, engine=settings.engine))
    if isinstance(outcome, ItemError):
        raise Problem.from_item_error(outcome)
    return outcome


@router.post(
    "/decisions",
    response_model=DecisionResponse,
    response_model_exclude_none=True,
    summary="Evaluate one case",
    openapi_extra={"requestBody": {"required": True, "description": "One case (the JSON contract).", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Case"}}}}},
    responses={201: {"description": "Recorded (a server keeping records): the Decision with its `record_id`.",
                     "model": DecisionResponse}, **responses(400, 401, 413, 415, 422, 503)},
)
def create_decision(request: Request, body: JsonBody, settings: SettingsDep, recorder: RecorderDep,
                    as_of: AsOf = None, explain: Explain = None, supersedes: Supersedes = None,
                    sources: Sources = False) -> Response:
    """The case's Decision. `?as_of=` applies the policy at that date; `?explain=text` adds `explanation`;
    `?sources=true` adds the sentence each finding quotes and where each parameter's value comes from.

    On a server keeping records (`--records`), the decision is stored first: the answer is 201 with the
    `record_id` in the body and `Location: /v1/records/{id}`; `?supersedes=ID` (with a token) records it as the
    correction of an earlier record."""
    if supersedes is not None:
        if recorder is None:
            raise Problem(422, "supersedes needs a server that keeps records (--records DB)", kind="invalid-request",
                          title="The request is not valid")
        records_access(request, settings)
    decision = decide(body, settings, as_of)
    members: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if recorder is not None:
        (record_id,) = recorder.store_decisions([(body, decision)], supersedes=supersedes)
        members["record_id"] = request.state.record_id = record_id
        headers["location"] = f"/v1/records/{record_id}"
    if explain == "text":
        members["explanation"] = decision.explain()
    text = decision.to_json(sources=sources)
    return Response(with_members(text, members) if members else text, media_type="application/json",
                    status_code=201 if recorder is not None else 200, headers=headers)


@router.post(
    "/decisions:batch",
    summary="Evaluate many cases, streamed",
    openapi_extra={"requestBody": {
        "required": True,
        "description": "A JSON array of cases, or JSON lines (one case per line). The response has the same form.",
        "content": {
            **{m: {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}}} for m in JSON_TYPES},
            **{m: {"schema": {"type": "string", "description": "one case per line"}} for m in JSONL_TYPES},
        },
    }},
    responses={200: {"description": "One result per item, in order: its Decision or `{\"error\": ...}`; a stream "
                                    "ended early ends with `{\"problem\": ...}`.",
                     "content": {"application/json": {"schema": {"type": "array", "items": {}}},
                                 "application/x-ndjson": {}}},
               **responses(400, 401, 413, 415, 422)},
)
async def create_decisions(request: Request, settings: SettingsDep, recorder: RecorderDep,
                           as_of: AsOf = None, sources: Sources = False) -> BatchResponse:
    """Each item's Decision, or its error, as it is evaluated (the command line's `batch`, over HTTP). On a
    server keeping records, each Decision is stored first (one transaction per chunk) and carries its
    `record_id`; if the store fails, the stream ends with a problem and no unrecorded decision is sent."""
    return await batch_response(request, settings, as_of, recorder, sources)
