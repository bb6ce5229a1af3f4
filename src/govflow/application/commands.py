"""Commands: every write a person or an integration can ask for, one typed message each.

Entry points (the API, the app, the CLI through the API, the demo) build a command and hand it,
with the authenticated principal, to the command door (:mod:`govflow.orchestration.door`),
which asks the policy and performs it. Commands carry what the caller says; the facts a rule
depends on (rolls, chairs, the stage's body and rule) come from the record.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from govflow.domain.access import HolderKind, Scope
from govflow.domain.area import ExclusiveArea
from govflow.domain.ballot import Choice
from govflow.domain.council import Body, MemberId
from govflow.domain.fund import FundKind, LineDate, StatementSchedule
from govflow.domain.grid import MAX_STAFF, GridCode
from govflow.domain.money import Yuan
from govflow.domain.rating import Satisfaction
from govflow.domain.rectification import AssigneeKind, SourceKind

# -- the shapes of what callers send, bounded once ------------------------------------------

MAX_NUMBER = 2**53 - 1
"""The largest item, meeting, spending, motion, objection or disbursement number: the largest
integer every JSON reader keeps exactly (I-JSON, RFC 7493), well inside the stores' 64 bits."""
MAX_COUNT = 10_000_000
"""The largest count of votes a meeting may record for one choice (more than any body's roll)."""

Number = Annotated[int, Field(ge=1, le=MAX_NUMBER)]
"""An item's, meeting's, spending's … number: 1 to 2**53-1."""
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
"""A count of people: 0 to 10,000,000."""

# Characters that hide or reorder what a reader sees: explicit bidirectional embeddings,
# overrides and isolates (``invoice\u202egpj.exe`` shows as ``invoiceexe.jpg``), and marks.
_BIDI_FORMATTING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BIDI_MARKS = frozenset("\u061c\u200e\u200f")
_LINE_BREAKS = frozenset("\t\n\r")
# Joiners shape words in Persian, Indic scripts and emoji sequences: free text keeps them. Every
# other format character (Unicode category Cf: zero-width space, word joiner, BOM, soft hyphen,
# tags …) is invisible, so ``x\u200b`` would be a payee that looks exactly like ``x``.
_JOINERS = frozenset("\u200c\u200d")


def _refuse_hidden(value: str, *, one_line: bool) -> str:
    for ch in value:
        category = unicodedata.category(ch)
        reorders = ch in _BIDI_FORMATTING or ch in _BIDI_MARKS
        hidden = (
            category == "Cs"  # a lone surrogate: no UTF-8 store can keep it
            or reorders
            or (category == "Cc" and (one_line or ch not in _LINE_BREAKS))
            or (one_line and category in ("Zl", "Zp"))
        )
        invisible = category == "Cf" and (one_line or ch not in _JOINERS)
        if hidden or invisible:
            name = unicodedata.name(ch, "a control character")
            why = (
                "control and bidirectional-formatting characters hide or reorder what readers see"
                if hidden
                else "invisible formatting characters hide what readers see and make different "
                "names look alike"
            )
            raise ValueError(f"the character U+{ord(ch):04X} ({name}) is not allowed here: {why}")
    return value


def _one_line(value: str) -> str:
    return _refuse_hidden(value, one_line=True)


def _text(value: str) -> str:
    return _refuse_hidden(value, one_line=False)


Name = Annotated[str, AfterValidator(_one_line)]
"""A name or title shown as one line (a file name, a payee): no control characters, line
breaks, bidirectional marks or overrides, nor any other format character (Unicode Cf: zero-width
spaces and joiners, word joiners, BOMs, soft hyphens …)."""
Text = Annotated[str, AfterValidator(_text)]
"""Free text (an opinion, minutes): lines, but no other control characters, no bidirectional
overrides or marks, and no format character (Cf) but the zero-width joiner and non-joiner."""


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    council: str


class ItemCommand(Command):
    number: Number


# -- items ----------------------------------------------------------------------------------


