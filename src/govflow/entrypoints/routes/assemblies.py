"""``/v1/councils/{code}/issues/{number}``: assemblies as they really run (docs/assemblies.md).

Proxies (委托), paper ballots (纸质选票) confirmed by a scrutineer (监票人), and written
consultation (书面征求意见): each write builds its command for the command door, which asks the
policy and the procedure; the reads ask the same policy the members' app asks before showing
them. No read here ever shows a ballot's choice: pending batches list who is in them only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from govflow.application import commands as c
from govflow.application.consultation import consultation_deliveries
from govflow.application.proxies import Appointment
from govflow.application.views import BallotReceipt
from govflow.domain.ballot import Choice
from govflow.domain.council import MemberId
from govflow.domain.policy import Action, Principal
from govflow.entrypoints.api_bodies import Name, PathNumber, Strict
from govflow.entrypoints.app.acting import allows
from govflow.entrypoints.deps import App, Caller, Door, reader

router = APIRouter(prefix="/v1/councils/{code}/issues", tags=["assemblies"])

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="lower-case hex SHA-256")]
StageId = Annotated[
    Name | None,
    Field(max_length=64, description="the vote stage (default: the item's vote by ballots)"),
]
StageQuery = Annotated[
    str | None,
    Query(
        max_length=64,
        pattern=r"^[a-z0-9_-]+$",
        description="the vote stage (default: the item's vote by ballots)",
    ),
]


# -- proxies (委托) -----------------------------------------------------------------------------


class AppointBody(Strict):
    proxy: MemberId
    proxy_form_sha256: Sha256 = Field(description="the SHA-256 of the 委托书's scan")
    principal: MemberId | None = Field(
        default=None, description="the voter (default: the caller; the clerk records another's)"
    )
    stage: StageId = None


class RevokeBody(Strict):
    principal: MemberId | None = Field(default=None, description="default: the caller")
    stage: StageId = None
    reason: Name = Field(default="revoked by the principal", min_length=1, max_length=500)


class ProxyAppointment(BaseModel):
    principal: str
    proxy: str
    proxy_form_sha256: str
    used: bool = Field(
        description="the proxy has voted for the principal with it (for a meeting: attendance "
        "counted the principal through the proxy)"
    )


class ProxiesView(BaseModel):
    stage: str
    appointments: list[ProxyAppointment]


@router.post("/{number}/proxies", status_code=201)
async def appoint_proxy(
    code: str, number: PathNumber, body: AppointBody, caller: Caller, door: Door
) -> dict[str, str]:
    """Appoint a proxy for the item's vote (the voter themself, or the clerk recording a paper
    委托书 for ``principal``), where the procedure allows proxies, within its cap per proxy."""
    command = c.AppointProxy(council=code, number=number, **body.model_dump())
    return {"appointment_id": await door.handle(command, caller)}


@router.post("/{number}/proxies/revoke")
async def revoke_proxy(
    code: str, number: PathNumber, body: RevokeBody, caller: Caller, door: Door
) -> dict[str, bool]:
    """Revoke an appointment (the voter or the clerk), until the proxy has voted with it."""
    command = c.RevokeProxy(council=code, number=number, **body.model_dump())
    return {"revoked": await door.handle(command, caller)}


@router.get("/{number}/proxies")
async def list_proxies(
    code: str, number: PathNumber, caller: Caller, app: App, door: Door, stage: StageQuery = None
) -> ProxiesView:
    """The live appointments for the item's vote: the clerk and auditors (who see who was told
    what) see every one; any other reader the ones they made or hold, as in the members' app."""
    reader(caller, code)

    def read() -> ProxiesView:
        found, _ = door.proxy_stage(code, number, stage)
        live = app.appointments(code, number, found)
        return ProxiesView(stage=found, appointments=shown_appointments(caller, code, live))

    return await run_in_threadpool(read)


def shown_appointments(
    caller: Principal, code: str, live: Mapping[str, Appointment]
) -> list[ProxyAppointment]:
    """The live appointments ``caller`` may see: every one for the clerk and auditors (who see
    who was told what); for any other reader the ones they made or hold, as in the app."""
    everyone = allows(caller, Action.EXPORT, code)
    return [
        ProxyAppointment(
            principal=a.principal,
            proxy=a.proxy,
            proxy_form_sha256=a.proxy_form_sha256,
            used=a.used,
        )
        for _, a in sorted(live.items())
        if everyone or caller.holder in (a.principal, a.proxy)
    ]


# -- paper ballots (纸质选票) -------------------------------------------------------------------


class PaperLine(Strict):
    voter: MemberId
    choice: Choice
    scan_sha256: Sha256 = Field(description="the SHA-256 of the ballot's scan")


class PaperBatchBody(Strict):
    ballots: list[PaperLine] = Field(min_length=1, max_length=2000)
    stage: StageId = None


