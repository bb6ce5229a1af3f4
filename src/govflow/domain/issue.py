"""The agenda item (议题): its stages in procedure order, voting windows and outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.consultation import ExtensionOverCapError
from govflow.domain.errors import (
    EmptyRollError,
    InvalidInputError,
    IssueClosedError,
    ResolutionMismatchError,
    RuleViolationError,
    StageOrderError,
    VotingNotOpenError,
    WithdrawalTooLateError,
)
from govflow.domain.grid import AlreadyRoutedError, NotRoutedError
from govflow.domain.ids import issue_id
from govflow.domain.voting import VotingRule


class StageRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    kind: str


# The stages in which opinions are given: the committees' deliberation and the residents' 群议.
DISCUSSION_KINDS = frozenset({"deliberate", "public_deliberation"})


class StageOutcome(StrEnum):
    COMPLETED = "completed"
    TIMED_OUT = "timed_out"
    CLOSED_EARLY = "closed_early"
    FAILED = "failed"


class IssueOutcome(StrEnum):
    ADOPTED = "adopted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    FAILED = "failed"


class IssueProposed(DomainEvent):
    TOPIC = "govflow.issue.proposed"
    council: str
    number: int
    title: str
    description: str = ""
    procedure_name: str
    procedure_version: int
    procedure_hash: str
    stages: tuple[StageRef, ...]
    grid: str | None = None
    body: str | None = None
    category: str | None = None
    spending_id: UUID | None = None


class StageOpened(DomainEvent):
    TOPIC = "govflow.issue.stage_opened"
    stage: str
    deadline: AwareDatetime | None = None


class StageClosed(DomainEvent):
    TOPIC = "govflow.issue.stage_closed"
    stage: str
    outcome: StageOutcome


class StageSkipped(DomainEvent):
    TOPIC = "govflow.issue.stage_skipped"
    stage: str
    reason: str


class Escalated(DomainEvent):
    TOPIC = "govflow.issue.escalated"
    stage: str
    reason: str
    to_body: str | None = None
    new_deadline: AwareDatetime | None = None


class OpinionRecorded(DomainEvent):
    """An opinion given in a discussion stage (群议), perhaps a reply to an earlier one.

    ``no`` numbers the item's opinions from 1 in recording order; version 1 carried no
    number (its opinions are numbered by their order) and replied to nothing."""

    TOPIC = "govflow.issue.opinion_recorded"
    class_version = 2
    stage: str
    text: str
    no: int | None = None
    reply_to: int | None = None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 had neither a number nor a reply: numbered by order, replying to none."""
        state.setdefault("no", None)
        state.setdefault("reply_to", None)


class VotingOpened(DomainEvent):
    TOPIC = "govflow.issue.voting_opened"
    stage: str
    ballot_key: str
    roll: dict[str, Decimal]
    members_of_record: int
    expected: int
    rule: VotingRule
    closes_at: AwareDatetime
    # the council's version when the roll was frozen: a voter enrolled later (a member id
    # enrolled again for someone else) is not the person on the roll
    council_version: int | None = None
    # a secret vote: choices are never shown with voters (named: shown once voting closes)
    secret: bool = True


class VotingClosed(DomainEvent):
    TOPIC = "govflow.issue.voting_closed"
    ballot_key: str
    reason: str


