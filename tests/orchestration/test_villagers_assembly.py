"""A villagers' assembly item end to end: 10 days' notice, online and paper ballots, named."""

from __future__ import annotations

import hashlib

import pytest

from govflow.application import commands as c
from govflow.domain.ballot import Choice, paper_ballot_id
from govflow.domain.ids import issue_id
from govflow.domain.issue import VotingTallied
from govflow.orchestration.door import CommandDoor
from tests.orchestration.conftest import CHAIR, COUNCIL, Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")
NUMBER = 1200  # this file's workflow ids on the shared dev server: 1200-1209


def scan(voter: str) -> str:
    return hashlib.sha256(f"paper ballot of {voter}".encode()).hexdigest()


async def test_villagers_vote_online_and_on_paper_and_the_vote_is_named(stack: Stack) -> None:
    """After 10 days' notice the villagers vote online and on paper (a scrutineer confirms the
    batch; a villager's paper ballot wins over their online one); more than half of the roll
    took part and more than half of them said yes; once closed, each choice is shown."""
    procedure = stack.procedures.get("villagers-assembly")
    stack.app.propose_issue(COUNCIL, NUMBER, "村集体收益分配方案", procedure, actor=CHAIR)
    handle = await stack.issues.start(COUNCIL, NUMBER, procedure)
    await stack.until(NUMBER, lambda s: s.stage == "announce" and s.notice_id is not None)
    await stack.skip_past_deadline(NUMBER)
    await stack.until(NUMBER, lambda s: s.ballot_key == "resolve#1")

    door = CommandDoor(stack.app, stack.issues, stack.procedures)
    await stack.issues.cast_ballot(COUNCIL, NUMBER, "m1", Choice.NO)  # online
    await stack.issues.cast_ballot(COUNCIL, NUMBER, "m4", Choice.YES)
    lines = [
        c.PaperBallotLine(voter=voter, choice=Choice.YES, scan_sha256=scan(voter))
        for voter in ("m1", "m2", "m3")
    ]
    entered = c.EnterPaperBallots(council=COUNCIL, number=NUMBER, ballots=lines)
    await door.handle(entered, stack.app.principal(COUNCIL, CHAIR))
    confirmed = c.ConfirmPaperBallots(council=COUNCIL, number=NUMBER, batch=1)
    await door.handle(confirmed, stack.app.principal(COUNCIL, "m5"))  # the scrutineer

    await stack.skip_past_deadline(NUMBER)
    await stack.until(NUMBER, lambda s: s.stage == "publish_resolution" and s.notice_id is not None)
    await stack.skip_past_display(NUMBER)
    assert (await stack.result(handle)).outcome == "adopted"
    await stack.keep_history(handle, "villagers-assembly")

    (tally,) = [
        e
        for e in stack.app.domain_events(issue_id(COUNCIL, NUMBER))
        if isinstance(e, VotingTallied)
    ]
    # four of seven villagers took part (m1 counted once, on paper): more than half
    assert (tally.quorum_met, tally.passed, tally.yes, tally.no, tally.by_paper) == (
        True, True, 4, 0, 3,
    )  # fmt: skip
    (entry,) = stack.app.get_history(paper_ballot_id(issue_id(COUNCIL, NUMBER), "resolve#1", "m2"))
    assert entry.data["voter"] == "m2" and entry.data["choice"] == "yes"  # named, and closed
