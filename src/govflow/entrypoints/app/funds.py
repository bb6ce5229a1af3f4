"""Funds (``/app/funds``, 信托制物业): every member sees every line of every fund; a keyholder
records income and initiates an expense, and *another* keyholder approves it, each in their
own session (the door refuses the keyholder who initiated it); a keyholder or the clerk posts
a closed period's statement; anyone of the council may check a bank statement (CSV) against
the ledger. The clerk or a chair of the two committees opens a fund and names its keyholders.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from govflow.application import commands as c
from govflow.application.fund_bank import MAX_BYTES
from govflow.application.fund_views import ReconciliationView
from govflow.domain.errors import BankStatementError, GovflowError
from govflow.domain.fund import StatementSchedule, period_of
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
    refusal,
)
from govflow.entrypoints.app.render import Words, lang_of, when
from govflow.entrypoints.app.session import AppCaller, Form

router = APIRouter(prefix="/app/funds", include_in_schema=False)

KINDS: dict[str, tuple[str, str]] = {
    "property_fees": ("物业费", "property fees"),
    "public_income": ("公共收益", "public income"),
    "project_budget": ("项目预算", "a project's budget"),
    "maintenance_fund": ("维修资金", "maintenance fund"),
    "other": ("其他", "other"),
}
DIFFERENCES: dict[str, tuple[str, str]] = {
    "missing_in_ledger": ("银行有、台账无", "in the bank, not in the ledger"),
    "missing_in_bank": ("台账有、银行无", "in the ledger, not in the bank"),
    "amount_mismatch": ("金额不符", "amounts differ"),
}

WORDS: Words = {
    "zh": {
        "title": "资金台账",
        "fund": "资金账户",
        "none_yet": "还没有资金账户。",
        "open": "开设资金账户",
        "number": "账户编号",
        "name": "名称",
        "kind": "类别",
        "keyholders": "密钥持有人（至少两名不同成员，每行一个成员编号）",
        "keyholders_short": "密钥持有人",
        "schedule": "收支公开周期",
        "monthly": "每月",
        "quarterly": "每季度",
        "open_button": "开设",
        "balance": "余额",
        "incomes": "收入合计",
        "expenses": "支出合计",
        "lines": "收支明细",
        "lines_none": "还没有收支记录。",
        "line": "第 {no} 笔",
        "on": "日期",
        "income": "收入",
        "expense": "支出",
        "amount": "金额（元）",
        "amount_hint": "例如 3000 或 3,000.00，最多两位小数",
        "counterparty": "对方",
        "category": "科目",
        "evidence": "凭证（SHA-256）",
        "reference": "银行流水号或凭证号（可不填）",
        "corrects": "更正第几笔（可不填）",
        "corrects_short": "更正第 {no} 笔",
        "corrected_by": "已由第 {no} 笔更正",
        "spending_number": "对应的支出编号（超过审议限额时必填）",
        "recorded_by": "记账",
        "two_keys": "支出须由两名不同的密钥持有人办理：一人发起，另一人批准后才记账出款。",
        "record_income": "记录收入（密钥持有人）",
        "record_button": "记录收入",
        "initiate": "发起支出（密钥持有人）",
        "initiate_button": "发起支出",
        "pending": "待批准的支出",
        "pending_none": "没有待批准的支出。",
        "expense_no": "第 {no} 笔待批支出",
        "initiated_by": "发起人",
        "approve": "批准此笔支出",
        "own_expense": "这笔支出是您发起的，须由另一名密钥持有人批准。",
        "withdraw": "撤回",
        "reason": "撤回理由",
        "statements": "收支公开",
        "statements_none": "尚未公开。",
        "period": "期间",
        "opening": "期初",
        "closing": "期末",
        "see_notice": "查看公示",
        "post": "公开一个已结束期间的收支（密钥持有人或书记员）",
        "post_button": "公开",
        "reconcile": "核对银行流水（CSV：date, amount, counterparty, reference；支出为负数）",
        "bank_file": "银行流水文件",
        "reconcile_button": "核对",
        "report": "核对结果",
        "matched": "一致 {n} 笔，共 {total} 笔银行流水",
        "reconciled": "银行流水与台账一致。",
        "ledger_amount": "台账金额",
        "bank_amount": "银行金额",
        "bank_row": "流水第 {row} 行",
        "back": "返回资金台账",
        "board": "在公示栏查看",
        "done_opened": "资金账户已开设。",
        "done_income": "收入已记账。",
        "done_initiated": "支出已发起，须由另一名密钥持有人批准。",
        "done_approved": "已批准，支出已记账。",
        "done_withdrawn": "支出已撤回。",
        "done_posted": "收支已公开。",
    },
    "en": {
        "title": "Funds",
        "fund": "Fund",
        "none_yet": "No funds yet.",
        "open": "Open a fund",
        "number": "Fund number",
        "name": "Name",
        "kind": "Kind",
        "keyholders": "Keyholders (at least two different members, one member id per line)",
        "keyholders_short": "Keyholders",
        "schedule": "Statements",
        "monthly": "monthly",
        "quarterly": "quarterly",
        "open_button": "Open",
        "balance": "Balance",
        "incomes": "Money in",
        "expenses": "Money out",
        "lines": "Lines",
        "lines_none": "No lines yet.",
        "line": "Line {no}",
        "on": "Date",
        "income": "in",
        "expense": "out",
        "amount": "Amount (yuan)",
        "amount_hint": "e.g. 3000 or 3,000.00, at most two decimals",
        "counterparty": "Counterparty",
        "category": "Category",
        "evidence": "Evidence (SHA-256)",
        "reference": "Bank or voucher reference (optional)",
        "corrects": "Corrects line (optional)",
        "corrects_short": "corrects line {no}",
        "corrected_by": "corrected by line {no}",
        "spending_number": "Covering spending number (over the threshold)",
        "recorded_by": "Recorded by",
        "two_keys": "Money goes out only with two different keyholders: one initiates, another "
        "approves, and only then is the line recorded.",
        "record_income": "Record income (keyholders)",
        "record_button": "Record",
        "initiate": "Initiate an expense (keyholders)",
        "initiate_button": "Initiate",
        "pending": "Expenses awaiting approval",
        "pending_none": "None awaiting approval.",
        "expense_no": "Expense {no} awaiting approval",
        "initiated_by": "Initiated by",
        "approve": "Approve this expense",
        "own_expense": "You initiated this one: another keyholder must approve it.",
        "withdraw": "Withdraw",
        "reason": "Why",
        "statements": "Statements",
        "statements_none": "None posted yet.",
        "period": "Period",
        "opening": "Opening",
        "closing": "Closing",
        "see_notice": "see the notice",
        "post": "Post a closed period's statement (keyholders or the clerk)",
        "post_button": "Post",
        "reconcile": "Check a bank statement (CSV: date, amount, counterparty, reference; money "
        "out negative)",
        "bank_file": "Bank statement file",
        "reconcile_button": "Check",
        "report": "Reconciliation",
        "matched": "{n} of {total} bank lines match",
        "reconciled": "The bank and the ledger agree.",
        "ledger_amount": "Ledger",
        "bank_amount": "Bank",
        "bank_row": "bank file line {row}",
        "back": "Back to funds",
        "board": "See it on the board",
        "done_opened": "The fund is open.",
        "done_income": "The income is recorded.",
        "done_initiated": "Initiated: another keyholder must approve it.",
        "done_approved": "Approved: the expense is recorded.",
        "done_withdrawn": "The expense is withdrawn.",
        "done_posted": "The statement is posted.",
    },
}


def kind_word(kind: str, lang: str) -> str:
    return KINDS.get(kind, (kind, kind))[lang == "en"]


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
    rows = await asyncio.to_thread(app.list_funds, code)
    return form_page(
        request,
        "app/funds.html",
        WORDS,
        caller,
        problem=problem,
        status=status,
        form=form,
        rows=[(r, kind_word(r.kind, lang)) for r in rows],
        yuan=format_yuan,
        kinds=[(k, names[lang == "en"]) for k, names in KINDS.items()],
        next_number=max((r.number for r in rows), default=0) + 1,
        may_open=allows(caller, Action.OPEN_FUND, code),
    )


@router.get("")
async def funds(request: Request, caller: AppCaller) -> HTMLResponse:
    return await list_page(request, caller)


@router.post("")
async def open_fund(request: Request, caller: AppCaller, form: Form) -> Response:
    """Open a fund (fields: number, name, kind, keyholders one per line, schedule)."""

    def build() -> c.Command:
        holders = tuple(h.strip() for h in form.get("keyholders", "").split() if h.strip())
        return c.OpenFund(
            council=caller.council,
            number=form.get("number", ""),
            name=form.get("name", "").strip(),
            kind=form.get("kind", ""),
            keyholders=holders,
            schedule=form.get("schedule", "monthly"),
        )

    again = again_with(list_page, request, caller, form=form)
    return await act(request, caller, build, done=created("/app/funds", form), again=again,
                     confirm="opened")  # fmt: skip


async def fund_page(
    request: Request,
    caller: Principal,
    number: int,
    *,
    problem: str | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
    report: ReconciliationView | None = None,
) -> HTMLResponse:
    app, code, lang = governance(request), caller.council, lang_of(request)
    authorize(caller, Action.READ, code)
    council = await asyncio.to_thread(app.get_council, code)
    view = await asyncio.to_thread(app.get_fund, code, number)
    lines = await asyncio.to_thread(app.fund_lines, code, number)
    keyholders = await asyncio.to_thread(app.fund_keyholders, code, number)
    holds = (caller.holder, caller.enrolment) in keyholders
    today = app.now().astimezone(ZoneInfo(council.timezone)).date()  # as the fund dates lines
    schedule = StatementSchedule(view.schedule)
    return form_page(
        request,
        "app/fund.html",
        WORDS,
        caller,
        problem=problem,
        status=status,
        form=form,
        f=view,
        lines=[(ln, when(ln.recorded_at, council.timezone)) for ln in reversed(lines)],
        who=await asyncio.to_thread(app.fund_keyholder_names, code, number),
        yuan=format_yuan,
        kind=kind_word(view.kind, lang),
        today=today.isoformat(),
        last_period=period_of(period_of(today, schedule).start - timedelta(days=1), schedule).key,
        holds=holds,
        may_post=holds or (caller.is_clerk and not caller.is_auditor),
        report=report,
        differences={k: names[lang == "en"] for k, names in DIFFERENCES.items()},
    )


@router.get("/{number}")
async def fund(request: Request, caller: AppCaller, number: int) -> HTMLResponse:
    return await fund_page(request, caller, number)


def _line_fields(caller: Principal, number: int, form: dict[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "council": caller.council,
        "number": number,
        "amount": form.get("amount", ""),
        "counterparty": form.get("counterparty", "").strip(),
        "category": form.get("category", "").strip(),
        "on": form.get("on", ""),
        "evidence_sha256": form.get("evidence_sha256", "").strip().lower(),
        "reference": form.get("reference", "").strip(),
    }
    return optional(fields, form, "corrects")


@router.post("/{number}/incomes")
async def record_income(request: Request, caller: AppCaller, form: Form, number: int) -> Response:
    """As a keyholder, record income (fields: amount, counterparty, category, on,
    evidence_sha256, reference, corrects)."""
    return await act(
        request,
        caller,
        lambda: c.RecordFundIncome(**_line_fields(caller, number, form)),
        done=f"/app/funds/{number}",
        again=again_with(fund_page, request, caller, number, form=form),
        confirm="income",
    )


@router.post("/{number}/expenses")
async def initiate(request: Request, caller: AppCaller, form: Form, number: int) -> Response:
    """As a keyholder, initiate an expense (the income fields and spending_number)."""
    return await act(
        request,
        caller,
        lambda: c.InitiateFundExpense(
            **optional(_line_fields(caller, number, form), form, "spending_number")
        ),
        done=f"/app/funds/{number}",
        again=again_with(fund_page, request, caller, number, form=form),
        confirm="initiated",
    )


@router.post("/{number}/expenses/{expense_no}/approve")
async def approve(
    request: Request, caller: AppCaller, form: Form, number: int, expense_no: int
) -> Response:
    """As another keyholder than the one who initiated it, approve (no fields)."""
    return await act(
        request,
        caller,
        lambda: c.ApproveFundExpense(council=caller.council, number=number, expense_no=expense_no),
        done=f"/app/funds/{number}",
        again=again_with(fund_page, request, caller, number),
        confirm="approved",
    )


@router.post("/{number}/expenses/{expense_no}/withdraw")
async def withdraw(
    request: Request, caller: AppCaller, form: Form, number: int, expense_no: int
) -> Response:
    """As a keyholder, withdraw an expense awaiting approval (field: reason)."""
    return await act(
        request,
        caller,
        lambda: c.WithdrawFundExpense(
            council=caller.council,
            number=number,
            expense_no=expense_no,
            reason=form.get("reason", "").strip(),
        ),
        done=f"/app/funds/{number}",
        again=again_with(fund_page, request, caller, number),
        confirm="withdrawn",
    )


@router.post("/{number}/statements")
async def post_statement(request: Request, caller: AppCaller, form: Form, number: int) -> Response:
    """Post a closed period's statement (field: period)."""
    return await act(
        request,
        caller,
        lambda: c.PostFundStatement(
            council=caller.council, number=number, period=form.get("period", "").strip()
        ),
        done=f"/app/funds/{number}",
        again=again_with(fund_page, request, caller, number, form=form),
        confirm="posted",
    )


