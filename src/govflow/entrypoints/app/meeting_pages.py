"""What the meetings pages show (``/app/meetings``): the list with the form to schedule one,
and a meeting's record with the forms of those who run it; shown again, with the refusal and
what was filled in, after a refused form (:mod:`.meetings` holds the routes and forms).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from govflow.application.meeting_record import MeetingRecord, body_roll, read_meeting
from govflow.application.roll_csv import BODY_NAMES
from govflow.domain.council import Body
from govflow.domain.errors import GovflowError
from govflow.domain.policy import Action, Principal, authorize
from govflow.domain.procedure import Proxies
from govflow.entrypoints.app.acting import allows, door_of, form_page, governance
from govflow.entrypoints.app.items import may_appoint_proxy
from govflow.entrypoints.app.render import Words, lang_of, when
from govflow.entrypoints.board import describe_threshold

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
        "proxies": "委托出席",
        "proxy_why": "不能亲自出席时，可以委托本组织的另一位成员代为出席，"
        "并上传签字的委托书扫描件。记录出席情况后不能再委托或撤销。",
        "proxy_cap": "每位受托人最多代 {cap} 人出席。",
        "appoint_proxy": "委托他人出席",
        "proxy_member": "受托人",
        "proxy_form": "委托书扫描件",
        "choose_member": "请选择",
        "appoint_button": "提交委托",
        "my_proxy": "您已委托 {name} 代为出席。",
        "revoke_proxy": "撤销委托",
        "revoke_for": "撤销 {name} 的委托",
        "paper_proxy": "登记纸质委托书（书记员）",
        "principal": "委托人",
        "paper_button": "登记委托",
        "appointments": "委托情况",
        "appointment": "{principal} 委托 {proxy} 代为出席",
        "appointment_used": "已计入出席",
        "appointments_none": "尚无委托",
        "present_with_proxies": "实到 {n} 人，其中委托出席 {m} 人",
        "attended_for": "{proxy} 代 {principal} 出席",
        "done_proxy": "委托已记录。",
        "done_revoke_proxy": "委托已撤销。",
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
        "proxies": "Attending by proxy",
        "proxy_why": "If you cannot attend, appoint another member of the body to attend for you "
        "and upload the scan of your signed proxy form (委托书). Once attendance is recorded, no "
        "appointment can be made or revoked.",
        "proxy_cap": "A proxy may attend for at most {cap} member(s).",
        "appoint_proxy": "Appoint a proxy to attend",
        "proxy_member": "Your proxy",
        "proxy_form": "Scan of the signed proxy form",
        "choose_member": "Choose",
        "appoint_button": "Appoint",
        "my_proxy": "{name} will attend for you.",
        "revoke_proxy": "Revoke the appointment",
        "revoke_for": "Revoke {name}'s appointment",
        "paper_proxy": "Record a paper proxy form (clerk)",
        "principal": "Member",
        "paper_button": "Record the appointment",
        "appointments": "Appointments",
        "appointment": "{proxy} attends for {principal}",
        "appointment_used": "counted at attendance",
        "appointments_none": "No appointments",
        "present_with_proxies": "{n} present, {m} of them by proxy",
        "attended_for": "{proxy} attended for {principal}",
        "done_proxy": "The appointment is recorded.",
        "done_revoke_proxy": "The appointment is revoked.",
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
    expected = [mid for mid, _ in roll if mid not in record.excused]
    proxies = await asyncio.to_thread(_proxies, request, caller, record, expected, who)
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
        proxies=proxies,
    )


def _proxies(
    request: Request,
    caller: Principal,
    record: MeetingRecord,
    roll: list[str],
    who: dict[str, str],
) -> dict[str, Any]:
    """What the page shows of proxies for the meeting (委托出席): the appointments (the clerk
    and auditors see all, others those they made or hold), the forms the policy would let the
    caller use while attendance is not recorded and the procedure allows proxies, and after
    attendance who attended for whom (blocking; ``roll``: the body's roll less those excused)."""
    app, door, code, number = governance(request), door_of(request), caller.council, record.number
    try:
        allowed = door.meeting_proxies(code, number)
    except GovflowError:  # the item's procedure is not loaded here: no forms, the record stays
        allowed = Proxies()
    everyone = allows(caller, Action.EXPORT, code)
    live = app.meeting_appointments(code, number)
    present = record.present
    by_proxy = app.get_meeting(code, number).by_proxy if present is not None else {}
    open_ = allowed.allowed and present is None
    mine = live.get(caller.holder)
    forms: set[str] = set()
    if open_ and mine is None and caller.holder in roll and may_appoint_proxy(caller):
        forms.add("appoint")
    if open_ and mine is not None and not mine.used and may_appoint_proxy(caller):
        forms.add("revoke")
    if open_ and allows(caller, Action.APPOINT_PROXY, code):  # the clerk: a paper 委托书
        forms.add("paper")
    return {
        "shown": allowed.allowed or bool(live) or bool(by_proxy),
        "cap": allowed.cap,
        "forms": forms,
        "mine": who.get(mine.proxy, mine.proxy) if mine is not None else None,
        "appointments": [
            {
                "principal": a.principal,
                "principal_name": who.get(a.principal, a.principal),
                "proxy_name": who.get(a.proxy, a.proxy),
                "used": a.used,
            }
            for _, a in sorted(live.items())
            if everyone or caller.holder in (a.principal, a.proxy)
        ],
        "candidates": [(mid, who.get(mid, mid)) for mid in roll if mid != caller.holder],
        "roll": [(mid, who.get(mid, mid)) for mid in roll],
        "attended": len(present or ()) + len(by_proxy),
        "by_proxy": len(by_proxy),
        "attended_for": [
            (who.get(principal, principal), who.get(proxy, proxy))
            for principal, proxy in sorted(by_proxy.items())
        ]
        if everyone
        else [],
    }
