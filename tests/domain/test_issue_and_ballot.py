from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from govflow.domain.ballot import Ballot, Choice, tally
from govflow.domain.errors import (
    NotOnRollError,
    StageOrderError,
    VotingNotOpenError,
    WithdrawalTooLateError,
)
from govflow.domain.issue import Issue, IssueOutcome, StageOutcome, StageRef
from govflow.domain.voting import Base, Comparison, Threshold, VotingRule

T0 = datetime(2026, 3, 2, tzinfo=UTC)
MAJORITY = VotingRule(
    quorum=Threshold(
        fraction=Fraction(1, 2), comparison=Comparison.MORE_THAN, base=Base.MEMBERS_OF_RECORD
    ),
    passes=Threshold(fraction=Fraction(1, 2), comparison=Comparison.MORE_THAN, base=Base.PRESENT),
)
STAGES = (
    StageRef(id="propose", kind="propose"),
    StageRef(id="discuss", kind="deliberate"),
    StageRef(id="vote", kind="vote"),
    StageRef(id="publish", kind="publish"),
)


def new_issue() -> Issue:
    return Issue.propose(
        "c",
        1,
        "Replace the pipe",
        procedure_name="p",
        procedure_version=1,
        procedure_hash="h",
        stages=STAGES,
        at=T0,
        actor="m1",
    )


def at_vote(roll: dict[str, Decimal]) -> Issue:
    issue = new_issue()
    for stage in ("propose", "discuss"):
        issue.open(stage, deadline=None, at=T0, actor="m1")
        issue.close(stage, StageOutcome.COMPLETED, at=T0, actor="m1")
    issue.open("vote", deadline=None, at=T0, actor="m1")
    issue.open_voting(
        "vote",
        roll=roll,
        members_of_record=len(roll),
        expected=len(roll),
        rule=MAJORITY,
        closes_at=T0 + timedelta(days=7),
        at=T0,
        actor="system",
        secret=False,  # a named vote: its ballots are whole
    )
    return issue


def test_stages_follow_the_procedure_in_order() -> None:
    """A stage cannot open before the ones before it, nor while another is open."""
    issue = new_issue()
    with pytest.raises(StageOrderError):
        issue.open("vote", deadline=None, at=T0, actor="m1")
    issue.open("propose", deadline=None, at=T0, actor="m1")
    with pytest.raises(StageOrderError):
        issue.open("discuss", deadline=None, at=T0, actor="m1")


def test_ballots_only_from_the_frozen_roll_while_open() -> None:
    """Voters off the roll and ballots after the window are refused."""
    issue = at_vote({"a": Decimal(1), "b": Decimal(1)})
    voting = issue.voting
    assert voting is not None
    with pytest.raises(NotOnRollError):
        Ballot.cast(voting, "z", Choice.YES, at=T0)
    with pytest.raises(VotingNotOpenError):
        Ballot.cast(voting, "a", Choice.YES, at=T0 + timedelta(days=7))
    issue.close_voting("deadline", at=T0, actor="system")
    with pytest.raises(VotingNotOpenError):
        Ballot.cast(voting, "a", Choice.YES, at=T0)


def test_ballot_ids_are_one_per_voter_and_round() -> None:
    """The same voter in the same round gets the same ballot id, so the store refuses twice."""
    issue = at_vote({"a": Decimal(1)})
    assert issue.voting is not None
    first = Ballot.cast(issue.voting, "a", Choice.YES, at=T0)
    second = Ballot.cast(issue.voting, "a", Choice.NO, at=T0)
    assert first.id == second.id


def test_tally_ignores_duplicates_and_strangers() -> None:
    """A tally counts each voter on the roll once."""
    issue = at_vote({"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)})
    assert issue.voting is not None
    result = tally(
        issue.voting, [("a", "yes"), ("a", "no"), ("x", "yes"), ("b", "yes")], counted_up_to=10
    )
    assert (result.yes, result.no, result.participating) == (2, 0, 2)
    assert result.quorum_met and result.passed


def test_withdrawal_only_before_a_resolution() -> None:
    """Once a vote has passed, the issue can no longer be withdrawn."""
    issue = at_vote({"a": Decimal(1)})
    assert issue.voting is not None
    issue.close_voting("deadline", at=T0, actor="system")
    issue.record_tally(tally(issue.voting, [("a", "yes")], counted_up_to=1), at=T0, actor="system")
    with pytest.raises(WithdrawalTooLateError):
        issue.withdraw("changed my mind", at=T0, actor="m1")


def test_reopening_returns_to_the_named_stage() -> None:
    """An upheld objection reopens the item at the stage the procedure names."""
    issue = at_vote({"a": Decimal(1)})
    issue.close_voting("deadline", at=T0, actor="system")
    issue.close("vote", StageOutcome.COMPLETED, at=T0, actor="system")
    issue.reopen("discuss", "objection upheld", at=T0, actor="m1")
    assert issue.next_stage == "discuss"
    issue.open("discuss", deadline=None, at=T0, actor="m1")


def test_a_closed_issue_takes_no_more_commands() -> None:
    """After closure nothing opens."""
    issue = new_issue()
    issue.finish(IssueOutcome.REJECTED, at=T0, actor="system")
    with pytest.raises(Exception, match="rejected"):
        issue.open("propose", deadline=None, at=T0, actor="m1")
