"""Written consultation (书面征求意见) through the real dev server: the owners decide by forms
delivered to each of them and signed replies, within a period the chair may extend up to the
procedure's cap; a matter that failed is barred from coming back for its period."""

from __future__ import annotations

import pytest

from govflow.application import commands as c
from govflow.domain.ballot import Choice
from govflow.domain.consultation import MatterBarredError
from govflow.domain.errors import NotFoundError
from govflow.orchestration.door import CommandDoor
from tests.orchestration.conftest import CHAIR, COUNCIL, Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")

NAME = "owners-written-consultation"
OWNERS = ["o1", "o2", "o3", "o4", "o5"]


async def test_a_failed_consultation_bars_its_matter(stack: Stack) -> None:
    """The owners reject the matter; proposing it again within the year is refused."""
    procedure = stack.procedures.get(NAME)
    stack.app.propose_issue(COUNCIL, 30, "加装电梯", procedure, actor=CHAIR)
    handle = await stack.issues.start(COUNCIL, 30, procedure)
    await stack.until(30, lambda s: s.ballot_key == "resolve#1")
    for voter in OWNERS:
        await stack.issues.cast_ballot(COUNCIL, 30, voter, Choice.NO)
    assert (await stack.result(handle)).outcome == "rejected"
    await stack.keep_history(handle, NAME)

    door = CommandDoor(stack.app, stack.issues, stack.procedures)
    again = c.ProposeIssue(council=COUNCIL, number=31, title="加装 电梯", procedure=NAME)
    with pytest.raises(MatterBarredError) as refused:
        await door.handle(again, stack.app.principal(COUNCIL, "o2"))
    assert refused.value.code == "issue.barred" and refused.value.details["failed_item"] == 30
    with pytest.raises(NotFoundError):
        stack.app.issue(COUNCIL, 31)
