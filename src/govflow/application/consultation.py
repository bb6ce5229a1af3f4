"""Written consultation (书面征求意见) and the bar on a failed matter: application cases.

The forms: when a written consultation opens, the form is addressed (a :class:`Delivery` of
kind ``consultation_form``) to every voter on the frozen roll; the notifier sends it through
the voter's channels, and a voter without a contact, or unreached after its attempts, is told
by the board instead (公告, 指导规则 Art. 22), each recorded on the delivery.
:func:`consultation_deliveries` lists them by outcome.

The bar period: when an item whose procedure states ``bar_after_failure`` ends failed (its
outcome ``rejected`` or ``failed``), the same matter — an item of the same council with the same
title (:func:`govflow.domain.consultation.matter_key`) — may not be proposed again until the
period, counted from the item's close, has passed. The failed item's own procedure says how
long; the refusal (``issue.barred``) records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from eventsourcing.persistence import IntegrityError

from govflow.application.governance import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.application.views import BallotReceipt
from govflow.domain.ballot import Ballot, Choice
from govflow.domain.calendar import deadline
from govflow.domain.consultation import MatterBarredError, SignedReply, matter_key
from govflow.domain.delivery import Delivery, DeliveryStatus, MessageKind, delivery_id
from govflow.domain.errors import (
    DoubleVoteError,
    GovflowError,
    NotFoundError,
    VotingNotOpenError,
)
from govflow.domain.ids import ballot_id, issue_id
from govflow.domain.issue import Issue, IssueProposed

FAILED_OUTCOMES = frozenset({"rejected", "failed"})


@dataclass(frozen=True)
class ConsultationDeliveries:
    """The forms of one consultation round by outcome: voter ids, sorted."""

    ballot_key: str
    delivered: list[str]
    posted_on_board: list[str]  # told by the board (公告): no contact, or undeliverable
    pending: list[str]  # addressed, not yet sent (or being retried)
    not_addressed: list[str]


@dataclass(frozen=True)
class Bar:
    """A failed item that bars its matter, and until when."""

    number: int
    closed_at: datetime
    until: datetime


def bar_on(app: Governance, procedures: ProcedureLibrary, code: str, title: str) -> Bar | None:
    """The failed item of council ``code`` that bars proposing ``title`` now, if any."""
    council = app.council_to_read(code)
    key, now = matter_key(title), app.now()
    bars: list[Bar] = []
    for row in app.list_issues(code):
        if row.outcome not in FAILED_OUTCOMES or matter_key(row.title) != key:
            continue
        name, _, version = row.procedure.rpartition("@")
        try:
            period = procedures.get(name, int(version)).bar_after_failure
        except (GovflowError, ValueError):
            continue  # a procedure no longer loaded states no bar here
        if period is None:
            continue
        closed_at = row.updated_at or row.proposed_at
        until = deadline(
            closed_at,
            period.days,
            period.day_type,
            calendar=app.holiday_calendar,
            timezone=council.timezone,
        )
        if now < until:
            bars.append(Bar(row.number, closed_at, until))
    return max(bars, key=lambda b: b.until, default=None)


def refuse_if_barred(
    app: Governance, procedures: ProcedureLibrary, code: str, number: int, title: str
) -> None:
    """Refuse (``issue.barred``) proposing ``title`` while a failed item bars its matter. An
    item already recorded under ``number`` is left to the proposal (a retry, or a clash)."""
    try:
        app.issue(code, number)
        return
    except NotFoundError:
        pass
    bar = bar_on(app, procedures, code, title)
    if bar is not None:
        raise MatterBarredError(
            f"the same matter failed as item {code}/{bar.number}: it may not be proposed again "
            f"before {bar.until.isoformat()}",
            council=code,
            number=number,
            failed_item=bar.number,
            until=bar.until.isoformat(),
        )


def extend_consultation(
    app: Governance,
    code: str,
    number: int,
    days: int,
    *,
    cap_days: int,
    actor: str,
    step: str | None = None,
) -> datetime:
    """Record the extension of item ``number``'s open written consultation by ``days`` (the
    round's extensions within ``cap_days`` in total); its new closing time."""
    issue: Issue = app.issue(code, number)
    due = issue.extend_consultation(days, cap_days=cap_days, at=app.now(), actor=actor, step=step)
    app._save(issue)
    retell_extension(app, code, number)
    return due


