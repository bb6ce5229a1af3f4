"""The HTTP API: ``/v1`` with OpenAPI at ``/openapi.json`` and ``/docs``.

Every call needs a bearer token (``govflow token issue``); writes are attributed to its member
or integration (the policy is in :mod:`govflow.entrypoints.api_auth`). The routes of the roll,
lists, feed and webhooks are in :mod:`~govflow.entrypoints.api_council`, those of meetings,
spending and later steps in :mod:`~govflow.entrypoints.api_actions`; the public board
(:mod:`~govflow.entrypoints.board`) is mounted at ``/board``. Blocking application calls run in
FastAPI's thread pool (plain ``def`` endpoints).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.application.views import (
    BallotReceipt,
    CouncilView,
    HistoryEntry,
    IssueView,
    MeetingView,
    NoticeView,
    SpendingView,
)
from govflow.domain.access import Scope
from govflow.domain.ballot import Choice
from govflow.domain.errors import ForbiddenError, GovflowError, NotFoundError
from govflow.entrypoints.api_actions import MAX_EVIDENCE, actions_router
from govflow.entrypoints.api_auth import Caller, member, reader, scoped
from govflow.entrypoints.api_bodies import TextBody
from govflow.entrypoints.api_council import council_router
from govflow.entrypoints.board import board_root, create_board
from govflow.orchestration import messages as m
from govflow.orchestration.client import IssueClient

PROBLEM = "application/problem+json"
MAX_BODY = 1024 * 1024
DESCRIPTION = """Event-sourced governance workflows for residents' councils.

Send `Authorization: Bearer <token>` (issued with `govflow token issue`). Reads of a council
need a token of that council (members, auditors, or integrations with the `read` scope);
writes are attributed to the token's member or integration. Errors are RFC 9457
problem+json with a stable `code`. POSTs accept `Idempotency-Key`. The public board is at
`/board/` and needs no token.
"""


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


class Problem(BaseModel):
    """An RFC 9457 problem document with govflow's stable error code."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    details: dict[str, Any] | None = None
    errors: list[dict[str, Any]] | None = None


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "model": Problem,
        "description": text,
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status, text in (
        (400, "The body cannot be parsed"),
        (401, "No valid token"),
        (403, "The token may not do this"),
        (404, "Not found"),
        (409, "Refused by a governance rule or the item's state"),
        (413, "The body is too large"),
        (422, "The request is not valid"),
    )
}


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


class ProposeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=200)
    procedure: str = Field(min_length=1, max_length=100)
    version: int | None = Field(default=None, ge=1)
    description: str = Field(default="", max_length=10_000)
    grid: str | None = None
    category: str | None = None
    spending_number: int | None = Field(default=None, ge=1)


class BallotBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    choice: Choice


class ResolutionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    meeting_number: int = Field(ge=1)
    motion_no: int = Field(ge=1)


class AnswerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reply: str = Field(min_length=1, max_length=10_000)
    upheld: bool = False


