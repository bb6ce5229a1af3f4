"""``/v1/councils/{code}/spending``: requests, and disbursements as two officers' acts."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from govflow.application import commands as c
from govflow.application.views import SpendingView
from govflow.domain.money import Yuan
from govflow.entrypoints.api_bodies import Name, Number, PathNumber, Strict
from govflow.entrypoints.deps import App, Caller, Door, reader

router = APIRouter(prefix="/v1/councils/{code}/spending", tags=["spending"])


class SpendingBody(Strict):
    number: Number
    amount: Yuan
    purpose: Name = Field(min_length=1, max_length=500)
    payee: Name = Field(min_length=1, max_length=200)
    budget_line: Name = Field(min_length=1, max_length=200)
    issue_number: Number | None = None


class DisbursementBody(Strict):
    amount: Yuan
    reference: Name = Field(min_length=1, max_length=200)


@router.post("", status_code=201)
async def request_spending(
    code: str, body: SpendingBody, caller: Caller, door: Door
) -> SpendingView:
    """Request a spending (over the threshold it needs the party members' review)."""
    command = c.RequestSpending(council=code, **body.model_dump())
    view: SpendingView = await door.handle(command, caller)
    return view


@router.get("/{number}")
def get_spending(code: str, number: PathNumber, caller: Caller, app: App) -> SpendingView:
    reader(caller, code)
    return app.get_spending(code, number)


@router.post("/{number}/disbursements", status_code=201)
async def request_disbursement(
    code: str, number: PathNumber, body: DisbursementBody, caller: Caller, door: Door
) -> dict[str, object]:
    """As an officer, ask for a payment out of an approved spending. Nothing moves until a
    *different* officer approves it (``.../disbursements/{no}/approve``)."""
    command = c.RequestDisbursement(council=code, number=number, **body.model_dump())
    no = await door.handle(command, caller)
    return {"disbursement_no": no, "status": "requested", "amount": f"{body.amount:.2f}"}


@router.post("/{number}/disbursements/{disbursement_no}/approve")
async def approve_disbursement(
    code: str, number: PathNumber, disbursement_no: PathNumber, caller: Caller, door: Door
) -> SpendingView:
    """As another officer than the one who asked, approve the payment: the money moves."""
    command = c.ApproveDisbursement(council=code, number=number, disbursement_no=disbursement_no)
    view: SpendingView = await door.handle(command, caller)
    return view
