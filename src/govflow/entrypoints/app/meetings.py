"""Meetings (``/app/meetings``): schedule one, give its notice, excuse members, take attendance
by tapping names, record motions with their counts and the minutes, and upload the scanned
sign-in sheet (kept by its sha256). The chair of the meeting's body or the clerk acts (the
clerk alone excuses); every member reads the record. Each form is one command to the door.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import datetime
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from govflow.application import commands as c
from govflow.application.meeting_record import body_roll, read_meeting
from govflow.application.roll_csv import BODY_NAMES
from govflow.domain.council import Body
from govflow.domain.errors import GovflowError, InvalidInputError, NotFoundError
from govflow.domain.policy import Action, Principal, authorize
from govflow.entrypoints.app.acting import (
    act,
    again_with,
    allows,
    back_to,
    created,
    door_of,
    form_page,
    governance,
    many,
    optional,
    refusal,
)
from govflow.entrypoints.app.render import Words, lang_of, when
from govflow.entrypoints.app.session import AppCaller, Form
from govflow.entrypoints.board import describe_threshold
from govflow.entrypoints.evidence import store_evidence
from govflow.entrypoints.routes.meetings import MAX_EVIDENCE

router = APIRouter(prefix="/app/meetings", include_in_schema=False)

# The guard lets this upload be as large as the API's raw evidence upload (guard.UPLOADS).
MAX_SHEET = MAX_EVIDENCE

KINDS: list[tuple[str, str]] = [
    ("议事会议", "council meeting"),
    ("民情恳谈", "listening forum"),
    ("事务协调", "coordination meeting"),
    ("工作听证", "hearing"),
    ("成效评议", "evaluation meeting"),
    ("党员大会", "party members' assembly"),
]

WORDS: Words = {
    "zh": {
        "title": "会议",
        "meeting": "会议",
        "none_yet": "还没有会议。",
        "schedule": "安排会议",
        "number": "会议编号",
        "body": "召开会议的组织",
        "kind": "会议类型",
        "meeting_title": "会议名称",
        "date": "日期",
        "time": "时间",
        "tz_note": "按本社区所在时区",
        "notice_days": "须提前通知的天数",
        "rule": "表决规则",
        "issue_number": "所议议题编号（可不填）",
        "schedule_button": "安排会议",
        "scheduled_for": "会议时间",
        "scheduled_by": "安排人",
        "notice": "会议通知",
        "give_notice": "发出会议通知",
        "notice_given": "已于 {at} 发出通知",
        "notice_met": "满足提前通知的要求",
        "notice_not_met": "未满足提前 {days} 天通知的要求",
        "notice_none": "尚未发出通知",
        "excused": "请假",
        "excuse": "登记请假（书记员）",
        "excuse_member": "请假人员",
        "reason": "请假理由",
        "excuse_button": "登记请假",
        "attendance": "出席情况",
        "tap_names": "请点选出席的人员",
        "attendance_button": "记录出席",
        "attendance_none": "尚未记录出席",
        "present": "实到",
        "expected": "应到",
        "of_record": "名册人数",
        "quorum": "法定人数",
        "met": "已达到",
        "not_met": "未达到",
        "motions": "表决事项",
        "motion": "第 {no} 项",
        "motion_text": "表决事项内容",
        "yes": "赞成",
        "no": "反对",
        "abstain": "弃权",
        "passed": "通过",
        "failed": "未通过",
        "motion_button": "记录表决",
        "motions_none": "尚无表决事项",
        "minutes": "会议记录",
        "minutes_text": "会议记录内容",
        "minutes_button": "保存会议记录",
        "minutes_none": "尚无会议记录",
        "evidence": "签到表等附件",
        "upload": "上传签到表（扫描件或照片）",
        "upload_file": "选择文件",
        "upload_name": "文件名称（可不填）",
        "upload_button": "上传",
        "upload_limit": "文件最大 950 KB。",
        "sha256": "SHA-256 校验值",
        "download": "下载",
        "evidence_none": "尚无附件",
        "back": "返回会议列表",
        "runs": "本会议由该组织的主持人或书记员记录。",
        "no_procedures": "服务器未加载议事规则，暂时不能安排会议。",
        "done_scheduled": "会议已安排。",
        "done_notice": "会议通知已发出。",
        "done_excused": "已登记请假。",
        "done_attendance": "已记录出席情况。",
        "done_motion": "已记录表决结果。",
        "done_minutes": "已保存会议记录。",
        "done_evidence": "附件已上传。",
        "item": "所议议题",
    },
    "en": {
        "title": "Meetings",
        "meeting": "Meeting",
        "none_yet": "No meetings yet.",
        "schedule": "Schedule a meeting",
        "number": "Meeting number",
        "body": "Body meeting",
        "kind": "Kind of meeting",
        "meeting_title": "Title",
        "date": "Date",
        "time": "Time",
        "tz_note": "in the council's time zone",
        "notice_days": "Days of notice required",
        "rule": "Voting rule",
        "issue_number": "Item number (optional)",
        "schedule_button": "Schedule",
        "scheduled_for": "When",
        "scheduled_by": "Scheduled by",
        "notice": "Notice",
        "give_notice": "Give notice of the meeting",
        "notice_given": "Notice given {at}",
        "notice_met": "the notice period is met",
        "notice_not_met": "the {days} days' notice period is not met",
        "notice_none": "No notice given yet",
        "excused": "Excused",
        "excuse": "Excuse a member (clerk)",
        "excuse_member": "Member",
        "reason": "Reason",
        "excuse_button": "Excuse",
        "attendance": "Attendance",
        "tap_names": "Tap the names of those present",
        "attendance_button": "Record attendance",
        "attendance_none": "Attendance not recorded yet",
        "present": "Present",
        "expected": "Expected",
        "of_record": "On the roll",
        "quorum": "Quorum",
        "met": "met",
        "not_met": "not met",
        "motions": "Motions",
        "motion": "Motion {no}",
        "motion_text": "The motion",
        "yes": "Yes",
        "no": "No",
        "abstain": "Abstain",
        "passed": "passed",
        "failed": "not passed",
        "motion_button": "Record the motion",
        "motions_none": "No motions yet",
        "minutes": "Minutes",
        "minutes_text": "Minutes",
        "minutes_button": "Save the minutes",
        "minutes_none": "No minutes yet",
        "evidence": "Sign-in sheet and other files",
        "upload": "Upload the sign-in sheet (scan or photo)",
        "upload_file": "File",
        "upload_name": "Name (optional)",
        "upload_button": "Upload",
        "upload_limit": "At most 950 KB.",
        "sha256": "SHA-256",
        "download": "Download",
        "evidence_none": "No files yet",
        "back": "Back to meetings",
        "runs": "The chair of the meeting's body or the clerk records it.",
        "no_procedures": "No procedures are loaded: meetings cannot be scheduled now.",
        "done_scheduled": "The meeting is scheduled.",
        "done_notice": "Notice is given.",
        "done_excused": "The member is excused.",
        "done_attendance": "Attendance is recorded.",
        "done_motion": "The motion is recorded.",
        "done_minutes": "The minutes are saved.",
        "done_evidence": "The file is uploaded.",
        "item": "Item",
    },
}


def _body_names(lang: str) -> dict[str, str]:
    return {b.value: n[lang == "en"] for b, n in BODY_NAMES.items()}


def _rules(request: Request, lang: str) -> list[tuple[str, str]]:
    """Each procedure's voting rules, as ``procedure:rule`` and in words."""
    procedures = door_of(request).procedures
    if procedures is None:
        return []
    found = []
    for procedure in procedures.all():
        for name, rule in procedure.rules.items():
            said = describe_threshold(rule.passes.model_dump(mode="json"), lang)
            passes = f"{'通过：' if lang == 'zh' else 'passes with '}{said}"
            found.append((f"{procedure.name}:{name}", f"{procedure.title} · {passes}"))
    return found


