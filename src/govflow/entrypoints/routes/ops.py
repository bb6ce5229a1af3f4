"""``/healthz`` and ``/readyz`` for the operator's probes."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from govflow.entrypoints.deps import App

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, str | bool]:
    """Alive; ``demo`` says whether items' clocks may be fast-forwarded here."""
    return {"status": "ok", "demo": bool(request.app.state.demo)}


@router.get("/readyz")
async def readyz(request: Request, app: App) -> JSONResponse:
    """Ready when the event store answers and (if connected) Temporal does too."""
    checks: dict[str, str] = {}
    try:
        await run_in_threadpool(app.recorder.max_notification_id)
        checks["event_store"] = "ok"
    except Exception as error:  # the probe reports any failure, whatever its kind
        checks["event_store"] = f"unavailable: {type(error).__name__}"
    issues = request.app.state.door.issues
    if issues is not None:
        try:
            await issues.client.workflow_service.get_system_info(
                GetSystemInfoRequest(), timeout=timedelta(seconds=2)
            )
            checks["temporal"] = "ok"
        except Exception as error:  # as above
            checks["temporal"] = f"unavailable: {type(error).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
