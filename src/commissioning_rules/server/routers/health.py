"""``/healthz`` (the process answers) and ``/readyz`` (it can evaluate: the policy compiled, the store reachable)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from commissioning_rules import __version__
from commissioning_rules.engine import default_engine
from commissioning_rules.server.dependencies import SettingsDep
from commissioning_rules.server.problems import Problem, responses

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
def healthz() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness", responses=responses(503))
def readyz(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """Ready to evaluate: the policy is compiled for the engine (and the records store answers, with --records)."""
    engine = settings.engine or default_engine()
    try:
        settings.policy.engine(engine)
    except Exception as error:  # noqa: BLE001 - any failure here means not ready, and says why
        raise Problem(503, f"the policy cannot be compiled for {engine}: {error}", kind="not-ready",
                      title="Not ready") from None
    return {"status": "ready", "version": __version__, "engine": engine,
            "policy": {"name": settings.policy.name, "version": settings.policy.version},
            "records": settings.records is not None}
