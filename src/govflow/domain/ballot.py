"""One vote of one voter in one voting round; the store refuses a second one by id."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.errors import NotOnRollError, VotingNotOpenError
from govflow.domain.ids import ballot_id
from govflow.domain.issue import OpenVoting, Tally
from govflow.domain.voting import Counts, Electorate, decide


class Choice(StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


class BallotCast(DomainEvent):
    TOPIC = "govflow.ballot.cast"
    issue_id: UUID
    ballot_key: str
    voter: str
    choice: Choice
    weight: Decimal


class Ballot(Aggregate):
    created_by = (BallotCast,)

    @classmethod
    def cast(
        cls,
        voting: OpenVoting,
        voter: str,
        choice: Choice,
        *,
        at: datetime,
        enrolment: int | None = None,
    ) -> Ballot:
        """Cast ``voter``'s ballot; refused unless voting is open and they are on the roll, as
        the person enrolled when it was frozen (``enrolment``, when the caller is known)."""
        if not voting.is_open or at >= voting.closes_at:
            raise VotingNotOpenError("voting is not open", ballot_key=voting.ballot_key)
        weight = voting.roll.get(voter)
        if weight is None:
            raise NotOnRollError(
                f"{voter} is not on the roll frozen when voting opened", voter=voter
            )
        frozen = voting.council_version
        if enrolment is not None and frozen is not None and enrolment > frozen:
            raise NotOnRollError(
                f"{voter} was enrolled after the roll was frozen: the seat is another person's",
                voter=voter,
            )
        return cls._create(
            BallotCast,
            ballot_id(voting.issue_id, voting.ballot_key, voter),
            at=at,
            actor=voter,
            issue_id=voting.issue_id,
            ballot_key=voting.ballot_key,
            voter=voter,
            choice=choice,
            weight=weight,
        )

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, BallotCast):
            self.issue_id = event.issue_id
            self.ballot_key = event.ballot_key
            self.voter = event.voter
            self.choice = event.choice


def tally(voting: OpenVoting, ballots: Iterable[tuple[str, str]], *, counted_up_to: int) -> Tally:
    """Count ``(voter, choice)`` pairs against the frozen roll and the round's rule.

    Voters off the roll and second ballots of a voter are ignored: the store already refuses
    them, this keeps the count right even if it did not.
    """
    seen: set[str] = set()
    yes = no = abstain = 0
    yes_area = present_area = Decimal(0)
    for voter, choice in ballots:
        weight = voting.roll.get(voter)
        if weight is None or voter in seen:
            continue
        seen.add(voter)
        present_area += weight
        if choice == Choice.YES:
            yes += 1
            yes_area += weight
        elif choice == Choice.NO:
            no += 1
        else:
            abstain += 1
    electorate = Electorate(
        members_of_record=voting.members_of_record,
        expected=voting.expected,
        area_of_record=sum(voting.roll.values(), Decimal(0)),
    )
    counts = Counts(
        present=len(seen),
        yes=yes,
        no=no,
        abstain=abstain,
        present_area=present_area,
        yes_area=yes_area,
    )
    decision = decide(voting.rule, electorate, counts)
    return Tally(
        yes=yes,
        no=no,
        abstain=abstain,
        participating=len(seen),
        yes_area=yes_area,
        participating_area=present_area,
        quorum_met=decision.quorum_met,
        passed=decision.passed,
        rule=decision.rule,
        counted_up_to=counted_up_to,
    )
