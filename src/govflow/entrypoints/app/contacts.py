"""Settings (我的通知设置): where a member is told and whether they follow the council; and, for
the clerk and auditors, who was told of what, how (送达记录).

A form builds a :class:`~govflow.application.commands.SetContact` and hands it to the door,
which asks the policy (the member themself, or the clerk); the page decides nothing.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from govflow.application import commands as c
from govflow.domain.errors import GovflowError, InvalidInputError
from govflow.domain.policy import Action, authorize
from govflow.entrypoints.app.acting import governance
from govflow.entrypoints.app.problems import problem_text
from govflow.entrypoints.app.render import Words, lang_of, page, when
from govflow.entrypoints.app.session import AppCaller, Form, csrf
from govflow.orchestration.door import CommandDoor

router = APIRouter(prefix="/app", include_in_schema=False)

WORDS: Words = {
    "zh": {
        "settings": "通知设置",
        "intro": "议题需要您表决或评议、有新的公示、您的异议得到答复时，"
        "我们会通过这里填写的方式通知您。如果联系不上您，会改在公示栏公告。",
        "whose": "成员",
        "email": "电子邮箱",
        "gateway": "手机号或微信号（短信/微信通知）",
        "follows": "接收本社区的新公示通知",
        "save": "保存",
        "saved": "已保存。",
        "problem": "未能保存：",
        "clerk_title": "为成员设置（书记员）",
        "member_id": "成员编号",
        "deliveries": "送达记录",
        "item": "议题编号",
        "show": "查看",
        "none": "还没有送达记录。",
        "when": "时间",
        "who": "成员",
        "what": "事由",
        "how": "方式",
        "outcome": "结果",
        "notice": "新公示",
        "answer": "异议答复",
        "vote_reminder": "投票提醒",
        "rating_reminder": "评议提醒",
        "email_channel": "电子邮件",
        "gateway_channel": "短信/微信",
        "board_channel": "公示栏",
        "delivered": "已送达",
        "pending": "发送中（失败后将重试）",
        "posted_on_board": "未能送达，已改在公示栏公告",
        "no_contact": "没有联系方式",
        "undeliverable": "多次发送失败",
        "failed_times": "次失败",
    },
    "en": {
        "settings": "Notification settings",
        "intro": "We tell you here when an item needs your vote or rating, when a notice is "
        "posted, and when your objection is answered. If you cannot be reached, the board "
        "tells you instead.",
        "whose": "Member",
        "email": "E-mail",
        "gateway": "Mobile number or WeChat id (SMS/WeChat)",
        "follows": "Tell me of the council's new notices",
        "save": "Save",
        "saved": "Saved.",
        "problem": "Not saved: ",
        "clerk_title": "Set a member's contact (clerk)",
        "member_id": "Member id",
        "deliveries": "Deliveries",
        "item": "Item no.",
        "show": "Show",
        "none": "Nothing delivered yet.",
        "when": "When",
        "who": "Member",
        "what": "About",
        "how": "How",
        "outcome": "Outcome",
        "notice": "New notice",
        "answer": "Objection answered",
        "vote_reminder": "Vote reminder",
        "rating_reminder": "Rating reminder",
        "email_channel": "E-mail",
        "gateway_channel": "SMS/WeChat",
        "board_channel": "Board",
        "delivered": "Delivered",
        "pending": "Sending (retried after a failure)",
        "posted_on_board": "Not reached: posted on the board instead",
        "no_contact": "no contact",
        "undeliverable": "every attempt failed",
        "failed_times": "failed",
    },
}


async def _settings_page(
    request: Request,
    caller: AppCaller,
    member: str,
    *,
    problem: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    app = governance(request)
    if member != caller.holder:  # seeing another's contact: the same rule as setting it
        council = await run_in_threadpool(app.council_to_read, caller.council)
        found = council.members.get(member)
        authorize(
            caller, Action.SET_CONTACT, caller.council,
            owner=(member, found.enrolment if found else None),
        )  # fmt: skip
    contact = await run_in_threadpool(app.get_contact, caller.council, member)
    return page(
        request,
        "app/settings.html",
        WORDS,
        status=status,
        caller=caller,
        contact=contact,
        csrf=csrf(request),
        saved=request.query_params.get("saved") == "1",
        problem=problem,
        is_clerk=caller.is_clerk,
        sees_deliveries=caller.is_clerk or caller.is_auditor,
    )


@router.get("/settings")
async def settings(request: Request, caller: AppCaller) -> HTMLResponse:
    return await _settings_page(request, caller, request.query_params.get("member", caller.holder))


@router.post("/settings")
async def set_contact(request: Request, caller: AppCaller, form: Form) -> Response:
    member = form.get("member_id") or caller.holder
    door: CommandDoor = request.app.state.door
    try:
        try:
            command = c.SetContact(
                council=caller.council,
                member_id=member,
                email=form.get("email", "").strip(),
                gateway=form.get("gateway", "").strip(),
                follows=form.get("follows") == "yes",
            )
        except ValidationError as invalid:
            raise InvalidInputError(str(invalid.errors()[0]["msg"])) from None
        await door.handle(command, caller)
    except GovflowError as refused:
        text = problem_text(refused, lang_of(request))
        shown = caller.holder if refused.status == 403 else member
        return await _settings_page(request, caller, shown, problem=text, status=refused.status)
    query = {"saved": "1", **({"member": member} if member != caller.holder else {})}
    return RedirectResponse(f"/app/settings?{urlencode(query)}", status_code=303)


@router.get("/deliveries")
async def deliveries(request: Request, caller: AppCaller) -> HTMLResponse:
    app = governance(request)
    raw = request.query_params.get("number", "")
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 16 else None
    rows = await run_in_threadpool(
        lambda: app.list_deliveries_as(caller, caller.council, number=number)
    )
    council = await run_in_threadpool(app.council_to_read, caller.council)
    names = {
        m: council.members[m].name for m in {r.recipient for r in rows} if m in council.members
    }
    return page(
        request,
        "app/deliveries.html",
        WORDS,
        caller=caller,
        rows=rows,
        names=names,
        number=number,
        at=lambda moment: when(moment, council.timezone),
    )
