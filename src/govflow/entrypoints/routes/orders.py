"""``/v1/councils/{code}/orders`` and ``/inspections``: rectification orders (限期整改), their
completion and verification, and the inspections they may come from."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter
from pydantic import Field

from govflow.application import commands as c
from govflow.application.directory import OrderRow
from govflow.application.rectification import InspectionView, OrderView
from govflow.domain.council import Body, MemberId
from govflow.domain.rectification import AssigneeKind, SourceKind
from govflow.entrypoints.api_bodies import Number, PathNumber, Strict, Text
from govflow.entrypoints.deps import App, Caller, Door, reader

router = APIRouter(prefix="/v1/councils/{code}", tags=["rectification"])

Sha256 = c.Sha256


class InspectionBody(Strict):
    number: Number
    finding: Text = Field(min_length=1, max_length=10_000)
    evidence_sha256: Sha256


class OrderBody(Strict):
    number: Number
    what: Text = Field(min_length=1, max_length=2_000)
    why: Text = Field(min_length=1, max_length=10_000)
    assignee_kind: AssigneeKind = AssigneeKind.MEMBER
    assignee: MemberId
    body: Body
    due: date
    source: SourceKind
    issue_number: Number | None = None
    notice_id: UUID | None = None
    objection_no: Number | None = None
    inspection_number: Number | None = None


class CompletionBody(Strict):
    text: Text = Field(min_length=1, max_length=10_000)
    evidence: tuple[Sha256, ...] = Field(min_length=1, max_length=20)


class VerificationBody(Strict):
    accepted: bool
    text: Text = Field(default="", max_length=10_000)
    due: date | None = None


@router.post("/inspections", status_code=201)
async def record_inspection(
    code: str, body: InspectionBody, caller: Caller, door: Door
) -> InspectionView:
    """As a member of the supervisory committee, record an inspection's finding (检查发现)."""
    view: InspectionView = await door.handle(
        c.RecordInspection(council=code, **body.model_dump()), caller
    )
    return view


@router.get("/inspections/{number}")
def get_inspection(code: str, number: PathNumber, caller: Caller, app: App) -> InspectionView:
    reader(caller, code)
    return app.get_inspection(code, number)


@router.post("/orders", status_code=201)
async def order_rectification(code: str, body: OrderBody, caller: Caller, door: Door) -> OrderView:
    """As a chair of the ordering body, order a rectification by the end of ``due``, from an
    item evaluated 不满意 (``issue_number``), an upheld objection (``notice_id``,
    ``objection_no``) or an inspection (``inspection_number``): checked against the record."""
    command = c.OrderRectification(council=code, **body.model_dump())
    view: OrderView = await door.handle(command, caller)
    return view


@router.get("/orders")
def list_orders(code: str, caller: Caller, app: App, open: bool = False) -> list[OrderRow]:
    """The council's orders, newest number first (``open``: not verified yet)."""
    reader(caller, code)
    return app.list_orders(code, open_only=open)


@router.get("/orders/{number}")
def get_order(code: str, number: PathNumber, caller: Caller, app: App) -> OrderView:
    reader(caller, code)
    return app.get_order(code, number)


@router.post("/orders/{number}/completion")
async def complete_order(
    code: str, number: PathNumber, body: CompletionBody, caller: Caller, door: Door
) -> OrderView:
    """As the member ordered (or a chair of the body ordered), report it done with evidence."""
    command = c.CompleteRectification(council=code, number=number, **body.model_dump())
    view: OrderView = await door.handle(command, caller)
    return view


@router.post("/orders/{number}/verification")
async def verify_order(
    code: str, number: PathNumber, body: VerificationBody, caller: Caller, door: Door
) -> OrderView:
    """As a chair of the ordering body, accept the completion, or send it back with reasons
    (``text``) and a new deadline (``due``)."""
    command = c.VerifyRectification(council=code, number=number, **body.model_dump())
    view: OrderView = await door.handle(command, caller)
    return view
