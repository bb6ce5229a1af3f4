"""The forms of an item's page: each builds one command and hands it to the door.

A member gives an opinion or replies, votes (then keeps the receipt), objects to a notice and
rates the result; a chair closes a stage, names a meeting's motion as the resolution, answers
objections, corrects the notice, reports progress with photos, completes and withdraws. A
refusal shows the item again with the reason (4xx) and records nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from govflow.application import commands as c
from govflow.application.views import BallotReceipt
from govflow.domain.errors import GovflowError, InvalidInputError
from govflow.domain.policy import Action, Principal
from govflow.entrypoints.app.acting import act, allows, door_of, governance, refusal
from govflow.entrypoints.app.files import keep_file, kept_file
from govflow.entrypoints.app.item_read import read_item
from govflow.entrypoints.app.items import may_appoint_proxy, render_item, workflow_status
from govflow.entrypoints.app.render import lang_of
from govflow.entrypoints.app.session import AppCaller, Form

router = APIRouter(prefix="/app/items/{number}", include_in_schema=False)
MAX_PHOTOS = 20


async def _act(
    request: Request, caller: Principal, number: int, build: Callable[[], c.Command], done: str
) -> Response:
    """Build the command and hand it to the door; back to the item with ``done``, or the item
    again with the refusal (of what was filled in, or of the door)."""

    async def again(problem: str, status: int) -> Response:
        return await render_item(request, caller, number, problem=problem, status_code=status)

    return await act(request, caller, build, done=f"/app/items/{number}", again=again, confirm=done)


async def _refused(request: Request, caller: Principal, number: int, error: Exception) -> Response:
    problem, status = refusal(error, lang_of(request))
    return await render_item(request, caller, number, problem=problem, status_code=status)


def _number(value: str, field: str) -> int | None:
    """An optional whole number from a form field (empty: none)."""
    value = value.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 16):
        raise InvalidInputError(f"{field} must be a whole number", field=field)
    return int(value)


@router.post("/opinion")
async def opinion(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    def build() -> c.Command:
        return c.GiveOpinion(
            council=caller.council,
            number=number,
            text=form.get("text", ""),
            reply_to=_number(form.get("reply_to", ""), "reply_to"),
        )

    return await _act(request, caller, number, build, "opinion")


@router.post("/vote")
async def vote(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    """Cast the caller's ballot, then show the receipt to keep."""
    return await _vote(request, number, caller, form, None)


@router.post("/vote/for/{member}")
async def vote_for(
    request: Request, number: int, member: str, caller: AppCaller, form: Form
) -> Response:
    """Cast ``member``'s ballot as their proxy (委托), then show the receipt to keep."""
    return await _vote(request, number, caller, form, member)


async def _vote(
    request: Request, number: int, caller: Principal, form: dict[str, str], member: str | None
) -> Response:
    try:
        command = c.CastBallot(
            council=caller.council, number=number, choice=form.get("choice"), for_member=member
        )
        receipt: BallotReceipt = await door_of(request).handle(command, caller)
    except (GovflowError, ValidationError) as error:
        return await _refused(request, caller, number, error)
    return _receipt(number, receipt)


def _receipt(number: int, receipt: BallotReceipt) -> RedirectResponse:
    """To the receipt page, for the voter to keep their receipt."""
    query = urlencode(
        {
            "number": number,
            "ballot_id": str(receipt.ballot_id),
            "notification_id": receipt.notification_id,
            "new": 1,
        }
    )
    return RedirectResponse(f"/app/receipts?{query}", status_code=303)


