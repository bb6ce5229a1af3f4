"""Reserving Idempotency-Keys beside the events, on every persistence: one holder per key,
answers kept for retries, failed and abandoned reservations freed."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr

from govflow.application import Governance
from govflow.application.idempotency import STALE_AFTER, Replay, Reservation
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
    """A reservation never answered for a minute is taken over; the holder that lost it can
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


def test_an_answered_key_never_goes_stale(app: Governance) -> None:
    """An answer is kept: a retry long after still gets it instead of acting."""
    t = 1_800_000_000.0
    held = app.reserve_request(CALLER, "k4", REQUEST, now=t)
    assert isinstance(held, Reservation)
    app.keep_answer(held, 200, ANSWER)
    assert app.reserve_request(CALLER, "k4", REQUEST, now=t + 86_400) == Replay(200, ANSWER)


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
