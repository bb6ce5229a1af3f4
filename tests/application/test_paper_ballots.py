"""Paper ballots (纸质选票) through the command door: a batch entered by the clerk or the
chair, pending until a scrutineer (监票人, another person) confirms it; one ballot counted per
voter across channels (the procedure's winner), the other listed; the tally's by_paper."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.paper_ballots import RefusedBallot
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.ballot import Choice, paper_ballot_id
from govflow.domain.council import Body
from govflow.domain.errors import (
    AlreadyExistsError,
    DoubleVoteError,
    ForbiddenError,
    GovflowError,
    NotOnRollError,
    RuleViolationError,
)
from govflow.domain.ids import issue_id
from govflow.domain.issue import StageOutcome, VotingTallied
from govflow.domain.paper import PaperBatchEntered
from govflow.orchestration.door import CommandDoor
from tests.application.scenario import COUNCIL, set_up_council

WORKFLOWS = Path(__file__).parents[2] / "workflows"
RESIDENTS = ("a1", "a2", "a3", "a4", "a5")


def scan(n: str) -> str:
    return hashlib.sha256(f"scan of ballot {n}".encode()).hexdigest()


def residents_vote(app: Governance, *, secret: bool = False) -> CommandDoor:
    """A residents' assembly item (paper ballots allowed, paper wins) at its vote by ballots;
    a1 chairs the assembly, k1 is the council's clerk. ``secret``: the round opens secret, as
    a running item's did under a procedure recorded before secret votes refused paper."""
    set_up_council(app)
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    for resident in RESIDENTS:
        chairs = (Body.RESIDENTS_ASSEMBLY,) if resident == "a1" else ()
        app.enroll_member(
            COUNCIL,
            resident,
            f"居民{resident}",
            actor="clerk",
            bodies=(Body.RESIDENTS_ASSEMBLY,),
            chairs=chairs,
        )
    library = ProcedureLibrary(WORKFLOWS)
    procedure = library.get("residents-assembly", 2)
    app.propose_issue(COUNCIL, 1, "加装电梯", procedure, actor="a2")
    for stage in ("propose", "public_deliberation"):
        app.open_stage(COUNCIL, 1, stage, deadline=None, actor="a2")
        app.close_stage(COUNCIL, 1, stage, StageOutcome.COMPLETED, actor="a2")
    app.open_stage(COUNCIL, 1, "resolve", deadline=None, actor="system")
    app.open_voting(
        COUNCIL,
        1,
        "resolve",
        body=Body.RESIDENTS_ASSEMBLY,
        rule=procedure.rules["residents_assembly"],
        closes_at=app.now() + timedelta(days=7),
        actor="system",
        secret=secret or procedure.stage("resolve").ballot == "secret",  # named by the preset
    )
    return CommandDoor(app, None, library)


def run(door: CommandDoor, app: Governance, who: str, command: c.Command) -> Any:
    return asyncio.run(door.handle(command, app.principal(COUNCIL, who)))


def enter(*lines: tuple[str, Choice]) -> c.EnterPaperBallots:
    return c.EnterPaperBallots(
        council=COUNCIL,
        number=1,
        ballots=[
            c.PaperBallotLine(voter=voter, choice=choice, scan_sha256=scan(voter))
            for voter, choice in lines
        ],
    )


def confirm(batch: int = 1) -> c.ConfirmPaperBallots:
    return c.ConfirmPaperBallots(council=COUNCIL, number=1, batch=batch)


def vote(choice: Choice) -> c.CastBallot:
    return c.CastBallot(council=COUNCIL, number=1, choice=choice)


def tallied(app: Governance) -> VotingTallied:
    app.close_voting(COUNCIL, 1, "deadline", actor="system")
    return [e for e in app.domain_events(issue_id(COUNCIL, 1)) if isinstance(e, VotingTallied)][-1]


