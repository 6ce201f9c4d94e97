"""``/healthz`` (the process answers) and ``/readyz`` (it can evaluate: the policy compiled, the store reachable)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from commissioning_rules import __version__
from commissioning_rules.engine import default_engine
from commissioning_rules.server.dependencies import RecorderDep, SettingsDep
from commissioning_rules.server.problems import Problem, responses

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
def healthz() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness", responses=responses(503))
def readyz(settings: SettingsDep, recorder: RecorderDep) -> dict[str, Any]:
    """Ready to evaluate: the policy is compiled for the engine (and the records store answers, with --records)."""
    engine = settings.engine or default_engine()
    try:
        settings.policy.engine(engine)
    except Exception as error:  # noqa: BLE001 - any failure here means not ready, and says why
        raise Problem(503, f"the policy cannot be compiled for {engine}: {error}", kind="not-ready",
                      title="Not ready") from None
    if recorder is not None:
        with recorder.errors():
            recorder.store.head()
    return {"status": "ready", "version": __version__, "engine": engine,
            "policy": {"name": settings.policy.name, "version": settings.policy.version},
            "records": recorder is not None}
