"""Paper ballots (纸质选票) in the members' app: the chair enters a batch from the box (one line
per ballot: member id, choice, the scan's sha256), a scrutineer (监票人, another member)
confirms it, the person who entered it cannot, a double channel is listed for the scrutineers,
and the item page and the board show how many counted ballots were on paper."""

from __future__ import annotations

import hashlib

import pytest

from govflow.domain.ids import issue_id
from govflow.domain.issue import VotingTallied
from tests.app.conftest import COUNCIL, SignIn
from tests.orchestration.conftest import CHAIR, Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")
RESIDENTS = "residents-assembly"
NUMBER = 490


def scan(voter: str) -> str:
    return hashlib.sha256(f"paper ballot of {voter}".encode()).hexdigest()


async def residents_vote_open(stack: Stack, number: int) -> None:
    procedure = stack.procedures.get(RESIDENTS, 2)  # the version that takes paper ballots
    stack.app.propose_issue(COUNCIL, number, "加装电梯", procedure, actor=CHAIR)
    await stack.issues.start(COUNCIL, number, procedure)
    await stack.at_stage(number, "public_deliberation")
    await stack.issues.close_stage(COUNCIL, number, CHAIR)
    await stack.until(number, lambda s: s.ballot_key == "resolve#1")


async def test_paper_ballots_entered_confirmed_and_counted(people: SignIn, stack: Stack) -> None:
    await residents_vote_open(stack, NUMBER)
    item = f"/app/items/{NUMBER}"
    chair, m1, m2, m3 = [await people(who) for who in (CHAIR, "m1", "m2", "m3")]

    assert (await m1.submit(f"{item}/vote", choice="no")).status_code == 303  # online
    page = (await chair.get(item)).text
    assert 'id="paper"' in page and 'name="lines"' in page
    # a member who is neither the clerk nor the assembly's chair enters nothing
    before = stack.app.recorder.max_notification_id()
    lines = f"m1,yes,{scan('m1')}\nm2，赞成，{scan('m2')}"
    assert (await m2.submit(f"{item}/paper", lines=lines)).status_code == 403
    bad = await chair.submit(f"{item}/paper", lines="m1,yes")
    assert bad.status_code == 422 and 'id="problem"' in bad.text
    assert stack.app.recorder.max_notification_id() == before

    entered = await chair.submit(f"{item}/paper", lines=lines)
    assert entered.status_code == 303 and entered.headers["location"] == f"{item}?done=paper"
    page = (await chair.get(item)).text
    assert "待监票人确认" in page and "本批由您录入，须由另一位监票人确认。" in page
    # the person who entered the batch cannot confirm it
    before = stack.app.recorder.max_notification_id()
    own = await chair.submit(f"{item}/paper/confirm", batch="1")
    assert own.status_code == 409
    assert stack.app.recorder.max_notification_id() == before

    page = (await m3.get(item)).text
    assert f'action="{item}/paper/confirm"' in page and "成员1、成员2" in page
    assert "赞成" not in page.split('id="paper"')[1].split("</section>")[0]  # no choice shown
    confirmed = await m3.submit(f"{item}/paper/confirm", batch="1")
    assert confirmed.headers["location"] == f"{item}?done=confirm_paper"
    page = (await m3.get(item)).text
    assert "已由 成员3 确认" in page
    assert "成员1 的线上投票" in page.split('id="refused-ballots"')[1]  # paper wins

    await stack.skip_past_deadline(NUMBER)
    await stack.until(NUMBER, lambda s: s.ballot_key != "resolve#1" or s.stage != "resolve")
    tallied = [
        e
        for e in stack.app.domain_events(issue_id(COUNCIL, NUMBER))
        if isinstance(e, VotingTallied)
    ]
    assert (tallied[0].yes, tallied[0].no, tallied[0].by_paper) == (2, 0, 2)
    assert "其中纸质选票 2 票" in (await m1.get(item)).text
    board = await m1.get(f"/board/{COUNCIL}/issues/{NUMBER}")
    assert "其中纸质选票 2 票" in board.text
