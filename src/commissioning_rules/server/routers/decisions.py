"""``/v1/decisions``: a case → its Decision; ``/v1/decisions:batch``: many, streamed both ways."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from commissioning_rules.batch import ItemError, evaluate_lines
from commissioning_rules.models.decision import Decision
from commissioning_rules.server.dependencies import (
    JSON_TYPES, JSONL_TYPES, AsOf, Explain, JsonBody, SettingsDep, evaluation_access,
)
from commissioning_rules.server.problems import Problem, responses
from commissioning_rules.server.streaming import BatchResponse, batch_response

router = APIRouter(prefix="/v1", tags=["decisions"], dependencies=[Depends(evaluation_access)])


class DecisionResponse(Decision):
    """The Decision (the JSON contract, unchanged), with what the request asked for besides."""

    explanation: str | None = None
    record_id: str | None = None


def _body_of(model: str, media_types: tuple[str, ...] = JSON_TYPES, description: str = "") -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{model}"}
    return {"requestBody": {"required": True, "description": description,
                            "content": {m: {"schema": schema} for m in media_types}}}


def with_members(decision_json: str, members: dict[str, Any]) -> str:
    """The Decision's own JSON with members added at the end (its bytes otherwise unchanged)."""
    extra = "".join(f",{json.dumps(k)}:{json.dumps(v, ensure_ascii=False)}" for k, v in members.items())
    return decision_json[:-1] + extra + "}"


def decide(body: bytes, settings: SettingsDep, as_of: AsOf) -> Decision:
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
    openapi_extra=_body_of("Case", description="One case (the JSON contract)."),
    responses=responses(400, 401, 413, 415, 422),
)
def create_decision(body: JsonBody, settings: SettingsDep, as_of: AsOf = None,
                    explain: Explain = None) -> Response:
    """The case's Decision. `?as_of=` applies the policy at that date; `?explain=text` adds `explanation`."""
    decision = decide(body, settings, as_of)
    members: dict[str, Any] = {}
    if explain == "text":
        members["explanation"] = decision.explain()
    text = decision.model_dump_json()
    return Response(with_members(text, members) if members else text, media_type="application/json")


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
async def create_decisions(request: Request, settings: SettingsDep, as_of: AsOf = None) -> BatchResponse:
    """Each item's Decision, or its error, as it is evaluated (the command line's `batch`, over HTTP)."""
    return await batch_response(request, settings, as_of)
