"""Webhook leases: each subscription leased to one holder at a time (in memory, SQLite and
PostgreSQL), and a holder whose lease was taken saves nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from govflow.application import Governance
from govflow.application.webhook_store import (
    DeliveryState,
    InMemoryWebhookStore,
    Lease,
    LeaseLostError,
    WebhookStore,
)
from tests.conftest import POSTGRES, _store

WAIT = 60.0  # seconds to wait for a condition before failing: generous, the machines are shared


def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {WAIT:.0f} s: {what}")
        time.sleep(0.05)


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
