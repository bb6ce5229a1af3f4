"""Rectification orders (``/app/orders``, 限期整改): every member sees the council's orders;
the member ordered to act (or a chair of the body ordered) reports one done with photos as
evidence, and a chair of the ordering body accepts it or sends it back with reasons and a new
deadline. The pages show a form only where the policy would allow it; the door decides again.
"""

from __future__ import annotations

import asyncio
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from govflow.application import commands as c
from govflow.application.rectification import OrderView
from govflow.application.tasks import ORDER_ACT, ORDER_VERIFY, order_tasks
from govflow.domain.errors import GovflowError, InvalidInputError
from govflow.domain.policy import Action, Principal, authorize
from govflow.entrypoints.app.acting import act, again_with, back_to, form_page, governance
from govflow.entrypoints.app.files import keep_file
from govflow.entrypoints.app.render import Words, lang_of, when
from govflow.entrypoints.app.session import AppCaller, Form
from govflow.entrypoints.board_orders import WORDS as BOARD_WORDS
from govflow.entrypoints.board_orders import body_name, deadline_text

router = APIRouter(prefix="/app/orders", include_in_schema=False)
MAX_PHOTOS = 20

WORDS: Words = {
    "zh": {
        **BOARD_WORDS["zh"],
        "title": "限期整改",
        "yours": "需要您整改",
        "to_verify": "待您核验",
        "back": "返回整改通知列表",
        "report": "报告整改完成",
        "report_text": "整改情况",
        "photos_label": "证明材料（照片，至少一张）",
        "report_button": "提交整改情况",
        "verify": "核验整改",
        "note": "核验意见",
        "accept": "核验通过，办结",
        "reasons": "退回原因",
        "due": "新的整改期限（日期）",
        "send_back": "核验未通过，退回整改",
        "on_board": "公示栏上的这份整改通知",
        "done_reported": "已提交整改情况，待核验。",
        "done_verified": "已核验。",
    },
    "en": {
        **BOARD_WORDS["en"],
        "title": "Rectification orders",
        "yours": "yours to put right",
        "to_verify": "yours to verify",
        "back": "Back to the orders",
        "report": "Report it done",
        "report_text": "What was done",
        "photos_label": "Evidence (photos, at least one)",
        "report_button": "Report",
        "verify": "Verify",
        "note": "Note",
        "accept": "Accept: done",
        "reasons": "Why it is not done",
        "due": "New deadline (date)",
        "send_back": "Send it back",
        "on_board": "This order on the public board",
        "done_reported": "Reported: awaiting verification.",
        "done_verified": "Verified.",
    },
}


def may_complete(caller: Principal, view: OrderView, owner: tuple[str, int | None] | None) -> bool:
    """Whether the policy would let the caller report the order done (``owner``: the member
    ordered and the enrolment they were ordered under; the door decides again)."""
    if view.status != "open":
        return False
    try:
        if view.assignee_kind == "member":
            authorize(caller, Action.COMPLETE_RECTIFICATION, caller.council, owner=owner)
        else:
            authorize(caller, Action.COMPLETE_RECTIFICATION, caller.council, body=view.assignee)
    except GovflowError:
        return False
    return True


def may_verify(caller: Principal, view: OrderView) -> bool:
    """Whether the policy would let the caller verify it: a chair of the ordering body, not
    whoever reported it done (the latest step of a completed order is its completion)."""
    if view.status != "completed" or view.steps[-1].actor == caller.actor:
        return False
    try:
        authorize(caller, Action.VERIFY_RECTIFICATION, caller.council, body=view.ordered_by)
    except GovflowError:
        return False
    return True


