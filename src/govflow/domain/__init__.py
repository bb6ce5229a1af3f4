"""The governance domain: aggregates, events, procedures and voting rules. Pure: no I/O."""

from govflow.domain.ballot import Ballot, BallotCast, Choice, tally
from govflow.domain.base import SYSTEM_ACTOR, Aggregate, DomainEvent, event_class, event_classes
from govflow.domain.council import Body, Council
from govflow.domain.issue import Issue, IssueOutcome, StageOutcome, StageRef
from govflow.domain.meeting import Meeting
from govflow.domain.notice import Notice, NoticeKind
from govflow.domain.procedure import Procedure, StageKind
from govflow.domain.rating import Rating, Satisfaction
from govflow.domain.spending import Spending, SpendingStatus
from govflow.domain.voting import VotingRule

__all__ = [
    "SYSTEM_ACTOR",
    "Aggregate",
    "Ballot",
    "BallotCast",
    "Body",
    "Choice",
    "Council",
    "DomainEvent",
    "Issue",
    "IssueOutcome",
    "Meeting",
    "Notice",
    "NoticeKind",
    "Procedure",
    "Rating",
    "Satisfaction",
    "Spending",
    "SpendingStatus",
    "StageKind",
    "StageOutcome",
    "StageRef",
    "VotingRule",
    "event_class",
    "event_classes",
    "tally",
]
