"""The deliberation workflow: one generic interpreter walking an issue through its procedure.

The procedure arrives whole in the input, so editing a procedure file never changes a running
item. The workflow decides *when*; activities (and through them the domain) decide *whether*.
Votes never pass through here: ballots go to the event store and the workflow is told once,
by the ``all_voted`` signal, when the whole roll has voted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from govflow.domain.consultation import ExtensionOverCapError
    from govflow.domain.errors import EmptyRollError, ForbiddenError
    from govflow.domain.notice import NoticeKind
    from govflow.domain.policy import Action, authorize
    from govflow.domain.procedure import (
        RECORDED,
        Condition,
        Procedure,
        QuorumFailure,
        Stage,
        StageKind,
        TimeoutPolicy,
    )
    from govflow.orchestration import messages as m
    from govflow.orchestration.activities import GovernanceActivities as A

R = TypeVar("R")
STAGE_ATTRIBUTE = SearchAttributeKey.for_keyword("GovflowStage")
COUNCIL_ATTRIBUTE = SearchAttributeKey.for_keyword("GovflowCouncil")
PROCEDURE_ATTRIBUTE = SearchAttributeKey.for_keyword("GovflowProcedure")
SEARCH_ATTRIBUTES = (STAGE_ATTRIBUTE, COUNCIL_ATTRIBUTE, PROCEDURE_ATTRIBUTE)
ACTIVITY_TIMEOUT = timedelta(seconds=60)
# Rule violations are not retried (non-retryable errors) and a defect fails after a few
# attempts (see activities.DEFECT_ATTEMPTS); only an unreachable store is retried until back.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
SPENDING_DISCLOSURES = (NoticeKind.RESOLUTION, NoticeKind.PROGRESS, NoticeKind.RESULT)


def _code(error: ActivityError) -> str | None:
    """The domain's stable code behind a failed activity, if any."""
    cause = error.cause
    return cause.type if isinstance(cause, ApplicationError) else None


class Next(Enum):
    ADVANCE = "advance"
    JUMP = "jump"
    END = "end"


