"""Webhook delivery from several processes at once: each subscription leased to one holder at a
time (SQLite and PostgreSQL), every event delivered once and in order per subscription, and a
dead holder's subscriptions taken over from the saved cursor once its lease expires."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import pytest

from govflow.application import Governance, webhook_delivery
from govflow.application.webhook_store import (
    DeliveryState,
    InMemoryWebhookStore,
    Lease,
    LeaseLostError,
    WebhookStore,
)
from govflow.application.webhooks import Sender, Target, http_sender
from tests.application.test_webhooks import Receiver, enroll
from tests.conftest import POSTGRES, Store, _store

COUNCIL = "hook"
ENROLLED = "govflow.council.member_enrolled"
WAIT = 60.0  # seconds to wait for a condition before failing: generous, the machines are shared


def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {WAIT:.0f} s: {what}")
        time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    if r.server is not None:
        r.stop()


def dispatcher(store: Store, lease_seconds: float) -> Governance:
    """One delivering process: its own Governance, so its own lease holder."""
    env = {
        **store.env,
        "GOVFLOW_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",  # the receiver listens there
        "GOVFLOW_WEBHOOK_LEASE_SECONDS": str(lease_seconds),
    }
    return Governance(env)


@dataclass
class Watch:
    """Senders that record who posted what, and any two posts for one subscription at once."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    busy: Counter[str] = field(default_factory=Counter)
    overlaps: list[str] = field(default_factory=list)
    posted: Counter[str] = field(default_factory=Counter)  # by dispatcher

    def sender(
        self, name: str, before: Callable[[dict[str, str]], None] = lambda headers: None
    ) -> Sender:
        """Posts for dispatcher ``name``, calling ``before`` first (a post that raises there never
        reached the receiver, so it is not counted as one)."""
        send = http_sender()

        def post(target: Target, body: bytes, headers: dict[str, str]) -> int:
            before(headers)
            subscription = headers["Govflow-Subscription"]
            with self.lock:
                self.busy[subscription] += 1
                if self.busy[subscription] > 1:
                    self.overlaps.append(subscription)
            try:
                status = send(target, body, headers)
                with self.lock:
                    self.posted[name] += 1
                return status
            finally:
                with self.lock:
                    self.busy[subscription] -= 1

        return post


def received_by_subscription(receiver: Receiver) -> dict[str, list[int]]:
    got: dict[str, list[int]] = {}
    for headers, body in list(receiver.received):
        got.setdefault(headers["Govflow-Subscription"], []).append(json.loads(body)["id"])
    return got


def subscribe(app: Governance, receiver: Receiver, count: int) -> list[str]:
    app.register_council(COUNCIL, "钩子社区", actor="clerk")
    return [
        str(
            app.subscribe_webhook(
                COUNCIL, f"{receiver.url}?n={n}", (ENROLLED,), actor="clerk"
            ).subscription.id
        )
        for n in range(count)
    ]


def enrolled_ids(app: Governance) -> list[int]:
    return [e.id for e in app.read_feed(0, 1000, (ENROLLED,))]


class Passes:
    """A dispatcher's delivery passes, one after another on a thread, until stopped."""

    def __init__(self, app: Governance, send: Sender) -> None:
        self.stop = threading.Event()
        self.errors: list[BaseException] = []

        def run() -> None:
            while not self.stop.is_set():
                try:
                    app.deliver_webhooks(send, wait_at_most=0.2)
                except BaseException as error:  # reported by the test
                    self.errors.append(error)
                    return
                time.sleep(0.02)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def end(self) -> None:
        self.stop.set()
        self.thread.join(WAIT)


# -- the leases themselves ------------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite", POSTGRES])
def webhook_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[WebhookStore]:
    """The in-memory store, and the SQL store on SQLite and PostgreSQL."""
    if request.param == "memory":
        yield InMemoryWebhookStore()
        return
    app = Governance(_store(request.param, request, tmp_path).env)
    yield app.webhook_store
    app.close()


