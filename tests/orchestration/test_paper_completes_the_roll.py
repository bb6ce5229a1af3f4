"""A confirmed paper batch that completes the roll tells the workflow, as the last online
ballot would: a vote that may close early closes at once."""

from __future__ import annotations

import hashlib

import pytest

from govflow.application import commands as c
from govflow.domain.ballot import Choice
from govflow.orchestration.door import CommandDoor
from tests.orchestration.conftest import CHAIR, COUNCIL, Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")
NUMBER = 1400  # this file's workflow ids on the shared dev server: 1400-1409


async def test_a_confirmed_batch_completing_the_roll_closes_the_vote_early(stack: Stack) -> None:
    procedure = stack.procedures.get("residents-assembly", 2)  # paper ballots, may close early
    stack.app.propose_issue(COUNCIL, NUMBER, "楼道照明改造", procedure, actor=CHAIR)
    handle = await stack.issues.start(COUNCIL, NUMBER, procedure)
    await stack.at_stage(NUMBER, "public_deliberation")
    await stack.issues.close_stage(COUNCIL, NUMBER, CHAIR)
    await stack.until(NUMBER, lambda s: s.ballot_key == "resolve#1")
    for voter in (CHAIR, "m1", "m2", "m3"):
        await stack.issues.cast_ballot(COUNCIL, NUMBER, voter, Choice.YES)
    door = CommandDoor(stack.app, stack.issues, stack.procedures)
    lines = [
        c.PaperBallotLine(
            voter=voter,
            choice=Choice.NO,
            scan_sha256=hashlib.sha256(voter.encode()).hexdigest(),
        )
        for voter in ("m4", "m5", "m6")
    ]
    entered = c.EnterPaperBallots(council=COUNCIL, number=NUMBER, ballots=lines)
    await door.handle(entered, stack.app.principal(COUNCIL, CHAIR))
    status = await stack.issues.status(COUNCIL, NUMBER)
    assert status.stage == "resolve"  # an entered batch counts for nothing yet
    confirmed = c.ConfirmPaperBallots(council=COUNCIL, number=NUMBER, batch=1)
    assert await door.handle(confirmed, stack.app.principal(COUNCIL, "m1")) == 3
    # no deadline skipped: the workflow heard that the whole roll has voted
    await stack.until(NUMBER, lambda s: s.stage == "publish_resolution")
    tally = stack.app.get_tally(COUNCIL, NUMBER, "resolve#1")
    assert (tally.yes, tally.no, tally.participating) == (4, 3, 7)
    await handle.terminate("test over")
