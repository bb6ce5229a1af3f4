"""``/v1/councils/{code}/meetings``: meetings, their notice, excuses, attendance, motions,
minutes and evidence (the chair of the meeting's body, or the clerk), and the proxies who
attend for members (委托出席) where the procedure of the meeting's item allows them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, Field

from govflow.application import commands as c
from govflow.application.views import MeetingView
from govflow.domain.council import Body, MemberId
from govflow.domain.errors import InvalidInputError, NotFoundError
from govflow.domain.policy import Action
from govflow.entrypoints.api_bodies import (
    Count,
    EvidenceName,
    Name,
    Number,
    PathNumber,
    Strict,
    Text,
    TextBody,
)
from govflow.entrypoints.deps import App, Caller, Door, Evidence, reader
from govflow.entrypoints.evidence import keep, read_checked
from govflow.entrypoints.routes.assemblies import ProxyAppointment, shown_appointments

router = APIRouter(prefix="/v1/councils/{code}/meetings", tags=["meetings"])

MAX_EVIDENCE = 20 * 1024 * 1024
EVIDENCE_ROUTE = "/v1/councils/{code}/meetings/{number}/evidence/{name}"


class ScheduleBody(Strict):
    number: Number
    body: Body
    kind: Name = Field(default="议事会议", min_length=1, max_length=50)
    title: Name = Field(min_length=1, max_length=200)
    scheduled_for: AwareDatetime
    notice_days_required: int = Field(default=0, ge=0, le=60)
    rule_of: Name = Field(
        min_length=1,
        max_length=100,
        description="the procedure whose voting rule the meeting applies",
    )
    rule: Name = Field(
        min_length=1, max_length=100, description="the rule's name in that procedure"
    )
    issue_number: Number | None = Field(
        default=None, description="the item the meeting decides (needed for a resolution)"
    )


class ExcuseBody(Strict):
    member_id: MemberId
    reason: Text = Field(min_length=1, max_length=1_000)


class AttendanceBody(Strict):
    present: list[MemberId] = Field(max_length=100_000)


class MotionBody(Strict):
    text: Text = Field(min_length=1, max_length=10_000)
    yes: Count
    no: Count
    abstain: Count = 0


@router.post("", status_code=201)
async def schedule(code: str, body: ScheduleBody, caller: Caller, door: Door) -> dict[str, int]:
    """Schedule a meeting of a body, with the voting rule its motions are decided by."""
    fields = body.model_dump()
    command = c.ScheduleMeeting(council=code, **fields)
    return {"number": await door.handle(command, caller)}


@router.get("/{number}")
def get_meeting(code: str, number: PathNumber, caller: Caller, app: App) -> MeetingView:
    reader(caller, code)
    return app.get_meeting(code, number)


@router.post("/{number}/notice")
async def notice(code: str, number: PathNumber, caller: Caller, door: Door) -> dict[str, bool]:
    """Issue the meeting's notice; says whether the required notice period is met."""
    met = await door.handle(c.GiveMeetingNotice(council=code, number=number), caller)
    return {"notice_period_met": met}


@router.post("/{number}/excused")
async def excuse(
    code: str, number: PathNumber, body: ExcuseBody, caller: Caller, door: Door
) -> dict[str, str]:
    """Before attendance, record that a member of the body's roll is excused, with a reason:
    they are not expected (应到 = the roll less those excused)."""
    command = c.ExcuseMember(council=code, number=number, **body.model_dump())
    return {"excused": await door.handle(command, caller)}


@router.post("/{number}/attendance")
async def attendance(
    code: str, number: PathNumber, body: AttendanceBody, caller: Caller, door: Door
) -> dict[str, bool]:
    """Record who attended; the quorum's bases come from the body's roll as recorded."""
    command = c.RecordAttendance(council=code, number=number, present=tuple(body.present))
    return {"quorum_met": await door.handle(command, caller)}


# -- proxies (委托出席) --------------------------------------------------------------------------


class AppointProxyBody(Strict):
    proxy: MemberId
    proxy_form_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="the SHA-256 of the 委托书's scan"
    )
    principal: MemberId | None = Field(
        default=None, description="the member (default: the caller; the clerk records another's)"
    )