def test_online_and_paper_ballots_are_counted_together(sql_app: Governance) -> None:
    app = sql_app
    door = residents_vote(app)
    run(door, app, "a2", vote(Choice.YES))
    assert run(door, app, "k1", enter(("a3", Choice.YES), ("a4", Choice.NO))) == 1
    assert run(door, app, "a5", confirm()) == 2
    ballot = list(app.domain_events(paper_ballot_id(issue_id(COUNCIL, 1), "resolve#1", "a3")))
    assert ballot[0].scan_sha256 == scan("a3")  # type: ignore[attr-defined]
    result = tallied(app)
    assert (result.yes, result.no, result.participating) == (2, 1, 3)
    assert (result.by_paper, result.by_proxy) == (2, 0)


def test_a_batch_counts_only_once_confirmed(app: Governance) -> None:
    door = residents_vote(app)
    run(door, app, "a1", enter(("a3", Choice.YES)))  # the chair of the assembly enters it
    (batch,) = app.paper_batches(COUNCIL, 1)
    assert batch.confirmed_by is None and batch.entered_by == "a1"
    result = tallied(app)  # never confirmed: nothing counted
    assert (result.participating, result.by_paper) == (0, 0)


def test_the_person_who_entered_a_batch_cannot_confirm_it(app: Governance) -> None:
    door = residents_vote(app)
    run(door, app, "k1", enter(("a3", Choice.YES)))
    before = app.recorder.max_notification_id()
    with pytest.raises(RuleViolationError, match="scrutineer"):
        run(door, app, "k1", confirm())
    assert app.recorder.max_notification_id() == before
    run(door, app, "a2", confirm())
    assert app.paper_batches(COUNCIL, 1)[0].confirmed_by == "a2"
    with pytest.raises(RuleViolationError):  # confirmed once
        run(door, app, "a4", confirm())
    assert tallied(app).by_paper == 1


def test_a_double_channel_counts_the_procedures_winner_and_lists_the_other(
    sql_app: Governance,
) -> None:
    app = sql_app
    door = residents_vote(app)
    run(door, app, "a3", vote(Choice.NO))  # online
    run(door, app, "k1", enter(("a3", Choice.YES), ("a4", Choice.YES)))
    run(door, app, "a5", confirm())
    run(door, app, "a4", vote(Choice.NO))  # online after their paper ballot
    assert app.refused_ballots(COUNCIL, 1) == [
        RefusedBallot("a3", "online"),
        RefusedBallot("a4", "online"),
    ]
    result = tallied(app)  # the residents' preset: the paper ballot wins
    assert (result.yes, result.no, result.participating, result.by_paper) == (2, 0, 2, 2)


def test_a_voter_has_at_most_one_paper_ballot(app: Governance) -> None:
    door = residents_vote(app)
    run(door, app, "k1", enter(("a3", Choice.YES)))
    before = app.recorder.max_notification_id()
    with pytest.raises(AlreadyExistsError):  # already in a batch (pending or confirmed)
        run(door, app, "k1", enter(("a4", Choice.YES), ("a3", Choice.NO)))
    with pytest.raises(RuleViolationError):  # twice in one batch
        run(door, app, "k1", enter(("a4", Choice.YES), ("a4", Choice.NO)))
    assert app.recorder.max_notification_id() == before


def test_the_store_refuses_a_second_paper_ballot(app: Governance) -> None:
    """Two batches naming the same voter (entered concurrently): the second confirmation is
    refused by the store and records nothing."""
    door = residents_vote(app)
    run(door, app, "k1", enter(("a3", Choice.YES)))
    run(door, app, "a5", confirm())
    voting = app._current_voting(issue_id(COUNCIL, 1))
    from govflow.domain.paper import PaperBatch, PaperEntry

    racing = PaperBatch.enter(
        voting,
        2,
        (PaperEntry(voter="a3", choice="no", scan_sha256=scan("x")),),
        council=COUNCIL,
        wins="paper",
        at=app.now(),
        actor="clerk",
    )
    app.save(racing)
    before = app.recorder.max_notification_id()
    with pytest.raises(DoubleVoteError):
        run(door, app, "a5", confirm(2))
    assert app.recorder.max_notification_id() == before
    assert app.paper_batches(COUNCIL, 1)[1].confirmed_by is None


