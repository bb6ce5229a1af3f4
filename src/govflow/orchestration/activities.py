"""Activities: the workflow's only door to the world, each calling one Governance method.

Every call carries a deterministic step id (an applied step is a no-op) and the workflow's
time, which the events record. Rule violations become non-retryable ``ApplicationError``s
typed with the domain's stable code; concurrent changes stay retryable.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

import psycopg
import structlog
from eventsourcing.persistence import InterfaceError, OperationalError
from temporalio import activity
from temporalio.exceptions import ApplicationError, TemporalError

from govflow.application import Governance
from govflow.application.consultation import address_consultation_forms, extend_consultation
from govflow.application.views import TallyView
from govflow.domain.calendar import DayType
from govflow.domain.council import Body
from govflow.domain.errors import ConcurrentChangeError, GovflowError, ResolutionMismatchError
from govflow.domain.issue import IssueOutcome, StageOutcome
from govflow.domain.notice import NoticePeriod
from govflow.orchestration import messages as m

# Errors of an unreachable or restarting store: retried until the store is back.
OUTAGES = (OperationalError, InterfaceError, sqlite3.OperationalError, psycopg.OperationalError)
DEFECT_ATTEMPTS = 5
P = ParamSpec("P")
R = TypeVar("R")
logger = structlog.get_logger("govflow.activities")


def _context(args: tuple[Any, ...]) -> dict[str, Any]:
    """council, issue and workflow id for every log line of this activity."""
    ref = next(
        (getattr(a, "ref", a) for a in args if isinstance(getattr(a, "ref", a), m.Ref)), None
    )
    context: dict[str, Any] = {"workflow_id": activity.info().workflow_id}
    if isinstance(ref, m.Ref):
        context.update(council=ref.council, issue=ref.number, step=ref.step)
    return context


def _translated(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with structlog.contextvars.bound_contextvars(**_context(args)):
                return fn(*args, **kwargs)
        except ConcurrentChangeError:
            raise
        except GovflowError as error:
            raise ApplicationError(
                error.message, error.to_dict(), type=error.code, non_retryable=True
            ) from error
        except (TemporalError, *OUTAGES):
            raise  # cancellation, or the store is away: retried with back-off until back
        except Exception as defect:
            # A defect: retried a few times in case it was transient, then failed for good,
            # logged once (on the last attempt) with its traceback.
            info = activity.info()
            last = info.attempt >= DEFECT_ATTEMPTS
            if last:
                logger.exception("activity_defect", attempts=info.attempt)
            raise ApplicationError(
                f"{type(defect).__name__} in {info.activity_type}",
                type="activity.defect",
                non_retryable=last,
            ) from defect

    return wrapper


def defn(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """An activity with a stable persisted name and domain errors translated."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        return activity.defn(name=f"govflow.{name}")(_translated(fn))

    return decorate


