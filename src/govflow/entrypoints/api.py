"""The HTTP API (read side for now): ``/v1`` with OpenAPI at ``/openapi.json`` and ``/docs``.

Write endpoints, authentication and roles, the public board and webhooks come with issue 4.
Blocking application calls run in FastAPI's thread pool (plain ``def`` endpoints).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from govflow.application import Governance
from govflow.application.views import (
    CouncilView,
    HistoryEntry,
    IssueView,
    MeetingView,
    NoticeView,
    SpendingView,
)
from govflow.domain.errors import GovflowError
from govflow.orchestration import messages as m
from govflow.orchestration.client import IssueClient

PROBLEM = "application/problem+json"


class IssueTimeline(BaseModel):
    issue: IssueView
    timeline: list[HistoryEntry]


class CheckpointView(BaseModel):
    position: int
    notification_id: int
    digest: str


class VerifyView(BaseModel):
    ok: bool
    checked: int
    unsealed: int
    checkpoints_checked: int
    problem: dict[str, Any] | None


def _problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://govflow.dev/errors/{code}",
        "title": code,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def create_api(app: Governance, issues: IssueClient | None = None) -> FastAPI:
    """The API over one Governance (and, for live workflow status, a Temporal client)."""
    api = FastAPI(
        title="govflow",
        version="0.1.0",
        description="Event-sourced governance workflows for residents' councils.",
    )

    @api.exception_handler(GovflowError)
    async def _domain_error(_: Request, error: GovflowError) -> JSONResponse:
        return _problem(error.status, error.code, error.message, details=error.details)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        return _problem(
            422,
            "input.invalid",
            "the request is not valid",
            errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in error.errors()],
        )

    @api.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz", tags=["ops"])
    async def readyz() -> JSONResponse:
        """Ready when the event store answers and (if connected) Temporal does too."""
        checks: dict[str, str] = {}
        try:
            await run_in_threadpool(app.recorder.max_notification_id)
            checks["event_store"] = "ok"
        except Exception as error:  # the probe reports any failure, whatever its kind
            checks["event_store"] = f"unavailable: {type(error).__name__}"
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

    @api.get("/v1/councils/{code}", tags=["councils"])
    def get_council(code: str) -> CouncilView:
        return app.get_council(code)

    @api.get("/v1/councils/{code}/issues/{number}", tags=["issues"])
    def get_issue(code: str, number: int) -> IssueTimeline:
        view = app.get_issue(code, number)
        return IssueTimeline(issue=view, timeline=app.get_history(view.id))

    @api.get("/v1/councils/{code}/issues/{number}/status", tags=["issues"])
    async def get_status(code: str, number: int) -> m.Status:
        if issues is None:
            raise GovflowError("no workflow service is connected")
        return await issues.status(code, number)

    @api.get("/v1/councils/{code}/meetings/{number}", tags=["meetings"])
    def get_meeting(code: str, number: int) -> MeetingView:
        return app.get_meeting(code, number)

    @api.get("/v1/councils/{code}/spending/{number}", tags=["spending"])
    def get_spending(code: str, number: int) -> SpendingView:
        return app.get_spending(code, number)

    @api.get("/v1/notices/{notice_id}", tags=["notices"])
    def get_notice(notice_id: UUID) -> NoticeView:
        return app.get_notice(notice_id)

    @api.get("/v1/audit/history/{aggregate_id}", tags=["audit"])
    def get_history(aggregate_id: UUID) -> list[HistoryEntry]:
        return app.get_history(aggregate_id)

    @api.get("/v1/audit/checkpoints", tags=["audit"])
    def list_checkpoints() -> list[CheckpointView]:
        return [
            CheckpointView(position=c.position, notification_id=c.notification_id, digest=c.digest)
            for c in app.list_checkpoints()
        ]

    @api.get("/v1/audit/verify", tags=["audit"])
    def verify() -> VerifyView:
        report = app.verify_audit_chain()
        return VerifyView(
            ok=report.ok,
            checked=report.checked,
            unsealed=report.unsealed,
            checkpoints_checked=report.checkpoints_checked,
            problem=report.problem.__dict__ if report.problem else None,
        )

    return api
