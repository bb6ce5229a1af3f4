"""A missed order on the public board: the list and the order's page say it is overdue and
escalated, and to which body; the escalation's notice is on display with the council's notices
and reads in plain words. No login, nothing but what the order makes public."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from govflow.application import Governance
from govflow.entrypoints.api import create_api
from tests.application.test_rectification import (
    DISSATISFIED,
    enroll_order_people,
    evaluated,
    issue_order,
)
from tests.orchestration.conftest import COUNCIL, enroll_council


@pytest.fixture
def escalated() -> Iterator[tuple[Governance, TestClient]]:
    app = Governance({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    enroll_council(app)
    enroll_order_people(app)
    evaluated(app, 2300, *DISSATISFIED)
    issue_order(app, 1)
    with app.acting_at(app.get_order(COUNCIL, 1).deadline + timedelta(hours=1)):
        app.escalate_order(COUNCIL, 1, step="board:1")  # as the order's workflow would
    yield app, TestClient(create_api(app))
    app.close()


def test_a_missed_order_shows_escalated_with_its_notice(
    escalated: tuple[Governance, TestClient],
) -> None:
    app, board = escalated
    notice_id = app.get_order(COUNCIL, 1).steps[-1].notice_id
    listed = board.get(f"/board/{COUNCIL}/orders")
    assert listed.status_code == 200 and "已逾期并提请督办 → 两委联席会议" in listed.text
    page = board.get(f"/board/{COUNCIL}/orders/1")
    assert f"/board/notices/{notice_id}" in page.text and "逾期，提请督办" in page.text
    english = board.get(f"/board/{COUNCIL}/orders/1?lang=en")
    assert "overdue and escalated" in english.text and "two committees" in english.text
    notice = board.get(f"/board/notices/{notice_id}")
    assert notice.status_code == 200
    assert "限期整改逾期" in notice.text and "已提请两委联席会议督办" in notice.text
    assert "限期整改逾期" in board.get(f"/board/{COUNCIL}/").text  # on display now


def test_an_unknown_order_is_not_found_on_the_board(
    escalated: tuple[Governance, TestClient],
) -> None:
    _, board = escalated
    assert board.get(f"/board/{COUNCIL}/orders/99").status_code == 404
    assert board.get("/board/nowhere/orders").status_code == 404


def test_an_order_s_deadline_reads_in_its_council_s_time_zone() -> None:
    """A council in another zone than the server's (乌鲁木齐, UTC+6; the server Asia/Shanghai):
    the order's deadline is the due day's 24:00 there, on the list and the order's page, not
    02:00 the next day as the server's zone would say."""
    from datetime import date

    from govflow.domain.council import Body
    from govflow.domain.rectification import AssigneeKind, SourceKind

    app = Governance({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.register_council("xj", "天山社区", actor="clerk", timezone="Asia/Urumqi")
    app.enroll_member("xj", "sv", "监委会主任", actor="clerk", chairs=(Body.SUPERVISORY_COMMITTEE,))
    app.enroll_member("xj", "c", "书记", actor="clerk", bodies=(Body.TWO_COMMITTEES,))
    app.enroll_member("xj", "w", "物业经理", actor="clerk")
    finding = "路灯不亮"
    app.record_inspection("xj", 1, finding, "0" * 64, actor="sv")
    due = date.today() + timedelta(days=10)
    app.order_rectification(
        "xj", 2750, what="修复路灯", why=finding, assignee_kind=AssigneeKind.MEMBER,
        assignee="w", ordered_by=Body.SUPERVISORY_COMMITTEE, due=due,
        source_kind=SourceKind.INSPECTION, source={"inspection_number": 1}, actor="sv",
    )  # fmt: skip
    board = TestClient(create_api(app))
    assert app.timezone != "Asia/Urumqi"
    for path in ("/board/xj/orders", "/board/xj/orders/2750"):
        page = board.get(path)
        assert page.status_code == 200
        assert f"{due:%Y-%m-%d} 24:00" in page.text, path
    app.close()


def test_an_order_never_names_someone_enrolled_later_under_the_member_s_id(
    escalated: tuple[Governance, TestClient],
) -> None:
    """The member ordered (物业经理) left and someone else (新人) was enrolled under the same id:
    the board no longer names the member, and never names the newcomer as the one ordered."""
    app, board = escalated
    assert "物业经理" in board.get(f"/board/{COUNCIL}/orders/1").text
    app.remove_member(COUNCIL, "w1", actor="clerk")
    app.enroll_member(COUNCIL, "w1", "新人", actor="clerk")
    for path in (f"/board/{COUNCIL}/orders", f"/board/{COUNCIL}/orders/1"):
        page = board.get(path).text
        assert "新人" not in page and "物业经理" not in page and "w1" in page, path


def test_a_completion_after_the_deadline_shows_late_even_unescalated() -> None:
    """The worker was down at the deadline and the member reported it done after it, before
    the escalation could run: the board still says it was done after the deadline."""
    app = Governance({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    enroll_council(app)
    enroll_order_people(app)
    evaluated(app, 2300, *DISSATISFIED)
    issue_order(app, 1)
    issue_order(app, 2)
    evidence = ("a" * 64,)
    deadline = app.get_order(COUNCIL, 1).deadline
    app.complete_order(COUNCIL, 2, "按时完成", evidence, actor="w1")
    with app.acting_at(deadline + timedelta(hours=2)):
        app.complete_order(COUNCIL, 1, "迟了两小时", evidence, actor="w1")
    board = TestClient(create_api(app))
    assert [s.late for s in app.get_order(COUNCIL, 1).steps] == [False, True]
    assert "逾期完成" in board.get(f"/board/{COUNCIL}/orders/1").text
    assert "done after the deadline" in board.get(f"/board/{COUNCIL}/orders/1?lang=en").text
    assert "逾期完成" not in board.get(f"/board/{COUNCIL}/orders/2").text
    app.close()
