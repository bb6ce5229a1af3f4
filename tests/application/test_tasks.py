"""My tasks as a use case: what is open to a person as the record stands, soonest first."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.application.tasks import get_tasks
from govflow.domain.ballot import Choice
from govflow.domain.council import Body
from govflow.domain.issue import StageOutcome
from govflow.domain.notice import NoticeKind, NoticePeriod
from govflow.domain.rating import Satisfaction
from tests.orchestration.conftest import CHAIR, COUNCIL, enroll_council

LIBRARY = ProcedureLibrary(Path(__file__).parents[2] / "workflows")
FIVE_STEP = LIBRARY.get("five-step-consultation")


@pytest.fixture
def app() -> Governance:
    governance = Governance({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    enroll_council(governance)
    return governance


def _walk(app: Governance, number: int, *stages: str) -> None:
    """Propose an item and open (closing the one before) each of ``stages`` in turn."""
    app.propose_issue(COUNCIL, number, f"议题{number}", FIVE_STEP, actor=CHAIR)
    previous = None
    for stage in ("propose", *stages):
        if previous is not None:
            app.close_stage(COUNCIL, number, previous, StageOutcome.COMPLETED, actor="system")
        app.open_stage(
            COUNCIL, number, stage, deadline=app.now() + timedelta(days=7), actor="system"
        )
        previous = stage


def kinds(app: Governance, member: str) -> list[tuple[str, int]]:
    tasks = get_tasks(app, app.principal(COUNCIL, member), LIBRARY).tasks
    return [(t.kind, t.number) for t in tasks]


def test_a_vote_is_a_task_until_the_voter_has_voted(app: Governance) -> None:
    """On the frozen roll and not yet voted: a task with the vote's closing time."""
    _walk(app, 1, "deliberate", "public_deliberation", "resolve")
    closes = app.now() + timedelta(days=3)
    rule = FIVE_STEP.rules["residents_representatives"]
    app.open_voting(
        COUNCIL, 1, "resolve", body=Body.RESIDENTS_REPRESENTATIVES, rule=rule,
        closes_at=closes, actor="system",
    )  # fmt: skip
    tasks = get_tasks(app, app.principal(COUNCIL, "m1"), LIBRARY)
    assert [(t.kind, t.deadline) for t in tasks.tasks] == [("vote", closes)]
    assert tasks.timezone == "Asia/Shanghai"
    assert kinds(app, "o1") == []  # not on the roll
    app.cast_ballot(COUNCIL, 1, "m1", Choice.YES)
    assert kinds(app, "m1") == []
    assert ("chair_stage", 1) in kinds(app, CHAIR)  # this vote may be closed early


def test_a_discussion_is_everyone_s_and_its_stage_the_chair_s(app: Governance) -> None:
    """群议 is open to every member; closing it is the acting body's chair's."""
    _walk(app, 2, "deliberate", "public_deliberation")
    assert kinds(app, "m2") == [("discuss", 2)]
    assert kinds(app, "o3") == [("discuss", 2)]
    assert sorted(kinds(app, CHAIR)) == [("chair_stage", 2), ("discuss", 2)]


def test_a_notice_in_its_window_and_its_objections(app: Governance) -> None:
    """A notice's objection window is everyone's task; its unanswered objections the chair's."""
    _walk(app, 3, "deliberate", "public_deliberation", "resolve", "publish_resolution")
    period = NoticePeriod(display_days=7, objection_days=5, reply_days=3)
    notice = app.post_issue_notice(
        COUNCIL, 3, "publish_resolution", NoticeKind.RESOLUTION, "决议公示", "同意", period,
        actor="system",
    )  # fmt: skip
    assert kinds(app, "m4") == [("object", 3)]
    assert ("answer_objections", 3) not in kinds(app, CHAIR)
    app.file_objection(notice, "不同意", actor="m4")
    assert ("answer_objections", 3) in kinds(app, CHAIR)
    assert ("answer_objections", 3) not in kinds(app, "m4")


def test_an_item_with_many_notices_is_one_task_to_object_and_one_to_answer(
    app: Governance,
) -> None:
    """An objection goes to the item's current notice: however many notices an item has had
    (weekly progress), it is one task to object and, for the chair, one to answer."""
    _walk(app, 5, "deliberate", "public_deliberation", "resolve", "publish_resolution")
    period = NoticePeriod(display_days=7, objection_days=5, reply_days=3)
    first = app.post_issue_notice(
        COUNCIL, 5, "publish_resolution", NoticeKind.RESOLUTION, "决议公示", "同意", period,
        actor="system",
    )  # fmt: skip
    app.file_objection(first, "不同意", actor="m4")
    for week in range(1, 4):
        app.post_issue_notice(
            COUNCIL, 5, "publish_resolution", NoticeKind.PROGRESS, f"第{week}周进展", "施工中",
            period, actor="system",
        )  # fmt: skip
    assert kinds(app, "m4") == [("object", 5)]
    assert sorted(kinds(app, CHAIR)) == [("answer_objections", 5), ("object", 5)]


def test_an_evaluation_asks_only_its_raters_until_they_rate(app: Governance) -> None:
    """The affected households rate once; others have nothing to rate."""
    _walk(
        app, 4, "deliberate", "public_deliberation", "resolve", "publish_resolution",
        "implement", "evaluate",
    )  # fmt: skip
    app.open_evaluation(
        COUNCIL, 4, "evaluate", body=Body.AFFECTED_HOUSEHOLDS,
        closes_at=app.now() + timedelta(days=7), actor="system",
    )  # fmt: skip
    assert kinds(app, "o2") == [("rate", 4)]
    assert kinds(app, "m1") == []
    app.rate_issue(COUNCIL, 4, "o2", Satisfaction.SATISFIED)
    assert kinds(app, "o2") == []