class PendingBatch(BaseModel):
    """A batch of paper ballots: who is in it, never what they chose."""

    number: int
    entered_by: str
    confirmed_by: str | None
    voters: list[str]


class RefusedPaper(BaseModel):
    """A voter with both an online and a paper ballot: the ``refused`` one is not counted."""

    voter: str
    refused: str


class PaperView(BaseModel):
    ballot_key: str | None
    batches: list[PendingBatch]
    refused: list[RefusedPaper]


@router.post("/{number}/paper-batches", status_code=201)
async def enter_paper_ballots(
    code: str, number: PathNumber, body: PaperBatchBody, caller: Caller, door: Door
) -> dict[str, int]:
    """Enter a batch of paper ballots from the box (the clerk, or the chair of the voting
    body), where the procedure takes them; it counts once a scrutineer confirms it."""
    reader(caller, code)  # another council's token learns nothing of this one's items
    command = c.EnterPaperBallots(
        council=code,
        number=number,
        stage=body.stage,
        ballots=[c.PaperBallotLine(**line.model_dump()) for line in body.ballots],
    )
    return {"batch": await door.handle(command, caller)}


@router.post("/{number}/paper-batches/{batch}/confirm")
async def confirm_paper_ballots(
    code: str, number: PathNumber, batch: PathNumber, caller: Caller, door: Door
) -> dict[str, int]:
    """As scrutineer (any member but the one who entered it), confirm a pending batch: its
    ballots are recorded, all or none. Says how many."""
    command = c.ConfirmPaperBallots(council=code, number=number, batch=batch)
    return {"confirmed": await door.handle(command, caller)}


@router.get("/{number}/paper-batches")
async def list_paper_batches(
    code: str, number: PathNumber, caller: Caller, app: App, door: Door
) -> PaperView:
    """For the scrutineers (who may confirm a batch): the latest round's batches, with who is
    in each but never a choice, and the ballots refused as a double channel."""
    await door.may(caller, Action.CONFIRM_PAPER_BALLOTS, code)

    def read() -> PaperView:
        voting = app.issue(code, number).voting
        if voting is None:
            return PaperView(ballot_key=None, batches=[], refused=[])
        key = voting.ballot_key
        return PaperView(
            ballot_key=key,
            batches=[
                PendingBatch(
                    number=b.number,
                    entered_by=b.entered_by,
                    confirmed_by=b.confirmed_by,
                    voters=[e.voter for e in b.entries],
                )
                for b in app.paper_batches(code, number, key)
            ],
            refused=[
                RefusedPaper(voter=r.voter, refused=r.refused)
                for r in app.refused_ballots(code, number, key)
            ],
        )

    return await run_in_threadpool(read)


# -- written consultation (书面征求意见) --------------------------------------------------------


class ReplyBody(Strict):
    choice: Choice
    signature_sha256: Sha256 = Field(description="the SHA-256 of the signed form's scan")
    voter: MemberId | None = Field(
        default=None, description="default: the caller; the clerk enters a paper reply"
    )


class ExtendBody(Strict):
    days: int = Field(ge=1, le=366, strict=True)


class DeliveriesView(BaseModel):
    """The consultation's forms by outcome (voter ids)."""

    ballot_key: str
    delivered: list[str]
    posted_on_board: list[str]
    pending: list[str]
    not_addressed: list[str]


@router.post("/{number}/consultation/replies", status_code=201)
async def reply_to_consultation(
    code: str, number: PathNumber, body: ReplyBody, caller: Caller, door: Door
) -> BallotReceipt:
    """A signed reply to the written consultation: the voter's own, or one the clerk enters
    from the paper form for ``voter``. Keep the receipt to check against the tally."""
    command = c.ReplyToConsultation(council=code, number=number, **body.model_dump())
    receipt: BallotReceipt = await door.handle(command, caller)
    return receipt


@router.post("/{number}/consultation/extend")
async def extend_consultation(
    code: str, number: PathNumber, body: ExtendBody, caller: Caller, door: Door
) -> dict[str, str]:
    """Extend the open written consultation by ``days`` (the chair of its body, or the
    clerk), within the procedure's cap in total; the new closing time."""
    reader(caller, code)  # another council's token learns nothing of this one's items
    command = c.ExtendConsultation(council=code, number=number, days=body.days)
    return {"closes_at": await door.handle(command, caller)}


@router.get("/{number}/consultation/deliveries")
async def list_deliveries(
    code: str, number: PathNumber, caller: Caller, app: App, door: Door
) -> DeliveriesView:
    """Who was sent the consultation's form, and how (送达): the clerk and auditors."""
    await door.may(caller, Action.EXPORT, code)
    forms = await run_in_threadpool(consultation_deliveries, app, code, number)
    return DeliveriesView(
        ballot_key=forms.ballot_key,
        delivered=forms.delivered,
        posted_on_board=forms.posted_on_board,
        pending=forms.pending,
        not_addressed=forms.not_addressed,
    )