@router.post("/reply")
async def reply(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    """A signed reply to a written consultation (书面征求意见): the voter's own (then the
    receipt to keep), or a paper one the clerk enters for ``voter`` (then the item again).
    The signed form's scan is kept (by its sha256) once the policy would let the caller reply,
    and the reply records its digest; the door decides who may."""
    voter = form.get("voter", "").strip() or None
    for_other = voter is not None and voter != caller.holder
    action = Action.ENTER_SIGNED_REPLY if for_other else Action.CAST_BALLOT
    digest = "0" * 64  # never recorded: the door refuses a caller the policy refuses
    try:
        if form.get("choice") is None:
            raise InvalidInputError("choose an answer", field="choice")
        if allows(caller, action, caller.council):
            upload = (await request.form()).get("signed_form")
            content = await upload.read() if isinstance(upload, UploadFile) else b""
            if not content:
                raise InvalidInputError("upload the scan of the signed form", field="signed_form")
            digest = await keep_file(request, content)
        command = c.ReplyToConsultation(
            council=caller.council,
            number=number,
            choice=form.get("choice"),
            signature_sha256=digest,
            voter=voter,
        )
        receipt: BallotReceipt = await door_of(request).handle(command, caller)
    except (GovflowError, ValidationError) as error:
        return await _refused(request, caller, number, error)
    if for_other:
        return RedirectResponse(f"/app/items/{number}?done=reply", status_code=303)
    return _receipt(number, receipt)


@router.post("/extend")
async def extend(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    """Extend the open written consultation by a number of days (within the cap)."""

    def build() -> c.Command:
        days = _number(form.get("days", ""), "days")
        if days is None or not 1 <= days <= 366:
            raise InvalidInputError("extend by at least one day", field="days")
        return c.ExtendConsultation(council=caller.council, number=number, days=days)

    return await _act(request, caller, number, build, "extend")


@router.post("/proxy")
async def proxy(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    """Appoint a proxy (委托) for the item's vote: the 委托书 scan is kept like meeting evidence
    (by its sha256) once the policy would let the caller appoint, and the appointment records
    its digest."""
    digest = ""
    if may_appoint_proxy(caller):
        upload = (await request.form()).get("proxy_form")
        content = await upload.read() if isinstance(upload, UploadFile) else b""
        if not content:
            error = InvalidInputError("upload the scan of the signed 委托书", field="proxy_form")
            return await _refused(request, caller, number, error)
        digest = await keep_file(request, content)

    def build() -> c.Command:
        return c.AppointProxy(
            council=caller.council,
            number=number,
            proxy=form.get("proxy", ""),
            proxy_form_sha256=digest,
        )

    return await _act(request, caller, number, build, "proxy")


@router.post("/proxy/revoke")
async def revoke_proxy(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    def build() -> c.Command:
        return c.RevokeProxy(council=caller.council, number=number)

    return await _act(request, caller, number, build, "revoke_proxy")


@router.post("/objection")
async def objection(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    def build() -> c.Command:
        return c.FileObjection(council=caller.council, number=number, text=form.get("text", ""))

    return await _act(request, caller, number, build, "objection")


@router.post("/rating")
async def rating(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    def build() -> c.Command:
        return c.RateIssue(council=caller.council, number=number, rating=form.get("rating"))

    return await _act(request, caller, number, build, "rating")


@router.post("/close")
async def close(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    def build() -> c.Command:
        return c.CloseStage(council=caller.council, number=number)

    return await _act(request, caller, number, build, "close")


@router.post("/resolution")
async def resolution(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    def build() -> c.Command:
        meeting, _, motion = form.get("motion", "").partition("-")
        return c.RecordResolution(
            council=caller.council,
            number=number,
            meeting_number=_number(meeting, "meeting_number") or 0,
            motion_no=_number(motion, "motion_no") or 0,
        )

    return await _act(request, caller, number, build, "resolution")


@router.post("/answer")
async def answer(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    def build() -> c.Command:
        return c.AnswerObjection(
            council=caller.council,
            number=number,
            objection_no=_number(form.get("objection_no", ""), "objection_no") or 0,
            reply=form.get("reply", ""),
            upheld=form.get("upheld") == "yes",
        )

    return await _act(request, caller, number, build, "answer")


@router.post("/correct")
async def correct(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    def build() -> c.Command:
        return c.CorrectNotice(council=caller.council, number=number, text=form.get("text", ""))

    return await _act(request, caller, number, build, "correct")


@router.post("/progress")
async def progress(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    """Report progress; photos are kept with the meeting evidence (by sha256) once the
    policy would let the caller report, and the report records their digests."""
    status = await workflow_status(request, caller.council, number)
    body = status.body if status else None
    photos: list[str] = []
    if allows(caller, Action.CHAIR_STAGE, caller.council, body=body):
        try:
            photos = await _store_photos(request)
        except GovflowError as error:
            return await _refused(request, caller, number, error)

    def build() -> c.Command:
        return c.ReportProgress(
            council=caller.council, number=number, text=form.get("text", ""), photos=tuple(photos)
        )

    return await _act(request, caller, number, build, "progress")


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


@router.post("/complete")
async def complete(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    def build() -> c.Command:
        cost = form.get("actual_cost", "").strip()
        return c.CompleteImplementation(
            council=caller.council, number=number, actual_cost=cost or None
        )

    return await _act(request, caller, number, build, "complete")


@router.post("/withdraw")
async def withdraw(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    def build() -> c.Command:
        return c.Withdraw(council=caller.council, number=number, reason=form.get("reason", ""))

    return await _act(request, caller, number, build, "withdraw")


@router.get("/files/{sha256}")
async def item_file(request: Request, number: int, sha256: str, caller: AppCaller) -> Response:
    """A document or photo this item shows (meeting evidence, progress photos)."""
    app = governance(request)
    read = await run_in_threadpool(
        read_item, app, caller.council, number, caller.holder, "zh", door_of(request).procedures
    )
    content = await kept_file(request, sha256, read.files, "item")
    kind = "image/jpeg" if content[:3] == b"\xff\xd8\xff" else "application/octet-stream"
    if content[:8] == b"\x89PNG\r\n\x1a\n":
        kind = "image/png"
    return Response(
        content,
        media_type=kind,
        headers={"X-Content-Type-Options": "nosniff", "Content-Disposition": "inline"},
    )


_CHOICES = {"赞成": "yes", "同意": "yes", "反对": "no", "弃权": "abstain"}


def _paper_lines(text: str) -> list[c.PaperBallotLine]:
    """One paper ballot a line: ``member id, choice, sha256 of the scan`` (commas, Chinese
    commas, tabs or spaces between; the choice in English or Chinese)."""
    lines = []
    for n, line in enumerate(text.splitlines(), start=1):
        parts = line.replace("，", ",").replace("\t", ",").replace(" ", ",").split(",")
        fields = [part.strip() for part in parts if part.strip()]
        if not fields:
            continue
        if len(fields) != 3:
            raise InvalidInputError(
                f"line {n}: write the member id, the choice and the scan's sha256", line=n
            )
        voter, choice, digest = fields
        lines.append(
            c.PaperBallotLine(
                voter=voter, choice=_CHOICES.get(choice, choice.lower()), scan_sha256=digest.lower()
            )
        )
    return lines


@router.post("/paper")
async def enter_paper(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    """Enter a batch of paper ballots (纸质选票), pending until a scrutineer confirms it."""

    def build() -> c.Command:
        return c.EnterPaperBallots(
            council=caller.council, number=number, ballots=_paper_lines(form.get("lines", ""))
        )

    return await _act(request, caller, number, build, "paper")


@router.post("/paper/confirm")
async def confirm_paper(request: Request, number: int, caller: AppCaller, form: Form) -> Response:
    """A scrutineer (监票人), not the person who entered it, confirms a batch."""

    def build() -> c.Command:
        batch = _number(form.get("batch", ""), "batch")
        return c.ConfirmPaperBallots(council=caller.council, number=number, batch=batch or 0)

    return await _act(request, caller, number, build, "confirm_paper")
