"""Opinions in a discussion stage: numbered, replies name an earlier one, nowhere else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from govflow.application.mapper import decode_event
from govflow.domain.errors import InvalidInputError, StageOrderError
from govflow.domain.issue import Issue, OpinionRecorded, StageOutcome, StageRef

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
STAGES = (
    StageRef(id="propose", kind="propose"),
    StageRef(id="talk", kind="public_deliberation"),
)


def _issue() -> Issue:
    return Issue.propose(
        "x", 1, "换管", procedure_name="p", procedure_version=1, procedure_hash="h",
        stages=STAGES, at=AT, actor="m1",
    )  # fmt: skip


def test_opinions_are_numbered_and_replies_name_an_earlier_one() -> None:
    """Opinions get 1, 2 …; a reply names an existing opinion, never a later one."""
    issue = _issue()
    issue.open("propose", deadline=None, at=AT, actor="m1")
    with pytest.raises(StageOrderError):
        issue.give_opinion("太早", reply_to=None, at=AT, actor="m2")
    issue.close("propose", StageOutcome.COMPLETED, at=AT, actor="m1")
    issue.open("talk", deadline=None, at=AT, actor="m1")
    assert issue.give_opinion("同意", reply_to=None, at=AT, actor="m2") == 1
    assert issue.give_opinion("费用呢？", reply_to=1, at=AT, actor="m3") == 2
    with pytest.raises(InvalidInputError):
        issue.give_opinion("回复不存在的", reply_to=3, at=AT, actor="m3")
    with pytest.raises(InvalidInputError):
        issue.give_opinion("   ", reply_to=None, at=AT, actor="m3")
    recorded = [e for e in issue._pending_events if isinstance(e, OpinionRecorded)]
    assert [(e.no, e.reply_to) for e in recorded] == [(1, None), (2, 1)]


def test_a_version_1_opinion_still_loads_without_number_or_reply() -> None:
    """A stored v1 opinion (no number, no reply) decodes through the upcaster."""
    payload = (
        b'{"actor":"m2","stage":"talk","step":null,"text":"\\u540c\\u610f",'
        b'"timestamp":"2026-03-02T09:00:00Z"}'
    )
    event = decode_event(OpinionRecorded.TOPIC, "a95e552d-f5bc-59bd-9d28-c3bf9bdde2fd", 3, payload)
    assert isinstance(event, OpinionRecorded)
    assert (event.no, event.reply_to, event.text) == (None, None, "同意")