class RevokeProxyBody(Strict):
    principal: MemberId | None = Field(default=None, description="default: the caller")
    reason: Name = Field(default="revoked by the principal", min_length=1, max_length=500)


class MeetingProxiesView(BaseModel):
    appointments: list[ProxyAppointment]


@router.post("/{number}/proxies", status_code=201)
async def appoint_proxy(
    code: str, number: PathNumber, body: AppointProxyBody, caller: Caller, door: Door
) -> dict[str, str]:
    """Before attendance, appoint a member of the meeting's body to attend for the principal
    (the member themself, or the clerk recording a paper 委托书 for ``principal``), where the
    procedure of the meeting's item allows proxies at its vote by meeting, within its cap."""
    command = c.AppointMeetingProxy(council=code, number=number, **body.model_dump())
    return {"appointment_id": await door.handle(command, caller)}


@router.post("/{number}/proxies/revoke")
async def revoke_proxy(
    code: str, number: PathNumber, body: RevokeProxyBody, caller: Caller, door: Door
) -> dict[str, bool]:
    """Revoke an appointment (the member or the clerk), until attendance is recorded."""
    command = c.RevokeMeetingProxy(council=code, number=number, **body.model_dump())
    return {"revoked": await door.handle(command, caller)}


@router.get("/{number}/proxies")
async def list_proxies(
    code: str, number: PathNumber, caller: Caller, app: App
) -> MeetingProxiesView:
    """The meeting's live appointments: the clerk and auditors see every one; any other
    reader the ones they made or hold, as in the members' app."""
    reader(caller, code)

    def read() -> MeetingProxiesView:
        app.meeting(code, number)  # not_found for a meeting that does not exist
        live = app.meeting_appointments(code, number)
        return MeetingProxiesView(appointments=shown_appointments(caller, code, live))

    return await run_in_threadpool(read)


@router.post("/{number}/motions", status_code=201)
async def motion(
    code: str, number: PathNumber, body: MotionBody, caller: Caller, door: Door
) -> dict[str, object]:
    """Record a motion with its counts; decided by the meeting's rule."""
    command = c.RecordMotion(council=code, number=number, **body.model_dump())
    no, passed = await door.handle(command, caller)
    return {"motion_no": no, "passed": passed}


@router.post("/{number}/minutes")
async def minutes(
    code: str, number: PathNumber, body: TextBody, caller: Caller, door: Door
) -> dict[str, bool]:
    command = c.RecordMinutes(council=code, number=number, text=body.text)
    return {"recorded": await door.handle(command, caller)}


@router.put("/{number}/evidence/{name}", status_code=201)
async def evidence(
    code: str,
    number: PathNumber,
    name: EvidenceName,
    request: Request,
    caller: Caller,
    door: Door,
    store: Evidence,
) -> dict[str, object]:
    """Upload evidence (photo, scan, recording) as the raw request body, at most 20 MiB.
    It is stored by its sha256, which the meeting's record keeps."""
    reader(caller, code)  # another council's token learns nothing of this one's meetings
    body = await door.meeting_body(code, number)
    await door.may(caller, Action.RUN_MEETING, code, body=body)  # before reading the upload
    content = bytearray()
    async for chunk in request.stream():
        content.extend(chunk)
        if len(content) > MAX_EVIDENCE:
            raise InvalidInputError("evidence is limited to 20 MiB")
    if not content:
        raise InvalidInputError("the request body (the evidence) is empty")
    digest = await keep(store, bytes(content))
    command = c.AttachEvidence(council=code, number=number, name=name, content=bytes(content))
    await door.handle(command, caller)
    return {"name": name, "sha256": digest, "size": len(content)}


@router.get("/{number}/evidence/{sha256}")
def get_evidence(
    code: str, number: PathNumber, sha256: str, caller: Caller, app: App, store: Evidence
) -> Response:
    """Download evidence by its sha256 (checked again on the way out)."""
    reader(caller, code)
    meeting = app.meeting(code, number)
    if sha256 not in meeting.evidence or store is None:
        raise NotFoundError("no such evidence on this meeting", sha256=sha256)
    content = read_checked(store, sha256)
    if content is None:
        raise NotFoundError("the evidence file is missing from the store", sha256=sha256)
    return Response(content, media_type="application/octet-stream")