def retell_extension(app: Governance, code: str, number: int) -> list[str]:
    """Tell each voter on the round's roll who has not replied that the consultation was
    extended, with its new deadline (a delivery of kind ``consultation_extended`` per
    extension: addressing it again, as a retried activity does, records nothing new); the
    voters told."""
    issue = app.issue(code, number)
    voting = issue.voting
    if voting is None or not voting.is_open:
        return []
    key = f"{voting.ballot_key}+{voting.extended_days}d"  # one message per extension
    waiting = [
        voter
        for voter in sorted(voting.roll)
        if not app.recorder.select_events(ballot_id(issue.id, voting.ballot_key, voter), limit=1)
    ]
    for voter in waiting:
        app._address(
            code, voter, MessageKind.CONSULTATION_EXTENDED, issue.id, key, number,
            voting.closes_at,
        )  # fmt: skip
    return waiting


def address_consultation_forms(app: Governance, code: str, number: int) -> int:
    """Address the open consultation's form to every voter on its frozen roll (once each: a
    second addressing of the same form to the same voter is refused by the store, and ignored
    here); how many voters the roll holds."""
    issue = app.issue(code, number)
    voting = issue.voting
    if voting is None or not voting.is_open:
        raise VotingNotOpenError("no written consultation is open on this item")
    for voter in sorted(voting.roll):
        app._address(
            code, voter, MessageKind.CONSULTATION_FORM, issue.id, voting.ballot_key, number,
            voting.closes_at,
        )  # fmt: skip
    return len(voting.roll)


def consultation_deliveries(
    app: Governance, code: str, number: int, ballot_key: str | None = None
) -> ConsultationDeliveries:
    """The forms of item ``number``'s consultation round (by default its latest) by outcome."""
    issue = app.issue(code, number)
    voting = issue.voting
    if voting is None or (ballot_key is not None and ballot_key != voting.ballot_key):
        raise NotFoundError(f"no consultation round {ballot_key or ''} on item {code}/{number}")
    by: dict[str, list[str]] = {"delivered": [], "posted": [], "pending": [], "none": []}
    for voter in sorted(voting.roll):
        did = delivery_id(code, MessageKind.CONSULTATION_FORM, voting.ballot_key, voter)
        try:
            status = app._get(Delivery, did, "delivery").status
        except NotFoundError:
            by["none"].append(voter)
            continue
        outcome = {
            DeliveryStatus.DELIVERED: "delivered",
            DeliveryStatus.POSTED_ON_BOARD: "posted",
        }.get(status, "pending")
        by[outcome].append(voter)
    return ConsultationDeliveries(
        voting.ballot_key, by["delivered"], by["posted"], by["pending"], by["none"]
    )


def takes_signed_replies(
    app: Governance, procedures: ProcedureLibrary | None, code: str, number: int
) -> bool:
    """Whether item ``number``'s current vote is a written consultation (which counts only
    signed replies), by the procedure the item began with."""
    if procedures is None:
        return False
    events = app.domain_events(issue_id(code, number))
    proposed = next(events, None)
    if not isinstance(proposed, IssueProposed):
        return False
    voting = app.issue(code, number).voting
    if voting is None:
        return False
    try:
        procedure = procedures.get(proposed.procedure_name, proposed.procedure_version)
        stage = procedure.stage(voting.ballot_key.rsplit("#", 1)[0])
    except (GovflowError, KeyError):
        return False
    return procedure.matches(proposed.procedure_hash) and stage.written_consultation is not None


def record_signed_reply(
    app: Governance,
    code: str,
    number: int,
    voter: str,
    choice: Choice,
    signature_sha256: str,
    *,
    entered_by: Literal["voter", "clerk"],
    actor: str,
    enrolment: int | None = None,
) -> BallotReceipt:
    """Record ``voter``'s signed reply: their ballot and the signature (the scan's sha256),
    saved together; a second reply of the voter in the round is refused by the store
    (``ballot.double_vote``) and records nothing."""
    issue = app.issue(code, number)
    voting = issue.voting
    if voting is None or not voting.is_open:
        raise VotingNotOpenError("no written consultation is open on this item")
    at = app.now()
    ballot = Ballot.cast(voting, voter, choice, at=at, enrolment=enrolment)
    reply = SignedReply.record(
        code, number, issue.id, voting.ballot_key, voter, signature_sha256,
        entered_by=entered_by, at=at, actor=actor,
    )  # fmt: skip
    try:
        recorded = app.save(ballot, reply)
    except IntegrityError:
        raise DoubleVoteError(
            f"{voter} has already replied in {voting.ballot_key}",
            voter=voter,
            ballot_key=voting.ballot_key,
        ) from None
    position = next(
        r.notification.id for r in recorded if r.domain_event.originator_id == ballot.id
    )
    return BallotReceipt(
        ballot_id=ballot.id,
        ballot_key=voting.ballot_key,
        notification_id=position,
        all_voted=app._count_ballot(voting),
    )