@workflow.defn(name="govflow.issue")
class IssueWorkflow:
    def __init__(self) -> None:
        self.input: m.IssueInput | None = None
        self.procedure: Procedure | None = None
        self.index = 0
        self.seq = 0
        self.revotes: dict[str, int] = {}
        self.deadline: datetime | None = None
        self.chairs: list[str] = []
        self.jump_to = 0
        self.outcome: str | None = None
        self.withdrawn = False
        self.wake = False
        self.deciding = False  # a resolution or re-approval is being recorded
        self._reset_stage()

    def _reset_stage(self) -> None:
        self.stage: Stage | None = None
        self.closed_by: str | None = None
        self.all_voted = False
        self.ballot_key: str | None = None
        self.resolution: tuple[str, bool] | None = None
        self.notice: m.NoticeResult | None = None
        self.open_objections: dict[int, datetime] = {}
        self.escalated_objections: set[int] = set()
        self.reopen_at: str | None = None
        self.progress_text: str | None = None
        self.progress_notices = 0
        self.completed_by: str | None = None
        self.reapproval_needed = False
        self.escalated = False
        self.extended_days = 0  # a written consultation's extensions so far
        self.extending = False  # an extension is being recorded

    # -- the interpreter --------------------------------------------------------------------

    @workflow.run
    async def run(self, input: m.IssueInput) -> m.IssueResult:
        self.input = input
        self.procedure = Procedure.model_validate(input.procedure, context={RECORDED: True})
        self.index, self.seq = input.progress.index, input.progress.seq
        self.revotes = dict(input.progress.revotes)
        stages_run = 0
        while self.index < len(self.procedure.stages) and self.outcome is None:
            if workflow.info().get_current_history_length() > input.history_limit:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    input.model_copy(
                        update={
                            "progress": m.Progress(
                                index=self.index, seq=self.seq, revotes=self.revotes
                            )
                        }
                    )
                )
            self._reset_stage()
            step = await self._run_stage(self.procedure.stages[self.index])
            stages_run += 1
            if step is Next.JUMP:
                self.index = self.jump_to
            elif step is Next.ADVANCE:
                self.index += 1
        if self.outcome is None:
            await self._finish("adopted")
        self.stage = None
        await workflow.wait_condition(workflow.all_handlers_finished)
        return m.IssueResult(outcome=self.outcome or "adopted", stages_run=stages_run)

    async def _run_stage(self, stage: Stage) -> Next:
        assert self.input is not None
        if stage.when is Condition.AMOUNT_OVER_THRESHOLD and not self.input.amount_over_threshold:
            await self._act(
                A.skip_stage,
                m.SkipStageInput(
                    ref=self._ref(), stage=stage.id, reason="the amount is not over the threshold"
                ),
            )
            return Next.ADVANCE
        opened = await self._act(
            A.open_stage,
            m.OpenStageInput(
                ref=self._ref(),
                stage=stage.id,
                days=stage.duration.days,
                day_type=stage.duration.day_type.value,
                body=stage.body.value if stage.body else None,
            ),
        )
        self.deadline, self.chairs = opened.deadline, opened.chairs
        self.stage = stage
        workflow.upsert_search_attributes([STAGE_ATTRIBUTE.value_set(stage.id)])
        if stage.kind in (StageKind.VOTE, StageKind.REVIEW) and stage.vote_by == "ballots":
            return await self._ballot_vote(stage)
        if stage.kind in (StageKind.VOTE, StageKind.REVIEW):
            return await self._meeting_vote(stage)
        if stage.kind is StageKind.PUBLISH:
            return await self._publish(stage)
        if stage.kind is StageKind.IMPLEMENT:
            return await self._implement(stage)
        if stage.kind is StageKind.EVALUATE:
            return await self._evaluate(stage)
        return await self._discussion(stage)

    async def _discussion(self, stage: Stage) -> Next:
        if stage.kind is StageKind.PROPOSE and stage.duration.days == 0:
            await self._close_stage(stage, "completed")  # proposing it was the whole stage
            return Next.ADVANCE
        done = await self._wait(lambda: self.closed_by is not None, stage)
        if self.withdrawn:
            return Next.END
        if done:
            await self._close_stage(stage, "completed", actor=self.closed_by or "system")
            return Next.ADVANCE
        return await self._timed_out(stage)

    async def _ballot_vote(self, stage: Stage) -> Next:
        assert self.procedure is not None and self.input is not None and stage.body is not None
        assert self.deadline is not None
        try:
            opened = await self._act(
                A.open_voting,
                m.OpenVotingInput(
                    ref=self._ref(),
                    stage=stage.id,
                    body=stage.body.value,
                    rule=self.procedure.rule_for(stage, self.input.category),
                    closes_at=self.deadline,
                    secret=stage.ballot == "secret",
                ),
            )
        except ActivityError as error:
            if _code(error) != EmptyRollError.code:
                raise
            # Nobody could vote: the stage fails, recorded, instead of waiting for nobody.
            workflow.logger.warning("empty roll", extra={"stage": stage.id})
            await self._close_stage(stage, "failed")
            return await self._finish("failed")
        self.ballot_key = opened.ballot_key
        if stage.written_consultation is not None:
            await self._consultation(stage)
        else:
            await self._wait_until(
                lambda: self.all_voted or self.closed_by is not None, self.deadline, stage
            )
        if self.withdrawn:
            return Next.END
        reason = "all_voted" if self.all_voted else "closed_early" if self.closed_by else "deadline"
        tally = await self._act(
            A.close_voting, m.CloseVotingInput(ref=self._ref(self.closed_by), reason=reason)
        )
        await self._close_stage(
            stage,
            "closed_early" if self.closed_by else "completed",
            actor=self.closed_by or "system",
        )
        if not tally.quorum_met:
            return await self._quorum_failed(stage)
        if not tally.passed:
            return await self._finish("rejected")
        return Next.ADVANCE

    async def _consultation(self, stage: Stage) -> None:
        """Wait for the replies until the deadline, which a recorded extension may move (then
        the new one is waited for).
        Only a written consultation stage comes here (no recorded history of another does).
        The form goes to every voter on the frozen roll first (items that opened their
        consultation before forms were delivered wait without)."""
        if workflow.patched("consultation-forms-delivered"):
            await self._act(A.deliver_consultation_forms, self._ref())
        while True:
            deadline = self.deadline
            assert deadline is not None

            def done(waited_for: datetime = deadline) -> bool:
                moved = self.deadline != waited_for
                return self.all_voted or self.closed_by is not None or moved

            await self._wait_until(done, deadline, stage)
            if self.deadline == deadline or self.all_voted or self.closed_by or self.withdrawn:
                return

    async def _meeting_vote(self, stage: Stage) -> Next:
        done = await self._wait(lambda: self.resolution is not None, stage)
        if self.withdrawn:
            return Next.END
        if not done or self.resolution is None:
            await self._close_stage(stage, "timed_out")
            return await self._quorum_failed(stage)
        chair, passed = self.resolution
        await self._close_stage(stage, "completed", actor=chair)
        return Next.ADVANCE if passed else await self._finish("rejected")

    async def _quorum_failed(self, stage: Stage) -> Next:
        policy = stage.on_quorum_failure or QuorumFailure(action="reject")
        used = self.revotes.get(stage.id, 0)
        if policy.action != "reject" and used < max(policy.max_revotes, 1):
            target = stage.id if policy.action == "revote" else policy.return_to
            assert target is not None
            self.revotes[stage.id] = used + 1
            return await self._reopen(target, f"{stage.id}: quorum not met")
        return await self._finish("failed")

    async def _publish(self, stage: Stage) -> Next:
        assert stage.notice is not None and self.input is not None
        spec = stage.notice
        spending = self._spending_for(spec.kind)
        if spending is not None and spec.kind is NoticeKind.RESOLUTION:
            await self._act(
                A.approve_spending, m.SpendingInput(ref=self._ref(), spending_number=spending)
            )
        self.notice = await self._post_notice(stage, spec.kind, stage.title)
        while True:
            await self._until_display_or_objection_due()
            self.wake = False
            if self.withdrawn:
                return Next.END
            if self.reopen_at is not None:
                await self._close_stage(stage, "completed")
                return await self._reopen(self.reopen_at, "objection upheld")
            await self._escalate_unanswered(stage)
            if workflow.now() >= self.notice.display_until and not self.open_objections:
                break
        await self._close_stage(stage, "completed")
        if spending is not None and spec.kind is NoticeKind.RESULT:
            await self._act(
                A.settle_spending, m.SpendingInput(ref=self._ref(), spending_number=spending)
            )
        return Next.ADVANCE

    async def _until_display_or_objection_due(self) -> None:
        """Wait for news (an objection, an answer, a correction) or the next instant that
        matters: the end of the display period, or an unanswered objection's reply deadline.
        Past instants are never waited for (a late objection's reply may fall due after the
        display ended: then only its deadline, or its answer, is awaited)."""
        assert self.notice is not None
        now = workflow.now()
        dues = [d for n, d in self.open_objections.items() if n not in self.escalated_objections]
        if any(due <= now for due in dues):
            return  # escalate it now
        ahead = [t for t in (self.notice.display_until, *dues) if t > now]
        if ahead:
            await self._condition(self._news, min(ahead))
        elif self.open_objections:  # all escalated: wait for their answers
            await workflow.wait_condition(lambda: self._news() or self.withdrawn)

    def _news(self) -> bool:
        return self.wake or self.reopen_at is not None

    async def _escalate_unanswered(self, stage: Stage) -> None:
        assert stage.notice is not None
        for number, due in sorted(self.open_objections.items()):
            if number in self.escalated_objections or workflow.now() < due:
                continue
            self.escalated_objections.add(number)
            assert self.procedure is not None
            reply = stage.notice.reply_within
            await self._act(
                A.escalate,
                m.EscalateInput(
                    ref=self._ref(),
                    reason=f"objection {number} unanswered by its reply deadline",
                    to_body=stage.notice.escalate_to.value if stage.notice.escalate_to else None,
                    days=reply.days if reply else self.procedure.defaults.reply_within.days,
                    day_type=(reply.day_type if reply else stage.duration.day_type).value,
                ),
            )

    async def _implement(self, stage: Stage) -> Next:
        assert self.deadline is not None
        cadence = timedelta(days=stage.progress_every.days) if stage.progress_every else None
        next_notice = workflow.now() + cadence if cadence else None
        while self.completed_by is None:
            wake_at = min(d for d in (next_notice, self.deadline) if d is not None)
            await self._condition(lambda: self.completed_by is not None, wake_at)
            if self.withdrawn:
                return Next.END
            if next_notice is not None and cadence and workflow.now() >= next_notice:
                await self._progress_notice(stage)
                next_notice += cadence
            if self.completed_by is None and workflow.now() >= self.deadline:
                if stage.on_timeout is TimeoutPolicy.ESCALATE and not self.escalated:
                    await self._escalate(stage)
                    continue
                return await self._timed_out(stage)
        if self.reapproval_needed:
            done = await self._wait(lambda: not self.reapproval_needed, stage)
            if not done:
                return await self._timed_out(stage)
        await self._close_stage(stage, "completed", actor=self.completed_by or "system")
        return Next.ADVANCE

    async def _progress_notice(self, stage: Stage) -> None:
        self.progress_notices += 1
        text = self.progress_text or "本周无新进展 (no progress reported this week)"
        await self._post_notice(
            stage, NoticeKind.PROGRESS, f"{stage.title} #{self.progress_notices}", text
        )

    async def _evaluate(self, stage: Stage) -> Next:
        assert self.deadline is not None and stage.body is not None
        await self._act(
            A.open_evaluation,
            m.EvaluationInput(
                ref=self._ref(), stage=stage.id, body=stage.body.value, closes_at=self.deadline
            ),
        )
        await self._wait_until(lambda: False, self.deadline, stage)
        if self.withdrawn:
            return Next.END
        await self._act(A.close_evaluation, self._ref())
        await self._close_stage(stage, "completed")
        return Next.ADVANCE

    async def _timed_out(self, stage: Stage) -> Next:
        if stage.on_timeout is TimeoutPolicy.FAIL:
            await self._close_stage(stage, "failed")
            return await self._finish("failed")
        await self._close_stage(stage, "timed_out")
        return Next.ADVANCE

    # -- waiting ----------------------------------------------------------------------------

    async def _wait(self, done: Callable[[], bool], stage: Stage) -> bool:
        """Wait for ``done`` until the deadline; escalate and extend once where the policy says."""
        assert self.deadline is not None
        if await self._wait_until(done, self.deadline, stage):
            return True
        if self.withdrawn or stage.on_timeout is not TimeoutPolicy.ESCALATE or self.escalated:
            return False
        await self._escalate(stage)
        return await self._wait_until(done, self.deadline, stage)

    async def _escalate(self, stage: Stage) -> None:
        self.escalated = True
        to_body = (
            stage.notice.escalate_to if stage.notice and stage.notice.escalate_to else stage.body
        )
        result = await self._act(
            A.escalate,
            m.EscalateInput(
                ref=self._ref(),
                reason=f"{stage.id}: deadline passed",
                to_body=to_body.value if to_body else None,
                days=max(stage.duration.days, 1),
                day_type=stage.duration.day_type.value,
            ),
        )
        self.deadline = result.new_deadline

    async def _wait_until(self, done: Callable[[], bool], deadline: datetime, stage: Stage) -> bool:
        lead = timedelta(hours=stage.reminder_lead_hours)
        remind_at = deadline - lead
        if lead and workflow.now() < remind_at:
            if await self._condition(done, remind_at):
                return True
            if self.withdrawn:
                return False
            await self._act(
                A.send_reminder,
                m.ReminderInput(
                    ref=self._ref(),
                    stage=stage.id,
                    deadline=deadline,
                    who=self._actions()[0].who if self._actions() else [],
                ),
            )
        return await self._condition(done, deadline)

    async def _condition(self, done: Callable[[], bool], until: datetime) -> bool:
        """Wait until ``done()`` holds (True), the issue is withdrawn, or ``until`` passes."""
        remaining = until - workflow.now()
        if done() or self.withdrawn:
            return done()
        if remaining <= timedelta(0):
            return False
        try:
            await workflow.wait_condition(lambda: done() or self.withdrawn, timeout=remaining)
        except TimeoutError:
            return done()
        return done()

    # -- activity plumbing ------------------------------------------------------------------

    def _ref(self, actor: str | None = None) -> m.Ref:
        assert self.input is not None
        self.seq += 1
        return m.Ref(
            council=self.input.council,
            number=self.input.number,
            at=workflow.now(),
            step=f"{workflow.info().workflow_id}:{self.seq}",
            actor=actor or "system",
        )

    async def _act(self, activity: Callable[[Any, Any], R], arg: Any) -> R:
        """Run one of :class:`GovernanceActivities`' methods (a typed reference: a rename is
        a type error, not a retry loop on an unknown name)."""
        return await workflow.execute_activity_method(
            activity,
            arg,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )

    async def _close_stage(self, stage: Stage, outcome: str, actor: str = "system") -> None:
        await self._act(
            A.close_stage, m.CloseStageInput(ref=self._ref(actor), stage=stage.id, outcome=outcome)
        )

    async def _reopen(self, stage_id: str, reason: str) -> Next:
        assert self.procedure is not None
        await self._act(
            A.reopen_issue, m.ReopenInput(ref=self._ref(), at_stage=stage_id, reason=reason)
        )
        self.jump_to = [s.id for s in self.procedure.stages].index(stage_id)
        return Next.JUMP

    async def _finish(self, outcome: str) -> Next:
        self.outcome = outcome
        await self._act(A.close_issue, m.CloseIssueInput(ref=self._ref(), outcome=outcome))
        return Next.END

    def _spending_for(self, kind: NoticeKind) -> int | None:
        assert self.input is not None
        return self.input.spending_number if kind in SPENDING_DISCLOSURES else None

    async def _post_notice(
        self, stage: Stage, kind: NoticeKind, title: str, text: str | None = None
    ) -> m.NoticeResult:
        spec = stage.notice
        assert spec is not None
        objection = spec.objection_window.days if spec.objection_window else None
        reply = spec.reply_within.days if spec.reply_within else None
        assert self.procedure is not None
        display = spec.display.days if spec.kind is kind else self.procedure.defaults.display.days
        return await self._act(
            A.post_notice,
            m.PostNoticeInput(
                ref=self._ref(),
                stage=stage.id,
                kind=kind,
                title=title,
                text=text or title,
                display_days=display,
                objection_days=objection if spec.kind is kind else None,
                reply_days=reply if spec.kind is kind else None,
                day_type=spec.display.day_type.value,
                spending_number=self._spending_for(kind),
            ),
        )

    # -- what people may do -----------------------------------------------------------------

    def _authorize(self, who: m.Acting | None, action: Action = Action.CHAIR_STAGE) -> None:
        """Ask the policy, with the caller's roles and chairs as recorded when the command
        came in (never a list frozen when the stage opened)."""
        assert self.input is not None
        if who is None:
            raise ApplicationError(
                "actions reach an item through the command door", type=ForbiddenError.code
            )
        body = self._acting_body()
        try:
            authorize(who.principal(), action, self.input.council, body=body)
        except ForbiddenError as refused:
            raise ApplicationError(refused.message, type=refused.code) from None

    def _acting_body(self) -> str | None:
        if self.stage is None or self.procedure is None:
            return None
        body = self.procedure.acting_body(self.stage)
        return body.value if body else None

    def _require_stage(self, *kinds: StageKind) -> Stage:
        if self.stage is None or self.stage.kind not in kinds:
            raise ValueError("that action is not open in the current stage")
        return self.stage

    @workflow.update(name="close_stage")
    async def close_stage(self, request: m.ChairAction) -> str:
        self.closed_by = request.member_id
        assert self.stage is not None
        return self.stage.id

    @close_stage.validator
    def _validate_close_stage(self, request: m.ChairAction) -> None:
        stage = self._require_stage(
            StageKind.PROPOSE, StageKind.DELIBERATE, StageKind.PUBLIC_DELIBERATION, StageKind.VOTE
        )
        if stage.kind is StageKind.VOTE and not (stage.may_close_early and self.ballot_key):
            raise ValueError("this vote cannot be closed early")
        if stage.kind is StageKind.PROPOSE and stage.duration.days == 0:
            raise ValueError("this stage closes by itself")
        self._authorize(request.who)

    @workflow.update(name="extend_consultation")
    async def extend_consultation(self, request: m.ExtensionRequest) -> datetime:
        """Extend the open written consultation; its new deadline (recorded, then waited for)."""
        stage = self._require_stage(StageKind.VOTE)
        assert stage.written_consultation is not None
        self.extending = True
        try:
            self.deadline = await self._act(
                A.extend_consultation,
                m.ExtendConsultationInput(
                    ref=self._ref(request.member_id),
                    days=request.days,
                    cap_days=stage.written_consultation.extension_cap_days,
                ),
            )
        finally:
            self.extending = False
        self.extended_days += request.days
        assert self.deadline is not None
        return self.deadline

    @extend_consultation.validator
    def _validate_extension(self, request: m.ExtensionRequest) -> None:
        stage = self._require_stage(StageKind.VOTE)
        consultation = stage.written_consultation
        if consultation is None:
            raise ValueError("only a written consultation can be extended")
        if self.ballot_key is None or self.all_voted or self.closed_by is not None:
            raise ValueError("the consultation is not open")
        if self.extending:
            raise ValueError("an extension is being recorded")
        self._authorize(request.who, Action.EXTEND_CONSULTATION)
        if request.days < 1:
            raise ValueError("an extension is of at least one day")
        if self.extended_days + request.days > consultation.extension_cap_days:
            raise ApplicationError(
                f"extensions may total at most {consultation.extension_cap_days} days: "
                f"{self.extended_days} used, {request.days} more asked for",
                type=ExtensionOverCapError.code,
            )

    @workflow.signal(name="all_voted")
    def all_voted_signal(self, ballot_key: str) -> None:
        if ballot_key == self.ballot_key:
            self.all_voted = True

    @workflow.update(name="record_resolution")
    async def record_resolution(self, request: m.ResolutionRequest) -> bool:
        stage = self._require_stage(StageKind.VOTE, StageKind.REVIEW)
        assert self.input is not None
        resolution = m.MeetingResolutionInput(
            ref=self._ref(request.member_id),
            stage=stage.id,
            meeting_number=request.meeting_number,
            motion_no=request.motion_no,
            spending_number=self.input.spending_number,
        )
        review = (
            self.input.spending_number
            if self.procedure is not None and stage.body is self.procedure.defaults.review_body
            else None
        )
        if workflow.patched("resolution-checked-against-stage"):
            # One activity checks the meeting against the stage's body, rule and issue and
            # records the resolution and the spending's review together, or nothing at all.
            assert self.procedure is not None and stage.body is not None
            checked = resolution.model_copy(
                update={
                    "body": stage.body.value,
                    "rule": self.procedure.rule_for(stage, self.input.category),
                    "review_spending": review,
                }
            )
            self.deciding = True  # a second request waits for no answer: it is refused
            try:
                passed: bool = await self._act(A.record_resolution, checked)
            finally:
                self.deciding = False
            self.resolution = (request.member_id, passed)
            return passed
        passed = await self._act(A.record_resolution, resolution)
        if review is not None:
            await self._act(
                A.review_spending,
                resolution.model_copy(update={"ref": self._ref(request.member_id)}),
            )
        self.resolution = (request.member_id, passed)
        return passed

    @record_resolution.validator
    def _validate_resolution(self, request: m.ResolutionRequest) -> None:
        stage = self._require_stage(StageKind.VOTE, StageKind.REVIEW)
        if stage.vote_by == "ballots":
            raise ValueError("this stage votes by ballots, not at a meeting")
        if self.resolution is not None or self.deciding:
            raise ValueError("the stage already has its resolution")
        self._authorize(request.who)

    @workflow.update(name="file_objection")
    async def file_objection(self, request: m.ObjectionRequest) -> int:
        assert self.notice is not None
        result = await self._act(
            A.file_objection,
            m.ObjectionInput(
                ref=self._ref(request.person_id), notice_id=self.notice.notice_id, text=request.text
            ),
        )
        self.open_objections[result.objection_no] = result.reply_due
        self.wake = True
        return result.objection_no

    @file_objection.validator
    def _validate_objection(self, request: m.ObjectionRequest) -> None:
        self._require_stage(StageKind.PUBLISH)
        self._authorize(request.who, Action.FILE_OBJECTION)
        until = self.notice.objection_until if self.notice else None
        if until is None or workflow.now() >= until:
            raise ValueError("the objection window is not open")
        if not request.text.strip():
            raise ValueError("an objection needs some text")

    @workflow.update(name="answer_objection")
    async def answer_objection(self, request: m.AnswerRequest) -> None:
        assert self.notice is not None and self.stage is not None
        await self._act(
            A.answer_objection,
            m.AnswerInput(
                ref=self._ref(request.member_id),
                notice_id=self.notice.notice_id,
                objection_no=request.objection_no,
                reply=request.reply,
                upheld=request.upheld,
            ),
        )
        self.open_objections.pop(request.objection_no, None)
        spec = self.stage.notice
        if request.upheld and spec is not None and spec.reopen_at is not None:
            self.reopen_at = spec.reopen_at
        self.wake = True

    @answer_objection.validator
    def _validate_answer(self, request: m.AnswerRequest) -> None:
        self._require_stage(StageKind.PUBLISH)
        self._authorize(request.who)
        if request.objection_no not in self.open_objections:
            raise ValueError(f"objection {request.objection_no} is not awaiting an answer")

    @workflow.update(name="correct_notice")
    async def correct_notice(self, request: m.CorrectionRequest) -> datetime:
        assert self.notice is not None
        self.notice = await self._act(
            A.correct_notice,
            m.CorrectInput(
                ref=self._ref(request.member_id), notice_id=self.notice.notice_id, text=request.text
            ),
        )
        self.wake = True
        return self.notice.display_until

    @correct_notice.validator
    def _validate_correction(self, request: m.CorrectionRequest) -> None:
        self._require_stage(StageKind.PUBLISH)
        self._authorize(request.who)
        if self.notice is None:
            raise ValueError("no notice is posted yet")

    @workflow.update(name="report_progress")
    async def report_progress(self, request: m.ProgressRequest) -> None:
        stage = self._require_stage(StageKind.IMPLEMENT)
        await self._act(
            A.report_progress,
            m.ProgressInput(
                ref=self._ref(request.member_id),
                stage=stage.id,
                text=request.text,
                photos=request.photos,
            ),
        )
        self.progress_text = request.text

    @report_progress.validator
    def _validate_progress(self, request: m.ProgressRequest) -> None:
        self._require_stage(StageKind.IMPLEMENT)
        self._authorize(request.who)

    @workflow.update(name="complete")
    async def complete(self, request: m.CompletionRequest) -> bool:
        """Complete implementation; True when the cost overran and needs re-approval."""
        stage = self._require_stage(StageKind.IMPLEMENT)
        assert self.input is not None
        spending = self.input.spending_number
        if spending is not None and request.actual_cost is not None:
            if self.progress_notices == 0:
                await self._progress_notice(stage)
            self.reapproval_needed = await self._act(
                A.complete_spending,
                m.CompleteInput(
                    ref=self._ref(request.member_id),
                    spending_number=spending,
                    actual_cost=request.actual_cost,
                ),
            )
        self.completed_by = request.member_id
        return self.reapproval_needed

    @complete.validator
    def _validate_completion(self, request: m.CompletionRequest) -> None:
        self._require_stage(StageKind.IMPLEMENT)
        self._authorize(request.who)
        assert self.input is not None
        if self.input.spending_number is not None and request.actual_cost is None:
            raise ValueError("a spending's implementation completes with its actual cost")
        if self.completed_by is not None:
            raise ValueError("implementation is already complete")

    @workflow.update(name="reapprove")
    async def reapprove(self, request: m.ResolutionRequest) -> None:
        """Record the new review of an overrun and approve the actual cost."""
        assert self.input is not None and self.input.spending_number is not None
        assert self.procedure is not None
        spending = self.input.spending_number
        if workflow.patched("reapproval-checked-against-review"):
            # One activity: the meeting must be of the reviewing body, held for this item under
            # the review's rule, with a motion not used before; review and approval together.
            review = self.procedure.review_stage()
            assert review is not None and review.body is not None
            self.deciding = True
            try:
                await self._act(
                    A.reapprove_spending,
                    m.MeetingResolutionInput(
                        ref=self._ref(request.member_id),
                        stage=self.stage.id if self.stage else "",
                        meeting_number=request.meeting_number,
                        motion_no=request.motion_no,
                        spending_number=spending,
                        body=review.body.value,
                        rule=self.procedure.rule_for(review, self.input.category),
                        review_spending=spending,
                    ),
                )
            finally:
                self.deciding = False
            self.reapproval_needed = False
            return
        await self._act(
            A.review_spending,
            m.MeetingResolutionInput(
                ref=self._ref(request.member_id),
                stage=self.stage.id if self.stage else "",
                meeting_number=request.meeting_number,
                motion_no=request.motion_no,
                spending_number=spending,
            ),
        )
        await self._act(
            A.approve_spending,
            m.SpendingInput(ref=self._ref(request.member_id), spending_number=spending),
        )
        self.reapproval_needed = False

    @reapprove.validator
    def _validate_reapproval(self, request: m.ResolutionRequest) -> None:
        self._require_stage(StageKind.IMPLEMENT)
        self._authorize(request.who)
        if not self.reapproval_needed:
            raise ValueError("no re-approval is pending")
        if self.deciding:
            raise ValueError("a re-approval is being recorded")
        assert self.procedure is not None
        if self.procedure.review_stage() is None:
            raise ValueError("this procedure has no review stage to re-approve by")

    @workflow.update(name="withdraw")
    async def withdraw(self, request: m.WithdrawRequest) -> None:
        await self._act(
            A.withdraw_issue,
            m.WithdrawInput(ref=self._ref(request.member_id), reason=request.reason),
        )
        self.withdrawn = True
        self.outcome = "withdrawn"

    @withdraw.validator
    def _validate_withdrawal(self, request: m.WithdrawRequest) -> None:
        if self.stage is None or self.outcome is not None:
            raise ValueError("the issue is not in progress")
        self._authorize(request.who)

    @workflow.query(name="status")
    def status(self) -> m.Status:
        assert self.input is not None
        stage = self.stage
        return m.Status(
            council=self.input.council,
            number=self.input.number,
            stage=stage.id if stage else None,
            kind=stage.kind.value if stage else None,
            body=self._acting_body(),
            deadline=self.deadline if stage else None,
            actions=self._actions(),
            outcome=self.outcome,
            notice_id=self.notice.notice_id if self.notice else None,
            ballot_key=self.ballot_key,
        )

    def _actions(self) -> list[m.OpenAction]:
        stage = self.stage
        if stage is None or self.outcome is not None:
            return []
        chairs = list(self.chairs)
        actions: list[m.OpenAction] = []
        if stage.kind in (StageKind.PROPOSE, StageKind.DELIBERATE, StageKind.PUBLIC_DELIBERATION):
            actions.append(m.OpenAction(action="close_stage", who=chairs))
        elif stage.kind is StageKind.VOTE and stage.vote_by == "ballots":
            actions.append(m.OpenAction(action="cast_ballot", who=["voters on the frozen roll"]))
            if stage.may_close_early:
                actions.append(m.OpenAction(action="close_stage", who=chairs))
        elif stage.kind in (StageKind.VOTE, StageKind.REVIEW):
            actions.append(m.OpenAction(action="record_resolution", who=chairs))
        elif stage.kind is StageKind.PUBLISH:
            until = self.notice.objection_until if self.notice else None
            if until is not None and workflow.now() < until:
                actions.append(m.OpenAction(action="file_objection", who=["council members"]))
            if self.open_objections:
                actions.append(m.OpenAction(action="answer_objection", who=chairs))
            actions.append(m.OpenAction(action="correct_notice", who=chairs))
        elif stage.kind is StageKind.IMPLEMENT:
            actions.append(m.OpenAction(action="report_progress", who=chairs))
            actions.append(
                m.OpenAction(
                    action="reapprove" if self.reapproval_needed else "complete", who=chairs
                )
            )
        elif stage.kind is StageKind.EVALUATE:
            actions.append(m.OpenAction(action="rate", who=["residents asked to evaluate"]))
        actions.append(m.OpenAction(action="withdraw", who=chairs))
        return actions
