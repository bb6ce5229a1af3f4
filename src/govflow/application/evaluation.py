"""Use cases: progress reports and the residents' evaluation (评议) of an implemented issue."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from govflow.application.core import GovernanceCore
from govflow.domain.council import Body
from govflow.domain.errors import DoubleVoteError, VotingNotOpenError
from govflow.domain.rating import Rating, RatingGiven, Satisfaction


class EvaluationCases(GovernanceCore):
    def report_progress(
        self,
        code: str,
        number: int,
        stage: str,
        text: str,
        *,
        actor: str,
        step: str | None = None,
        photos: tuple[str, ...] = (),
    ) -> None:
        issue = self.issue(code, number)
        issue.report_progress(stage, text, at=self.now(), actor=actor, step=step, photos=photos)
        self._save(issue)

    def open_evaluation(
        self,
        code: str,
        number: int,
        stage: str,
        *,
        body: Body,
        closes_at: datetime,
        actor: str,
        step: str | None = None,
    ) -> int:
        """Ask the body's members (e.g. the affected households) to rate; returns how many."""
        raters = tuple(sorted(self.council_to_read(code).roll_of(body).weights))
        issue = self.issue(code, number)
        issue.open_evaluation(
            stage, raters=raters, closes_at=closes_at, at=self.now(), actor=actor, step=step
        )
        self._save(issue)
        return len(raters)

    def rate_issue(self, code: str, number: int, rater: str, satisfaction: Satisfaction) -> UUID:
        issue = self.issue(code, number)
        if issue.evaluation is None:
            raise VotingNotOpenError("the evaluation is not open")
        rating = Rating.give(issue.evaluation, rater, satisfaction, at=self.now())
        try:
            self.save(rating)
        except IntegrityError:
            raise DoubleVoteError(f"{rater} has already rated this issue") from None
        return rating.id

    def close_evaluation(
        self, code: str, number: int, *, actor: str, step: str | None = None
    ) -> str:
        """Count the ratings recorded before now and record the result."""
        issue = self.issue(code, number)
        if issue.has_applied(step):
            return "recorded"
        evaluation = issue.evaluation
        if evaluation is None:
            raise VotingNotOpenError("no evaluation was opened on this issue")
        counts: dict[str, int] = {}
        raters: set[str] = set()
        up_to = self.recorder.max_notification_id() or 0
        for event in self._ratings(issue.id, evaluation.stage):
            if event.rater not in raters:
                raters.add(event.rater)
                counts[event.satisfaction.value] = counts.get(event.satisfaction.value, 0) + 1
        result = issue.record_evaluation(
            counts, counted_up_to=up_to, at=self.now(), actor=actor, step=step
        )
        self._save(issue)
        return result

    def _ratings(self, issue_uuid: UUID, stage: str) -> list[RatingGiven]:
        found = []
        position = 0
        while True:
            batch = self.recorder.select_notifications(
                position, 5000, topics=(RatingGiven.TOPIC,), inclusive_of_start=False
            )
            for notification in batch:
                event = self.mapper.to_domain_event(notification)
                if (
                    isinstance(event, RatingGiven)
                    and event.issue_id == issue_uuid
                    and event.stage == stage
                ):
                    found.append(event)
            if len(batch) < 5000:
                return found
            position = batch[-1].id
