"""A rectification order's reminder and escalation reach people through the notifier (a real
local SMTP server), on SQLite and PostgreSQL: what the order's workflow asks for, done here
with the workflow's time as a drill would."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from govflow.application.notification_channels import Channel
from govflow.domain.council import Body
from govflow.domain.rectification import AssigneeKind, SourceKind
from tests.notifications.conftest import CONFIG, COUNCIL, Council, Mailbox

EVIDENCE = hashlib.sha256(b"photo").hexdigest()


def ordered(council: Council) -> None:
    """The supervisory committee's chair (s1) orders m2 to clear a fire lane in three days,
    from an inspection; the two committees (c2) are where a missed order goes."""
    app = council.app
    app.enroll_member(
        COUNCIL, "s1", "监委会主任", actor="clerk", chairs=(Body.SUPERVISORY_COMMITTEE,)
    )
    app.enroll_member(COUNCIL, "c2", "两委委员", actor="clerk", bodies=(Body.TWO_COMMITTEES,))
    app.record_inspection(COUNCIL, 1, "消防通道堆放杂物", EVIDENCE, actor="s1")
    app.order_rectification(
        COUNCIL, 1, what="清理消防通道", why="检查发现杂物", assignee_kind=AssigneeKind.MEMBER,
        assignee="m2", ordered_by=Body.SUPERVISORY_COMMITTEE,
        due=(council.clock.current + timedelta(days=3)).date(),
        source_kind=SourceKind.INSPECTION, source={"inspection_number": 1}, actor="s1",
    )  # fmt: skip


def test_the_member_ordered_is_reminded_once_with_the_order_and_its_link(
    council: Council, mailbox: Mailbox, channels: list[Channel]
) -> None:
    ordered(council)
    app = council.app
    app.set_contact(COUNCIL, "m2", email="m2@hehua.example", gateway="", follows=False, actor="m2")
    assert app.remind_order(COUNCIL, 1, 1) == 1
    assert app.remind_order(COUNCIL, 1, 1) == 1  # a retried activity addresses nobody twice
    app.tell_people(channels, CONFIG)
    (reminder,) = mailbox.to("m2@hehua.example")
    text = mailbox.text(reminder)
    assert "限期整改即将到期" in reminder["Subject"] and "清理消防通道" in text
    assert "（北京时间）前完成整改" in text
    assert "https://govflow.example.org/app/orders/1" in text
    assert app.remind_order(COUNCIL, 1, 2) == 0  # not the order's round


def test_a_missed_order_is_escalated_once_with_a_notice_its_followers_hear_of(
    council: Council, mailbox: Mailbox, channels: list[Channel]
) -> None:
    """Before the deadline nothing is escalated; after it, one event and one notice (the
    council's followers are told); a second escalation of the round records nothing."""
    ordered(council)
    app = council.app
    app.set_contact(COUNCIL, "m3", email="m3@hehua.example", gateway="", follows=True, actor="m3")
    head = app.recorder.max_notification_id()
    assert app.escalate_order(COUNCIL, 1, step="drill:1") is False
    assert app.recorder.max_notification_id() == head
    after = app.get_order(COUNCIL, 1).deadline + timedelta(hours=1)
    with app.acting_at(after):
        assert app.escalate_order(COUNCIL, 1, step="drill:2") is True
        head = app.recorder.max_notification_id()
        assert app.escalate_order(COUNCIL, 1, step="drill:2") is True  # the same step again
        assert app.escalate_order(COUNCIL, 1, step="drill:3") is False  # escalated already
        assert app.recorder.max_notification_id() == head
    view = app.get_order(COUNCIL, 1)
    assert view.escalated and view.escalate_to == "two_committees"
    app.tell_people(channels, CONFIG)
    (told,) = mailbox.to("m3@hehua.example")
    assert "限期整改逾期" in told["Subject"]
    (row,) = [n for n in app.list_notices(COUNCIL) if "限期整改逾期" in n.title]
    assert (row.subject, row.subject_number) == ("order", 1)
    listed = [(r.number, r.status, r.escalated) for r in app.list_orders(COUNCIL, open_only=True)]
    assert listed == [(1, "open", True)]


def test_an_order_done_in_time_is_not_escalated(council: Council) -> None:
    """Completed before the deadline: the escalation the workflow asks for records nothing."""
    ordered(council)
    app = council.app
    app.complete_order(COUNCIL, 1, "已清理", (EVIDENCE,), actor="m2")
    with app.acting_at(app.get_order(COUNCIL, 1).deadline + timedelta(hours=1)):
        head = app.recorder.max_notification_id()
        assert app.escalate_order(COUNCIL, 1, step="drill:1") is False
        assert app.recorder.max_notification_id() == head


def test_the_body_a_missed_order_is_escalated_to_is_told(
    council: Council, mailbox: Mailbox, channels: list[Channel]
) -> None:
    """Escalated to the two committees: their members are told of the escalation's notice
    even if they do not follow the council's notices, once each (a retried step tells nobody
    twice; a member who also follows is told once)."""
    ordered(council)
    app = council.app
    app.set_contact(COUNCIL, "c2", email="c2@hehua.example", gateway="", follows=False, actor="c2")
    app.set_contact(COUNCIL, "m2", email="m2@hehua.example", gateway="", follows=False, actor="m2")
    with app.acting_at(app.get_order(COUNCIL, 1).deadline + timedelta(hours=1)):
        assert app.escalate_order(COUNCIL, 1, step="drill:1") is True
        assert [d.recipient for d in app.list_deliveries(COUNCIL) if d.kind == "notice"] == [
            "c2"
        ]  # fmt: skip
        assert app.escalate_order(COUNCIL, 1, step="drill:1") is True  # a retried activity
        app.tell_people(channels, CONFIG)  # the notifier, as the time goes on
    (told,) = mailbox.to("c2@hehua.example")
    assert "限期整改逾期" in told["Subject"]
    assert mailbox.to("m2@hehua.example") == []  # not on the two committees, not following
