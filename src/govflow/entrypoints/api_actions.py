"""``/v1`` routes of meetings, spending and the later steps of an issue."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import AwareDatetime, Field

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.application.views import ReceiptCheck
from govflow.domain.council import Body
from govflow.domain.errors import (
    ForbiddenError,
    GovflowError,
    InvalidInputError,
    NotFoundError,
)
from govflow.domain.ids import issue_id
from govflow.domain.rating import Satisfaction
from govflow.entrypoints.api_auth import Caller, chair_of, member, officer, reader
from govflow.entrypoints.api_bodies import Strict, TextBody
from govflow.entrypoints.evidence import store_evidence
from govflow.orchestration.client import IssueClient

MAX_EVIDENCE = 20 * 1024 * 1024
EVIDENCE_NAME = r"^[^/\\]{1,200}$"


class ScheduleBody(Strict):
    number: int = Field(ge=1)
    body: Body
    kind: str = Field(default="议事会议", min_length=1, max_length=50)
    title: str = Field(min_length=1, max_length=200)
    scheduled_for: AwareDatetime
    notice_days_required: int = Field(default=0, ge=0, le=60)
    rule_of: str = Field(description="the procedure whose voting rule the meeting applies")
    rule: str = Field(description="the rule's name in that procedure")
    issue_number: int | None = Field(default=None, ge=1)


class AttendanceBody(Strict):
    present: list[str] = Field(max_length=100_000)
    expected: int | None = Field(default=None, ge=0)


class MotionBody(Strict):
    text: str = Field(min_length=1, max_length=10_000)
    yes: int = Field(ge=0)
    no: int = Field(ge=0)
    abstain: int = Field(default=0, ge=0)


class SpendingBody(Strict):
    number: int = Field(ge=1)
    amount: str = Field(description="yuan as a string, e.g. 12000.00")
    purpose: str = Field(min_length=1, max_length=500)
    payee: str = Field(min_length=1, max_length=200)
    budget_line: str = Field(min_length=1, max_length=200)
    issue_number: int | None = Field(default=None, ge=1)


class DisbursementBody(Strict):
    amount: str = Field(description="yuan as a string")
    reference: str = Field(min_length=1, max_length=200)


class CompleteBody(Strict):
    actual_cost: Decimal | None = Field(default=None, ge=0, decimal_places=2)


class ReapproveBody(Strict):
    meeting_number: int = Field(ge=1)
    motion_no: int = Field(ge=1)


class RatingBody(Strict):
    rating: Satisfaction


def actions_router(
    app: Governance,
    workflows: Callable[[], IssueClient],
    procedures: ProcedureLibrary | None,
    evidence_dir: Path | None,
) -> APIRouter:
    router = APIRouter(prefix="/v1/councils/{code}")

    # -- meetings (the chair of the meeting's body, or the clerk) -----------------------------

    def meeting_chair(caller: Caller, code: str, number: int) -> str:
        return chair_of(caller, code, app.meeting(code, number).body.value)

    @router.post("/meetings", tags=["meetings"], status_code=201)
    def schedule(code: str, body: ScheduleBody, caller: Caller) -> dict[str, int]:
        """Schedule a meeting of a body, with the voting rule its motions are decided by."""
        actor = chair_of(caller, code, body.body.value)
        if procedures is None:
            raise GovflowError("no procedure library is loaded")
        rules = procedures.get(body.rule_of).rules
        if body.rule not in rules:
            raise InvalidInputError(f"{body.rule_of} has no rule {body.rule!r}")
        app.schedule_meeting(
            code,
            body.number,
            body.body,
            body.kind,
            body.title,
            scheduled_for=body.scheduled_for,
            notice_days_required=body.notice_days_required,
            rule=rules[body.rule],
            actor=actor,
            issue_id=issue_id(code, body.issue_number) if body.issue_number else None,
        )
        return {"number": body.number}

    @router.post("/meetings/{number}/notice", tags=["meetings"])
    def notice(code: str, number: int, caller: Caller) -> dict[str, bool]:
        """Issue the meeting's notice; says whether the required notice period is met."""
        met = app.issue_meeting_notice(code, number, actor=meeting_chair(caller, code, number))
        return {"notice_period_met": met}

    @router.post("/meetings/{number}/attendance", tags=["meetings"])
    def attendance(code: str, number: int, body: AttendanceBody, caller: Caller) -> dict[str, bool]:
        """Record who attended; says whether the quorum is met."""
        actor = meeting_chair(caller, code, number)
        quorum = app.record_attendance(
            code, number, body.present, actor=actor, expected=body.expected
        )
        return {"quorum_met": quorum}

    @router.post("/meetings/{number}/motions", tags=["meetings"], status_code=201)
    def motion(code: str, number: int, body: MotionBody, caller: Caller) -> dict[str, object]:
        """Record a motion with its counts; decided by the meeting's rule."""
        actor = meeting_chair(caller, code, number)
        no = app.record_motion(
            code, number, body.text, yes=body.yes, no=body.no, abstain=body.abstain, actor=actor
        )
        return {"motion_no": no, "passed": app.meeting(code, number).motion_results[no]}

    @router.post("/meetings/{number}/minutes", tags=["meetings"])
    def minutes(code: str, number: int, body: TextBody, caller: Caller) -> dict[str, bool]:
        app.record_minutes(code, number, body.text, actor=meeting_chair(caller, code, number))
        return {"recorded": True}

    @router.put("/meetings/{number}/evidence/{name}", tags=["meetings"], status_code=201)
    async def evidence(
        code: str,
        number: int,
        name: Annotated[str, PathParam(pattern=EVIDENCE_NAME)],
        request: Request,
        caller: Caller,
    ) -> dict[str, object]:
        """Upload evidence (photo, scan, recording) as the raw request body, at most 20 MiB.
        It is stored by its sha256, which the meeting's record keeps."""
        actor = await run_in_threadpool(meeting_chair, caller, code, number)
        content = bytearray()
        async for chunk in request.stream():
            content.extend(chunk)
            if len(content) > MAX_EVIDENCE:
                raise InvalidInputError("evidence is limited to 20 MiB")
        if not content:
            raise InvalidInputError("the request body (the evidence) is empty")
        digest = hashlib.sha256(content).hexdigest()
        if evidence_dir is not None:
            await run_in_threadpool(store_evidence, evidence_dir, digest, bytes(content))
        recorded = await run_in_threadpool(
            lambda: app.attach_evidence(code, number, name, bytes(content), actor=actor)
        )
        assert recorded == digest
        return {"name": name, "sha256": digest, "size": len(content)}

    @router.get("/meetings/{number}/evidence/{sha256}", tags=["meetings"])
    def get_evidence(code: str, number: int, sha256: str, caller: Caller) -> Response:
        """Download evidence by its sha256 (checked again on the way out)."""
        reader(caller, code)
        meeting = app.meeting(code, number)
        if sha256 not in meeting.evidence or evidence_dir is None:
            raise NotFoundError("no such evidence on this meeting", sha256=sha256)
        path = evidence_dir / sha256
        if not path.exists():
            raise NotFoundError("the evidence file is missing from the store", sha256=sha256)
        content = path.read_bytes()
        if hashlib.sha256(content).hexdigest() != sha256:
            raise GovflowError("the stored evidence does not match its sha256")
        return Response(content, media_type="application/octet-stream")

    # -- spending ------------------------------------------------------------------------------

    @router.post("/spending", tags=["spending"], status_code=201)
    def request_spending(code: str, body: SpendingBody, caller: Caller) -> dict[str, object]:
        """Request a spending (over the threshold it needs the party members' review)."""
        app.request_spending(
            code,
            body.number,
            body.amount,
            purpose=body.purpose,
            payee=body.payee,
            budget_line=body.budget_line,
            actor=member(caller, code),
            issue_id=issue_id(code, body.issue_number) if body.issue_number else None,
        )
        return app.get_spending(code, body.number).model_dump(mode="json")

    @router.post("/spending/{number}/disbursements", tags=["spending"], status_code=201)
    def disburse(
        code: str,
        number: int,
        body: DisbursementBody,
        caller: Caller,
        countersign: Annotated[
            str | None,
            Header(
                alias="Govflow-Countersign",
                description="the second officer's own token: two distinct officers approve",
            ),
        ] = None,
    ) -> dict[str, object]:
        """Pay out part of an approved spending: the caller and the countersigning officer
        (``Govflow-Countersign: <their token>``) must be two distinct officers."""
        first = officer(caller, code)
        if countersign is None:
            raise ForbiddenError("a disbursement needs a second officer's Govflow-Countersign")
        second = officer(app.authenticate(countersign), code)
        app.disburse(
            code, number, body.amount, approved_by=(first, second), reference=body.reference,
            actor=first,
        )  # fmt: skip
        return app.get_spending(code, number).model_dump(mode="json")

    # -- later steps of an issue ---------------------------------------------------------------

    @router.post("/issues/{number}/progress", tags=["issues"])
    async def progress(code: str, number: int, body: TextBody, caller: Caller) -> dict[str, bool]:
        """As chair, report implementation progress (shown on the next progress notice)."""
        await workflows().report_progress(code, number, member(caller, code), body.text)
        return {"reported": True}

    @router.post("/issues/{number}/complete", tags=["issues"])
    async def complete(
        code: str, number: int, body: CompleteBody, caller: Caller
    ) -> dict[str, bool]:
        """As chair, complete implementation (a spending item with its actual cost); says
        whether the cost overran the approval and needs re-approval."""
        over = await workflows().complete(code, number, member(caller, code), body.actual_cost)
        return {"needs_reapproval": over}

    @router.post("/issues/{number}/reapprove", tags=["issues"])
    async def reapprove(
        code: str, number: int, body: ReapproveBody, caller: Caller
    ) -> dict[str, bool]:
        """As chair, take a meeting's motion as the re-approval of an overrun."""
        await workflows().reapprove(
            code,
            number,
            member(caller, code),
            meeting_number=body.meeting_number,
            motion_no=body.motion_no,
        )
        return {"reapproved": True}

    @router.post("/issues/{number}/notice-correction", tags=["notices"])
    async def correct(code: str, number: int, body: TextBody, caller: Caller) -> dict[str, bool]:
        """As chair, correct the posted notice (its display period starts again)."""
        await workflows().correct_notice(code, number, member(caller, code), body.text)
        return {"corrected": True}

    @router.post("/issues/{number}/ratings", tags=["issues"], status_code=201)
    def rate(code: str, number: int, body: RatingBody, caller: Caller) -> dict[str, str]:
        """Rate an implemented item during its evaluation (the caller's own rating)."""
        rating = app.rate_issue(code, number, member(caller, code), body.rating)
        return {"rating_id": str(rating)}

    @router.get("/issues/{number}/receipts/{ballot_id}", tags=["issues"])
    def check_receipt(
        code: str,
        number: int,
        ballot_id: UUID,
        notification_id: Annotated[int, Query(ge=1, le=2**63 - 1)],
        caller: Caller,
    ) -> ReceiptCheck:
        """Check a ballot receipt against the log and the tally (never shows the choice)."""
        reader(caller, code)
        app.issue(code, number)
        return app.check_receipt(code, number, ballot_id, notification_id)

    return router
