"""Ballot receipts (投票回执): shown after voting to keep, and checked later against the tally.

The check is the API's (``check_receipt``): the ballot is in the log where the receipt says
and, once tallied, inside the range the tally counted. Once the log is sealed past the record,
the page also says which checkpoint includes it (the proof checked here with the log's key,
:func:`govflow.application.log_receipts.inclusion_of`) and offers the checkpoint's note and the
proof to download for ``govflow verify-proof``. It never shows the choice: a secret vote's
choice record, or an open vote's ballot, is proved by its commitment only.
"""

from __future__ import annotations

from functools import partial
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from govflow.application.log_receipts import (
    LogInclusion,
    LogKeyMissingError,
    inclusion_of,
)
from govflow.application.views import ReceiptCheck
from govflow.domain.errors import GovflowError, NotFoundError
from govflow.domain.policy import Action
from govflow.entrypoints.app.acting import governance, refusal
from govflow.entrypoints.app.render import Words, lang_of, page
from govflow.entrypoints.app.session import AppCaller
from govflow.orchestration.door import CommandDoor
from govflow.transparency import Verifier

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
        "log_title": "可验证日志",
        "included": "已收录于第 {n} 号检查点",
        "verified": "本站已用日志公钥核对过这份收录证明。",
        "not_sealed": "尚未封存，稍后再核对。",
        "download_note": "下载检查点",
        "download_proof": "下载收录证明",
        "yourself": "自己核对：下载这两个文件，运行",
        "commitment_only": "证明中只有这条记录的承诺值，不含您的选择。",
        "log_no_key": "本站没有配置日志公钥，无法核对收录。",
        "log_failed": "收录证明未能通过核对，请联系管理员。",
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
        "log_title": "Verifiable log",
        "included": "Included in checkpoint {n}",
        "verified": "This server checked the inclusion proof with the log's public key.",
        "not_sealed": "Not sealed yet: check again later.",
        "download_note": "Download the checkpoint",
        "download_proof": "Download the inclusion proof",
        "yourself": "To check it yourself, download both files and run",
        "commitment_only": "The proof holds only this record's commitment, not your choice.",
        "log_no_key": "This server has no public key of its log: inclusion cannot be checked.",
        "log_failed": "The inclusion proof did not verify: tell the administrators.",
    },
}


def _whole(value: str | None) -> int | None:
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def log_keys(request: Request) -> list[Verifier]:
    """The log's public key the server was given (none: proofs cannot be checked here)."""
    key: str | None = getattr(request.app.state, "log_public_key", None)
    return [Verifier.from_vkey(key)] if key else []


async def _inclusion(
    request: Request, council: str, position: int
) -> tuple[LogInclusion | None, str | None]:
    """The receipt's record in the log's newest checkpoint, or why it could not be checked."""
    t = WORDS[lang_of(request)]
    try:
        found = await run_in_threadpool(
            partial(inclusion_of, council=council),
            governance(request),
            position,
            log_keys(request),
        )
    except LogKeyMissingError:
        return None, t["log_no_key"]
    except GovflowError:
        return None, t["log_failed"]
    return found, None


@router.get("/receipts")
async def receipts(request: Request, caller: AppCaller) -> HTMLResponse:
    """A receipt (``number``, ``ballot_id``, ``notification_id``) and what checking it found;
    without them, the form to enter one."""
    params = request.query_params
    number = _whole(params.get("number"))
    position = _whole(params.get("notification_id"))
    raw_ballot = (params.get("ballot_id") or "").strip()
    check: ReceiptCheck | None = None
    inclusion: LogInclusion | None = None
    problem = log_problem = None
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
            if check.in_log:
                inclusion, log_problem = await _inclusion(request, caller.council, position)
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
        inclusion=inclusion,
        log_problem=log_problem,
        log_key=getattr(request.app.state, "log_public_key", None),
        new=params.get("new") == "1",
    )


@router.get("/receipts/proof.json")
async def receipt_proof(request: Request, caller: AppCaller) -> Response:
    """The inclusion proof of a receipt's record in the checkpoint of ``size`` leaves, as
    ``/v1/log/proofs/inclusion`` serves it with the record's line (its commitment only for a
    withheld choice), to download for ``govflow verify-proof``. Only for a receipt that checks
    (the ballot is in the log where it says)."""
    params = request.query_params
    number = _whole(params.get("number"))
    position = _whole(params.get("notification_id"))
    size = _whole(params.get("size"))
    door: CommandDoor = request.app.state.door
    app = governance(request)
    await door.may(caller, Action.READ, caller.council)
    try:
        ballot = UUID((params.get("ballot_id") or "").strip())
    except ValueError:
        ballot = None
    if not (number and position and size and ballot):
        raise NotFoundError("no such receipt")
    check = await run_in_threadpool(app.check_receipt, caller.council, number, ballot, position)
    if not check.in_log:
        raise NotFoundError("no such receipt", notification_id=position)
    found = await run_in_threadpool(
        partial(inclusion_of, council=caller.council, size=size), app, position, log_keys(request)
    )
    return Response(
        found.proof_json(),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="proof-{position}-{size}.json"'},
    )
