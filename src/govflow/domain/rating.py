"""One resident's rating of an implemented issue (评议), stored like a ballot: one per rater."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.errors import NotOnRollError, VotingNotOpenError
from govflow.domain.ids import rating_id
from govflow.domain.issue import Evaluation


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


class RatingGiven(DomainEvent):
    TOPIC = "govflow.rating.given"
    issue_id: UUID
    stage: str
    rater: str
    satisfaction: Satisfaction


class Rating(Aggregate):
    created_by = (RatingGiven,)

    @classmethod
    def give(
        cls, evaluation: Evaluation, rater: str, satisfaction: Satisfaction, *, at: datetime
    ) -> Rating:
        if not evaluation.is_open or at >= evaluation.closes_at:
            raise VotingNotOpenError("the evaluation is not open")
        if rater not in evaluation.raters:
            raise NotOnRollError(f"{rater} is not among those asked to evaluate", rater=rater)
        return cls._create(
            RatingGiven,
            rating_id(evaluation.issue_id, evaluation.stage, rater),
            at=at,
            actor=rater,
            issue_id=evaluation.issue_id,
            stage=evaluation.stage,
            rater=rater,
            satisfaction=satisfaction,
        )

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, RatingGiven):
            self.satisfaction = event.satisfaction