class ProposeIssue(ItemCommand):
    title: Name = Field(min_length=1, max_length=200)
    procedure: Name = Field(min_length=1, max_length=100)
    version: Number | None = None
    description: Text = Field(default="", max_length=10_000)
    grid: Name | None = Field(default=None, max_length=100)
    category: Name | None = Field(default=None, max_length=100)
    spending_number: Number | None = None


class CastBallot(ItemCommand):
    choice: Choice
    for_member: MemberId | None = None  # vote as this voter's proxy (委托), for them


class ReplyToConsultation(ItemCommand):
    """A signed reply to the item's written consultation (书面征求意见): the voter's ballot
    with the sha256 of the signed form's scan; the clerk enters a paper one for ``voter``."""

    choice: Choice
    signature_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    voter: MemberId | None = None  # default: the caller


class AppointProxy(ItemCommand):
    """Appoint a proxy (委托) for the item's vote stage (by default its vote by ballots), on a
    委托书 kept by its scan's sha256; the clerk records a paper one for ``principal``."""

    proxy: MemberId
    proxy_form_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    principal: MemberId | None = None  # default: the caller
    stage: Name | None = Field(default=None, max_length=64)


class RevokeProxy(ItemCommand):
    principal: MemberId | None = None  # default: the caller
    stage: Name | None = Field(default=None, max_length=64)
    reason: Name = Field(default="revoked by the principal", min_length=1, max_length=500)


class AppointMeetingProxy(ItemCommand):
    """Appoint a proxy to attend meeting ``number`` for the principal (委托出席), on a 委托书
    kept by its scan's sha256; the clerk records a paper one for ``principal``."""

    proxy: MemberId
    proxy_form_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    principal: MemberId | None = None  # default: the caller


class RevokeMeetingProxy(ItemCommand):
    principal: MemberId | None = None  # default: the caller
    reason: Name = Field(default="revoked by the principal", min_length=1, max_length=500)


class PaperBallotLine(BaseModel):
    """One paper ballot (纸质选票) read from the box: the voter, the choice, the scan's sha256."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    voter: MemberId
    choice: Choice
    scan_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class EnterPaperBallots(ItemCommand):
    """Enter a batch of paper ballots for the item's open vote by ballots (by default its
    first); it counts once a scrutineer (监票人) confirms it (:class:`ConfirmPaperBallots`)."""

    ballots: list[PaperBallotLine] = Field(min_length=1, max_length=2000)
    stage: Name | None = Field(default=None, max_length=64)


class ConfirmPaperBallots(ItemCommand):
    """A scrutineer (监票人), not the person who entered it, confirms a pending batch."""

    batch: Number


class RateIssue(ItemCommand):
    rating: Satisfaction


class CloseStage(ItemCommand):
    pass


class RecordResolution(ItemCommand):
    meeting_number: Number
    motion_no: Number


class Reapprove(RecordResolution):
    pass


class FileObjection(ItemCommand):
    text: Text = Field(min_length=1, max_length=10_000)


class AnswerObjection(ItemCommand):
    objection_no: Number
    reply: Text = Field(min_length=1, max_length=10_000)
    upheld: bool = False


class CorrectNotice(ItemCommand):
    text: Text = Field(min_length=1, max_length=10_000)


Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
"""A file's SHA-256 in lower-case hex (a photo kept with the meeting evidence)."""


class GiveOpinion(ItemCommand):
    """An opinion in the item's open discussion stage (群议), or a reply to opinion
    ``reply_to``."""

    text: Text = Field(min_length=1, max_length=10_000)
    reply_to: Number | None = None


class ReportProgress(ItemCommand):
    text: Text = Field(min_length=1, max_length=10_000)
    photos: tuple[Sha256, ...] = Field(default=(), max_length=20)


class CompleteImplementation(ItemCommand):
    actual_cost: Yuan | None = None


class ExtendConsultation(ItemCommand):
    """Extend the item's open written consultation (书面征求意见) by ``days``."""

    days: int = Field(ge=1, le=366)


class Withdraw(ItemCommand):
    reason: Text = Field(min_length=1, max_length=10_000)


class AdvanceClock(ItemCommand):
    days: float = Field(gt=0, le=3660)


# -- meetings -------------------------------------------------------------------------------


