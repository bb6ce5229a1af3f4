"""Paper ballots (纸质选票): the batch a scrutineer (监票人) confirms, the paper ballot, one
counted per voter across channels, and the procedure's ``paper`` setting."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from uuid import uuid4

import pytest
from pydantic import ValidationError

from govflow.domain.ballot import Ballot, Choice, double_channel, paper_ballot_id, tally
from govflow.domain.errors import NotOnRollError, RuleViolationError, VotingNotOpenError
from govflow.domain.ids import ballot_id
from govflow.domain.issue import OpenVoting, VotingTallied
from govflow.domain.paper import PaperBatch, PaperEntry, paper_batch_id
from govflow.domain.procedure import Paper, Procedure, Stage
from govflow.domain.voting import Base, Comparison, Threshold, VotingRule

AT = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
ISSUE = uuid4()
RULE = VotingRule(
    passes=Threshold(fraction=Fraction(1, 2), comparison=Comparison.MORE_THAN, base=Base.PRESENT)
)


def voting(*, is_open: bool = True) -> OpenVoting:
    roll = {v: Decimal(1) for v in ("v1", "v2", "v3", "v4")}
    return OpenVoting(ISSUE, "resolve#1", roll, 4, 4, RULE, AT + timedelta(days=7), is_open)


def entry(voter: str, choice: str = "yes") -> PaperEntry:
    return PaperEntry(
        voter=voter, choice=choice, scan_sha256=hashlib.sha256(voter.encode()).hexdigest()
    )  # type: ignore[arg-type]


def batch(*entries: PaperEntry, actor: str = "clerk") -> PaperBatch:
    return PaperBatch.enter(voting(), 1, entries, council="c", wins="paper", at=AT, actor=actor)


def test_a_batch_is_pending_until_another_person_confirms_it() -> None:
    found = batch(entry("v1"), entry("v2", "no"))
    assert found.id == paper_batch_id(ISSUE, "resolve#1", 1)
    assert found.confirmed_by is None and found.entered_by == "clerk"
    with pytest.raises(RuleViolationError, match="scrutineer"):
        found.confirm("clerk", at=AT)
    found.confirm("v3", at=AT)
    assert found.confirmed_by == "v3"
    with pytest.raises(RuleViolationError):
        found.confirm("v4", at=AT)


def test_a_batch_is_refused_off_the_roll_twice_a_voter_or_outside_the_vote() -> None:
    with pytest.raises(NotOnRollError):
        batch(entry("stranger"))
    with pytest.raises(RuleViolationError):
        batch(entry("v1"), entry("v1", "no"))
    with pytest.raises(VotingNotOpenError):
        PaperBatch.enter(
            voting(is_open=False), 1, (entry("v1"),), council="c", wins="paper", at=AT,
            actor="clerk",
        )  # fmt: skip
    with pytest.raises(ValidationError):
        PaperEntry(voter="v1", choice="yes", scan_sha256="not a hash")


def test_a_paper_ballot_is_an_aggregate_apart_from_the_online_one() -> None:
    ballot = Ballot.cast_on_paper(
        voting(), "v1", Choice.YES, scan_sha256="a" * 64, batch=1, entered_by="clerk",
        scrutineer="v3", wins="paper", at=AT,
    )  # fmt: skip
    assert (
        ballot.id
        == paper_ballot_id(ISSUE, "resolve#1", "v1")
        != ballot_id(ISSUE, "resolve#1", "v1")
    )
    assert ballot.on_paper and ballot.voter == "v1"


@pytest.mark.parametrize(("paper_wins", "yes", "no"), [(True, 1, 1), (False, 0, 2)])
def test_one_ballot_per_voter_the_procedures_winner(paper_wins: bool, yes: int, no: int) -> None:
    result = tally(
        voting(),
        [("v1", "no"), ("v2", "no")],
        on_paper=[("v1", "yes")],
        paper_wins=paper_wins,
        counted_up_to=9,
    )
    assert (result.yes, result.no, result.participating) == (yes, no, 2)
    assert result.by_paper == (1 if paper_wins else 0)
    refused = "online" if paper_wins else "paper"
    assert double_channel(["v1", "v2"], ["v1"], paper_wins=paper_wins) == [("v1", refused)]


def test_the_voters_own_paper_ballot_counts_over_a_proxys() -> None:
    result = tally(
        voting(),
        [],
        on_paper=[("v1", "no")],
        by_proxy=[("v1", "yes"), ("v2", "yes")],
        counted_up_to=9,
    )
    assert (result.yes, result.no, result.by_paper, result.by_proxy) == (1, 1, 1, 1)


def test_voting_tallied_v2_is_upcast_with_no_paper_ballots() -> None:
    state: dict[str, object] = {"class_version": 2, "by_proxy": 1}
    VotingTallied.upcast_v2_v3(state)  # type: ignore[arg-type]
    assert state["by_paper"] == 0 and VotingTallied.class_version == 3


def _stage(**paper: object) -> Stage:
    return Stage.model_validate(
        {
            "id": "resolve", "kind": "vote", "title": "表决", "body": "residents_assembly",
            "rule": "r", "vote_by": "ballots", "duration": {"days": 7}, "ballot": "named",
            **({"paper": paper} if paper else {}),
        }
    )  # fmt: skip


def test_paper_ballots_are_for_a_vote_by_ballots() -> None:
    assert _stage().paper == Paper(allowed=False, wins="paper")
    with pytest.raises(ValidationError):
        Stage.model_validate(
            {
                "id": "resolve", "kind": "vote", "title": "表决", "body": "residents_assembly",
                "rule": "r", "vote_by": "meeting", "duration": {"days": 7},
                "paper": {"allowed": True},
            }
        )  # fmt: skip
    with pytest.raises(ValidationError):
        _stage(allowed=True, wins="fax")


def test_unstated_paper_leaves_a_procedures_digest_as_it_was() -> None:
    data = {
        "name": "p", "version": 1, "title": "p", "sources": [{"title": "t"}],
        "rules": {"r": RULE.model_dump(mode="json")},
        "stages": [{k: v for k, v in _stage().model_dump(mode="json").items() if k != "paper"}],
    }  # fmt: skip
    plain = Procedure.model_validate(data)
    data["stages"] = [_stage(allowed=True, wins="online").model_dump(mode="json")]
    assert Procedure.model_validate(data).digest != plain.digest
    data["stages"] = [_stage().model_dump(mode="json")]
    assert Procedure.model_validate(data).digest == plain.digest
