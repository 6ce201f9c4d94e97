"""``/v1/records``: a stored decision record, its replay, and the verification of the whole chain.

Records hold applicants' data: every endpoint here needs a bearer token, and is off on a server with no tokens.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from commissioning_rules.server.dependencies import RecorderDep, records_access
from commissioning_rules.server.problems import Problem, responses
from commissioning_rules.server.recording import Recorder

router = APIRouter(prefix="/v1/records", tags=["records"], dependencies=[Depends(records_access)],
                   responses=responses(401, 403, 404, 503))


def _store(recorder: Recorder | None) -> Recorder:
    if recorder is None:
        raise Problem(404, "this server keeps no decision records (start it with --records DB)",
                      kind="records-off", title="No records store")
    return recorder


def _json(model: object) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")  # type: ignore[attr-defined]


@router.get("/verify", summary="Verify the chain of records")
def verify_records(recorder: RecorderDep) -> Response:
    """Walk the whole hash chain and check every hash: `intact`, or the `problems` found, each naming the record
    (or purge marker) at fault. The answer is 200 either way; `intact` is the verdict."""
    store = _store(recorder)
    with store.errors():
        return _json(store.records.verify(store.store))


@router.get("/{record_id}", summary="One decision record")
def show_record(record_id: str, recorder: RecorderDep) -> Response:
    """The record: its id, the caller's reference, the validated input and the Decision as canonical JSON with
    their SHA-256, `as_of` and its source, the policy (and its text for a council's file), the library and code
    versions, the engine, when it was evaluated, and its place in the hash chain."""
    store = _store(recorder)
    with store.errors():
        return _json(store.store.get(record_id))


@router.post("/{record_id}/replay", summary="Replay a record")
def replay_record(record_id: str, recorder: RecorderDep) -> Response:
    """Evaluate the record's stored input again, under its stored policy, date and engine: `identical`, or the
    `differences` (in `compare`'s format) and notes on what changed since (library, code, policy)."""
    store = _store(recorder)
    with store.errors():
        return _json(store.records.replay(store.store.get(record_id)))