def test_a_subscription_is_leased_to_one_holder_until_released_or_expired(
    webhook_store: WebhookStore,
) -> None:
    """A holder takes what nobody holds, renews its own, never takes another's unexpired lease;
    a released or expired lease goes to the next holder who asks."""
    a, b = Lease("a", 600), Lease("b", 600)
    assert webhook_store.take_leases(["s1", "s2"], a) == {"s1", "s2"}
    assert webhook_store.take_leases(["s1", "s2", "s3"], b) == {"s3"}
    assert webhook_store.take_leases(["s1"], a) == {"s1"}  # renewed
    assert webhook_store.renew_lease("s1", a) and not webhook_store.renew_lease("s1", b)
    webhook_store.release_lease("s1", "b")  # not b's: nothing happens
    assert webhook_store.take_leases(["s1"], b) == set()
    webhook_store.release_lease("s1", "a")
    assert webhook_store.take_leases(["s1", "s2"], b) == {"s1"}
    short = Lease("c", 0.2)
    assert webhook_store.take_leases(["s4"], short) == {"s4"}
    eventually(lambda: webhook_store.take_leases(["s4"], b) == {"s4"}, "the lease expired")
    assert not webhook_store.renew_lease("s4", short)


def test_a_holder_takes_no_more_than_it_asks_for(webhook_store: WebhookStore) -> None:
    """With a limit, a holder takes at most that many, and the rest stay for other holders."""
    a, b = Lease("a", 600), Lease("b", 600)
    ids = [f"s{n}" for n in range(5)]
    taken = webhook_store.take_leases(ids, a, limit=2)
    assert len(taken) == 2
    assert webhook_store.take_leases(ids, b, limit=10) == set(ids) - taken
    assert webhook_store.take_leases(ids, a, limit=0) == set()


def test_a_holder_whose_lease_was_taken_saves_nothing(webhook_store: WebhookStore) -> None:
    """The cursor moves only under the holder's lease, checked in the same transaction: a holder
    that lost its subscription cannot move the cursor its successor is using."""
    a, b = Lease("a", 0.2), Lease("b", 600)
    webhook_store.save(DeliveryState("s1", position=5))
    assert webhook_store.take_leases(["s1"], a) == {"s1"}
    webhook_store.save(DeliveryState("s1", position=7, delivered=2), a)
    eventually(lambda: webhook_store.take_leases(["s1"], b) == {"s1"}, "the lease expired")
    webhook_store.save(DeliveryState("s1", position=9, delivered=3), b)
    with pytest.raises(LeaseLostError):
        webhook_store.save(DeliveryState("s1", position=8, delivered=3), a)
    assert webhook_store.state("s1").position == 9


# -- two dispatchers on one database, against a real receiver -------------------------------


def test_two_dispatchers_deliver_every_event_once_in_order(
    sql_store: Store, receiver: Receiver
) -> None:
    """Two processes delivering a stream of events to several subscriptions at once: every event
    reaches every subscription once, in log order, and never two posts for one subscription at
    the same time."""
    one, two = dispatcher(sql_store, 30), dispatcher(sql_store, 30)
    watch = Watch()
    try:
        subscriptions = subscribe(one, receiver, 4)
        passes = [Passes(one, watch.sender("one")), Passes(two, watch.sender("two"))]
        for n in range(30):
            enroll(one, COUNCIL, f"m{n}")
        expected = enrolled_ids(one)
        assert len(expected) == 30
        eventually(
            lambda: sum(map(len, received_by_subscription(receiver).values())) >= 4 * 30,
            "every event delivered to every subscription",
        )
        for p in passes:
            p.end()
            assert not p.errors
        got = received_by_subscription(receiver)
        assert sorted(got) == sorted(subscriptions)
        for ids in got.values():
            assert ids == expected  # each once, in order
        assert not watch.overlaps
        assert sum(watch.posted.values()) == 4 * 30
    finally:
        one.close()
        two.close()


def test_a_dead_dispatchers_subscriptions_go_on_from_the_cursor_after_its_lease(
    sql_store: Store, receiver: Receiver
) -> None:
    """A dispatcher that dies mid-way (it hangs in a request, then its connection fails) holds
    its subscriptions until the lease expires; then the other goes on from the saved cursor,
    nothing skipped, nothing twice, and the dead one, waking up, moves no cursor."""
    lease = 3.0  # short, so that the test does not wait long for it to expire
    first, second = dispatcher(sql_store, lease), dispatcher(sql_store, lease)
    watch = Watch()
    hung, wake = threading.Event(), threading.Event()
    posts: list[str] = []

    def die_on_the_fourth(headers: dict[str, str]) -> None:
        if headers["Govflow-Subscription"] != subscriptions[0]:
            return
        posts.append(headers["Govflow-Delivery"])
        if len(posts) == 4:
            hung.set()
            wake.wait(WAIT)
            raise ConnectionError("the process died")  # its post never reached the receiver

    subscriptions: list[str] = []
    try:
        subscriptions += subscribe(first, receiver, 2)
        for n in range(6):
            enroll(first, COUNCIL, f"m{n}")
        expected = enrolled_ids(first)
        dying = threading.Thread(
            target=first.deliver_webhooks,
            args=(watch.sender("first", die_on_the_fourth),),
            daemon=True,
        )
        dying.start()
        assert hung.wait(WAIT)
        # the second dispatcher finds the subscription held, until the lease expires
        passes = Passes(second, watch.sender("second"))
        eventually(
            lambda: all(
                received_by_subscription(receiver).get(s) == expected for s in subscriptions
            ),
            "the second dispatcher delivered everything",
        )
        passes.end()
        assert not passes.errors
        wake.set()
        dying.join(WAIT)
        got = received_by_subscription(receiver)
        assert all(got[s] == expected for s in subscriptions)  # nothing skipped, nothing twice
        assert watch.posted["second"] >= 3  # it took over the dead one's subscription
        for s in subscriptions:
            state = second.webhook_store.state(s)
            assert state.position >= expected[-1] and state.delivered == 6
            assert state.last_error is None  # the dead one's failure was not saved
        assert not watch.overlaps
    finally:
        wake.set()
        first.close()
        second.close()