def create_api(
    app: Governance,
    issues: IssueClient | None = None,
    procedures: ProcedureLibrary | None = None,
    *,
    evidence_dir: Path | None = None,
) -> FastAPI:
    """The API over one Governance (and, for workflows, a Temporal client); meeting evidence
    is stored by sha256 under ``evidence_dir``."""
    api = FastAPI(
        title="govflow",
        version="0.1.0",
        description=DESCRIPTION,
        responses=PROBLEM_RESPONSES,
    )

    api.state.governance = app

    def workflows() -> IssueClient:
        if issues is None:
            raise GovflowError("no workflow service is connected")
        return issues

    @api.middleware("http")
    async def guard_bodies(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Refuse oversized bodies before reading them (evidence uploads check as they read);
        a POST retried with the same Idempotency-Key gets the first answer back."""
        length = request.headers.get("content-length")
        limit = MAX_EVIDENCE if "/evidence/" in request.url.path else MAX_BODY
        if length is not None and (not length.isdigit() or int(length) > limit):
            return _problem(413, "input.too_large", f"the body is limited to {limit} bytes")
        key = request.headers.get("idempotency-key")
        if request.method != "POST" or key is None:
            return await call_next(request)
        caller = hashlib.sha256(request.headers.get("authorization", "").encode()).hexdigest()
        body = await request.body()
        fingerprint = hashlib.sha256(request.url.path.encode() + b"\n" + body).hexdigest()
        try:
            recalled = await run_in_threadpool(app.recall_response, caller, key, fingerprint)
        except GovflowError as error:
            return _problem(error.status, error.code, error.message)
        if recalled is not None:
            status, text = recalled
            return Response(
                text,
                status_code=status,
                media_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        response = await call_next(request)
        if not 200 <= response.status_code < 300:
            return response  # refusals are not remembered: a later retry may succeed
        chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
        content = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
        await run_in_threadpool(
            lambda: app.remember_response(
                caller,
                key,
                fingerprint,
                status=response.status_code,
                body=content.decode(),
                actor="api",
            )
        )
        return Response(content, status_code=response.status_code, headers=dict(response.headers))

    @api.exception_handler(GovflowError)
    async def _domain_error(_: Request, error: GovflowError) -> JSONResponse:
        return _problem(error.status, error.code, error.message, details=error.details)

    @api.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {400: "input.malformed", 404: "not_found", 405: "method_not_allowed"}.get(
            error.status_code, "http.error"
        )
        return _problem(error.status_code, code, str(error.detail))

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
    def get_council(code: str, caller: Caller) -> CouncilView:
        reader(caller, code)
        return app.get_council(code)

    @api.get("/v1/councils/{code}/issues/{number}", tags=["issues"])
    def get_issue(code: str, number: int, caller: Caller) -> IssueTimeline:
        reader(caller, code)
        view = app.get_issue(code, number)
        return IssueTimeline(issue=view, timeline=app.get_history(view.id))

    @api.get("/v1/councils/{code}/issues/{number}/status", tags=["issues"])
    async def get_status(code: str, number: int, caller: Caller) -> m.Status:
        reader(caller, code)
        return await workflows().status(code, number)

    @api.get("/v1/councils/{code}/meetings/{number}", tags=["meetings"])
    def get_meeting(code: str, number: int, caller: Caller) -> MeetingView:
        reader(caller, code)
        return app.get_meeting(code, number)

    @api.post("/v1/councils/{code}/issues", tags=["issues"], status_code=201)
    async def propose(code: str, body: ProposeBody, caller: Caller) -> IssueView:
        """Propose an item and start its workflow (members, or integrations with the
        ``issues:propose`` scope)."""
        actor = scoped(caller, code, Scope.PROPOSE)
        if procedures is None:
            raise GovflowError("no procedure library is loaded")
        procedure = procedures.get(body.procedure, body.version)
        spending_id = None
        if body.spending_number is not None:
            spending_id = (await run_in_threadpool(app.get_spending, code, body.spending_number)).id
        await run_in_threadpool(
            lambda: app.propose_issue(
                code,
                body.number,
                body.title,
                procedure,
                actor=actor,
                description=body.description,
                grid=body.grid,
                category=body.category,
                spending_id=spending_id,
            )
        )
        await workflows().start(
            code,
            body.number,
            procedure,
            category=body.category,
            spending_number=body.spending_number,
        )
        return await run_in_threadpool(app.get_issue, code, body.number)

    @api.post("/v1/councils/{code}/issues/{number}/ballots", tags=["issues"], status_code=201)
    async def cast_ballot(
        code: str, number: int, body: BallotBody, caller: Caller
    ) -> BallotReceipt:
        """Cast the caller's own ballot; keep the receipt to check against the tally."""
        voter = member(caller, code)
        receipt = await run_in_threadpool(app.cast_ballot, code, number, voter, body.choice)
        if receipt.all_voted:  # only then does the workflow hear of it (never one per ballot)
            await workflows().all_voted(code, number, receipt.ballot_key)
        return receipt

    @api.post("/v1/councils/{code}/issues/{number}/close-stage", tags=["issues"])
    async def close_stage(code: str, number: int, caller: Caller) -> dict[str, str]:
        """As chair of the acting body, close the open stage."""
        stage = await workflows().close_stage(code, number, member(caller, code))
        return {"closed": stage}

    @api.post("/v1/councils/{code}/issues/{number}/resolution", tags=["issues"])
    async def resolution(
        code: str, number: int, body: ResolutionBody, caller: Caller
    ) -> dict[str, bool]:
        """As chair, take a meeting's motion as the stage's resolution."""
        passed = await workflows().record_resolution(
            code,
            number,
            member(caller, code),
            meeting_number=body.meeting_number,
            motion_no=body.motion_no,
        )
        return {"passed": passed}

    @api.post("/v1/councils/{code}/issues/{number}/objections", tags=["notices"], status_code=201)
    async def file_objection(
        code: str, number: int, body: TextBody, caller: Caller
    ) -> dict[str, int]:
        """Object to the posted notice, within its window."""
        no = await workflows().file_objection(code, number, member(caller, code), body.text)
        return {"objection_no": no}

    @api.post(
        "/v1/councils/{code}/issues/{number}/objections/{objection_no}/answer", tags=["notices"]
    )
    async def answer_objection(
        code: str, number: int, objection_no: int, body: AnswerBody, caller: Caller
    ) -> dict[str, bool]:
        """As chair, answer an objection (upholding it reopens the item)."""
        await workflows().answer_objection(
            code, number, member(caller, code), objection_no, body.reply, upheld=body.upheld
        )
        return {"upheld": body.upheld}

    @api.post("/v1/councils/{code}/issues/{number}/withdraw", tags=["issues"])
    async def withdraw(code: str, number: int, body: TextBody, caller: Caller) -> dict[str, str]:
        """As chair, withdraw the item (only before a resolution)."""
        await workflows().withdraw(code, number, member(caller, code), body.text)
        return {"outcome": "withdrawn"}

    @api.get("/v1/councils/{code}/spending/{number}", tags=["spending"])
    def get_spending(code: str, number: int, caller: Caller) -> SpendingView:
        reader(caller, code)
        return app.get_spending(code, number)

    @api.get("/v1/notices/{notice_id}", tags=["notices"])
    def get_notice(notice_id: UUID, caller: Caller) -> NoticeView:
        row = app.directory.notices.get(notice_id)
        if row is None:
            raise NotFoundError("notice not found", id=str(notice_id))
        reader(caller, row.council)
        return app.get_notice(notice_id)

    @api.get("/v1/audit/history/{aggregate_id}", tags=["audit"])
    def get_history(
        aggregate_id: UUID,
        caller: Caller,
        after: Annotated[int, Query(ge=0, le=2**63 - 1, description="a version")] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000,
    ) -> list[HistoryEntry]:
        """The events of one aggregate of the caller's council, in pages: what, when, who.
        Continue with ``after`` = the last version received."""
        council = app.council_of(aggregate_id)
        if council is None:
            raise NotFoundError("no such aggregate", id=str(aggregate_id))
        reader(caller, council)
        return app.get_history(aggregate_id, after=after, limit=limit)

    @api.get("/v1/audit/as-of/{aggregate_id}", tags=["audit"])
    def get_as_of(aggregate_id: UUID, at: AwareDatetime, caller: Caller) -> dict[str, Any]:
        """An aggregate's state made of its events recorded up to ``at``."""
        council = app.council_of(aggregate_id)
        if council is None:
            raise NotFoundError("no such aggregate", id=str(aggregate_id))
        reader(caller, council)
        return app.get_state_as_of(aggregate_id, at)

    @api.get(
        "/v1/audit/export",
        tags=["audit"],
        response_class=StreamingResponse,
        responses={200: {"content": {"application/x-ndjson": {}}, "description": "JSON lines"}},
    )
    def export(caller: Caller) -> StreamingResponse:
        """The whole notification log as JSON lines (auditors and the clerk), streamed."""
        if not (caller.is_auditor or caller.is_clerk):
            raise ForbiddenError("only auditors and the clerk export the whole log")
        return StreamingResponse(app.export_lines(), media_type="application/x-ndjson")

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

    api.include_router(council_router(app))
    api.include_router(actions_router(app, workflows, procedures, evidence_dir))
    api.include_router(create_board(app))
    api.add_api_route("/", board_root, include_in_schema=False)

    return api