class ScheduleMeeting(ItemCommand):
    body: Body
    kind: Name = Field(default="议事会议", min_length=1, max_length=50)
    title: Name = Field(min_length=1, max_length=200)
    scheduled_for: AwareDatetime
    notice_days_required: int = Field(default=0, ge=0, le=60)
    rule_of: Name = Field(min_length=1, max_length=100)
    rule: Name = Field(min_length=1, max_length=100)
    issue_number: Number | None = None


class GiveMeetingNotice(ItemCommand):
    pass


class ExcuseMember(ItemCommand):
    member_id: MemberId
    reason: Text = Field(min_length=1, max_length=1_000)


class RecordAttendance(ItemCommand):
    present: tuple[MemberId, ...] = Field(max_length=100_000)


class RecordMotion(ItemCommand):
    text: Text = Field(min_length=1, max_length=10_000)
    yes: Count
    no: Count
    abstain: Count = 0


class RecordMinutes(ItemCommand):
    text: Text = Field(min_length=1, max_length=100_000)


class AttachEvidence(ItemCommand):
    name: Name = Field(min_length=1, max_length=200)
    content: bytes


# -- spending -------------------------------------------------------------------------------


class RequestSpending(ItemCommand):
    amount: Yuan
    purpose: Name = Field(min_length=1, max_length=500)
    payee: Name = Field(min_length=1, max_length=200)
    budget_line: Name = Field(min_length=1, max_length=200)
    issue_number: Number | None = None


class RequestDisbursement(ItemCommand):
    amount: Yuan
    reference: Name = Field(min_length=1, max_length=200)


class ApproveDisbursement(ItemCommand):
    disbursement_no: Number


# -- grids (网格) and routing items to their service stations ---------------------------------


class AddGrid(Command):
    """Put a grid on the record: its code, name, service station and the station's staff
    (members of the council)."""

    grid: GridCode
    name: Name = Field(min_length=1, max_length=100)
    station: Name = Field(min_length=1, max_length=100)
    staff: tuple[MemberId, ...] = Field(default=(), max_length=MAX_STAFF)


class ChangeGrid(AddGrid):
    """Another name, station or staff for a grid (the whole of it, as it is to be)."""


class RetireGrid(Command):
    grid: GridCode


class RouteIssue(ItemCommand):
    """Send the item to ``grid``'s service station."""

    grid: GridCode


class RerouteIssue(ItemCommand):
    """Send the item on from the station it is at to ``grid``'s, saying why."""

    grid: GridCode
    reason: Text = Field(min_length=1, max_length=2_000)


# -- funds (信托制物业) ----------------------------------------------------------------------


class OpenFund(ItemCommand):
    """Open fund ``number`` and name its keyholders (at least two distinct members)."""

    name: Name = Field(min_length=1, max_length=200)
    kind: FundKind
    keyholders: tuple[MemberId, ...] = Field(min_length=2, max_length=9)
    schedule: StatementSchedule = StatementSchedule.MONTHLY
    display_days: int = Field(default=30, ge=1, le=366)


class FundLine(ItemCommand):
    amount: Yuan
    counterparty: Name = Field(min_length=1, max_length=200)
    category: Name = Field(min_length=1, max_length=100)
    on: LineDate
    evidence_sha256: Sha256
    reference: Name = Field(default="", max_length=200)
    corrects: Number | None = None  # the line this one reverses


class RecordFundIncome(FundLine):
    """A keyholder records money in (or reverses an expense line)."""


class InitiateFundExpense(FundLine):
    """A keyholder initiates money out (or reverses an income line); another approves it.
    Over the council's threshold it names the approved spending that covers it."""

    spending_number: Number | None = None


class ApproveFundExpense(ItemCommand):
    expense_no: Number


class WithdrawFundExpense(ItemCommand):
    expense_no: Number
    reason: Text = Field(min_length=1, max_length=1_000)


class PostFundStatement(ItemCommand):
    """Post the statement of a closed period: ``2026-03`` (monthly) or ``2026-Q1``."""

    period: str = Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])$")


