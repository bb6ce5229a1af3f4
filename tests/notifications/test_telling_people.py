"""Telling people (送达): who is told what, through which channel, and the record of it."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from govflow.application import Governance
from govflow.application.migration import migrate
from govflow.application.notification_channels import Channel, GatewayChannel
from govflow.application.notification_sending import NotifierConfig
from govflow.application.webhooks import verify_signature
from govflow.domain.ballot import Choice
from govflow.domain.notice import NoticeKind, NoticePeriod
from tests.notifications.conftest import (
    CONFIG,
    COUNCIL,
    GATEWAY_SECRET,
    Council,
    Gateway,
    Mailbox,
    email_to,
    free_port,
)

PERIOD = NoticePeriod(display_days=7, objection_days=7, reply_days=3)


def contacts(council: Council, **emails: str) -> None:
    for member, address in emails.items():
        council.app.set_contact(
            COUNCIL, member, email=address, gateway="", follows=True, actor=member
        )


def post_notice(council: Council) -> object:
    council.app.skip_stage(COUNCIL, 1, "resolve", "not needed here", actor="system")
    council.app.open_stage(COUNCIL, 1, "publish", deadline=None, actor="system")
    return council.app.post_issue_notice(
        COUNCIL, 1, "publish", NoticeKind.RESOLUTION, "决议公示", "同意加装电梯", PERIOD,
        actor="c1",
    )  # fmt: skip


def test_a_reminder_reaches_a_voter_who_has_not_voted_and_not_one_who_has(
    council: Council, mailbox: Mailbox, channels: list[Channel]
) -> None:
    """Within the lead time, only voters on the frozen roll who have not voted are reminded,
    once, with the item, the deadline in Beijing time and the link."""
    contacts(council, m1="m1@hehua.example", m2="m2@hehua.example")
    council.open_vote(hours=48)
    council.app.cast_ballot(COUNCIL, 1, "m1", Choice.YES)
    council.app.tell_people(channels, CONFIG)
    assert mailbox.messages == []  # the deadline is not within 24 hours yet
    council.clock.current += timedelta(hours=30)
    council.app.tell_people(channels, CONFIG)
    council.app.tell_people(channels, CONFIG)
    assert mailbox.to("m1@hehua.example") == []
    (reminder,) = mailbox.to("m2@hehua.example")
    text = mailbox.text(reminder)
    assert "荷花社区" in reminder["Subject"] and "第1号议题「加装电梯」" in text
    assert "您还没有投票" in text and "（北京时间）前投票" in text
    assert "https://govflow.example.org/app/items/1" in text
    told = {r.recipient: r for r in council.app.list_deliveries(COUNCIL, number=1)}
    assert told["m2"].status == "delivered" and told["m2"].attempts[0].channel == "email"
    assert "m1" not in told
    assert told["m3"].status == "posted_on_board" and told["m3"].board_reason == "no_contact"


def test_a_new_notice_reaches_followers_only(
    council: Council, mailbox: Mailbox, channels: list[Channel]
) -> None:
    """A notice goes to every member who follows the council, not to one who does not."""
    contacts(council, m1="m1@hehua.example")
    council.app.set_contact(
        COUNCIL, "m2", email="m2@hehua.example", gateway="", follows=False, actor="m2"
    )
    notice = post_notice(council)
    council.app.tell_people(channels, CONFIG)
    assert [m["To"] for m in mailbox.messages] == ["m1@hehua.example"]
    assert "新公示：决议公示" in mailbox.messages[0]["Subject"]
    assert "如有异议，请在" in mailbox.text(mailbox.messages[0])
    (row,) = council.app.list_deliveries(COUNCIL, subject_id=notice)  # type: ignore[arg-type]
    assert (row.recipient, row.kind, row.status) == ("m1", "notice", "delivered")


def test_an_objector_hears_the_answer_through_the_gateway(
    council: Council, gateway: Gateway, channels: list[Channel]
) -> None:
    """The objector (reached on their gateway address) is told the answer, signed like a
    webhook, with the delivery id as the idempotency key."""
    council.app.set_contact(
        COUNCIL, "m3", email="", gateway="13800000003", follows=False, actor="k1"
    )
    notice = post_notice(council)
    number = council.app.file_objection(notice, "噪音问题没有说明", actor="m3")  # type: ignore[arg-type]
    council.app.answer_objection(notice, number, "施工限于白天", upheld=False, actor="c1")  # type: ignore[arg-type]
    council.app.tell_people(channels, CONFIG)
    (headers, body) = gateway.received[0]
    assert verify_signature(GATEWAY_SECRET, body, headers["Govflow-Signature"], now=time.time())
    (sent,) = gateway.bodies()
    assert sent["to"] == "13800000003" and sent["member"] == "m3"
    assert "异议已有答复" in sent["subject"] and "施工限于白天" in sent["text"]
    assert headers["Govflow-Delivery"] == sent["delivery_id"]


def test_an_unreachable_smtp_server_is_recorded_then_the_board_tells_instead(
    council: Council,
) -> None:
    """Each failed attempt is recorded (a word, not the address); after the last round the
    person is recorded as told by the board."""
    contacts(council, m1="m1@hehua.example")
    post_notice(council)
    dead = [email_to(free_port())]  # nothing listens there
    council.app.tell_people(dead, CONFIG)
    (row,) = council.app.list_deliveries(COUNCIL)
    assert row.status == "pending" and row.attempts[0].error == "refused"
    council.clock.current += timedelta(minutes=10)
    council.app.tell_people(dead, CONFIG)
    (row,) = council.app.list_deliveries(COUNCIL)
    assert [a.delivered for a in row.attempts] == [False, False]
    assert (row.status, row.board_reason) == ("posted_on_board", "undeliverable")


def test_without_a_contact_the_board_tells_instead(
    council: Council, mailbox: Mailbox, channels: list[Channel]
) -> None:
    """A follower with no address for any configured channel is told by the board."""
    council.app.set_contact(COUNCIL, "m4", email="", gateway="", follows=True, actor="m4")
    post_notice(council)
    council.app.tell_people(channels[:1], CONFIG)
    (row,) = council.app.list_deliveries(COUNCIL)
    assert (row.recipient, row.status, row.board_reason) == ("m4", "posted_on_board", "no_contact")
    assert mailbox.messages == []


def test_a_restart_tells_nobody_twice(
    council: Council, mailbox: Mailbox, channels: list[Channel]
) -> None:
    """A new process on the same store neither sends again nor reminds again."""
    contacts(council, m1="m1@hehua.example", m2="m2@hehua.example")
    council.open_vote(hours=10)
    council.app.tell_people(channels, CONFIG)
    assert len(mailbox.messages) == 2
    app = council.restart()
    app.tell_people(channels, CONFIG)
    app.tell_people(channels, CONFIG)
    assert len(mailbox.messages) == 2


def test_addresses_never_reach_the_log(council: Council, channels: list[Channel]) -> None:
    """The log records who was told by which channel, never the address."""
    contacts(council, m1="secret-address@hehua.example")
    post_notice(council)
    council.app.tell_people(channels, CONFIG)
    everything = b"".join(
        council.app.payload(n.state, n.topic)
        for n in council.app.recorder.select_notifications(1, 10_000)
    )
    assert b"secret-address" not in everything


def test_a_gateway_inside_the_network_other_than_the_configured_one_is_refused() -> None:
    """The gateway channel allows its own (configured) host, nothing else inside."""
    channel = GatewayChannel("http://127.0.0.1:9/send", GATEWAY_SECRET)
    assert "127.0.0.1" in channel.allowed
    assert NotifierConfig().lead == timedelta(hours=24)


def test_migrating_the_store_carries_contacts_and_the_position(
    council: Council, tmp_path: Path
) -> None:
    """``govflow migrate`` copies the contacts (sealed as they are) and where the notifier was."""
    contacts(council, m1="m1@hehua.example")
    target = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "t.db")}
    )
    report = migrate(council.app, target)
    assert report.contacts == 1
    assert target.get_contact(COUNCIL, "m1").email == "m1@hehua.example"
    assert target.notification_store.position() == council.app.notification_store.position()
    target.close()
