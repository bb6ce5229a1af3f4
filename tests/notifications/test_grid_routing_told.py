"""Routing an item to a grid's service station tells the station's staff, through the same
notifier and channels as notices and reminders, once per routing."""

from __future__ import annotations

from govflow.application.notification_channels import Channel
from tests.notifications.conftest import CONFIG, COUNCIL, Council, Mailbox


def test_the_station_s_staff_are_told_when_an_item_is_routed_to_them(
    council: Council, mailbox: Mailbox, channels: list[Channel]
) -> None:
    """Each of the station's staff gets one message naming the item and linking to it; a
    member who is not on the station's staff gets none; routing again tells no one twice."""
    app = council.app
    for member in ("m1", "m2", "m3"):
        app.set_contact(
            COUNCIL, member, email=f"{member}@hehua.example", gateway="", follows=False,
            actor=member,
        )  # fmt: skip
    app.add_grid(COUNCIL, "g7", "七号院网格", "七号院党群服务站", ("m1", "m2"), actor="k1")
    app.route_issue(COUNCIL, 1, "g7", actor="k1")
    app.tell_people(channels, CONFIG)
    app.route_issue(COUNCIL, 1, "g7", actor="k1")  # a retry: nothing new to tell
    app.tell_people(channels, CONFIG)
    for member in ("m1", "m2"):
        (message,) = mailbox.to(f"{member}@hehua.example")
        assert message["Subject"] == "【荷花社区】网格待办：第1号议题「加装电梯」"
        text = mailbox.text(message)
        assert "已分派到您所在的网格服务站" in text
        assert "https://govflow.example.org/app/items/1" in text
    assert mailbox.to("m3@hehua.example") == []
    statuses = {d.recipient: d.status for d in app.list_deliveries(COUNCIL, number=1)}
    assert statuses == {"m1": "delivered", "m2": "delivered"}
