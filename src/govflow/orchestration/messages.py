"""Frozen pydantic messages: one typed input per workflow, activity, update and query."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from govflow.domain.access import HolderKind, Scope
from govflow.domain.notice import NoticeKind
from govflow.domain.policy import Principal
from govflow.domain.voting import VotingRule


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Progress(Message):
    """Where a workflow run stands: carried across continue-as-new."""

    index: int = 0
    seq: int = 0
    revotes: dict[str, int] = Field(default_factory=dict)
    escalated: bool = False


class IssueInput(Message):
    council: str
    number: int
    procedure: dict[str, Any]  # the whole Procedure, so later edits never change a running item
    category: str | None = None
    spending_number: int | None = None
    amount_over_threshold: bool = False
    history_limit: int = Field(default=5_000, ge=1)  # continue as new past this many events
    progress: Progress = Field(default_factory=Progress)


class IssueResult(Message):
    outcome: str
    stages_run: int


class Ref(Message):
    """What every activity input carries: which issue, at what workflow time, which step."""

    council: str
    number: int
    at: datetime
    step: str
    actor: str = "system"


class OpenStageInput(Message):
    ref: Ref
    stage: str
    days: int
    day_type: str
    body: str | None = None
    escalate_to: str | None = None


class StageOpenedResult(Message):
    deadline: datetime
    chairs: list[str]


class CloseStageInput(Message):
    ref: Ref
    stage: str
    outcome: str


class SkipStageInput(Message):
    ref: Ref
    stage: str
    reason: str


class EscalateInput(Message):
    ref: Ref
    reason: str
    to_body: str | None
    days: int
    day_type: str


class EscalatedResult(Message):
    new_deadline: datetime


class OpenVotingInput(Message):
    ref: Ref
    stage: str
    body: str
    rule: VotingRule
    closes_at: datetime
    secret: bool = True


class VotingOpenedResult(Message):
    ballot_key: str


class CloseVotingInput(Message):
    ref: Ref
    reason: str


class MeetingResolutionInput(Message):
    ref: Ref
    stage: str
    meeting_number: int
    motion_no: int
    spending_number: int | None = None
    # What the meeting must match: the stage's acting body and voting rule. With
    # ``review_spending`` the same motion is that spending's review, recorded atomically.
    body: str | None = None
    rule: VotingRule | None = None
    review_spending: int | None = None


class PostNoticeInput(Message):
    ref: Ref
    stage: str
    kind: NoticeKind
    title: str
    text: str
    display_days: int
    objection_days: int | None
    reply_days: int | None
    day_type: str
    spending_number: int | None = None


class NoticeResult(Message):
    notice_id: str
    display_until: datetime
    objection_until: datetime | None


class ObjectionInput(Message):
    ref: Ref
    notice_id: str
    text: str


class ObjectionResult(Message):
    objection_no: int
    reply_due: datetime


class AnswerInput(Message):
    ref: Ref
    notice_id: str
    objection_no: int
    reply: str
    upheld: bool


class CorrectInput(Message):
    ref: Ref
    notice_id: str
    text: str


class ReopenInput(Message):
    ref: Ref
    at_stage: str
    reason: str


class ProgressInput(Message):
    ref: Ref
    stage: str
    text: str
    photos: tuple[str, ...] = ()  # sha256 of photos kept with the meeting evidence


class SpendingInput(Message):
    ref: Ref
    spending_number: int


class CompleteInput(Message):
    ref: Ref
    spending_number: int
    actual_cost: Decimal


class EvaluationInput(Message):
    ref: Ref
    stage: str
    body: str
    closes_at: datetime


class CloseIssueInput(Message):
    ref: Ref
    outcome: str


class WithdrawInput(Message):
    ref: Ref
    reason: str


class ReminderInput(Message):
    ref: Ref
    stage: str
    deadline: datetime
    who: list[str]


# -- updates and queries --------------------------------------------------------------------


class Acting(Message):
    """The principal behind an update, as the council's record said when the command came
    in: the workflow's validators ask the policy with it."""

    council: str
    holder: str
    kind: HolderKind = HolderKind.PERSON
    roles: tuple[str, ...] = ()
    scopes: tuple[Scope, ...] = ()
    chairs: tuple[str, ...] = ()
    bodies: tuple[str, ...] = ()
    enrolment: int | None = None

    @classmethod
    def of(cls, who: Principal) -> Acting:
        return cls(
            council=who.council,
            holder=who.holder,
            kind=who.kind,
            roles=tuple(sorted(who.roles)),
            scopes=tuple(sorted(who.scopes)),
            chairs=tuple(sorted(who.chairs)),
            bodies=tuple(sorted(who.bodies)),
            enrolment=who.enrolment,
        )

    def principal(self) -> Principal:
        return Principal(
            self.council,
            self.holder,
            self.kind,
            roles=frozenset(self.roles),
            scopes=frozenset(self.scopes),
            chairs=frozenset(self.chairs),
            bodies=frozenset(self.bodies),
            enrolment=self.enrolment,
        )


class ChairAction(Message):
    """A chair closes the open stage (or the voting, where the procedure allows)."""

    member_id: str
    who: Acting | None = None


class ResolutionRequest(Message):
    member_id: str
    meeting_number: int
    motion_no: int
    who: Acting | None = None


class ObjectionRequest(Message):
    person_id: str
    text: str
    who: Acting | None = None


class AnswerRequest(Message):
    member_id: str
    objection_no: int
    reply: str
    upheld: bool
    who: Acting | None = None


class CorrectionRequest(Message):
    member_id: str
    text: str
    who: Acting | None = None


class ProgressRequest(Message):
    member_id: str
    text: str
    who: Acting | None = None
    photos: tuple[str, ...] = ()


class CompletionRequest(Message):
    member_id: str
    actual_cost: Decimal | None = None
    who: Acting | None = None


class ExtensionRequest(Message):
    """Extend the open written consultation by ``days`` (the chair or the clerk)."""

    member_id: str
    days: int
    who: Acting | None = None


class ExtendConsultationInput(Message):
    ref: Ref
    days: int
    cap_days: int


class WithdrawRequest(Message):
    member_id: str
    reason: str
    who: Acting | None = None


class OpenAction(Message):
    action: str
    who: list[str]


class Status(Message):
    council: str
    number: int
    stage: str | None
    kind: str | None
    body: str | None = None  # the stage's acting body
    deadline: datetime | None
    actions: list[OpenAction]
    outcome: str | None = None
    notice_id: str | None = None
    ballot_key: str | None = None