class GovernanceActivities:
    def __init__(self, app: Governance) -> None:
        self.app = app

    def all(self) -> list[Callable[..., Any]]:
        return [
            getattr(self, name)
            for name in dir(self)
            if hasattr(getattr(self, name), "__temporal_activity_definition")
        ]

    @defn("open_stage")
    def open_stage(self, i: m.OpenStageInput) -> m.StageOpenedResult:
        with self.app.acting_at(i.ref.at):
            started = self.app.start_stage(
                i.ref.council,
                i.ref.number,
                i.stage,
                days=i.days,
                day_type=DayType(i.day_type),
                body=Body(i.body) if i.body else None,
                actor=i.ref.actor,
                step=i.ref.step,
            )
        return m.StageOpenedResult(deadline=started.deadline, chairs=started.chairs)

    @defn("close_stage")
    def close_stage(self, i: m.CloseStageInput) -> None:
        with self.app.acting_at(i.ref.at):
            self.app.close_stage(
                i.ref.council,
                i.ref.number,
                i.stage,
                StageOutcome(i.outcome),
                actor=i.ref.actor,
                step=i.ref.step,
            )

    @defn("skip_stage")
    def skip_stage(self, i: m.SkipStageInput) -> None:
        with self.app.acting_at(i.ref.at):
            self.app.skip_stage(
                i.ref.council, i.ref.number, i.stage, i.reason, actor=i.ref.actor, step=i.ref.step
            )

    @defn("escalate")
    def escalate(self, i: m.EscalateInput) -> m.EscalatedResult:
        with self.app.acting_at(i.ref.at):
            due = self.app.extend_stage(
                i.ref.council,
                i.ref.number,
                i.reason,
                days=i.days,
                day_type=DayType(i.day_type),
                to_body=i.to_body,
                actor=i.ref.actor,
                step=i.ref.step,
            )
        logger.warning(
            "escalated", reason=i.reason, to_body=i.to_body, new_deadline=due.isoformat()
        )
        return m.EscalatedResult(new_deadline=due)

    @defn("open_voting")
    def open_voting(self, i: m.OpenVotingInput) -> m.VotingOpenedResult:
        with self.app.acting_at(i.ref.at):
            key = self.app.open_voting(
                i.ref.council,
                i.ref.number,
                i.stage,
                body=Body(i.body),
                rule=i.rule,
                closes_at=i.closes_at,
                actor=i.ref.actor,
                step=i.ref.step,
                secret=i.secret,
            )
        return m.VotingOpenedResult(ballot_key=key)

    @defn("extend_consultation")
    def extend_consultation(self, i: m.ExtendConsultationInput) -> datetime:
        with self.app.acting_at(i.ref.at):
            return extend_consultation(
                self.app,
                i.ref.council,
                i.ref.number,
                i.days,
                cap_days=i.cap_days,
                actor=i.ref.actor,
                step=i.ref.step,
            )

    @defn("deliver_consultation_forms")
    def deliver_consultation_forms(self, ref: m.Ref) -> int:
        """Address the form to every voter on the frozen roll (the notifier sends it, or posts
        it on the board); at the notifier's clock, which sends what is due by it."""
        return address_consultation_forms(self.app, ref.council, ref.number)

    @defn("close_voting")
    def close_voting(self, i: m.CloseVotingInput) -> TallyView:
        with self.app.acting_at(i.ref.at):
            return self.app.close_voting(
                i.ref.council, i.ref.number, i.reason, actor=i.ref.actor, step=i.ref.step
            )

    @defn("record_resolution")
    def record_resolution(self, i: m.MeetingResolutionInput) -> bool:
        with self.app.acting_at(i.ref.at):
            if i.body is None or i.rule is None:  # scheduled by a worker before the checks
                raise ResolutionMismatchError(
                    "this resolution was asked for before meetings were checked against the "
                    "stage: record it again"
                )
            return self.app.record_meeting_resolution(
                i.ref.council,
                i.ref.number,
                i.stage,
                meeting_number=i.meeting_number,
                motion_no=i.motion_no,
                body=Body(i.body),
                rule=i.rule,
                review_spending=i.review_spending,
                actor=i.ref.actor,
                step=i.ref.step,
            )

    @defn("reapprove_spending")
    def reapprove_spending(self, i: m.MeetingResolutionInput) -> None:
        assert i.spending_number is not None and i.body is not None and i.rule is not None
        with self.app.acting_at(i.ref.at):
            self.app.reapprove_spending(
                i.ref.council,
                i.ref.number,
                spending_number=i.spending_number,
                meeting_number=i.meeting_number,
                motion_no=i.motion_no,
                body=Body(i.body),
                rule=i.rule,
                actor=i.ref.actor,
                step=i.ref.step,
            )

    @defn("review_spending")
    def review_spending(self, i: m.MeetingResolutionInput) -> bool:
        assert i.spending_number is not None
        with self.app.acting_at(i.ref.at):
            return self.app.review_spending(
                i.ref.council,
                i.spending_number,
                meeting_number=i.meeting_number,
                motion_no=i.motion_no,
                actor=i.ref.actor,
                step=i.ref.step,
            )

    @defn("approve_spending")
    def approve_spending(self, i: m.SpendingInput) -> None:
        with self.app.acting_at(i.ref.at):
            self.app.approve_spending(
                i.ref.council, i.spending_number, actor=i.ref.actor, step=i.ref.step
            )

    @defn("complete_spending")
    def complete_spending(self, i: m.CompleteInput) -> bool:
        with self.app.acting_at(i.ref.at):
            return self.app.complete_spending(
                i.ref.council, i.spending_number, i.actual_cost, actor=i.ref.actor, step=i.ref.step
            )

    @defn("settle_spending")
    def settle_spending(self, i: m.SpendingInput) -> None:
        with self.app.acting_at(i.ref.at):
            self.app.settle_spending(
                i.ref.council, i.spending_number, actor=i.ref.actor, step=i.ref.step
            )

    @defn("post_notice")
    def post_notice(self, i: m.PostNoticeInput) -> m.NoticeResult:
        period = NoticePeriod(i.display_days, i.objection_days, i.reply_days, DayType(i.day_type))
        with self.app.acting_at(i.ref.at):
            notice_id = self.app.post_issue_notice(
                i.ref.council,
                i.ref.number,
                i.stage,
                i.kind,
                i.title,
                i.text,
                period,
                actor=i.ref.actor,
                step=i.ref.step,
                spending_number=i.spending_number,
            )
        view = self.app.get_notice(notice_id)
        return m.NoticeResult(
            notice_id=str(notice_id),
            display_until=view.display_until,
            objection_until=view.objection_until,
        )

    @defn("file_objection")
    def file_objection(self, i: m.ObjectionInput) -> m.ObjectionResult:
        with self.app.acting_at(i.ref.at):
            number = self.app.file_objection(
                UUID(i.notice_id), i.text, actor=i.ref.actor, step=i.ref.step
            )
        notice = self.app.notice(UUID(i.notice_id))
        return m.ObjectionResult(objection_no=number, reply_due=notice.open_objections[number])

    @defn("answer_objection")
    def answer_objection(self, i: m.AnswerInput) -> None:
        with self.app.acting_at(i.ref.at):
            self.app.answer_objection(
                UUID(i.notice_id),
                i.objection_no,
                i.reply,
                upheld=i.upheld,
                actor=i.ref.actor,
                step=i.ref.step,
            )

    @defn("correct_notice")
    def correct_notice(self, i: m.CorrectInput) -> m.NoticeResult:
        with self.app.acting_at(i.ref.at):
            self.app.correct_notice(UUID(i.notice_id), i.text, actor=i.ref.actor)
        view = self.app.get_notice(UUID(i.notice_id))
        return m.NoticeResult(
            notice_id=i.notice_id,
            display_until=view.display_until,
            objection_until=view.objection_until,
        )

    @defn("reopen_issue")
    def reopen_issue(self, i: m.ReopenInput) -> None:
        with self.app.acting_at(i.ref.at):
            self.app.reopen_issue(
                i.ref.council,
                i.ref.number,
                i.at_stage,
                i.reason,
                actor=i.ref.actor,
                step=i.ref.step,
            )

    @defn("report_progress")
    def report_progress(self, i: m.ProgressInput) -> None:
        with self.app.acting_at(i.ref.at):
            self.app.report_progress(
                i.ref.council,
                i.ref.number,
                i.stage,
                i.text,
                actor=i.ref.actor,
                step=i.ref.step,
                photos=i.photos,
            )

    @defn("open_evaluation")
    def open_evaluation(self, i: m.EvaluationInput) -> int:
        with self.app.acting_at(i.ref.at):
            return self.app.open_evaluation(
                i.ref.council,
                i.ref.number,
                i.stage,
                body=Body(i.body),
                closes_at=i.closes_at,
                actor=i.ref.actor,
                step=i.ref.step,
            )

    @defn("close_evaluation")
    def close_evaluation(self, i: m.Ref) -> str:
        with self.app.acting_at(i.at):
            return self.app.close_evaluation(i.council, i.number, actor=i.actor, step=i.step)

    @defn("close_issue")
    def close_issue(self, i: m.CloseIssueInput) -> None:
        with self.app.acting_at(i.ref.at):
            self.app.close_issue(
                i.ref.council,
                i.ref.number,
                IssueOutcome(i.outcome),
                actor=i.ref.actor,
                step=i.ref.step,
            )

    @defn("withdraw_issue")
    def withdraw_issue(self, i: m.WithdrawInput) -> None:
        with self.app.acting_at(i.ref.at):
            self.app.withdraw_issue(
                i.ref.council, i.ref.number, i.reason, actor=i.ref.actor, step=i.ref.step
            )

    @defn("send_reminder")
    def send_reminder(self, i: m.ReminderInput) -> None:
        """Remind who can act that a deadline is near (delivered by the log for now)."""
        logger.info("reminder", stage=i.stage, deadline=i.deadline.isoformat(), who=i.who)
