"""``/v1/councils/{code}/issues/{number}``: an item, its status, and every act on it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from govflow.application import commands as c
from govflow.application.views import BallotReceipt, HistoryEntry, IssueView, ReceiptCheck
from govflow.domain.ballot import Choice
from govflow.domain.council import MemberId
from govflow.domain.money import Yuan
from govflow.domain.rating import Satisfaction
from govflow.entrypoints.api_bodies import Name, Number, PathNumber, Strict, Text, TextBody
from govflow.entrypoints.deps import App, Caller, Credential, Door, Workflows, reader
from govflow.orchestration import messages as m

router = APIRouter(prefix="/v1/councils/{code}/issues", tags=["issues"])


class IssueTimeline(BaseModel):
    issue: IssueView
    timeline: list[HistoryEntry]


class ProposeBody(Strict):
    number: Number
    title: Name = Field(min_length=1, max_length=200)
    procedure: Name = Field(min_length=1, max_length=100)
    version: Number | None = None
    description: Text = Field(default="", max_length=10_000)
    grid: Name | None = Field(default=None, max_length=100)
    category: Name | None = Field(default=None, max_length=100)
    spending_number: Number | None = None


class BallotBody(Strict):
    choice: Choice
    for_member: MemberId | None = Field(
        default=None, description="vote as this voter's proxy (委托), for them"
    )


class ResolutionBody(Strict):
    meeting_number: Number
    motion_no: Number


class AnswerBody(Strict):
    reply: Text = Field(min_length=1, max_length=10_000)
    upheld: bool = False


class CompleteBody(Strict):
    actual_cost: Yuan | None = None


class RatingBody(Strict):
    rating: Satisfaction


class AdvanceBody(Strict):
    days: float = Field(gt=0, le=3660)


@router.post("", status_code=201)
async def propose(code: str, body: ProposeBody, caller: Caller, door: Door) -> IssueView:
    """Propose an item and start its workflow (members, or integrations with the
    ``issues:propose`` scope). Proposing the same again completes a half-done proposal."""
    command = c.ProposeIssue(council=code, **body.model_dump())
    view: IssueView = await door.handle(command, caller)
    return view


@router.get("/{number}")
def get_issue(code: str, number: PathNumber, caller: Caller, app: App) -> IssueTimeline:
    reader(caller, code)
    view = app.get_issue(code, number)
    return IssueTimeline(issue=view, timeline=app.get_history(view.id))


@router.get("/{number}/status")
async def get_status(code: str, number: PathNumber, caller: Caller, issues: Workflows) -> m.Status:
    """The open stage, its deadline and who may act now."""
    reader(caller, code)
    return await issues.status(code, number)


@router.post("/{number}/ballots", status_code=201)
async def cast_ballot(
    code: str, number: PathNumber, body: BallotBody, token: Credential, door: Door
) -> BallotReceipt:
    """Cast the caller's own ballot, or with ``for_member`` one for the voter whose proxy
    (委托) the caller is; keep the receipt to check against the tally."""
    command = c.CastBallot(
        council=code, number=number, choice=body.choice, for_member=body.for_member
    )
    return await door.cast_ballot(token, command)


@router.get("/{number}/receipts/{ballot_id}")
def check_receipt(
    code: str,
    number: PathNumber,
    ballot_id: UUID,
    notification_id: Annotated[int, Query(ge=1, le=2**63 - 1)],
    caller: Caller,
    app: App,
) -> ReceiptCheck:
    """Check a ballot receipt against the log and the tally (never shows the choice)."""
    reader(caller, code)
    app.issue(code, number)
    return app.check_receipt(code, number, ballot_id, notification_id)


@router.post("/{number}/close-stage")
async def close_stage(code: str, number: PathNumber, caller: Caller, door: Door) -> dict[str, str]:
    """As chair of the acting body, close the open stage."""
    stage = await door.handle(c.CloseStage(council=code, number=number), caller)
    return {"closed": stage}


@router.post("/{number}/resolution")
async def resolution(
    code: str, number: PathNumber, body: ResolutionBody, caller: Caller, door: Door
) -> dict[str, bool]:
    """As chair, take a motion of a meeting of the stage's body, held for this item under
    the stage's rule, as the stage's resolution."""
    command = c.RecordResolution(council=code, number=number, **body.model_dump())
    return {"passed": await door.handle(command, caller)}


@router.post("/{number}/objections", tags=["notices"], status_code=201)
async def file_objection(
    code: str, number: PathNumber, body: TextBody, caller: Caller, door: Door
) -> dict[str, int]:
    """Object to the posted notice, within its window."""
    command = c.FileObjection(council=code, number=number, text=body.text)
    return {"objection_no": await door.handle(command, caller)}


@router.post("/{number}/objections/{objection_no}/answer", tags=["notices"])
async def answer_objection(
    code: str,
    number: PathNumber,
    objection_no: PathNumber,
    body: AnswerBody,
    caller: Caller,
    door: Door,
) -> dict[str, bool]:
    """As chair, answer an objection (upholding it reopens the item)."""
    command = c.AnswerObjection(
        council=code, number=number, objection_no=objection_no, **body.model_dump()
    )
    return {"upheld": await door.handle(command, caller)}


@router.post("/{number}/notice-correction", tags=["notices"])
async def correct(
    code: str, number: PathNumber, body: TextBody, caller: Caller, door: Door
) -> dict[str, bool]:
    """As chair, correct the posted notice (its display period starts again)."""
    command = c.CorrectNotice(council=code, number=number, text=body.text)
    return {"corrected": await door.handle(command, caller)}


@router.post("/{number}/progress")
async def progress(
    code: str, number: PathNumber, body: TextBody, caller: Caller, door: Door
) -> dict[str, bool]:
    """As chair, report implementation progress (shown on the next progress notice)."""
    command = c.ReportProgress(council=code, number=number, text=body.text)
    return {"reported": await door.handle(command, caller)}


@router.post("/{number}/complete")
async def complete(
    code: str, number: PathNumber, body: CompleteBody, caller: Caller, door: Door
) -> dict[str, bool]:
    """As chair, complete implementation (a spending item with its actual cost); says
    whether the cost overran the approval and needs re-approval."""
    command = c.CompleteImplementation(council=code, number=number, actual_cost=body.actual_cost)
    return {"needs_reapproval": await door.handle(command, caller)}


@router.post("/{number}/reapprove")
async def reapprove(
    code: str, number: PathNumber, body: ResolutionBody, caller: Caller, door: Door
) -> dict[str, bool]:
    """As chair, take a meeting's motion as the re-approval of an overrun."""
    command = c.Reapprove(council=code, number=number, **body.model_dump())
    return {"reapproved": await door.handle(command, caller)}


@router.post("/{number}/withdraw")
async def withdraw(
    code: str, number: PathNumber, body: TextBody, caller: Caller, door: Door
) -> dict[str, str]:
    """As chair, withdraw the item (only before a resolution)."""
    command = c.Withdraw(council=code, number=number, reason=body.text)
    return {"outcome": await door.handle(command, caller)}


@router.post("/{number}/ratings", status_code=201)
async def rate(
    code: str, number: PathNumber, body: RatingBody, caller: Caller, door: Door
) -> dict[str, str]:
    """Rate an implemented item during its evaluation (the caller's own rating)."""
    command = c.RateIssue(council=code, number=number, rating=body.rating)
    return {"rating_id": await door.handle(command, caller)}


@router.post("/{number}/advance")
async def advance(
    code: str, number: PathNumber, body: AdvanceBody, caller: Caller, door: Door
) -> dict[str, bool]:
    """As the clerk, fast-forward the item's clock by ``days`` (a server started with
    ``--demo`` only: refused with ``demo.only`` otherwise). Says whether it is still running."""
    command = c.AdvanceClock(council=code, number=number, days=body.days)
    return {"running": await door.handle(command, caller)}
