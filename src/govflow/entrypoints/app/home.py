"""The app's front page, my tasks: what the signed-in person may do now, with deadlines in
the council's time zone and the time left; and the parts of the app their roles open."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from govflow.application.tasks import get_tasks
from govflow.domain.policy import Action, Principal
from govflow.entrypoints.app.acting import allows, door_of, governance
from govflow.entrypoints.app.item_read import procedure_of, stage_titles
from govflow.entrypoints.app.render import Words, lang_of, page, time_left, when
from govflow.entrypoints.app.session import AppCaller
from govflow.entrypoints.board import plain

router = APIRouter(prefix="/app", include_in_schema=False)

WORDS: Words = {
    "zh": {
        "nothing": "目前没有需要您处理的事项。",
        "vote": "投票",
        "discuss": "发表意见（群议）",
        "object": "可对公示提出异议",
        "rate": "评议实施结果",
        "chair_stage": "主持：结束阶段或记录决议",
        "answer_objections": "主持：答复异议",
        "grid_item": "网格待办",
        "order_act": "限期整改：报告整改完成",
        "order_verify": "限期整改：核验整改",
        "order": "整改通知",
        "item": "议题",
        "deadline": "截止",
        "more": "更多",
        "items": "全部议题",
        "propose": "提出议题",
        "settings": "通知设置",
        "sessions": "登录设备",
        "roll": "名册",
        "meetings": "会议",
        "invitations": "邀请成员",
        "spending": "资金支出",
        "funds": "资金台账",
        "orders": "限期整改",
        "receipts": "核对投票回执",
        "timezone": "时间均为本会所在时区",
    },
    "en": {
        "nothing": "Nothing is waiting for you now.",
        "vote": "Vote",
        "discuss": "Give your opinion (discussion)",
        "object": "Objections open on a notice",
        "rate": "Rate the result",
        "chair_stage": "Chair: close the stage or record the resolution",
        "answer_objections": "Chair: answer objections",
        "grid_item": "At your grid's station",
        "order_act": "Rectification: report it done",
        "order_verify": "Rectification: verify it",
        "order": "Order",
        "item": "Item",
        "deadline": "Deadline",
        "more": "More",
        "items": "All items",
        "propose": "Propose an item",
        "settings": "Notification settings",
        "sessions": "Signed-in devices",
        "roll": "The roll",
        "meetings": "Meetings",
        "invitations": "Invite members",
        "spending": "Spending",
        "funds": "Funds",
        "orders": "Rectification orders",
        "receipts": "Check a ballot receipt",
        "timezone": "Times are in the council's time zone",
    },
}


# Where on the item's page each task is done.
ANCHORS = {"chair_stage": "chair", "answer_objections": "chair", "grid_item": "summary"}


def links(caller: Principal) -> list[tuple[str, str]]:
    """The other parts of the app that ``caller`` may act in, as the policy says: (path, word
    key). Members read the roll, meetings and spending on the items' pages and the board."""
    code = caller.council
    found = [("/app/items", "items"), ("/app/propose", "propose"), ("/app/receipts", "receipts")]
    if allows(caller, Action.KEEP_ROLL, code):
        found.append(("/app/roll", "roll"))
    if allows(caller, Action.EXCUSE_MEMBER, code) or caller.chairs:
        found.append(("/app/meetings", "meetings"))  # the clerk, or the chair of a body
    if allows(caller, Action.INVITE, code):
        found.append(("/app/invitations", "invitations"))
    if allows(caller, Action.REQUEST_SPENDING, code):  # members request, officers pay
        found.append(("/app/spending", "spending"))
    if allows(caller, Action.READ, code):  # every line of every fund, for everyone
        found.append(("/app/funds", "funds"))
        found.append(("/app/orders", "orders"))  # 限期整改: public, like the board
    return [*found, ("/app/settings", "settings"), ("/app/sessions", "sessions")]


@router.get("/")
async def home(request: Request, caller: AppCaller) -> HTMLResponse:
    app = governance(request)
    procedures = door_of(request).procedures
    lang = lang_of(request)
    tasks = await run_in_threadpool(get_tasks, app, caller, procedures)
    rows = []
    for task in tasks.tasks:
        titles = stage_titles(procedure_of(procedures, task.procedure), [], lang)
        rows.append(
            {
                "task": task,
                "stage": titles.get(task.stage or "", plain(task.stage, lang))
                if task.stage
                else "",
                "deadline": when(task.deadline, tasks.timezone) if task.deadline else "",
                "left": time_left(task.deadline, tasks.now, lang),
                "anchor": ANCHORS.get(task.kind, task.kind),
            }
        )
    return page(request, "app/home.html", WORDS, caller=caller, rows=rows, links=links(caller))
