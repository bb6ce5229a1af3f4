"""Voting through the event store: frozen rolls, one ballot per voter, log-order tallies."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson
import pytest

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.application.views import BallotReceipt
from govflow.application.voting import Cast
from govflow.domain.ballot import Ballot, Choice, SecretChoiceCast, TookPart
from govflow.domain.council import Body
from govflow.domain.errors import DoubleVoteError, NotOnRollError, VotingNotOpenError
from govflow.domain.ids import ballot_id, issue_id
from govflow.domain.issue import StageOutcome
from govflow.domain.voting import Base, Comparison, Threshold, VotingRule
from tests.application.scenario import (
    COUNCIL,
    MAJORITY_OF_PRESENT,
    REPRESENTATIVES,
    set_up_council,
)

WORKFLOWS = Path(__file__).parents[2] / "workflows"


def at_vote(
    app: Governance,
    number: int = 1,
    body: Body = Body.RESIDENTS_REPRESENTATIVES,
    rule: VotingRule = MAJORITY_OF_PRESENT,
    *,
    secret: bool = True,
) -> str:
    if number == 1:
        set_up_council(app)
    procedure = ProcedureLibrary(WORKFLOWS).get("residents-assembly")
    app.propose_issue(COUNCIL, number, "加装电梯", procedure, actor="p1")
    for stage in ("propose", "public_deliberation"):
        app.open_stage(COUNCIL, number, stage, deadline=None, actor="p1")
        app.close_stage(COUNCIL, number, stage, StageOutcome.COMPLETED, actor="p1")
    app.open_stage(COUNCIL, number, "resolve", deadline=None, actor="system")
    return app.open_voting(
        COUNCIL,
        number,
        "resolve",
        body=body,
        rule=rule,
        closes_at=app.now() + timedelta(days=7),
        actor="system",
        secret=secret,
    )


def test_second_ballot_of_a_voter_is_refused_by_the_store(app: Governance) -> None:
    """The store's uniqueness refuses a second ballot: no lock, no read-before-write."""
    at_vote(app)
    app.cast_ballot(COUNCIL, 1, "r1", Choice.YES)
    with pytest.raises(DoubleVoteError) as caught:
        app.cast_ballot(COUNCIL, 1, "r1", Choice.NO)
    assert caught.value.code == "ballot.double_vote"


def test_only_voters_on_the_frozen_roll(app: Governance) -> None:
    """A member who joins the body after voting opened is not on the roll."""
    at_vote(app)
    app.enroll_member(
        COUNCIL, "r9", "新代表", actor="clerk", bodies=(Body.RESIDENTS_REPRESENTATIVES,)
    )
    with pytest.raises(NotOnRollError):
        app.cast_ballot(COUNCIL, 1, "r9", Choice.YES)
    with pytest.raises(NotOnRollError):
        app.cast_ballot(COUNCIL, 1, "p1", Choice.YES)


def test_a_seat_on_the_roll_belongs_to_the_person_enrolled_when_it_froze(
    app: Governance,
) -> None:
    """r2 leaves after the roll froze and someone else is enrolled as r2: their ballot is
    refused (the seat is the first person's); the first r2's own enrolment still votes."""
    at_vote(app)
    first = app.principal(COUNCIL, "r2")
    app.remove_member(COUNCIL, "r2", actor="clerk")
    app.enroll_member(COUNCIL, "r2", "另一人", actor="clerk")
    second = app.principal(COUNCIL, "r2")
    assert second.enrolment is not None and first.enrolment is not None
    with pytest.raises(NotOnRollError, match="enrolled after"):
        app.cast_ballot(COUNCIL, 1, "r2", Choice.YES, enrolment=second.enrolment)
    app.cast_ballot(COUNCIL, 1, "r1", Choice.YES, enrolment=app.principal(COUNCIL, "r1").enrolment)


