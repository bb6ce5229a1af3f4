"""Ballot receipts (投票回执): shown after voting to keep, and checked later against the tally.

The check is the API's (``check_receipt``): the ballot is in the log where the receipt says
and, once tallied, inside the range the tally counted. It never shows the choice.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from govflow.application.views import ReceiptCheck
from govflow.domain.errors import GovflowError
from govflow.domain.policy import Action
from govflow.entrypoints.app.acting import governance, refusal
from govflow.entrypoints.app.render import Words, lang_of, page
from govflow.entrypoints.app.session import AppCaller
from govflow.orchestration.door import CommandDoor

router = APIRouter(prefix="/app", include_in_schema=False)

WORDS: Words = {
    "zh": {
        "receipts": "投票回执",
        "keep": "投票成功。请保存这张回执（截图或抄下），以后可以核对您的票是否被计入。",
        "item": "议题编号",
        "ballot_id": "选票编号",
        "notification_id": "日志位置",
        "check": "核对",
        "check_title": "核对一张回执",
        "result": "核对结果",
        "in_log": "选票在日志中",
        "tallied": "已计票",
        "counted": "已计入结果",
        "yes_word": "是",
        "no_word": "否",
        "not_yet": "表决尚未结束，结束后即可核对是否计入。",
        "not_found": "日志中在此位置没有这张选票：请检查回执的内容。",
        "counted_ok": "您的选票已计入表决结果。",
        "not_counted": "您的选票在日志中，但不在计票范围内。",
        "problem": "未能核对：",
        "no_choice": "回执不显示您的选择：只有您自己知道。",
        "back": "返回议题",
    },
    "en": {
        "receipts": "Ballot receipt",
        "keep": "Your vote is cast. Keep this receipt (a screenshot or a note) to check later "
        "that your ballot was counted.",
        "item": "Item no.",
        "ballot_id": "Ballot id",
        "notification_id": "Log position",
        "check": "Check",
        "check_title": "Check a receipt",
        "result": "Result",
        "in_log": "In the log",
        "tallied": "Tallied",
        "counted": "Counted",
        "yes_word": "yes",
        "no_word": "no",
        "not_yet": "Voting has not closed yet; once it has, check whether your ballot counted.",
        "not_found": "No such ballot at that position in the log: check the receipt.",
        "counted_ok": "Your ballot was counted in the result.",
        "not_counted": "Your ballot is in the log but outside the counted range.",
        "problem": "Could not check: ",
        "no_choice": "A receipt never shows your choice: only you know it.",
        "back": "Back to the item",
    },
}


def _whole(value: str | None) -> int | None:
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


@router.get("/receipts")
async def receipts(request: Request, caller: AppCaller) -> HTMLResponse:
    """A receipt (``number``, ``ballot_id``, ``notification_id``) and what checking it found;
    without them, the form to enter one."""
    params = request.query_params
    number = _whole(params.get("number"))
    position = _whole(params.get("notification_id"))
    raw_ballot = (params.get("ballot_id") or "").strip()
    check: ReceiptCheck | None = None
    problem = None
    status = 200
    if number and position and raw_ballot:
        door: CommandDoor = request.app.state.door
        app = governance(request)
        try:
            await door.may(caller, Action.READ, caller.council)
            ballot = UUID(raw_ballot)
            await run_in_threadpool(app.issue, caller.council, number)
            check = await run_in_threadpool(
                app.check_receipt, caller.council, number, ballot, position
            )
        except ValueError:
            problem, status = WORDS[lang_of(request)]["not_found"], 422
        except GovflowError as error:
            problem, status = refusal(error, lang_of(request))
    return page(
        request,
        "app/receipt.html",
        WORDS,
        status=status,
        caller=caller,
        number=number,
        ballot_id=raw_ballot,
        notification_id=position,
        check=check,
        problem=problem,
        new=params.get("new") == "1",
    )