async def list_page(
    request: Request,
    caller: Principal,
    *,
    problem: str | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    app, code, lang = governance(request), caller.council, lang_of(request)
    authorize(caller, Action.READ, code)
    council = await asyncio.to_thread(app.get_council, code)
    rows = await asyncio.to_thread(app.list_meetings, code)
    runs = [b for b in Body if allows(caller, Action.RUN_MEETING, code, body=b.value)]
    names = _body_names(lang)
    numbers = [r.number for r in rows]
    return form_page(
        request,
        "app/meetings.html",
        WORDS,
        caller,
        problem=problem,
        status=status,
        form=form,
        rows=[
            (r, names.get(r.body, r.body), when(r.scheduled_for, council.timezone)) for r in rows
        ],
        bodies=[(b.value, names[b.value]) for b in runs],
        kinds=[(zh, zh if lang == "zh" else en) for zh, en in KINDS],
        rules=_rules(request, lang),
        next_number=max(numbers, default=0) + 1,
        timezone=council.timezone,
    )


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


async def meeting_page(
    request: Request,
    caller: Principal,
    number: int,
    *,
    problem: str | None = None,
    status: int = 200,
    form: dict[str, Any] | None = None,
) -> HTMLResponse:
    app, code, lang = governance(request), caller.council, lang_of(request)
    authorize(caller, Action.READ, code)
    council = await asyncio.to_thread(app.get_council, code)
    record = await asyncio.to_thread(read_meeting, app, code, number)
    roll = await asyncio.to_thread(body_roll, app, code, Body(record.body))
    who = dict(roll) | {m.member_id: m.name for m in council.members}
    tz = council.timezone
    rule = record.rule
    return form_page(
        request,
        "app/meeting.html",
        WORDS,
        caller,
        problem=problem,
        status=status,
        form=form,
        m=record,
        body_name=_body_names(lang).get(record.body, record.body),
        kind_name=dict(KINDS).get(record.kind, record.kind) if lang == "en" else record.kind,
        at=when(record.scheduled_for, tz),
        notice_at=when(record.notice_given_at, tz) if record.notice_given_at else None,
        rule_words={
            k: describe_threshold(v, lang)
            for k, v in rule.items()
            if k in ("quorum", "passes") and isinstance(v, dict)
        },
        roll=[(mid, name) for mid, name in roll if mid not in record.excused],
        everyone=roll,
        who=who,
        evidence=[(e, when(e.at, tz)) for e in record.evidence],
        minutes=[(when(at, tz), text) for at, text in record.minutes],
        may_run=allows(caller, Action.RUN_MEETING, code, body=record.body),
        may_excuse=allows(caller, Action.EXCUSE_MEMBER, code),
    )


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
        digest = hashlib.sha256(content).hexdigest()
        store = request.app.state.evidence_dir
        if store is not None:
            await run_in_threadpool(store_evidence, store, digest, content)
        await door.handle(command, caller)
    except (GovflowError, ValidationError) as error:
        return await again(*refusal(error, lang))
    return RedirectResponse(f"/app/meetings/{number}?done=evidence#evidence", status_code=303)


@router.get("/{number}/evidence/{sha256}")
async def download(request: Request, caller: AppCaller, number: int, sha256: str) -> Response:
    """A file attached to the meeting, by its sha256 (checked again on the way out)."""
    authorize(caller, Action.READ, caller.council)
    meeting = await asyncio.to_thread(governance(request).meeting, caller.council, number)
    store = request.app.state.evidence_dir
    if sha256 not in meeting.evidence or store is None or not (store / sha256).exists():
        raise NotFoundError("no such file on this meeting", sha256=sha256)
    content = await run_in_threadpool((store / sha256).read_bytes)
    if hashlib.sha256(content).hexdigest() != sha256:
        raise GovflowError("the stored file does not match its sha256")
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
