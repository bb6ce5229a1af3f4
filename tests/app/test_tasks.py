"""My tasks (``/app/``): what the person may do now, with the deadline and the time left."""

from __future__ import annotations

import pytest

from govflow.domain.ballot import Choice
from tests.app.conftest import COUNCIL, SignIn
from tests.app.test_items import item_at
from tests.orchestration.conftest import CHAIR, EVERYONE, Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_my_tasks_list_a_vote_until_the_member_has_voted(
    people: SignIn, stack: Stack
) -> None:
    """A vote on the member's frozen roll is a task, with its deadline and time left in
    Chinese, until they vote; someone not on the roll never sees it."""
    await item_at(stack, 431, "resolve")
    await stack.until(431, lambda s: s.ballot_key is not None)
    member = await people("m1")
    before = (await member.get("/app/")).text
    assert 'class="card task task-vote"' in before and "更换化粪管" in before
    assert "还剩 6 天" in before or "还剩 7 天" in before
    english = (await member.get("/app/?lang=en")).text
    assert "days" in english and "left" in english
    owner = await people("o1")  # an owner sits on no body voting here
    assert "task-vote" not in (await owner.get("/app/?lang=zh")).text
    assert (await member.submit("/app/items/431/vote", choice="no")).status_code == 303
    after = (await member.get("/app/?lang=zh")).text
    assert "task-vote" not in after
    for voter in EVERYONE:
        if voter != "m1":
            await stack.issues.cast_ballot(COUNCIL, 431, voter, Choice.YES)


async def test_chairs_find_their_stages_and_everyone_the_discussion(
    people: SignIn, stack: Stack
) -> None:
    """The chair of the acting body has the open stage to close; every member has the
    discussion; the links follow the person's roles."""
    await item_at(stack, 432, "public_deliberation")
    chair, member = await people(CHAIR), await people("m4")
    chair_page = (await chair.get("/app/")).text
    assert "task-chair_stage" in chair_page and "task-discuss" in chair_page
    member_page = (await member.get("/app/")).text
    assert "task-discuss" in member_page and "task-chair_stage" not in member_page
    assert 'href="/app/items"' in member_page and 'href="/app/roll"' not in member_page
    assert 'href="/app/spending"' in member_page  # members request spending
    assert 'href="/app/meetings"' not in member_page and 'href="/app/meetings"' in chair_page
    stack.app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    clerk = await people("k1")
    clerk_page = (await clerk.get("/app/")).text
    assert 'href="/app/roll"' in clerk_page and 'href="/app/invitations"' in clerk_page
    assert 'href="/app/roll"' not in chair_page
