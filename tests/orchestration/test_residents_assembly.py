"""A residents' assembly item end to end: quorum failure and re-vote, an upheld objection."""

from __future__ import annotations

import pytest

from govflow.domain.ballot import Choice
from tests.orchestration.conftest import CHAIR, COUNCIL, Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_full_cycle_with_revote_and_reopening(stack: Stack) -> None:
    """Propose, discuss, fail quorum, re-vote, publish, objection upheld, back, adopted."""
    procedure = stack.procedures.get("residents-assembly")
    stack.app.propose_issue(COUNCIL, 1, "小区加装充电桩", procedure, actor=CHAIR)
    handle = await stack.issues.start(COUNCIL, 1, procedure)
    again = await stack.issues.start(COUNCIL, 1, procedure)
    assert again.id == handle.id == "issue-xinhua-1"

    await stack.at_stage(1, "public_deliberation")
    await stack.issues.close_stage(COUNCIL, 1, CHAIR)

    status = await stack.until(1, lambda s: s.stage == "resolve" and s.ballot_key is not None)
    assert status.ballot_key == "resolve#1"
    for voter in ("m1", "m2"):  # 2 of 7: no quorum
        await stack.issues.cast_ballot(COUNCIL, 1, voter, Choice.YES)
    await stack.skip_past_deadline(1)
    status = await stack.until(1, lambda s: s.ballot_key == "resolve#2")
    for voter in (CHAIR, "m1", "m2", "m3", "m4", "m5", "m6"):
        await stack.issues.cast_ballot(COUNCIL, 1, voter, Choice.YES)

    await stack.until(1, lambda s: s.stage == "publish_resolution" and s.notice_id is not None)
    objection = await stack.issues.file_objection(COUNCIL, 1, "o2", "充电桩位置影响消防通道")
    await stack.issues.answer_objection(COUNCIL, 1, CHAIR, objection, "调整位置", upheld=True)
    await stack.at_stage(1, "public_deliberation")
    await stack.issues.close_stage(COUNCIL, 1, CHAIR)
    await stack.until(1, lambda s: s.ballot_key == "resolve#3")
    for voter in (CHAIR, "m1", "m2", "m3", "m4", "m5", "m6"):
        await stack.issues.cast_ballot(COUNCIL, 1, voter, Choice.YES)
    await stack.until(1, lambda s: s.stage == "publish_resolution" and s.notice_id is not None)
    await stack.skip_past_display(1)
    result = await stack.result(handle)
    await stack.keep_history(handle, "residents-assembly")
    assert result.outcome == "adopted"
    assert stack.app.get_issue(COUNCIL, 1).outcome == "adopted"

    history = stack.app.get_history(stack.app.issue(COUNCIL, 1).id)
    tallies = [h.data for h in history if h.topic == "govflow.issue.voting_tallied"]
    assert [(t["ballot_key"], t["quorum_met"], t["passed"]) for t in tallies] == [
        ("resolve#1", False, False),
        ("resolve#2", True, True),
        ("resolve#3", True, True),
    ]
    reopenings = [h.data["at_stage"] for h in history if h.topic == "govflow.issue.reopened"]
    assert reopenings == ["resolve", "public_deliberation"]
    closed_by_chair = [
        h for h in history if h.topic == "govflow.issue.stage_closed" and h.actor == CHAIR
    ]
    assert len(closed_by_chair) == 2
    notice = stack.app.get_notice(stack.app.issue(COUNCIL, 1).notices[0])
    assert notice.open_objections == 0


@pytest.mark.postgres
async def test_an_item_runs_on_the_postgresql_store(pg_stack: Stack) -> None:
    """The scale-out persistence: the same cycle with every event in PostgreSQL."""
    procedure = pg_stack.procedures.get("residents-assembly")
    pg_stack.app.propose_issue(COUNCIL, 40, "楼顶防水", procedure, actor=CHAIR)
    handle = await pg_stack.issues.start(COUNCIL, 40, procedure)
    await pg_stack.at_stage(40, "public_deliberation")
    await pg_stack.issues.close_stage(COUNCIL, 40, CHAIR)
    await pg_stack.until(40, lambda s: s.ballot_key == "resolve#1")
    for voter in (CHAIR, "m1", "m2", "m3", "m4", "m5", "m6"):
        await pg_stack.issues.cast_ballot(COUNCIL, 40, voter, Choice.YES)
    await pg_stack.until(40, lambda s: s.stage == "publish_resolution" and s.notice_id)
    await pg_stack.skip_past_display(40)
    assert (await pg_stack.result(handle)).outcome == "adopted"
    assert pg_stack.app.get_tally(COUNCIL, 40, "resolve#1").yes == 7
    pg_stack.app.record_checkpoint()
    assert pg_stack.app.verify_audit_chain().ok
