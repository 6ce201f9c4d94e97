"""``/v1/schema/{kind}``: the JSON Schemas of the case, the Decision and the policy file."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from commissioning_rules.schema import KINDS, SchemaUnavailable, schema_for
from commissioning_rules.server.problems import Problem, responses

router = APIRouter(prefix="/v1/schema", tags=["schemas"])


@router.get("/{kind}", summary="A JSON Schema", responses=responses(404, 503))
def show_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a `case`, a `decision` or a `policy` file, generated from the
    library's models: the same document as `commissioning-rules schema KIND`."""
    if kind not in KINDS:
        raise Problem(404, f"no schema {kind!r}: expected one of {', '.join(KINDS)}", kind="unknown-schema",
                      title="No such schema")
    try:
        return schema_for(kind)
    except SchemaUnavailable as error:
        raise Problem(503, str(error), kind="schema-unavailable", title="Schema unavailable") from None