class ObjectToFundStatement(ItemCommand):
    """A member objects to a posted statement within its notice's objection window."""

    period: str = Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])$")
    text: Text = Field(min_length=1, max_length=10_000)


class AnswerFundStatementObjection(ItemCommand):
    """A keyholder (or the clerk) answers an objection to a posted statement."""

    period: str = Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])$")
    objection_no: Number
    reply: Text = Field(min_length=1, max_length=10_000)
    upheld: bool = False


# -- annual ratings (分类定级) -----------------------------------------------------------------


class RatingCommand(Command):
    year: int = Field(ge=2000, le=2100)


class OpenAnnualRating(RatingCommand):
    """Open the council's rating for ``year`` with a rating procedure (its latest version
    unless ``version`` is given); the raters on the record now are the year's panel."""

    procedure: Name = Field(default="street-office-annual-rating", min_length=1, max_length=100)
    version: Number | None = None


class RatingEvidence(BaseModel):
    """Evidence behind a score: its kind (as the criterion names it), the file's sha256, a
    note."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Name = Field(min_length=1, max_length=64)
    sha256: Sha256
    note: Text = Field(default="", max_length=1000)


class ScoreCriterion(RatingCommand):
    """A rater's score (0 to 100, one decimal at most) of one criterion, with its evidence."""

    criterion: Name = Field(min_length=1, max_length=64)
    score: Decimal = Field(ge=0, le=100, max_digits=4, decimal_places=1)
    evidence: tuple[RatingEvidence, ...] = Field(default=(), max_length=20)


class PublishAnnualRating(RatingCommand):
    pass


class ObjectToAnnualRating(RatingCommand):
    text: Text = Field(min_length=1, max_length=10_000)


class AnswerAnnualRatingObjection(RatingCommand):
    objection_no: Number
    reply: Text = Field(min_length=1, max_length=10_000)
    upheld: bool = False


class ReviseAnnualRating(RatingCommand):
    pass


# -- rectification (限期整改) -----------------------------------------------------------------


class RecordInspection(ItemCommand):
    """An inspection's finding (检查发现) with the sha256 of its evidence."""

    finding: Text = Field(min_length=1, max_length=10_000)
    evidence_sha256: Sha256


class OrderRectification(ItemCommand):
    """Order ``assignee`` (a member id, or a body whose chairs act) to put ``what`` right by
    the end of ``due`` (the council's time zone). The source names what it comes from: an
    item whose evaluation was 不满意 (``issue_number``), an upheld objection (``notice_id``
    and ``objection_no``) or an inspection (``inspection_number``)."""

    what: Text = Field(min_length=1, max_length=2_000)
    why: Text = Field(min_length=1, max_length=10_000)
    assignee_kind: AssigneeKind
    assignee: MemberId
    body: Body  # the ordering body: its chairs verify
    due: date
    source: SourceKind
    issue_number: Number | None = None
    notice_id: UUID | None = None
    objection_no: Number | None = None
    inspection_number: Number | None = None


class CompleteRectification(ItemCommand):
    """Report the order done: what was done, and the sha256 of each piece of evidence."""

    text: Text = Field(min_length=1, max_length=10_000)
    evidence: tuple[Sha256, ...] = Field(min_length=1, max_length=20)


class VerifyRectification(ItemCommand):
    """Accept the completion (``accepted``), or send it back with reasons (``text``) and a new
    deadline (``due``)."""

    accepted: bool
    text: Text = Field(default="", max_length=10_000)
    due: date | None = None


# -- the roll and access --------------------------------------------------------------------


class EnrollMember(Command):
    member_id: MemberId
    name: Name = Field(min_length=1, max_length=100)
    roles: tuple[str, ...] = ()
    bodies: tuple[Body, ...] = ()
    chairs: tuple[Body, ...] = ()


class ChangeMember(Command):
    member_id: MemberId
    roles: tuple[str, ...] = ()
    bodies: tuple[Body, ...] = ()
    chairs: tuple[Body, ...] = ()


class RemoveMember(Command):
    member_id: MemberId


