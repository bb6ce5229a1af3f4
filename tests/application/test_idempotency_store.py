"""Reserving Idempotency-Keys beside the events, on every persistence: one holder per key,
answers kept for retries, failed and abandoned reservations freed."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr

from govflow.application import Governance
from govflow.application.idempotency import (
    KEEP_ANSWERS,
    PURGE_BATCH,
    STALE_AFTER,
    Replay,
    Reservation,
)
from govflow.bootstrap import cipher_env
from govflow.domain.errors import GovflowError
from tests.conftest import TEST_CIPHER_KEY

CALLER = "east/person/m1/3"
REQUEST = "a" * 64
ANSWER = '{"token": "gf_abc_shown-once"}'


def test_a_key_is_held_answered_and_replayed(app: Governance) -> None:
    """The first request holds the key; a copy meanwhile is told it is in progress; once
    answered, the copy gets the answer; another request under the key is refused."""
    held = app.reserve_request(CALLER, "k1", REQUEST)
    assert isinstance(held, Reservation)
    with pytest.raises(GovflowError) as busy:
        app.reserve_request(CALLER, "k1", REQUEST)
    assert (busy.value.code, busy.value.status) == ("idempotency.in_progress", 409)
    app.keep_answer(held, 201, ANSWER)
    assert app.reserve_request(CALLER, "k1", REQUEST) == Replay(201, ANSWER)
    with pytest.raises(GovflowError) as other:
        app.reserve_request(CALLER, "k1", "b" * 64)
    assert (other.value.code, other.value.status) == ("input.invalid", 422)
    assert isinstance(app.reserve_request("east/person/m2/4", "k1", REQUEST), Reservation)


def test_a_released_key_can_be_held_again(app: Governance) -> None:
    """A request that failed releases its key: the retry holds it and acts."""
    held = app.reserve_request(CALLER, "k2", REQUEST)
    assert isinstance(held, Reservation)
    app.release_request(held)
    again = app.reserve_request(CALLER, "k2", REQUEST)
    assert isinstance(again, Reservation) and again != held


def test_an_abandoned_reservation_goes_stale(app: Governance) -> None:
    """A reservation never answered for ``STALE_AFTER`` is taken over; the holder that lost it can
    then neither answer nor release the key."""
    t = 1_800_000_000.0
    lost = app.reserve_request(CALLER, "k3", REQUEST, now=t)
    with pytest.raises(GovflowError):
        app.reserve_request(CALLER, "k3", REQUEST, now=t + STALE_AFTER - 1)
    taker = app.reserve_request(CALLER, "k3", REQUEST, now=t + STALE_AFTER + 1)
    assert isinstance(lost, Reservation) and isinstance(taker, Reservation)
    app.keep_answer(lost, 201, '{"lost": true}')
    app.release_request(lost)
    with pytest.raises(GovflowError):
        app.reserve_request(CALLER, "k3", REQUEST, now=t + STALE_AFTER + 2)
    app.keep_answer(taker, 201, ANSWER)
    assert app.reserve_request(CALLER, "k3", REQUEST, now=t + 10 * STALE_AFTER) == Replay(
        201, ANSWER
    )


def test_an_answered_key_does_not_go_stale_but_expires(app: Governance) -> None:
    """An answer is kept for a day (not taken over like an abandoned reservation): a retry
    within it gets the answer instead of acting; after it, the key is free again."""
    assert KEEP_ANSWERS >= 24 * 3600 > 10 * STALE_AFTER
    t = 1_800_000_000.0
    held = app.reserve_request(CALLER, "k4", REQUEST, now=t)
    assert isinstance(held, Reservation)
    app.keep_answer(held, 200, ANSWER)
    later = t + KEEP_ANSWERS - 1
    assert app.reserve_request(CALLER, "k4", REQUEST, now=later) == Replay(200, ANSWER)
    expired = app.reserve_request(CALLER, "k4", "b" * 64, now=t + KEEP_ANSWERS + 1)
    assert isinstance(expired, Reservation)  # not replayed, not even checked against


def test_old_rows_are_deleted_a_few_at_a_time(app: Governance) -> None:
    """Each reservation deletes at most ``PURGE_BATCH`` rows older than ``KEEP_ANSWERS``
    (answered or abandoned), the oldest first; younger answers stay."""
    t = 1_800_000_000.0
    app.reserve_request(CALLER, "abandoned", REQUEST, now=t - 1)  # the oldest goes first
    for n in range(PURGE_BATCH + 1):
        held = app.reserve_request(CALLER, f"old-{n}", REQUEST, now=t)
        assert isinstance(held, Reservation)
        app.keep_answer(held, 201, ANSWER)
    young = app.reserve_request(CALLER, "young", REQUEST, now=t + 1)
    assert isinstance(young, Reservation)
    app.keep_answer(young, 201, ANSWER)
    now = t + KEEP_ANSWERS + 0.5
    assert isinstance(app.reserve_request(CALLER, "new-1", REQUEST, now=now), Reservation)
    assert len(app.idempotency_store.answered()) == 3  # two old left, and the young one
    assert isinstance(app.reserve_request(CALLER, "new-2", REQUEST, now=now), Reservation)
    assert [k for _, k, _ in app.idempotency_store.answered()] == ["young"]


def test_an_unknown_outcome_holds_the_key_until_it_goes_stale(app: Governance) -> None:
    """A request that failed after it may have acted (a 5xx, a timeout) keeps its key: a
    copy is told ``idempotency.outcome_unknown`` instead of acting again, until the
    reservation goes stale (a quarter of an hour: longer than any request runs)."""
    assert STALE_AFTER >= 15 * 60
    t = 1_800_000_000.0
    held = app.reserve_request(CALLER, "k8", REQUEST, now=t)
    assert isinstance(held, Reservation)
    app.outcome_unknown(held)
    for at in (t + 1, t + STALE_AFTER - 1):
        with pytest.raises(GovflowError) as unknown:
            app.reserve_request(CALLER, "k8", REQUEST, now=at)
        assert (unknown.value.code, unknown.value.status) == ("idempotency.outcome_unknown", 409)
        assert "status" in unknown.value.message
    assert app.idempotency_store.answered() == []  # not an answer: migrate leaves it
    again = app.reserve_request(CALLER, "k8", REQUEST, now=t + STALE_AFTER + 1)
    assert isinstance(again, Reservation)


def test_of_concurrent_copies_exactly_one_holds_the_key(app: Governance) -> None:
    """Eight threads reserving the same key at once: one holds it, seven are told it is in
    progress."""
    start = threading.Barrier(8)
    held: list[Reservation] = []
    busy: list[str] = []

    def reserve() -> None:
        start.wait()
        try:
            outcome = app.reserve_request(CALLER, "k5", REQUEST)
        except GovflowError as error:
            busy.append(error.code)
        else:
            assert isinstance(outcome, Reservation)
            held.append(outcome)

    threads = [threading.Thread(target=reserve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(held) == 1 and busy == ["idempotency.in_progress"] * 7


def test_answers_stay_out_of_the_log(app: Governance) -> None:
    """Keeping an answer records no event."""
    before = app.recorder.max_notification_id()
    held = app.reserve_request(CALLER, "k6", REQUEST)
    assert isinstance(held, Reservation)
    app.keep_answer(held, 201, ANSWER)
    assert app.recorder.max_notification_id() == before


def test_an_invalid_key_is_refused(app: Governance) -> None:
    """The application refuses a key the API would refuse (1 to 255 visible ASCII)."""
    for key in ("", "k" * 256, "a b", "ключ"):
        with pytest.raises(GovflowError) as refused:
            app.reserve_request(CALLER, key, REQUEST)
        assert refused.value.code == "idempotency.key_invalid"


def test_answers_are_encrypted_like_the_events(tmp_path: Path) -> None:
    """With a cipher, a kept answer (which may carry a secret shown once) is not stored in
    clear, and still replays."""
    path = tmp_path / "events.db"
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    app = Governance({**env, **cipher_env(SecretStr(TEST_CIPHER_KEY))})
    held = app.reserve_request(CALLER, "k7", REQUEST)
    assert isinstance(held, Reservation)
    app.keep_answer(held, 201, ANSWER)
    with sqlite3.connect(path) as db:
        (stored,) = db.execute("SELECT body FROM idempotency_keys").fetchone()
    assert "shown-once" not in stored
    assert app.reserve_request(CALLER, "k7", REQUEST) == Replay(201, ANSWER)
    app.close()
