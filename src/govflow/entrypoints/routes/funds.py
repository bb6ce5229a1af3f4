"""``/v1/councils/{code}/funds``: trust-model funds (信托制物业): the council's funds, every
line, incomes, expenses as two keyholders' acts, statements, and reconciling a bank statement.

Reading needs a token of the council (the board shows the same to anyone); every write is a
command for the door, which asks the policy with the fund's keyholders from its record.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as FastPath
from pydantic import Field

from govflow.application import commands as c
from govflow.application.commands import Sha256
from govflow.application.fund_bank import MAX_BYTES
from govflow.application.fund_views import (
    FundLineView,
    FundRowView,
    FundView,
    ReconciliationView,
)
from govflow.domain.council import MemberId
from govflow.domain.errors import BankStatementError
from govflow.domain.fund import FundKind, LineDate, StatementSchedule
from govflow.domain.money import Yuan
from govflow.entrypoints.api_bodies import Name, Number, PathNumber, Strict, Text
from govflow.entrypoints.deps import App, Caller, Door, reader

router = APIRouter(prefix="/v1/councils/{code}/funds", tags=["funds"])


class FundBody(Strict):
    number: Number
    name: Name = Field(min_length=1, max_length=200)
    kind: FundKind
    keyholders: list[MemberId] = Field(min_length=2, max_length=9)
    schedule: StatementSchedule = StatementSchedule.MONTHLY
    display_days: int = Field(default=30, ge=1, le=366, strict=True)


class LineBody(Strict):
    amount: Yuan
    counterparty: Name = Field(min_length=1, max_length=200)
    category: Name = Field(min_length=1, max_length=100)
    on: LineDate
    evidence_sha256: Sha256
    reference: Name = Field(default="", max_length=200)
    corrects: Number | None = None


class ExpenseBody(LineBody):
    spending_number: Number | None = None


class WithdrawBody(Strict):
    reason: Text = Field(min_length=1, max_length=1_000)


class StatementBody(Strict):
    period: str = Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])$", examples=["2026-03"])


@router.post("", status_code=201)
async def open_fund(code: str, body: FundBody, caller: Caller, door: Door) -> FundView:
    """Open a fund and name its keyholders (at least two distinct members)."""
    command = c.OpenFund(council=code, **body.model_dump())
    view: FundView = await door.handle(command, caller)
    return view


@router.get("")
def list_funds(code: str, caller: Caller, app: App) -> list[FundRowView]:
    """The council's funds with their balances."""
    reader(caller, code)
    return [FundRowView.model_validate(r, from_attributes=True) for r in app.list_funds(code)]


@router.get("/{number}")
def get_fund(code: str, number: PathNumber, caller: Caller, app: App) -> FundView:
    reader(caller, code)
    return app.get_fund(code, number)


@router.get("/{number}/lines")
def fund_lines(
    code: str,
    number: PathNumber,
    caller: Caller,
    app: App,
    since: date | None = None,
    until: date | None = None,
) -> list[FundLineView]:
    """Every line of the fund in order (dated ``since`` to before ``until``, if given)."""
    reader(caller, code)
    return [
        line
        for line in app.fund_lines(code, number)
        if (since is None or line.on >= since) and (until is None or line.on < until)
    ]


@router.post("/{number}/incomes", status_code=201)
async def record_income(
    code: str, number: PathNumber, body: LineBody, caller: Caller, door: Door
) -> dict[str, int]:
    """As a keyholder, record money in (or, with ``corrects``, reverse an expense line)."""
    command = c.RecordFundIncome(council=code, number=number, **body.model_dump())
    return {"line_no": await door.handle(command, caller)}


@router.post("/{number}/expenses", status_code=201)
async def initiate_expense(
    code: str, number: PathNumber, body: ExpenseBody, caller: Caller, door: Door
) -> dict[str, object]:
    """As a keyholder, initiate money out. Nothing moves until a *different* keyholder
    approves it (``.../expenses/{expense_no}/approve``). Over the council's threshold, name the
    approved spending that covers it (``spending_number``)."""
    command = c.InitiateFundExpense(council=code, number=number, **body.model_dump())
    no = await door.handle(command, caller)
    return {"expense_no": no, "status": "awaiting_approval", "amount": f"{body.amount:.2f}"}


@router.post("/{number}/expenses/{expense_no}/approve")
async def approve_expense(
    code: str, number: PathNumber, expense_no: PathNumber, caller: Caller, door: Door
) -> dict[str, int]:
    """As another keyholder than the one who initiated it, approve: the line is recorded."""
    command = c.ApproveFundExpense(council=code, number=number, expense_no=expense_no)
    return {"line_no": await door.handle(command, caller)}


@router.post("/{number}/expenses/{expense_no}/withdraw")
async def withdraw_expense(
    code: str,
    number: PathNumber,
    expense_no: PathNumber,
    body: WithdrawBody,
    caller: Caller,
    door: Door,
) -> dict[str, bool]:
    command = c.WithdrawFundExpense(
        council=code, number=number, expense_no=expense_no, reason=body.reason
    )
    return {"withdrawn": await door.handle(command, caller)}


@router.post("/{number}/statements")
async def post_statement(
    code: str, number: PathNumber, body: StatementBody, caller: Caller, door: Door
) -> dict[str, str]:
    """Post the statement of a closed period as a notice; posting it again answers the same
    notice."""
    command = c.PostFundStatement(council=code, number=number, period=body.period)
    return {"period": body.period, "notice_id": await door.handle(command, caller)}


class ObjectionBody(Strict):
    text: Text = Field(min_length=1, max_length=10_000)


class AnswerBody(Strict):
    reply: Text = Field(min_length=1, max_length=10_000)
    upheld: bool = False


Period = Annotated[
    str,
    FastPath(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])$", examples=["2026-03"]),
]


@router.post("/{number}/statements/{period}/objections", status_code=201)
async def object_to_statement(
    code: str, number: PathNumber, period: Period, body: ObjectionBody, caller: Caller, door: Door
) -> dict[str, int]:
    """As a member of the council, object to a posted statement within its notice's
    objection window."""
    command = c.ObjectToFundStatement(council=code, number=number, period=period, text=body.text)
    return {"objection_no": await door.handle(command, caller)}


@router.post("/{number}/statements/{period}/objections/{objection_no}/answer")
async def answer_statement_objection(
    code: str,
    number: PathNumber,
    period: Period,
    objection_no: PathNumber,
    body: AnswerBody,
    caller: Caller,
    door: Door,
) -> dict[str, bool]:
    """As a keyholder of the fund (or the clerk), answer an objection to its statement; a
    line found wrong is put right by a correction."""
    command = c.AnswerFundStatementObjection(
        council=code, number=number, period=period, objection_no=objection_no,
        reply=body.reply, upheld=body.upheld,
    )  # fmt: skip
    return {"upheld": await door.handle(command, caller)}


@router.post(
    "/{number}/reconciliation",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string", "maxLength": MAX_BYTES}}},
        }
    },
)
async def reconcile(
    code: str, number: PathNumber, request: Request, caller: Caller, app: App
) -> ReconciliationView:
    """Reconcile a bank statement (CSV with the columns date, amount, counterparty,
    reference; money out negative) against the fund's lines: every difference is listed.
    Nothing is recorded."""
    reader(caller, code)
    content = await request.body()
    if not content:
        raise BankStatementError("the request body (the bank statement, as CSV) is empty")
    return await asyncio.to_thread(app.reconcile_fund, code, number, content)