class RegisterHousehold(Command):
    """A unit of the property register. ``owner_id`` votes for it (with joint owners, the one
    they designated); ``co_owners``: the other joint owners (共有人), recorded, not voting."""

    unit: Name = Field(min_length=1, max_length=100)
    exclusive_area: ExclusiveArea
    owner_id: MemberId
    bodies: tuple[Body, ...] = (Body.OWNERS_ASSEMBLY,)
    co_owners: tuple[MemberId, ...] = Field(default=(), max_length=50)


class ChangeHousehold(Command):
    """Another representative (``owner_id``) or other joint owners for a registered unit:
    the whole set, replacing the old; votes opened later take it."""

    unit: Name = Field(min_length=1, max_length=100)
    owner_id: MemberId
    co_owners: tuple[MemberId, ...] = Field(default=(), max_length=50)


class ChangeThreshold(Command):
    spending_threshold: Yuan


# -- telling people -------------------------------------------------------------------------


class SetContact(Command):
    """Where a member is told (an e-mail address, a gateway address such as a mobile number or
    WeChat id; empty: none) and whether they follow the council's new notices. Kept beside
    the log, never in an event."""

    member_id: MemberId
    email: str = Field(default="", max_length=254, pattern=r"^(|[^@\s]+@[^@\s]+\.[^@\s]+)$")
    gateway: str = Field(default="", max_length=128, pattern=r"^[A-Za-z0-9_+.:@-]*$")
    follows: bool = False


class IssueToken(Command):
    holder: MemberId
    kind: HolderKind = HolderKind.PERSON
    scopes: tuple[Scope, ...] = ()


class RevokeToken(Command):
    token_id: str = Field(min_length=1, max_length=64)
    reason: Text = Field(default="revoked by the clerk", max_length=1_000)


# -- signing in to the app ------------------------------------------------------------------


class InviteMembers(Command):
    """Invite members (their current enrolment) to sign in: each gets a one-time link valid
    for ``days``. ``uninvited``: also everyone on the roll without a live session or
    invitation."""

    member_ids: tuple[MemberId, ...] = Field(default=(), max_length=10_000)
    uninvited: bool = False
    days: int = Field(default=7, ge=1, le=90)


class RevokeInvitation(Command):
    invitation_id: UUID
    reason: Text = Field(default="withdrawn by the clerk", max_length=1_000)


class EndSession(Command):
    """End a person's session (or token), named by its id: sign out."""

    session_id: UUID
    reason: Text = Field(default="signed out", max_length=1_000)


class RedeemInvitation(BaseModel):
    """Open a session with a sign-in link (public: the link's secret is the credential).
    ``replaces``: the session the browser holds, ended once the new one opens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    invitation: str = Field(min_length=1, max_length=200)
    replaces: str | None = Field(default=None, max_length=200)


__all__ = [
    "AdvanceClock",
    "AnswerFundStatementObjection",
    "AnswerObjection",
    "ApproveDisbursement",
    "ApproveFundExpense",
    "AttachEvidence",
    "CastBallot",
    "ChangeHousehold",
    "ChangeMember",
    "ChangeThreshold",
    "CloseStage",
    "Command",
    "CompleteImplementation",
    "CompleteRectification",
    "CorrectNotice",
    "EndSession",
    "EnrollMember",
    "ExcuseMember",
    "FileObjection",
    "GiveMeetingNotice",
    "GiveOpinion",
    "InitiateFundExpense",
    "InviteMembers",
    "IssueToken",
    "ObjectToFundStatement",
    "OpenFund",
    "OrderRectification",
    "PostFundStatement",
    "ProposeIssue",
    "RateIssue",
    "Reapprove",
    "RecordAttendance",
    "RecordFundIncome",
    "RecordInspection",
    "RecordMinutes",
    "RecordMotion",
    "RecordResolution",
    "RedeemInvitation",
    "RegisterHousehold",
    "RemoveMember",
    "ReportProgress",
    "RequestDisbursement",
    "RequestSpending",
    "RevokeInvitation",
    "RevokeToken",
    "ScheduleMeeting",
    "SetContact",
    "VerifyRectification",
    "Withdraw",
    "WithdrawFundExpense",
]