@router.post("/{number}/reconciliation")
async def reconcile(request: Request, caller: AppCaller, form: Form, number: int) -> Response:
    """Check a bank statement (file field: bank) against the ledger; nothing is recorded."""
    app, lang = governance(request), lang_of(request)
    authorize(caller, Action.READ, caller.council)
    upload = (await request.form()).get("bank")
    try:
        content = await upload.read(MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""
        if not content:
            raise BankStatementError("choose the bank statement file (CSV)")
        report = await asyncio.to_thread(app.reconcile_fund, caller.council, number, content)
    except GovflowError as error:
        problem, status = refusal(error, lang)
        found = error.details.get("errors") if isinstance(error, BankStatementError) else None
        if found and lang == "zh":  # the line to look at, in the page's language
            problem = f"{problem}第 {found[0]['line']} 行：{found[0]['message']}"
        return await fund_page(request, caller, number, problem=problem, status=status)
    return await fund_page(request, caller, number, report=report)


@router.get("/{number}/incomes")
@router.get("/{number}/expenses")
@router.get("/{number}/statements")
@router.get("/{number}/reconciliation")
@router.get("/{number}/expenses/{expense_no}/approve")
@router.get("/{number}/expenses/{expense_no}/withdraw")
async def form_address(request: Request, caller: AppCaller, number: int) -> Response:
    return back_to(request, f"/app/funds/{number}")