def test_tally_applies_the_rule_to_ballots(app: Governance) -> None:
    """Three of five vote, two yes: quorum (more than half) and a majority of those voting."""
    at_vote(app)
    for voter, choice in [("r1", Choice.YES), ("r2", Choice.YES), ("r3", Choice.NO)]:
        app.cast_ballot(COUNCIL, 1, voter, choice)
    result = app.close_voting(COUNCIL, 1, "deadline", actor="system", step="close-1")
    assert (result.yes, result.no, result.participating) == (2, 1, 3)
    assert result.quorum_met and result.passed
    with pytest.raises(VotingNotOpenError):
        app.cast_ballot(COUNCIL, 1, "r4", Choice.YES)


def test_ballot_recorded_after_voting_closed_never_counts(app: Governance) -> None:
    """A ballot that lands after VotingClosed in the log is left out, whatever its timestamp."""
    at_vote(app)
    app.cast_ballot(COUNCIL, 1, "r1", Choice.NO)
    issue = app.issue(COUNCIL, 1)
    stale_voting = issue.voting
    assert stale_voting is not None
    issue.close_voting("deadline", at=app.now(), actor="system", step="close-1:close")
    app.save(issue)
    stale_voting.is_open = True  # another process still believes voting is open
    app.save(*Ballot.cast_secretly(stale_voting, "r2", Choice.YES, choice_id=uuid4(), at=app.now()))
    result = app.close_voting(COUNCIL, 1, "deadline", actor="system", step="close-1")
    assert (result.yes, result.no, result.participating) == (0, 1, 1)


def test_closing_twice_with_the_same_step_records_once(app: Governance) -> None:
    """close_voting is idempotent per step: a retried activity adds no event."""
    at_vote(app)
    app.cast_ballot(COUNCIL, 1, "r1", Choice.YES)
    first = app.close_voting(COUNCIL, 1, "deadline", actor="system", step="s1")
    version = app.get_issue(COUNCIL, 1).version
    assert app.close_voting(COUNCIL, 1, "deadline", actor="system", step="s1") == first
    assert app.get_issue(COUNCIL, 1).version == version


def test_a_revote_is_a_new_round_with_fresh_ballots(app: Governance) -> None:
    """After a failed round the same voters may vote again in the next one."""
    key = at_vote(app)
    app.cast_ballot(COUNCIL, 1, "r1", Choice.YES)
    failed = app.close_voting(COUNCIL, 1, "deadline", actor="system", step="round-1")
    assert not failed.quorum_met
    second = app.open_voting(
        COUNCIL,
        1,
        "resolve",
        body=Body.RESIDENTS_REPRESENTATIVES,
        rule=MAJORITY_OF_PRESENT,
        closes_at=app.now() + timedelta(days=7),
        actor="system",
    )
    assert (key, second) == ("resolve#1", "resolve#2")
    for voter in REPRESENTATIVES:
        app.cast_ballot(COUNCIL, 1, voter, Choice.YES)
    assert app.close_voting(COUNCIL, 1, "deadline", actor="system", step="round-2").passed


OWNERS_ORDINARY = VotingRule(
    quorum=Threshold(
        fraction="2/3",
        comparison=Comparison.AT_LEAST,  # type: ignore[arg-type]
        base=Base.MEMBERS_OF_RECORD,
    ),
    passes=Threshold(
        fraction="1/2",
        comparison=Comparison.MORE_THAN,  # type: ignore[arg-type]
        base=Base.PARTICIPATING,
    ),
    area_weighted=True,
)


def test_owner_with_two_units_votes_once_with_both_areas(app: Governance) -> None:
    """One owner counts once by head, with the exclusive area of every unit they own."""
    at_vote(app, body=Body.OWNERS_ASSEMBLY, rule=OWNERS_ORDINARY)
    roll = app.issue(COUNCIL, 1).voting
    assert roll is not None
    assert roll.roll == {"o1": Decimal("165.00"), "o2": Decimal("82.00"), "o3": Decimal("83.00")}
    app.cast_ballot(COUNCIL, 1, "o1", Choice.YES)
    app.cast_ballot(COUNCIL, 1, "o2", Choice.NO)
    result = app.close_voting(COUNCIL, 1, "deadline", actor="system")
    # 2 of 3 owners (exactly 2/3) with 247 of 330 m² take part: quorum. Yes: 1 of 2 owners is
    # not more than half by head, although 165 of 247 m² is more than half by area.
    assert result.quorum_met and not result.passed


