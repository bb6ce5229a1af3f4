"""Commands: every write a person or an integration can ask for, one typed message each.

Entry points (the API, the app, the CLI through the API, the demo) build a command and hand it,
with the authenticated principal, to the command door (:mod:`govflow.orchestration.door`),
which asks the policy and performs it. Commands carry what the caller says; the facts a rule
depends on (rolls, chairs, the stage's body and rule) come from the record.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from govflow.domain.access import HolderKind, Scope
from govflow.domain.ballot import Choice
from govflow.domain.council import Area, Body, MemberId
from govflow.domain.rating import Satisfaction


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    council: str


class ItemCommand(Command):
    number: int = Field(ge=1)


# -- items ----------------------------------------------------------------------------------


class ProposeIssue(ItemCommand):
    title: str = Field(min_length=1, max_length=200)
    procedure: str = Field(min_length=1, max_length=100)
    version: int | None = Field(default=None, ge=1)
    description: str = Field(default="", max_length=10_000)
    grid: str | None = None
    category: str | None = None
    spending_number: int | None = Field(default=None, ge=1)


class CastBallot(ItemCommand):
    choice: Choice


class RateIssue(ItemCommand):
    rating: Satisfaction


class CloseStage(ItemCommand):
    pass


class RecordResolution(ItemCommand):
    meeting_number: int = Field(ge=1)
    motion_no: int = Field(ge=1)


class Reapprove(RecordResolution):
    pass


class FileObjection(ItemCommand):
    text: str = Field(min_length=1, max_length=10_000)


class AnswerObjection(ItemCommand):
    objection_no: int = Field(ge=1)
    reply: str = Field(min_length=1, max_length=10_000)
    upheld: bool = False


class CorrectNotice(ItemCommand):
    text: str = Field(min_length=1, max_length=10_000)


class ReportProgress(ItemCommand):
    text: str = Field(min_length=1, max_length=10_000)


class CompleteImplementation(ItemCommand):
    actual_cost: Decimal | None = Field(default=None, ge=0, decimal_places=2)


class Withdraw(ItemCommand):
    reason: str = Field(min_length=1, max_length=10_000)


class AdvanceClock(ItemCommand):
    days: float = Field(gt=0, le=3660)


# -- meetings -------------------------------------------------------------------------------


class ScheduleMeeting(ItemCommand):
    body: Body
    kind: str = Field(default="议事会议", min_length=1, max_length=50)
    title: str = Field(min_length=1, max_length=200)
    scheduled_for: AwareDatetime
    notice_days_required: int = Field(default=0, ge=0, le=60)
    rule_of: str = Field(min_length=1, max_length=100)
    rule: str = Field(min_length=1, max_length=100)
    issue_number: int | None = Field(default=None, ge=1)


class GiveMeetingNotice(ItemCommand):
    pass


class ExcuseMember(ItemCommand):
    member_id: MemberId
    reason: str = Field(min_length=1, max_length=1_000)


class RecordAttendance(ItemCommand):
    present: tuple[MemberId, ...] = Field(max_length=100_000)


class RecordMotion(ItemCommand):
    text: str = Field(min_length=1, max_length=10_000)
    yes: int = Field(ge=0)
    no: int = Field(ge=0)
    abstain: int = Field(default=0, ge=0)


class RecordMinutes(ItemCommand):
    text: str = Field(min_length=1, max_length=100_000)


class AttachEvidence(ItemCommand):
    name: str = Field(min_length=1, max_length=200)
    content: bytes


# -- spending -------------------------------------------------------------------------------


class RequestSpending(ItemCommand):
    amount: str
    purpose: str = Field(min_length=1, max_length=500)
    payee: str = Field(min_length=1, max_length=200)
    budget_line: str = Field(min_length=1, max_length=200)
    issue_number: int | None = Field(default=None, ge=1)


class RequestDisbursement(ItemCommand):
    amount: str
    reference: str = Field(min_length=1, max_length=200)


class ApproveDisbursement(ItemCommand):
    disbursement_no: int = Field(ge=1)


# -- the roll and access --------------------------------------------------------------------


class EnrollMember(Command):
    member_id: MemberId
    name: str = Field(min_length=1, max_length=100)
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
    unit: str = Field(min_length=1, max_length=100)
    exclusive_area: Area
    owner_id: MemberId
    bodies: tuple[Body, ...] = (Body.OWNERS_ASSEMBLY,)


class ChangeThreshold(Command):
    spending_threshold: str


class IssueToken(Command):
    holder: MemberId
    kind: HolderKind = HolderKind.PERSON
    scopes: tuple[Scope, ...] = ()


class RevokeToken(Command):
    token_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="revoked by the clerk", max_length=1_000)


__all__ = [
    "AdvanceClock",
    "AnswerObjection",
    "ApproveDisbursement",
    "AttachEvidence",
    "CastBallot",
    "ChangeMember",
    "ChangeThreshold",
    "CloseStage",
    "Command",
    "CompleteImplementation",
    "CorrectNotice",
    "EnrollMember",
    "ExcuseMember",
    "FileObjection",
    "GiveMeetingNotice",
    "IssueToken",
    "ProposeIssue",
    "RateIssue",
    "Reapprove",
    "RecordAttendance",
    "RecordMinutes",
    "RecordMotion",
    "RecordResolution",
    "RegisterHousehold",
    "RemoveMember",
    "ReportProgress",
    "RequestDisbursement",
    "RequestSpending",
    "RevokeToken",
    "ScheduleMeeting",
    "Withdraw",
]