def test_who_may_enter_and_confirm(app: Governance) -> None:
    door = residents_vote(app)
    app.enroll_member(COUNCIL, "au", "审计", actor="clerk", roles=("auditor",))
    before = app.recorder.max_notification_id()
    with pytest.raises(ForbiddenError):  # neither the clerk nor the assembly's chair
        run(door, app, "a2", enter(("a3", Choice.YES)))
    with pytest.raises(NotOnRollError):
        run(door, app, "k1", enter(("p2", Choice.YES)))
    assert app.recorder.max_notification_id() == before
    run(door, app, "k1", enter(("a3", Choice.YES)))
    before = app.recorder.max_notification_id()
    with pytest.raises(ForbiddenError):  # auditors write nothing
        run(door, app, "au", confirm())
    assert app.recorder.max_notification_id() == before
    (entered,) = [
        e for e in app.domain_events(_batch_id(app, 1)) if isinstance(e, PaperBatchEntered)
    ]
    assert entered.wins == "paper" and entered.entries[0].scan_sha256 == scan("a3")


def _batch_id(app: Governance, number: int) -> Any:
    from govflow.domain.paper import paper_batch_id

    return paper_batch_id(issue_id(COUNCIL, 1), "resolve#1", number)


def test_paper_ballots_not_allowed_by_the_procedure_are_refused(app: Governance) -> None:
    set_up_council(app)
    library = ProcedureLibrary(WORKFLOWS)
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    app.propose_issue(COUNCIL, 1, "更换电梯", library.get("owners-assembly-art278"), actor="o1")
    door = CommandDoor(app, None, library)
    before = app.recorder.max_notification_id()
    with pytest.raises(GovflowError) as refused:
        run(door, app, "k1", enter(("o2", Choice.YES)))
    assert "paper ballots" in refused.value.message
    assert app.recorder.max_notification_id() == before


def test_a_secret_vote_takes_no_paper_ballots(app: Governance) -> None:
    """A paper ballot pairs a voter with a choice, which a secret vote never records: a
    round opened secret refuses a batch (ballot.secret_vote), recording nothing."""
    door = residents_vote(app, secret=True)
    before = app.recorder.max_notification_id()
    with pytest.raises(GovflowError) as refused:
        run(door, app, "k1", enter(("a3", Choice.YES)))
    assert refused.value.code == "ballot.secret_vote"
    assert app.recorder.max_notification_id() == before


def test_a_batch_shows_its_choices_only_once_the_named_vote_closed(app: Governance) -> None:
    """The batch's history and state show who is in it, never what they chose while the vote
    is open; once the named vote (记名表决) has closed, each choice is shown."""
    door = residents_vote(app)
    run(door, app, "k1", enter(("a3", Choice.YES)))
    (entry,) = app.get_history(_batch_id(app, 1))
    assert entry.data["entries"] == [{"voter": "a3", "choice": None, "scan_sha256": scan("a3")}]
    assert entry.data["choice_withheld"] == "voting_open"
    state = app.get_state_as_of(_batch_id(app, 1), app.now())
    assert state["voters"] == ["a3"] and "yes" not in str(state)
    run(door, app, "a5", confirm())
    ballot = paper_ballot_id(issue_id(COUNCIL, 1), "resolve#1", "a3")
    (entry,) = app.get_history(ballot)
    assert entry.data["choice"] is None and entry.data["voter"] == "a3"
    tallied(app)
    (entry, _) = app.get_history(_batch_id(app, 1))
    assert entry.data["entries"][0]["choice"] == "yes"
    (entry,) = app.get_history(ballot)
    assert entry.data["choice"] == "yes"
