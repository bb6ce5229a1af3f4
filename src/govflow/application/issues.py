"""Use cases: proposing an issue and moving it through its procedure's stages."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from govflow.application.core import GovernanceCore
from govflow.application.views import IssueView, StageStarted
from govflow.domain.base import INTEGRATION_ACTOR_PREFIX, SYSTEM_ACTOR, Aggregate
from govflow.domain.calendar import DayType, deadline
from govflow.domain.council import Body, Council
from govflow.domain.errors import AlreadyExistsError, ConcurrentChangeError, NotFoundError
from govflow.domain.issue import Issue, IssueOutcome, StageOutcome, StageRef
from govflow.domain.procedure import Procedure
from govflow.domain.spending import Spending


class IssueCases(GovernanceCore):
    def propose_issue(
        self,
        code: str,
        number: int,
        title: str,
        procedure: Procedure,
        *,
        actor: str,
        description: str = "",
        grid: str | None = None,
        body: str | None = None,
        category: str | None = None,
        spending_id: UUID | None = None,
    ) -> bool:
        """Record the proposal; returns False when this very proposal was recorded already
        (a retry: the caller completes what it started), and refuses (``already_exists``)
        another proposal under the same number."""
        council = self.council_to_read(code)
        if actor != SYSTEM_ACTOR and not actor.startswith(INTEGRATION_ACTOR_PREFIX):
            council.member(actor)
        if grid is not None:  # a grid on record and in use (grid.unknown, grid.retired)
            council.grid(grid)
        stages = tuple(StageRef(id=s.id, kind=s.kind.value) for s in procedure.stages)
        issue = Issue.propose(
            code,
            number,
            title,
            procedure_name=procedure.name,
            procedure_version=procedure.version,
            procedure_hash=procedure.digest,
            stages=stages,
            at=self.now(),
            actor=actor,
            description=description,
            grid=grid,
            body=body,
            category=category,
            spending_id=spending_id,
        )
        changed: list[Aggregate] = [issue]
        if spending_id is not None:  # the item that decides the spending, recorded with it
            spending = self._get(Spending, spending_id, "spending")
            spending.link_to(issue.id, at=self.now(), actor=actor)
            changed.append(spending)
        try:
            self._save_new(*changed, what=f"issue {code}/{number}")
        except AlreadyExistsError:
            try:
                existing = self.issue(code, number)
            except NotFoundError:
                raise ConcurrentChangeError("the spending changed meanwhile: try again") from None
            if existing.proposal != issue.proposal:
                raise AlreadyExistsError(
                    f"issue {code}/{number} already exists with other content"
                ) from None
            return False
        return True

    def open_stage(
        self,
        code: str,
        number: int,
        stage: str,
        *,
        deadline: datetime | None,
        actor: str,
        step: str | None = None,
    ) -> None:
        issue = self.issue(code, number)
        issue.open(stage, deadline=deadline, at=self.now(), actor=actor, step=step)
        self._save(issue)

    def start_stage(
        self,
        code: str,
        number: int,
        stage: str,
        *,
        days: int,
        day_type: DayType,
        body: Body | None,
        actor: str,
        step: str | None = None,
    ) -> StageStarted:
        """Open ``stage`` with its deadline counted in the council's days and time zone.

        Returns the deadline and who chairs the acting body (or, for a stage without one,
        every chair of the council), so callers can check chair actions without a lookup.
        """
        council = self.council_to_read(code)
        issue = self.issue(code, number)
        if step is not None and issue.has_applied(step):
            assert issue.deadline is not None
            return StageStarted(deadline=issue.deadline, chairs=_chairs(council, body))
        due = deadline(
            self.now(), days, day_type, calendar=self.holiday_calendar, timezone=council.timezone
        )
        issue.open(stage, deadline=due, at=self.now(), actor=actor, step=step)
        self._save(issue)
        return StageStarted(deadline=due, chairs=_chairs(council, body))

    def extend_stage(
        self,
        code: str,
        number: int,
        reason: str,
        *,
        days: int,
        day_type: DayType,
        to_body: str | None,
        actor: str,
        step: str | None = None,
    ) -> datetime:
        """Escalate the open stage and extend its deadline once by ``days``; returns it."""
        council = self.council_to_read(code)
        issue = self.issue(code, number)
        if step is not None and issue.has_applied(step):
            assert issue.deadline is not None
            return issue.deadline
        due = deadline(
            self.now(), days, day_type, calendar=self.holiday_calendar, timezone=council.timezone
        )
        issue.escalate(
            reason, to_body=to_body, new_deadline=due, at=self.now(), actor=actor, step=step
        )
        self._save(issue)
        return due

    def close_stage(
        self,
        code: str,
        number: int,
        stage: str,
        outcome: StageOutcome,
        *,
        actor: str,
        step: str | None = None,
    ) -> None:
        issue = self.issue(code, number)
        issue.close(stage, outcome, at=self.now(), actor=actor, step=step)
        self._save(issue)

    def skip_stage(
        self,
        code: str,
        number: int,
        stage: str,
        reason: str,
        *,
        actor: str,
        step: str | None = None,
    ) -> None:
        issue = self.issue(code, number)
        issue.skip(stage, reason, at=self.now(), actor=actor, step=step)
        self._save(issue)

    def escalate_issue(
        self,
        code: str,
        number: int,
        reason: str,
        *,
        to_body: str | None,
        new_deadline: datetime | None,
        actor: str,
        step: str | None = None,
    ) -> None:
        issue = self.issue(code, number)
        issue.escalate(
            reason,
            to_body=to_body,
            new_deadline=new_deadline,
            at=self.now(),
            actor=actor,
            step=step,
        )
        self._save(issue)

    def record_opinion(self, code: str, number: int, stage: str, text: str, *, actor: str) -> None:
        issue = self.issue(code, number)
        issue.record_opinion(stage, text, at=self.now(), actor=actor)
        self._save(issue)

    def give_opinion(
        self, code: str, number: int, text: str, *, reply_to: int | None, actor: str
    ) -> int:
        """Record an opinion (or a reply) in the item's open discussion stage; its number."""
        issue = self.issue(code, number)
        no = issue.give_opinion(text, reply_to=reply_to, at=self.now(), actor=actor)
        self._save(issue)
        return no

    def reopen_issue(
        self,
        code: str,
        number: int,
        at_stage: str,
        reason: str,
        *,
        actor: str,
        step: str | None = None,
    ) -> None:
        issue = self.issue(code, number)
        issue.reopen(at_stage, reason, at=self.now(), actor=actor, step=step)
        self._save(issue)

    def withdraw_issue(
        self, code: str, number: int, reason: str, *, actor: str, step: str | None = None
    ) -> None:
        issue = self.issue(code, number)
        issue.withdraw(reason, at=self.now(), actor=actor, step=step)
        self._save(issue)

    def close_issue(
        self, code: str, number: int, outcome: IssueOutcome, *, actor: str, step: str | None = None
    ) -> None:
        issue = self.issue(code, number)
        issue.finish(outcome, at=self.now(), actor=actor, step=step)
        self._save(issue)

    def get_issue(self, code: str, number: int) -> IssueView:
        issue = self.issue(code, number)
        return IssueView(
            id=issue.id,
            council=issue.council,
            number=issue.number,
            title=issue.title,
            procedure=f"{issue.procedure[0]}@{issue.procedure[1]}",
            stages=issue.stages,
            open_stage=issue.open_stage,
            next_stage=issue.next_stage,
            deadline=issue.deadline,
            voting_open=bool(issue.voting and issue.voting.is_open),
            resolved=issue.resolved,
            outcome=issue.outcome.value if issue.outcome else None,
            version=issue.version,
            grid=issue.grid,
        )


def _chairs(council: Council, body: Body | None) -> list[str]:
    """Who chairs ``body``; for a stage without a body, everyone who chairs any body."""
    if body is None:
        return sorted(mid for mid, member in council.members.items() if member.chairs)
    return sorted(mid for mid, member in council.members.items() if body in member.chairs)