@router.get("")
async def orders(request: Request, caller: AppCaller) -> HTMLResponse:
    app, code, lang = governance(request), caller.council, lang_of(request)
    authorize(caller, Action.READ, code)
    rows = await asyncio.to_thread(app.list_orders, code)
    council = await asyncio.to_thread(app.get_council, code)
    todo = {(t.kind, t.number) for t in await asyncio.to_thread(order_tasks, app, caller)}
    return form_page(
        request,
        "orders/app_list.html",
        WORDS,
        caller,
        rows=rows,
        names=await asyncio.to_thread(app.ordered_names, code, rows),
        body=lambda key: body_name(key, lang),
        when=lambda at: when(at, council.timezone),
        deadline=lambda at: deadline_text(at, council.timezone),
        mine=lambda r: (ORDER_ACT, r.number) in todo,  # as my tasks list them
        verifies=lambda r: (ORDER_VERIFY, r.number) in todo,
    )


async def order_page(
    request: Request,
    caller: Principal,
    number: int,
    *,
    problem: str | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    app, code, lang = governance(request), caller.council, lang_of(request)
    authorize(caller, Action.READ, code)
    view = await asyncio.to_thread(app.get_order, code, number)
    owner = await asyncio.to_thread(app.order_owner, code, number)
    council = await asyncio.to_thread(app.get_council, code)
    return form_page(
        request,
        "orders/app_order.html",
        WORDS,
        caller,
        problem=problem,
        status=status,
        form=form,
        o=view,
        names=await asyncio.to_thread(app.ordered_names, code, [view]),
        body=lambda key: body_name(key, lang),
        when=lambda at: when(at, council.timezone),
        deadline=lambda at: deadline_text(at, council.timezone),
        may_complete=may_complete(caller, view, owner),
        may_verify=may_verify(caller, view),
    )


@router.get("/{number}")
async def order(request: Request, caller: AppCaller, number: int) -> HTMLResponse:
    return await order_page(request, caller, number)


@router.post("/{number}/completion")
async def complete(request: Request, caller: AppCaller, form: Form, number: int) -> Response:
    """Report the order done (fields: text; files: photos). The photos are kept (by sha256)
    only once the policy would let the caller report it."""
    again = again_with(order_page, request, caller, number, form=form)
    app = governance(request)
    photos: list[str] = []
    try:
        view = await asyncio.to_thread(app.get_order, caller.council, number)
        owner = await asyncio.to_thread(app.order_owner, caller.council, number)
        if may_complete(caller, view, owner):
            photos = await _store_photos(request)
    except GovflowError as error:
        return await again(error.message, error.status)

    def build() -> c.Command:
        return c.CompleteRectification(
            council=caller.council,
            number=number,
            text=form.get("text", "").strip(),
            evidence=tuple(photos),
        )

    done = f"/app/orders/{number}"
    return await act(request, caller, build, done=done, again=again, confirm="reported")


@router.post("/{number}/verification")
async def verify(request: Request, caller: AppCaller, form: Form, number: int) -> Response:
    """Accept (``accepted=yes``, a note) or send back (``accepted=no``, reasons, ``due``)."""

    def build() -> c.Command:
        due = form.get("due", "").strip()
        return c.VerifyRectification(
            council=caller.council,
            number=number,
            accepted=form.get("accepted") == "yes",
            text=form.get("text", "").strip(),
            due=_date(due) if due else None,
        )

    return await act(
        request,
        caller,
        build,
        done=f"/app/orders/{number}",
        again=again_with(order_page, request, caller, number, form=form),
        confirm="verified",
    )


@router.get("/{number}/completion")
@router.get("/{number}/verification")
async def form_address(request: Request, caller: AppCaller, number: int) -> Response:
    return back_to(request, f"/app/orders/{number}")


async def _store_photos(request: Request) -> list[str]:
    uploads = [f for f in (await request.form()).getlist("photos") if isinstance(f, UploadFile)]
    if len(uploads) > MAX_PHOTOS:
        raise InvalidInputError(f"at most {MAX_PHOTOS} photos", field="photos")
    digests = []
    for upload in uploads:
        content = await upload.read()
        if not content:
            continue  # a file input left empty sends an empty part
        if not upload.content_type or not upload.content_type.startswith("image/"):
            raise InvalidInputError("photos must be images", field="photos")
        digests.append(await keep_file(request, content))
    return list(dict.fromkeys(digests))


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError("the new deadline is a date (2026-12-31)", field="due") from None