def _round_records(app: Governance) -> list[tuple[str, dict[str, Any]]]:
    """Every stored record of the ballots of item 1 (topic and decoded state), as the
    database holds them."""
    topics = (TookPart.TOPIC, SecretChoiceCast.TOPIC, "govflow.ballot.cast")
    return [
        (r.topic, orjson.loads(app.payload(r.state)))
        for r in app.log_reader.records(0, 100_000, topics=topics)
    ]


def test_a_secret_votes_stored_ballots_hold_no_voter_next_to_a_choice(app: Governance) -> None:
    """Who took part is recorded apart from what was chosen: no stored record of the round
    holds both a voter and a choice, no choice names its voter as actor, and a batch's
    choices are written after all of its voters; the tally counts them all."""
    at_vote(app)  # a secret vote (the default)
    app.cast_ballot(COUNCIL, 1, "r1", Choice.YES)
    receipts = app.cast_ballots(
        [Cast(COUNCIL, 1, voter, Choice.NO) for voter in ("r2", "r3", "r4")]
    )
    records = _round_records(app)
    took_part = [state for topic, state in records if topic == TookPart.TOPIC]
    choices = [state for topic, state in records if topic == SecretChoiceCast.TOPIC]
    assert [t for t, _ in records if t == "govflow.ballot.cast"] == []
    assert sorted(s["voter"] for s in took_part) == ["r1", "r2", "r3", "r4"]
    assert all("choice" not in s for s in took_part)
    assert sorted(s["choice"] for s in choices) == ["no", "no", "no", "yes"]
    voters = {"r1", "r2", "r3", "r4"}
    assert all(not (voters & set(map(str, s.values()))) for s in choices)
    assert all(s["actor"] == "secret-ballot" for s in choices)
    batch = [t for t, _ in records][2:]  # after r1's pair: the batch's three voters first
    assert batch == [TookPart.TOPIC] * 3 + [SecretChoiceCast.TOPIC] * 3
    # each receipt points at a choice (not at who took part) and proves it was counted
    result = app.close_voting(COUNCIL, 1, "deadline", actor="system")
    assert (result.yes, result.no, result.participating) == (1, 3, 4)
    for receipt in receipts:
        assert isinstance(receipt, BallotReceipt)
        check = app.check_receipt(COUNCIL, 1, receipt.ballot_id, receipt.notification_id)
        assert check.in_log and check.counted
        whose = {ballot_id(issue_id(COUNCIL, 1), "resolve#1", v) for v in voters}
        assert receipt.ballot_id not in whose
    # a second ballot of a voter is still refused by the store, recording nothing
    with pytest.raises((DoubleVoteError, VotingNotOpenError)):
        app.cast_ballot(COUNCIL, 1, "r1", Choice.NO)
    assert len(_round_records(app)) == len(records)


def test_a_named_vote_keeps_the_voter_with_the_choice(app: Governance) -> None:
    """A named vote (记名表决) records each ballot whole: shown once the vote is closed."""
    at_vote(app, secret=False)
    app.cast_ballot(COUNCIL, 1, "r1", Choice.YES)
    ((topic, state),) = _round_records(app)
    assert topic == "govflow.ballot.cast" and (state["voter"], state["choice"]) == ("r1", "yes")


def test_a_secret_vote_takes_no_proxy_and_no_paper_ballot() -> None:
    """Both need a choice linked to its voter: the procedure refuses the combination, and the
    ballot itself refuses it for a round opened secret."""
    from govflow.domain.procedure import Stage

    for linked in ({"proxies": {"allowed": True}}, {"paper": {"allowed": True}}):
        with pytest.raises(ValueError, match="ballot: named"):
            Stage.model_validate(
                {
                    "id": "resolve", "kind": "vote", "title": "表决", "body": "owners_assembly",
                    "rule": "r", "vote_by": "ballots", "duration": {"days": 7}, **linked,
                }
            )  # fmt: skip