def test_a_stopping_dispatcher_gives_its_subscriptions_up_at_once(
    sql_store: Store, receiver: Receiver
) -> None:
    """Closing a dispatcher releases its leases (a long one here): another takes its
    subscriptions without waiting for them to expire."""
    first, second = dispatcher(sql_store, 3600), dispatcher(sql_store, 3600)
    in_request, go_on = threading.Event(), threading.Event()

    def hold(headers: dict[str, str]) -> None:
        in_request.set()
        go_on.wait(WAIT)

    try:
        subscriptions = subscribe(first, receiver, 1)
        for n in range(5):
            enroll(first, COUNCIL, f"m{n}")
        expected = enrolled_ids(first)
        first.deliver_webhooks(Watch().sender("first", hold), wait_at_most=0)
        assert in_request.wait(WAIT)
        assert second.deliver_webhooks(http_sender()) == 0  # held by the first
        first.deliveries.close()  # stopping: the request in flight ends, then the lease goes
        go_on.set()
        eventually(
            lambda: (
                second.webhook_store.take_leases(subscriptions, second.webhook_lease)
                == set(subscriptions)
            ),
            "the first dispatcher let go",
        )
        second.webhook_store.release_lease(subscriptions[0], second.webhook_lease.holder)
        assert second.deliver_webhooks(http_sender()) == 4  # from the first's cursor on
        assert received_by_subscription(receiver)[subscriptions[0]] == expected
    finally:
        go_on.set()
        first.close()
        second.close()


def test_a_backlog_is_shared_rather_than_all_leased_to_the_first_dispatcher(
    sql_store: Store, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dispatcher leases at most LEASE_AHEAD subscriptions at once: while it is busy with
    those, another dispatcher delivers the rest."""
    monkeypatch.setattr(webhook_delivery, "LEASE_AHEAD", 2)
    first, second = dispatcher(sql_store, 3600), dispatcher(sql_store, 3600)
    busy, go_on = threading.Event(), threading.Event()

    def hold(headers: dict[str, str]) -> None:
        busy.set()
        go_on.wait(WAIT)

    try:
        subscriptions = subscribe(first, receiver, 4)
        enroll(first, COUNCIL, "m0")
        first.deliver_webhooks(Watch().sender("first", hold), wait_at_most=0)
        assert busy.wait(WAIT)
        assert second.deliver_webhooks(http_sender()) == 2  # the two the first left
        go_on.set()
        eventually(
            lambda: sum(map(len, received_by_subscription(receiver).values())) >= 4,
            "the first dispatcher delivered its two",
        )
        got = received_by_subscription(receiver)
        assert sorted(got) == sorted(subscriptions)
        assert all(len(ids) == 1 for ids in got.values())
    finally:
        go_on.set()
        first.close()
        second.close()


def test_a_delivery_gives_its_lease_up_before_it_ends() -> None:
    """While an ended delivery's lease is released, its subscription still counts as delivered
    here: no new delivery of it starts under the lease being given up (which another process
    could then take while that delivery posts)."""
    deliveries = webhook_delivery.Deliveries(threads=1)
    sid = uuid4()
    seen: list[bool] = []
    future = deliveries.start(
        sid, COUNCIL, lambda: (0, False), lambda: seen.append(sid in deliveries.delivering())
    )
    try:
        assert future is not None and future.result(WAIT) == 0
        assert seen == [True] and sid not in deliveries.delivering()
    finally:
        deliveries.close()
