"""Meetings (``/app/meetings``): schedule one, give its notice, excuse members, take attendance
by tapping names, record motions with their counts and the minutes, and upload the scanned
sign-in sheet (kept by its sha256). The chair of the meeting's body or the clerk acts (the
clerk alone excuses); every member reads the record. Before attendance, where the procedure of
the meeting's item allows it, a member of the body appoints a proxy to attend for them on the
scan of the signed 委托书 (委托出席), or revokes them; the clerk records a paper one. Each form
is one command to the door.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from govflow.application import commands as c
from govflow.domain.errors import GovflowError, InvalidInputError
from govflow.domain.policy import Action, Principal, authorize
from govflow.entrypoints.app.acting import (
    act,
    again_with,
    back_to,
    created,
    door_of,
    governance,
    many,
    optional,
    refusal,
)
from govflow.entrypoints.app.files import keep_file, kept_file
from govflow.entrypoints.app.meeting_pages import list_page, meeting_page
from govflow.entrypoints.app.render import lang_of
from govflow.entrypoints.app.session import AppCaller, Form
from govflow.entrypoints.routes.meetings import MAX_EVIDENCE

router = APIRouter(prefix="/app/meetings", include_in_schema=False)

# The guard lets this upload be as large as the API's raw evidence upload (guard.UPLOADS).
MAX_SHEET = MAX_EVIDENCE


@router.get("")
async def meetings(request: Request, caller: AppCaller) -> HTMLResponse:
    return await list_page(request, caller)


def _scheduled_for(date: str, time: str, timezone: str) -> datetime | str:
    """The local date and time in the council's zone (else the text, for the command to
    refuse in words)."""
    try:
        return datetime.fromisoformat(f"{date}T{time}").replace(tzinfo=ZoneInfo(timezone))
    except ValueError:
        return f"{date} {time}"


@router.post("")
async def schedule(request: Request, caller: AppCaller, form: Form) -> Response:
    """Schedule a meeting (fields: number, body, kind, title, date, time, notice_days, rule as
    ``procedure:rule``, issue_number)."""
    council = await asyncio.to_thread(governance(request).get_council, caller.council)

    def build() -> c.Command:
        rule_of, _, rule = form.get("rule", "").partition(":")
        fields: dict[str, Any] = {
            "council": caller.council,
            "number": form.get("number", ""),
            "body": form.get("body", ""),
            "kind": form.get("kind", "") or "议事会议",
            "title": form.get("title", "").strip(),
            "scheduled_for": _scheduled_for(
                form.get("date", ""), form.get("time", ""), council.timezone
            ),
            "notice_days_required": form.get("notice_days", "") or 0,
            "rule_of": rule_of,
            "rule": rule,
        }
        return c.ScheduleMeeting(**optional(fields, form, "issue_number"))

    again = again_with(list_page, request, caller, form=form)
    done = created("/app/meetings", form)
    return await act(request, caller, build, done=done, again=again, confirm="scheduled")


@router.get("/{number}")
async def meeting(request: Request, caller: AppCaller, number: int) -> HTMLResponse:
    return await meeting_page(request, caller, number)


async def _act(
    request: Request,
    caller: Principal,
    number: int,
    build: Callable[[], c.Command],
    confirm: str,
    form: dict[str, Any],
) -> Response:
    """Hand a meeting's command to the door: back to the meeting with ``confirm``, or the
    meeting again with the refusal and what was filled in."""
    again = again_with(meeting_page, request, caller, number, form=form)
    done = f"/app/meetings/{number}"
    return await act(request, caller, build, done=done, again=again, confirm=confirm)


@router.post("/{number}/notice")
async def notice(request: Request, caller: AppCaller, form: Form, number: int) -> Response:
    """Give the meeting's notice (no fields)."""

    def build() -> c.Command:
        return c.GiveMeetingNotice(council=caller.council, number=number)

    return await _act(request, caller, number, build, "notice", form)


@router.post("/{number}/excuse")
async def excuse(request: Request, caller: AppCaller, form: Form, number: int) -> Response:
    """Excuse a member of the body's roll (fields: member_id, reason)."""

    def build() -> c.Command:
        return c.ExcuseMember(
            council=caller.council,
            number=number,
            member_id=form.get("member_id", ""),
            reason=form.get("reason", "").strip(),
        )

    return await _act(request, caller, number, build, "excused", form)


@router.post("/{number}/attendance")
async def attendance(request: Request, caller: AppCaller, form: Form, number: int) -> Response:
    """Record who attended (field: present, once per person tapped)."""
    present = await many(request, "present")

    def build() -> c.Command:
        return c.RecordAttendance(council=caller.council, number=number, present=tuple(present))

    return await _act(request, caller, number, build, "attendance", {**form, "present": present})


