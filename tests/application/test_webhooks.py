"""Webhook delivery against a real local HTTP receiver: signatures, order, retries, back-off,
a receiver down for an hour, and the cursor kept across restarts (SQLite)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from govflow.application import Governance
from govflow.application.webhooks import backoff, http_sender, verify_signature
from govflow.domain.council import Body
from govflow.domain.errors import AlreadyExistsError, InvalidInputError

COUNCIL = "hook"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Receiver:
    """A local HTTP endpoint; ``fail`` answers 503 for the listed delivery ids, once each."""

    port: int = 0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    fail_once: set[str] = field(default_factory=set)
    server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                delivery = self.headers["Govflow-Delivery"]
                if delivery in receiver.fail_once:
                    receiver.fail_once.discard(delivery)
                    self.send_response(503)
                else:
                    receiver.received.append((dict(self.headers), body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def topics(self) -> list[str]:
        return [json.loads(body)["topic"] for _, body in self.received]

    def ids(self) -> list[int]:
        return [json.loads(body)["id"] for _, body in self.received]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(tmp_path: Path, clock: FakeClock) -> Iterator[Governance]:
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(tmp_path / "e.db"),
        "GOVFLOW_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",  # the receivers listen there
    }
    governance = Governance(env, clock=clock)
    governance.register_council(COUNCIL, "钩子社区", actor="clerk")
    governance.register_council("other", "别的社区", actor="clerk")
    yield governance
    governance.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    if r.server is not None:
        r.stop()


def enroll(app: Governance, code: str, *members: str) -> None:
    for member in members:
        app.enroll_member(code, member, member, bodies=(Body.TWO_COMMITTEES,), actor="clerk")


def test_deliveries_are_signed_ordered_and_only_the_councils(
    app: Governance, receiver: Receiver
) -> None:
    new = app.subscribe_webhook(COUNCIL, receiver.url, actor="clerk")
    only_members = app.subscribe_webhook(
        COUNCIL,
        receiver.url + "?only=members",
        ("govflow.council.member_enrolled",),
        actor="clerk",
    )
    enroll(app, COUNCIL, "m1", "m2")
    enroll(app, "other", "x1")  # another council's events are not delivered
    app.change_spending_threshold(COUNCIL, "20000", actor="clerk")
    send = http_sender()
    assert app.deliver_webhooks(send) == 3 + 2
    assert receiver.topics().count("govflow.council.member_enrolled") == 4
    assert "govflow.council.spending_threshold_changed" in receiver.topics()
    assert all(json.loads(b)["council"] == COUNCIL for _, b in receiver.received)
    ids = [int(h["Govflow-Delivery"]) for h, _ in receiver.received]
    assert ids == [json.loads(b)["id"] for _, b in receiver.received]
    by_subscription: dict[str, list[int]] = {}
    for headers, body in receiver.received:
        by_subscription.setdefault(headers["Govflow-Subscription"], []).append(
            json.loads(body)["id"]
        )
        assert headers["Govflow-Event"] == json.loads(body)["topic"]
        # the signature, checked independently of govflow's helper
        t, v1 = (part.split("=", 1)[1] for part in headers["Govflow-Signature"].split(","))
        expected = hmac.new(new.secret.encode(), f"{t}.".encode() + body, hashlib.sha256)
        if headers["Govflow-Subscription"] == str(new.subscription.id):
            assert hmac.compare_digest(v1, expected.hexdigest())
            assert verify_signature(new.secret, body, headers["Govflow-Signature"], now=float(t))
            assert not verify_signature(
                new.secret, body + b" ", headers["Govflow-Signature"], now=float(t)
            )
            assert not verify_signature(
                new.secret, body, headers["Govflow-Signature"], now=float(t) + 3600
            )
    for ids_of_one in by_subscription.values():
        assert ids_of_one == sorted(ids_of_one)  # in log order
    assert len(by_subscription[str(only_members.subscription.id)]) == 2
    assert app.deliver_webhooks(send) == 0  # nothing twice
    view = app.get_webhook(COUNCIL, new.subscription.id)
    assert view.delivered == 3 and view.attempts == 0 and view.last_error is None


def test_a_receiver_down_for_an_hour_gets_everything_afterwards_in_order(
    app: Governance, receiver: Receiver, clock: FakeClock
) -> None:
    hook = app.subscribe_webhook(COUNCIL, receiver.url, actor="clerk")
    sid = hook.subscription.id
    receiver.stop()  # connections are refused from now on
    receiver.server = None
    enroll(app, COUNCIL, *(f"m{i}" for i in range(5)))
    send = http_sender(timeout=2)
    attempts_seen = 0
    for _ in range(120):  # a pass every 30 s for an hour
        app.deliver_webhooks(send)
        clock.advance(seconds=30)
        view = app.get_webhook(COUNCIL, sid)
        attempts_seen = view.attempts
        assert view.delivered == 0
        assert view.next_attempt_at is not None
        assert view.next_attempt_at - clock.now <= timedelta(minutes=5)
    assert 12 <= attempts_seen <= 25  # backed off: not 120 attempts, not stuck
    assert view.last_error == "refused"
    assert view.failures and len(view.failures) <= 20
    listed = app.list_webhooks(COUNCIL)
    assert [w.id for w in listed] == [sid] and listed[0].attempts == attempts_seen

    back = Receiver(port=receiver.port)  # back at the same address
    back.start()
    try:
        clock.advance(minutes=5)
        assert app.deliver_webhooks(send) == 5
        assert back.topics() == ["govflow.council.member_enrolled"] * 5
        assert back.ids() == sorted(back.ids())
        enroll(app, COUNCIL, "late")
        assert app.deliver_webhooks(send) == 1  # no back-off left once it answered
        assert app.get_webhook(COUNCIL, sid).attempts == 0
    finally:
        back.stop()


def test_a_failed_delivery_is_retried_with_the_same_id_and_nothing_overtakes_it(
    app: Governance, receiver: Receiver, clock: FakeClock
) -> None:
    app.subscribe_webhook(COUNCIL, receiver.url, actor="clerk")
    enroll(app, COUNCIL, "a", "b", "c")
    first = app.read_feed(0, 1000)[-3:]
    receiver.fail_once.add(str(first[1].id))
    send = http_sender()
    assert app.deliver_webhooks(send) == 1  # a; b failed, c waits behind it
    assert app.deliver_webhooks(send) == 0  # not due yet: back-off
    clock.advance(seconds=backoff(1).total_seconds())
    assert app.deliver_webhooks(send) == 2
    assert receiver.ids() == [e.id for e in first]


def test_the_cursor_survives_a_restart_and_unsubscribing_stops_deliveries(
    app: Governance, receiver: Receiver, clock: FakeClock, tmp_path: Path
) -> None:
    hook = app.subscribe_webhook(COUNCIL, receiver.url, actor="clerk")
    enroll(app, COUNCIL, "a")
    assert app.deliver_webhooks(http_sender()) == 1
    again = Governance(dict(app.env), clock=clock)
    try:
        enroll(again, COUNCIL, "b")
        assert again.deliver_webhooks(http_sender()) == 1  # only the new one
        again.unsubscribe_webhook(COUNCIL, hook.subscription.id, "done", actor="clerk")
        enroll(again, COUNCIL, "c")
        assert again.deliver_webhooks(http_sender()) == 0
        assert not again.get_webhook(COUNCIL, hook.subscription.id).active
    finally:
        again.close()
    assert len(receiver.received) == 2


def test_bad_subscriptions_are_refused(app: Governance, receiver: Receiver) -> None:
    for url in ("ftp://x/y", "http://", "/relative", "http://u:p@host/x", "http://h/x#frag"):
        with pytest.raises(InvalidInputError):
            app.subscribe_webhook(COUNCIL, url, actor="clerk")
    with pytest.raises(InvalidInputError):
        app.subscribe_webhook(COUNCIL, receiver.url, ("govflow.no.such",), actor="clerk")
    with pytest.raises(InvalidInputError):
        app.subscribe_webhook(COUNCIL, receiver.url, ("govflow.access.token_issued",), actor="c")
    app.subscribe_webhook(COUNCIL, receiver.url, actor="clerk")
    with pytest.raises(AlreadyExistsError):
        app.subscribe_webhook(COUNCIL, receiver.url, actor="clerk")
    # the secret never reaches the feed
    assert all(not e.topic.startswith("govflow.webhook.") for e in app.read_feed(0, 1000))
