"""Spending (``/app/spending``): members request spending; an officer asks for a disbursement
and *another* officer approves it, each in their own session (two people's acts: the door
refuses the officer who asked). The page shows the status, the review it needs, the three
disclosures and every disbursement with who asked and who approved, in plain words.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from govflow.application import commands as c
from govflow.application.meeting_record import read_spending
from govflow.domain.money import format_yuan
from govflow.domain.policy import Action, Principal, authorize
from govflow.entrypoints.app.acting import (
    act,
    again_with,
    allows,
    back_to,
    created,
    form_page,
    governance,
    optional,
)
from govflow.entrypoints.app.render import Words, lang_of, when
from govflow.entrypoints.app.session import AppCaller, Form

router = APIRouter(prefix="/app/spending", include_in_schema=False)

STATUS: dict[str, tuple[str, str]] = {
    "requested": ("已申请，待批准", "requested, awaiting approval"),
    "approved": ("已批准", "approved"),
    "rejected": ("未获批准", "rejected"),
    "completed": ("已完成", "completed"),
    "reapproval_required": ("实际费用超出，需重新批准", "cost overran: needs approval again"),
    "settled": ("已结算", "settled"),
}
DISCLOSURES: dict[str, tuple[str, str]] = {
    "resolution": ("决议公开", "resolution disclosed"),
    "progress": ("实施过程公开", "progress disclosed"),
    "result": ("实施结果公开", "result disclosed"),
}

WORDS: Words = {
    "zh": {
        "title": "支出",
        "spending": "支出",
        "none_yet": "还没有支出申请。",
        "request": "申请支出",
        "number": "支出编号",
        "amount": "金额（元）",
        "amount_hint": "例如 12000 或 12,000.00，最多两位小数",
        "purpose": "用途",
        "payee": "收款方",
        "budget_line": "预算科目",
        "issue_number": "相关议题编号（可不填）",
        "request_button": "提交申请",
        "status": "状态",
        "threshold": "审议限额",
        "review": "党员大会审议",
        "review_needed": "需要（金额超过限额）",
        "review_not_needed": "不需要（金额未超过限额）",
        "review_passed": "已审议通过",
        "review_pending": "尚未审议通过",
        "approved_amount": "批准金额",
        "disbursed": "已拨付",
        "actual_cost": "实际费用",
        "requested_by": "申请人",
        "disclosures": "公开情况",
        "disclosure_missing": "尚未公开",
        "see_notice": "查看公示",
        "pending": "待批准的拨付",
        "pending_none": "没有待批准的拨付。",
        "disbursement": "第 {no} 笔拨付",
        "asked_by": "经办人（申请）",
        "approved_by": "经办人（批准）",
        "reference": "凭证号",
        "approve": "批准此笔拨付",
        "own_request": "这笔拨付是您申请的，须由另一名经办人批准。",
        "two_officers": "拨付须由两名不同的经办人办理：一人申请，另一人批准后资金才拨出。",
        "disbursements": "已拨付明细",
        "disbursements_none": "尚无拨付。",
        "ask": "申请拨付（经办人）",
        "ask_button": "申请拨付",
        "back": "返回支出列表",
        "yuan": "元",
        "done_requested": "支出申请已提交。",
        "done_asked": "拨付申请已提交，须由另一名经办人批准。",
        "done_approved": "已批准，资金已拨付。",
    },
    "en": {
        "title": "Spending",
        "spending": "Spending",
        "none_yet": "No spending requests yet.",
        "request": "Request spending",
        "number": "Spending number",
        "amount": "Amount (yuan)",
        "amount_hint": "e.g. 12000 or 12,000.00, at most two decimals",
        "purpose": "Purpose",
        "payee": "Payee",
        "budget_line": "Budget line",
        "issue_number": "Item number (optional)",
        "request_button": "Request",
        "status": "Status",
        "threshold": "Review threshold",
        "review": "Party members' assembly review",
        "review_needed": "needed (over the threshold)",
        "review_not_needed": "not needed (not over the threshold)",
        "review_passed": "passed",
        "review_pending": "not passed yet",
        "approved_amount": "Approved",
        "disbursed": "Disbursed",
        "actual_cost": "Actual cost",
        "requested_by": "Requested by",
        "disclosures": "Disclosures",
        "disclosure_missing": "not disclosed yet",
        "see_notice": "see the notice",
        "pending": "Disbursements awaiting approval",
        "pending_none": "None awaiting approval.",
        "disbursement": "Disbursement {no}",
        "asked_by": "Officer who asked",
        "approved_by": "Officer who approved",
        "reference": "Reference",
        "approve": "Approve this disbursement",
        "own_request": "You asked for this one: another officer must approve it.",
        "two_officers": (
            "Two different officers act: one asks, and money moves only when another approves."
        ),
        "disbursements": "Disbursements made",
        "disbursements_none": "None yet.",
        "ask": "Ask for a disbursement (officers)",
        "ask_button": "Ask",
        "back": "Back to spending",
        "yuan": "yuan",
        "done_requested": "The request is made.",
        "done_asked": "Asked: another officer must approve it.",
        "done_approved": "Approved: the money is paid.",
    },
}


def _status(status: str, lang: str) -> str:
    return STATUS.get(status, (status, status))[lang == "en"]


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
    rows = await asyncio.to_thread(app.list_spending, code)
    return form_page(
        request,
        "app/spending_list.html",
        WORDS,
        caller,
        problem=problem,
        status=status,
        form=form,
        rows=[(r, format_yuan(r.amount), _status(r.status, lang)) for r in rows],
        next_number=max((r.number for r in rows), default=0) + 1,
        may_request=allows(caller, Action.REQUEST_SPENDING, code),
    )


@router.get("")
async def spending_list(request: Request, caller: AppCaller) -> HTMLResponse:
    return await list_page(request, caller)


@router.post("")
async def request_spending(request: Request, caller: AppCaller, form: Form) -> Response:
    """Request spending (fields: number, amount, purpose, payee, budget_line, issue_number)."""

    def build() -> c.Command:
        fields: dict[str, Any] = {
            "council": caller.council,
            "number": form.get("number", ""),
            "amount": form.get("amount", ""),
            "purpose": form.get("purpose", "").strip(),
            "payee": form.get("payee", "").strip(),
            "budget_line": form.get("budget_line", "").strip(),
        }
        return c.RequestSpending(**optional(fields, form, "issue_number"))

    again = again_with(list_page, request, caller, form=form)
    done = created("/app/spending", form)
    return await act(request, caller, build, done=done, again=again, confirm="requested")


async def spending_page(
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
    council = await asyncio.to_thread(app.get_council, code)
    view = await asyncio.to_thread(app.get_spending, code, number)
    record = await asyncio.to_thread(read_spending, app, code, number)
    who = {m.member_id: m.name for m in council.members}
    en = lang == "en"
    return form_page(
        request,
        "app/spending.html",
        WORDS,
        caller,
        problem=problem,
        status=status,
        form=form,
        s=view,
        r=record,
        who=who,
        yuan=format_yuan,
        status_words=_status(view.status, lang),
        requested_at=when(record.requested_at, council.timezone),
        disclosures=[
            (names[en], view.disclosures.get(kind)) for kind, names in DISCLOSURES.items()
        ],
        disbursements=[(d, when(d.at, council.timezone)) for d in record.disbursements],
        may_ask=allows(caller, Action.REQUEST_DISBURSEMENT, code),
        may_approve=allows(caller, Action.APPROVE_DISBURSEMENT, code),
    )


@router.get("/{number}")
async def spending(request: Request, caller: AppCaller, number: int) -> HTMLResponse:
    return await spending_page(request, caller, number)


@router.post("/{number}/disbursements")
async def ask(request: Request, caller: AppCaller, form: Form, number: int) -> Response:
    """As an officer, ask for a disbursement (fields: amount, reference)."""
    return await act(
        request,
        caller,
        lambda: c.RequestDisbursement(
            council=caller.council,
            number=number,
            amount=form.get("amount", ""),
            reference=form.get("reference", "").strip(),
        ),
        done=f"/app/spending/{number}",
        again=again_with(spending_page, request, caller, number, form=form),
        confirm="asked",
    )


@router.post("/{number}/disbursements/{disbursement_no}/approve")
async def approve(
    request: Request, caller: AppCaller, form: Form, number: int, disbursement_no: int
) -> Response:
    """As another officer than the one who asked, approve a disbursement (no fields)."""
    return await act(
        request,
        caller,
        lambda: c.ApproveDisbursement(
            council=caller.council, number=number, disbursement_no=disbursement_no
        ),
        done=f"/app/spending/{number}",
        again=again_with(spending_page, request, caller, number),
        confirm="approved",
    )


@router.get("/{number}/disbursements")
@router.get("/{number}/disbursements/{disbursement_no}/approve")
async def form_address(request: Request, caller: AppCaller, number: int) -> Response:
    return back_to(request, f"/app/spending/{number}")