@router.post("/{number}/motions")
async def motion(request: Request, caller: AppCaller, form: Form, number: int) -> Response:
    """Record a motion with its counts (fields: text, yes, no, abstain)."""

    def build() -> c.Command:
        return c.RecordMotion(
            council=caller.council,
            number=number,
            text=form.get("text", "").strip(),
            yes=form.get("yes", ""),
            no=form.get("no", ""),
            abstain=form.get("abstain", "") or 0,
        )

    return await _act(request, caller, number, build, "motion", form)


@router.post("/{number}/minutes")
async def minutes(request: Request, caller: AppCaller, form: Form, number: int) -> Response:
    """Record the minutes (field: minutes)."""

    def build() -> c.Command:
        return c.RecordMinutes(
            council=caller.council, number=number, text=form.get("minutes", "").strip()
        )

    return await _act(request, caller, number, build, "minutes", form)


@router.post("/{number}/proxy")
async def proxy(request: Request, caller: AppCaller, form: Form, number: int) -> Response:
    """Appoint a proxy to attend for a member (fields: proxy, proxy_form (the 委托书's scan),
    principal (the clerk, recording a paper one; default: the caller)). The scan is kept by
    its sha256 once the policy would let the caller appoint for the principal; the door
    decides the rest (the procedure, the roll, the cap, attendance not yet taken)."""
    again = again_with(meeting_page, request, caller, number, form=form)
    principal = form.get("principal", "").strip() or None
    try:
        owner = (principal or caller.holder, None)
        await door_of(request).may(caller, Action.APPOINT_PROXY, caller.council, owner=owner)
        upload = (await request.form()).get("proxy_form")
        content = await upload.read(MAX_SHEET + 1) if isinstance(upload, UploadFile) else b""
        if not content:
            raise InvalidInputError("upload the scan of the signed 委托书", field="proxy_form")
        if len(content) > MAX_SHEET:
            raise InvalidInputError("the file is too large", field="proxy_form")
        digest = await keep_file(request, content)
    except GovflowError as error:
        return await again(*refusal(error, lang_of(request)))

    def build() -> c.Command:
        return c.AppointMeetingProxy(
            council=caller.council,
            number=number,
            proxy=form.get("proxy", ""),
            proxy_form_sha256=digest,
            principal=principal,
        )

    return await _act(request, caller, number, build, "proxy", form)


@router.post("/{number}/proxy/revoke")
async def revoke_proxy(request: Request, caller: AppCaller, form: Form, number: int) -> Response:
    """Revoke an appointment before attendance (field: principal, for the clerk; default:
    the caller)."""

    def build() -> c.Command:
        principal = form.get("principal", "").strip() or None
        return c.RevokeMeetingProxy(council=caller.council, number=number, principal=principal)

    return await _act(request, caller, number, build, "revoke_proxy", form)


def _file_name(given: str, upload: UploadFile) -> str:
    name = given.strip() or (upload.filename or "")
    # A browser may send the client's path: keep the last part only.
    return PureWindowsPath(PurePosixPath(name).name).name.strip()


@router.post("/{number}/evidence")
async def evidence(request: Request, caller: AppCaller, form: Form, number: int) -> Response:
    """Upload the scanned sign-in sheet (fields: sheet (the file), name); kept by its sha256
    in the evidence store, its digest recorded on the meeting."""
    again = again_with(meeting_page, request, caller, number, form=form)
    lang = lang_of(request)
    door = door_of(request)
    try:
        body = await door.meeting_body(caller.council, number)
        await door.may(caller, Action.RUN_MEETING, caller.council, body=body)
        upload = (await request.form()).get("sheet")
        if not isinstance(upload, UploadFile):
            raise InvalidInputError("choose the file to upload")
        content = await upload.read(MAX_SHEET + 1)
        if not content:
            raise InvalidInputError("the file is empty")
        if len(content) > MAX_SHEET:
            raise InvalidInputError("the file is too large")
        command = c.AttachEvidence(
            council=caller.council,
            number=number,
            name=_file_name(form.get("name", ""), upload),
            content=content,
        )
        await keep_file(request, content)
        await door.handle(command, caller)
    except (GovflowError, ValidationError) as error:
        return await again(*refusal(error, lang))
    return RedirectResponse(f"/app/meetings/{number}?done=evidence#evidence", status_code=303)


@router.get("/{number}/evidence/{sha256}")
async def download(request: Request, caller: AppCaller, number: int, sha256: str) -> Response:
    """A file attached to the meeting, by its sha256 (checked again on the way out)."""
    authorize(caller, Action.READ, caller.council)
    meeting = await asyncio.to_thread(governance(request).meeting, caller.council, number)
    content = await kept_file(request, sha256, meeting.evidence, "meeting")
    name = meeting.evidence[sha256]
    return Response(
        content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",  # an uploaded page never runs on our origin
        },
    )


@router.get("/{number}/{form_name}")
async def form_address(
    request: Request, caller: AppCaller, number: int, form_name: str
) -> Response:
    return back_to(request, f"/app/meetings/{number}")