class VotingTallied(DomainEvent):
    TOPIC = "govflow.issue.voting_tallied"
    ballot_key: str
    yes: int
    no: int
    abstain: int
    participating: int
    yes_area: Decimal
    participating_area: Decimal
    quorum_met: bool
    passed: bool
    rule: str
    counted_up_to: int
    by_proxy: int = 0  # how many of the counted ballots a proxy (委托) cast
    by_paper: int = 0  # how many of the counted ballots were paper ballots (纸质选票)

    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 had no proxies: no ballot came by proxy."""
        state.setdefault("by_proxy", 0)

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """Version 2 had no paper ballots: none was counted."""
        state.setdefault("by_paper", 0)


class ResolutionRecorded(DomainEvent):
    """A resolution taken at a meeting (the meeting's motion decided it)."""

    TOPIC = "govflow.issue.resolution_recorded"
    stage: str
    meeting_id: UUID
    motion_no: int
    passed: bool


class ProgressReported(DomainEvent):
    """Implementation progress, with the sha256 of any photos (kept with meeting evidence)."""

    TOPIC = "govflow.issue.progress_reported"
    class_version = 2
    stage: str
    text: str
    photos: tuple[str, ...] = ()

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 had no photos."""
        state.setdefault("photos", [])


class EvaluationOpened(DomainEvent):
    TOPIC = "govflow.issue.evaluation_opened"
    stage: str
    raters: tuple[str, ...]
    closes_at: AwareDatetime


class EvaluationRecorded(DomainEvent):
    """The evaluation (评议) result: counts on the 满意 / 基本满意 / 不满意 scale."""

    TOPIC = "govflow.issue.evaluation_recorded"
    stage: str
    satisfied: int
    basically_satisfied: int
    dissatisfied: int
    raters: int
    result: str
    counted_up_to: int


class NoticeLinked(DomainEvent):
    TOPIC = "govflow.issue.notice_linked"
    stage: str
    notice_id: UUID
    kind: str


class IssueReopened(DomainEvent):
    TOPIC = "govflow.issue.reopened"
    at_stage: str
    reason: str


class ConsultationExtended(DomainEvent):
    """A written consultation's voting period extended, within its procedure's cap."""

    TOPIC = "govflow.issue.consultation_extended"
    stage: str
    ballot_key: str
    days: int
    closes_at: AwareDatetime
    extended_days: int  # the round's extensions in total, this one included
    cap_days: int


class IssueWithdrawn(DomainEvent):
    TOPIC = "govflow.issue.withdrawn"
    reason: str


class IssueClosed(DomainEvent):
    TOPIC = "govflow.issue.closed"
    outcome: IssueOutcome


class IssueRouted(DomainEvent):
    """The item was sent to a grid's service station (网格服务站) to be dealt with there."""

    TOPIC = "govflow.issue.routed"
    grid: str
    station: str


class IssueRerouted(DomainEvent):
    """The item was sent on from one grid's station to another's, and why."""

    TOPIC = "govflow.issue.rerouted"
    from_grid: str
    to_grid: str
    station: str
    reason: str


@dataclass
class Evaluation:
    """A rating window: who may rate, until when."""

    issue_id: UUID
    stage: str
    raters: frozenset[str]
    closes_at: datetime
    is_open: bool = True


@dataclass
class OpenVoting:
    """A voting window as ballots see it: the frozen roll and its key."""

    issue_id: UUID
    ballot_key: str
    roll: dict[str, Decimal]
    members_of_record: int
    expected: int
    rule: VotingRule
    closes_at: datetime
    is_open: bool = True
    council_version: int | None = None
    extended_days: int = 0  # a written consultation's extensions so far (days)
    # a secret vote: who took part is recorded apart from what was chosen (named: together)
    secret: bool = False


def proposal_of(event: IssueProposed) -> dict[str, object]:
    """What makes two proposals of the same item the same proposal (a retry, not a clash)."""
    return event.model_dump(
        include={
            "title", "description", "procedure_name", "procedure_version", "procedure_hash",
            "grid", "body", "category", "spending_id",
        }
    )  # fmt: skip


class Issue(Aggregate):
    created_by = (IssueProposed,)

    @classmethod
    def propose(
        cls,
        council: str,
        number: int,
        title: str,
        *,
        procedure_name: str,
        procedure_version: int,
        procedure_hash: str,
        stages: tuple[StageRef, ...],
        at: datetime,
        actor: str,
        description: str = "",
        grid: str | None = None,
        body: str | None = None,
        category: str | None = None,
        spending_id: UUID | None = None,
    ) -> Issue:
        if not title.strip():
            raise InvalidInputError("an issue needs a title")
        if not stages:
            raise InvalidInputError("a procedure needs at least one stage")
        return cls._create(
            IssueProposed,
            issue_id(council, number),
            at=at,
            actor=actor,
            council=council,
            number=number,
            title=title,
            description=description,
            procedure_name=procedure_name,
            procedure_version=procedure_version,
            procedure_hash=procedure_hash,
            stages=stages,
            grid=grid,
            body=body,
            category=category,
            spending_id=spending_id,
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case IssueProposed():
                self.council = event.council
                self.number = event.number
                self.title = event.title
                self.procedure = (event.procedure_name, event.procedure_version)
                self.stages = [s.id for s in event.stages]
                self.stage_kinds = {s.id: s.kind for s in event.stages}
                self.next_index = 0
                self.open_stage: str | None = None
                self.deadline: datetime | None = None
                self.voting: OpenVoting | None = None
                self.voting_rounds: dict[str, int] = {}
                self.resolved = False
                self.outcome: IssueOutcome | None = None
                self.escalations = 0
                self.notices: list[UUID] = []
                self.progress_reports = 0
                self.opinions = 0  # how many opinions were given (numbered 1, 2 …)
                self.evaluation: Evaluation | None = None
                # the grid named at proposal: before grids were on record, free text
                self.grid = event.grid
                self.routed_to: str | None = None  # the grid whose station has the item
                self.routed_in: int | None = None  # the version that routed it there
                self.category = event.category
                self.spending_id = event.spending_id
                self.proposal = proposal_of(event)
                self.resolutions: dict[str, bool] = {}  # of each stage's current opening
                self.used_motions: set[tuple[UUID, int]] = set()
            case StageOpened():
                self.resolutions.pop(event.stage, None)
                self.open_stage = event.stage
                self.deadline = event.deadline
                self.next_index = self.stages.index(event.stage) + 1
            case StageClosed():
                self.open_stage = None
                self.deadline = None
            case StageSkipped():
                self.next_index = self.stages.index(event.stage) + 1
            case Escalated():
                self.escalations += 1
                if event.new_deadline is not None:
                    self.deadline = event.new_deadline
            case VotingOpened():
                self.voting = OpenVoting(
                    self.id,
                    event.ballot_key,
                    dict(event.roll),
                    event.members_of_record,
                    event.expected,
                    event.rule,
                    event.closes_at,
                    council_version=event.council_version,
                    secret=event.secret,
                )
                self.voting_rounds[event.stage] = self.voting_rounds.get(event.stage, 0) + 1
            case ConsultationExtended():
                self.deadline = event.closes_at
                if self.voting is not None:
                    self.voting.closes_at = event.closes_at
                    self.voting.extended_days = event.extended_days
            case VotingClosed():
                if self.voting is not None:
                    self.voting.is_open = False
            case VotingTallied():
                self.resolved = self.resolved or event.passed
            case ResolutionRecorded():
                self.resolved = self.resolved or event.passed
                self.resolutions[event.stage] = event.passed
                self.used_motions.add((event.meeting_id, event.motion_no))
            case NoticeLinked():
                self.notices.append(event.notice_id)
            case ProgressReported():
                self.progress_reports += 1
            case OpinionRecorded():
                self.opinions += 1
            case EvaluationOpened():
                self.evaluation = Evaluation(
                    self.id, event.stage, frozenset(event.raters), event.closes_at
                )
            case EvaluationRecorded():
                if self.evaluation is not None:
                    self.evaluation.is_open = False
            case IssueReopened():
                self.open_stage = None
                self.deadline = None
                self.next_index = self.stages.index(event.at_stage)
                self.resolved = False
                self.voting = None
            case IssueWithdrawn():
                self.outcome = IssueOutcome.WITHDRAWN
                self.open_stage = None
            case IssueClosed():
                self.outcome = event.outcome
                self.open_stage = None
            case IssueRouted():
                self.grid = self.routed_to = event.grid
                self.routed_in = event.originator_version
            case IssueRerouted():
                self.grid = self.routed_to = event.to_grid
                self.routed_in = event.originator_version

    # -- commands -------------------------------------------------------------------------

    def _require_active(self) -> None:
        if self.outcome is not None:
            raise IssueClosedError(f"issue {self.number} is {self.outcome.value}")

    def _require_open(self, stage: str) -> None:
        self._require_active()
        if self.open_stage != stage:
            raise StageOrderError(
                f"stage {stage!r} is not open (open: {self.open_stage!r})", stage=stage
            )

    @property
    def next_stage(self) -> str | None:
        return self.stages[self.next_index] if self.next_index < len(self.stages) else None

    def open(
        self,
        stage: str,
        *,
        deadline: datetime | None,
        at: datetime,
        actor: str,
        step: str | None = None,
    ) -> None:
        if self.has_applied(step):
            return
        self._require_active()
        if stage not in self.stage_kinds:
            raise StageOrderError(f"the procedure has no stage {stage!r}", stage=stage)
        if self.open_stage is not None:
            raise StageOrderError(f"stage {self.open_stage!r} is still open", stage=stage)
        if stage != self.next_stage:
            raise StageOrderError(
                f"stage {stage!r} is out of order: next is {self.next_stage!r}", stage=stage
            )
        self._trigger(StageOpened, at=at, actor=actor, step=step, stage=stage, deadline=deadline)

    def close(
        self,
        stage: str,
        outcome: StageOutcome,
        *,
        at: datetime,
        actor: str,
        step: str | None = None,
    ) -> None:
        if self.has_applied(step):
            return
        self._require_open(stage)
        if self.voting is not None and self.voting.is_open:
            raise RuleViolationError("close the voting before its stage")
        self._trigger(StageClosed, at=at, actor=actor, step=step, stage=stage, outcome=outcome)

    def skip(
        self, stage: str, reason: str, *, at: datetime, actor: str, step: str | None = None
    ) -> None:
        if self.has_applied(step):
            return
        self._require_active()
        if self.open_stage is not None or stage != self.next_stage:
            raise StageOrderError(f"stage {stage!r} is not next", stage=stage)
        self._trigger(StageSkipped, at=at, actor=actor, step=step, stage=stage, reason=reason)

    def escalate(
        self,
        reason: str,
        *,
        to_body: str | None,
        new_deadline: datetime | None,
        at: datetime,
        actor: str,
        step: str | None = None,
    ) -> None:
        if self.has_applied(step):
            return
        if self.open_stage is None:
            raise StageOrderError("no stage is open to escalate")
        self._trigger(
            Escalated,
            at=at,
            actor=actor,
            step=step,
            stage=self.open_stage,
            reason=reason,
            to_body=to_body,
            new_deadline=new_deadline,
        )

    def record_opinion(self, stage: str, text: str, *, at: datetime, actor: str) -> None:
        self._require_open(stage)
        if not text.strip():
            raise InvalidInputError("an opinion needs some text")
        self._trigger(OpinionRecorded, at=at, actor=actor, stage=stage, text=text)

    def give_opinion(self, text: str, *, reply_to: int | None, at: datetime, actor: str) -> int:
        """Give an opinion in the open discussion stage (商议 or 群议), or reply to one of the
        item's earlier opinions; returns its number."""
        self._require_active()
        stage = self.open_stage
        if stage is None or self.stage_kinds.get(stage) not in DISCUSSION_KINDS:
            raise StageOrderError("no discussion stage is open on this item", stage=stage)
        if not text.strip():
            raise InvalidInputError("an opinion needs some text")
        if reply_to is not None and not 1 <= reply_to <= self.opinions:
            raise InvalidInputError(f"there is no opinion {reply_to} to reply to")
        no = self.opinions + 1
        self._trigger(
            OpinionRecorded, at=at, actor=actor, stage=stage, text=text, no=no, reply_to=reply_to
        )
        return no

    def open_voting(
        self,
        stage: str,
        *,
        roll: dict[str, Decimal],
        members_of_record: int,
        expected: int,
        rule: VotingRule,
        closes_at: datetime,
        at: datetime,
        actor: str,
        step: str | None = None,
        council_version: int | None = None,
        secret: bool = True,
    ) -> str:
        """Freeze ``roll`` and open a voting round; returns the round's ballot key."""
        if self.has_applied(step):
            assert self.voting is not None
            return self.voting.ballot_key
        self._require_open(stage)
        if self.voting is not None and self.voting.is_open:
            raise RuleViolationError("voting is already open", stage=stage)
        if not roll:
            raise EmptyRollError(
                "nobody is on the roll of the voting body: enrol its members first", stage=stage
            )
        round_no = self.voting_rounds.get(stage, 0) + 1
        key = f"{stage}#{round_no}"
        self._trigger(
            VotingOpened,
            at=at,
            actor=actor,
            step=step,
            stage=stage,
            ballot_key=key,
            roll=roll,
            members_of_record=members_of_record,
            expected=expected,
            rule=rule,
            closes_at=closes_at,
            council_version=council_version,
            secret=secret,
        )
        return key

    def close_voting(
        self, reason: str, *, at: datetime, actor: str, step: str | None = None
    ) -> None:
        if self.has_applied(step):
            return
        if self.voting is None or not self.voting.is_open:
            raise VotingNotOpenError("no voting is open on this issue")
        self._trigger(
            VotingClosed,
            at=at,
            actor=actor,
            step=step,
            ballot_key=self.voting.ballot_key,
            reason=reason,
        )

    def record_tally(
        self, tally: Tally, *, at: datetime, actor: str, step: str | None = None
    ) -> None:
        if self.has_applied(step):
            return
        if self.voting is None or self.voting.is_open:
            raise VotingNotOpenError("a tally is recorded once voting has closed")
        self._trigger(
            VotingTallied,
            at=at,
            actor=actor,
            step=step,
            ballot_key=self.voting.ballot_key,
            **tally.fields(),
        )

    def record_resolution(
        self,
        stage: str,
        *,
        meeting_id: UUID,
        motion_no: int,
        passed: bool,
        at: datetime,
        actor: str,
        step: str | None = None,
    ) -> None:
        if self.has_applied(step):
            return
        self._require_open(stage)
        if stage in self.resolutions:
            raise RuleViolationError(f"stage {stage} already has its resolution", stage=stage)
        if (meeting_id, motion_no) in self.used_motions:
            raise ResolutionMismatchError(
                f"motion {motion_no} of that meeting already resolved a stage of this item",
                motion_no=motion_no,
            )
        self._trigger(
            ResolutionRecorded,
            at=at,
            actor=actor,
            step=step,
            stage=stage,
            meeting_id=meeting_id,
            motion_no=motion_no,
            passed=passed,
        )

    def report_progress(
        self,
        stage: str,
        text: str,
        *,
        at: datetime,
        actor: str,
        step: str | None = None,
        photos: tuple[str, ...] = (),
    ) -> None:
        if self.has_applied(step):
            return
        self._require_open(stage)
        if not text.strip():
            raise InvalidInputError("a progress report needs some text")
        self._trigger(
            ProgressReported, at=at, actor=actor, step=step, stage=stage, text=text, photos=photos
        )

    def open_evaluation(
        self,
        stage: str,
        *,
        raters: tuple[str, ...],
        closes_at: datetime,
        at: datetime,
        actor: str,
        step: str | None = None,
    ) -> None:
        if self.has_applied(step):
            return
        self._require_open(stage)
        self._trigger(
            EvaluationOpened,
            at=at,
            actor=actor,
            step=step,
            stage=stage,
            raters=raters,
            closes_at=closes_at,
        )

    def record_evaluation(
        self,
        counts: dict[str, int],
        *,
        counted_up_to: int,
        at: datetime,
        actor: str,
        step: str | None = None,
    ) -> str:
        """Record the evaluation; the result is 满意 when more than half are at least basically
        satisfied (基本满意 or better), else 不满意."""
        if self.has_applied(step):
            return ""
        if self.evaluation is None or not self.evaluation.is_open:
            raise VotingNotOpenError("no evaluation is open on this issue")
        satisfied = counts.get("satisfied", 0)
        basically = counts.get("basically_satisfied", 0)
        dissatisfied = counts.get("dissatisfied", 0)
        raters = satisfied + basically + dissatisfied
        result = "satisfied" if 2 * (satisfied + basically) > raters else "dissatisfied"
        self._trigger(
            EvaluationRecorded,
            at=at,
            actor=actor,
            step=step,
            stage=self.evaluation.stage,
            satisfied=satisfied,
            basically_satisfied=basically,
            dissatisfied=dissatisfied,
            raters=raters,
            result=result,
            counted_up_to=counted_up_to,
        )
        return result

    def link_notice(
        self,
        stage: str,
        notice_id: UUID,
        kind: str,
        *,
        at: datetime,
        actor: str,
        step: str | None = None,
    ) -> None:
        if self.has_applied(step):
            return
        self._require_active()
        self._trigger(
            NoticeLinked, at=at, actor=actor, step=step, stage=stage, notice_id=notice_id, kind=kind
        )

    def reopen(
        self, at_stage: str, reason: str, *, at: datetime, actor: str, step: str | None = None
    ) -> None:
        if self.has_applied(step):
            return
        self._require_active()
        if at_stage not in self.stage_kinds:
            raise StageOrderError(f"the procedure has no stage {at_stage!r}", stage=at_stage)
        self._trigger(
            IssueReopened, at=at, actor=actor, step=step, at_stage=at_stage, reason=reason
        )

    def extend_consultation(
        self, days: int, *, cap_days: int, at: datetime, actor: str, step: str | None = None
    ) -> datetime:
        """Extend the open written consultation by ``days``; the new closing time. The
        extensions of a round total at most ``cap_days`` (the procedure's cap)."""
        if self.has_applied(step):
            assert self.voting is not None
            return self.voting.closes_at
        self._require_active()
        voting = self.voting
        if voting is None or not voting.is_open or self.open_stage is None:
            raise VotingNotOpenError("no written consultation is open on this item")
        if days < 1:
            raise InvalidInputError("an extension is of at least one day")
        total = voting.extended_days + days
        if total > cap_days:
            raise ExtensionOverCapError(
                f"extensions may total at most {cap_days} days: {voting.extended_days} used, "
                f"{days} more asked for",
                cap_days=cap_days,
                extended_days=voting.extended_days,
                days=days,
            )
        closes_at = voting.closes_at + timedelta(days=days)
        self._trigger(
            ConsultationExtended,
            at=at,
            actor=actor,
            step=step,
            stage=self.open_stage,
            ballot_key=voting.ballot_key,
            days=days,
            closes_at=closes_at,
            extended_days=total,
            cap_days=cap_days,
        )
        return closes_at

    def withdraw(self, reason: str, *, at: datetime, actor: str, step: str | None = None) -> None:
        if self.has_applied(step):
            return
        self._require_active()
        if self.resolved:
            raise WithdrawalTooLateError("an issue cannot be withdrawn once it is resolved")
        self._trigger(IssueWithdrawn, at=at, actor=actor, step=step, reason=reason)

    def route(self, grid: str, station: str, *, at: datetime, actor: str) -> bool:
        """Send the item to ``grid``'s station; False if it is there already (a retry)."""
        self._require_active()
        if self.routed_to == grid:
            return False
        if self.routed_to is not None:
            raise AlreadyRoutedError(
                f"issue {self.number} is at grid {self.routed_to}'s station: re-route it, "
                "saying why",
                grid=self.routed_to,
            )
        self._trigger(IssueRouted, at=at, actor=actor, grid=grid, station=station)
        return True

    def reroute(self, grid: str, station: str, reason: str, *, at: datetime, actor: str) -> bool:
        """Send the item on to ``grid``'s station; False if it is there already (a retry)."""
        self._require_active()
        if self.routed_to is None:
            raise NotRoutedError(f"issue {self.number} is not routed to a grid: route it")
        if self.routed_to == grid:
            return False
        if not reason.strip():
            raise InvalidInputError("re-routing an item needs a reason")
        self._trigger(
            IssueRerouted,
            at=at,
            actor=actor,
            from_grid=self.routed_to,
            to_grid=grid,
            station=station,
            reason=reason,
        )
        return True

    def finish(
        self, outcome: IssueOutcome, *, at: datetime, actor: str, step: str | None = None
    ) -> None:
        if self.has_applied(step):
            return
        self._require_active()
        if self.open_stage is not None:
            raise StageOrderError(f"stage {self.open_stage!r} is still open")
        self._trigger(IssueClosed, at=at, actor=actor, step=step, outcome=outcome)


@dataclass(frozen=True)
class Tally:
    yes: int
    no: int
    abstain: int
    participating: int
    yes_area: Decimal
    participating_area: Decimal
    quorum_met: bool
    passed: bool
    rule: str
    counted_up_to: int
    by_proxy: int = 0
    by_paper: int = 0

    def fields(self) -> dict[str, object]:
        return dict(self.__dict__)
