"""Webhooks cannot reach inside, leak their secret or the feed, or let one receiver hold up
another (issue 10), against real local receivers and real SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient

from govflow.application import Governance, webhook_delivery
from govflow.application.webhook_store import DeliveryState
from govflow.application.webhooks import http_sender, verify_signature
from govflow.domain.access import HolderKind, Scope
from govflow.domain.errors import AlreadyExistsError, GovflowError
from govflow.domain.webhook import TargetRefusedError, subscription_id
from govflow.entrypoints.api import create_api
from tests.application.test_webhooks import FakeClock, Receiver, enroll
from tests.conftest import Store

COUNCIL = "hook"
ALLOW_LOCAL = {"GOVFLOW_WEBHOOK_ALLOW_HOSTS": "127.0.0.1"}
NO_ALLOWANCE = {"GOVFLOW_WEBHOOK_ALLOW_HOSTS": ""}

INSIDE = [
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://[::1]/hook",
    "http://localhost:22/",
    "http://0.0.0.0/hook",
    "http://2130706433/hook",
    "http://0x7f.1/hook",
    "http://017700000001/hook",
    "http://127.1/hook",
    "http://10.0.0.1/hook",
    "http://192.168.1.20:8080/hook",
    "http://172.16.0.1/hook",
    "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud's metadata (shared space)
    "http://192.0.0.192/",  # Oracle Cloud's metadata
    "http://[fd00:ec2::254]/latest/meta-data/",  # AWS's metadata over IPv6 (ULA)
    "http://[fe80::1]/hook",
    "http://[fec0::1]/hook",  # site-local (deprecated, still routed inside by some networks)
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "http://[::ffff:169.254.169.254]/hook",
    "http://[2002:7f00:1::]/hook",  # 6to4 wrapping 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 wrapping 169.254.169.254
    "http://224.0.0.1/hook",  # multicast
    "http://240.0.0.1/hook",  # reserved
    "http://255.255.255.255/hook",
    "https://LOCALHOST./hook",
    "http://api.localhost/hook",
    "http://intranet/hook",  # a single label: whatever the resolver's search list makes of it
]


def _app(env: dict[str, str], clock: FakeClock) -> Governance:
    governance = Governance(env, clock=clock)
    return governance


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _open(store: Store, clock: FakeClock, extra: dict[str, str]) -> Governance:
    app = _app({**store.env, **extra}, clock)
    if not app.list_councils():
        app.register_council(COUNCIL, "钩子社区", actor="clerk")
        app.register_council("other", "别的社区", actor="clerk")
    return app


@pytest.fixture
def strict(sql_store: Store, clock: FakeClock) -> Iterator[Governance]:
    """A server with no host allowed inside (the default)."""
    app = _open(sql_store, clock, NO_ALLOWANCE)
    yield app
    app.close()


@pytest.fixture
def local(sql_store: Store, clock: FakeClock) -> Iterator[Governance]:
    """A server whose operator allowed 127.0.0.1 (where the tests' receivers listen)."""
    app = _open(sql_store, clock, ALLOW_LOCAL)
    yield app
    app.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    if r.server is not None:
        r.stop()


def record_v1_subscription(app: Governance, url: str, secret: str) -> UUID:
    """A subscription as recorded before secrets left the events (version 1, the secret in
    clear), written straight to the store; no cursor is kept for it."""
    sid = subscription_id(COUNCIL, url)
    payload: dict[str, object] = {
        "timestamp": "2026-05-01T00:30:00+00:00",
        "actor": "clerk",
        "step": None,
        "council": COUNCIL,
        "url": url,
        "topics": [],
        "secret": secret,
    }
    app.recorder.insert_events(
        [StoredEvent(sid, 1, "govflow.webhook.subscribed", orjson.dumps(payload))]
    )
    return sid


def head(app: Governance) -> int:
    return app.recorder.max_notification_id() or 0


class Server:
    """A local HTTP server answering with ``handle(handler)``; closed at the end."""

    def __init__(self, handle: Callable[[BaseHTTPRequestHandler], None]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def until(condition: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# -- SSRF: targets inside are refused ---------------------------------------------------------


@pytest.mark.parametrize("url", INSIDE)
def test_targets_inside_are_refused_at_subscribe_and_leave_no_event(
    strict: Governance, url: str
) -> None:
    """Loopback, private, link-local, unspecified, multicast, reserved and metadata targets, in
    any spelling of their address, are refused with webhook.target_refused (422) and nothing
    is recorded."""
    before = head(strict)
    with pytest.raises(GovflowError) as refused:
        strict.subscribe_webhook(COUNCIL, url, actor="clerk", from_start=True)
    assert refused.value.code == "webhook.target_refused" and refused.value.status == 422
    assert head(strict) == before
    assert strict.list_webhooks(COUNCIL) == []


def test_the_api_answers_a_refused_target_with_its_stable_code(
    strict: Governance,
) -> None:
    """Through HTTP: 422 with the code webhook.target_refused, and no subscription."""
    strict.enroll_member(COUNCIL, "k1", "书记员", roles=("clerk",), actor="clerk")
    token = strict.issue_token(COUNCIL, "k1", actor="clerk")
    before = head(strict)
    with TestClient(create_api(strict)) as client:
        answer = client.post(
            f"/v1/councils/{COUNCIL}/webhooks",
            json={"url": "http://169.254.169.254/latest/meta-data/", "from_start": True},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 422 and answer.json()["code"] == "webhook.target_refused"
    assert head(strict) == before


def test_a_named_host_is_allowed_only_by_the_operator_s_setting(
    strict: Governance, local: Governance, receiver: Receiver
) -> None:
    """GOVFLOW_WEBHOOK_ALLOW_HOSTS lets the operator name hosts inside (here 127.0.0.1); the
    allowance is for the names listed, not for other spellings of the same address."""
    local.subscribe_webhook(COUNCIL, receiver.url, actor="clerk")
    with pytest.raises(TargetRefusedError):
        local.subscribe_webhook(COUNCIL, "http://2130706433/hook", actor="clerk")
    with pytest.raises(TargetRefusedError):
        strict.subscribe_webhook(COUNCIL, receiver.url + "?again", actor="clerk")


def test_every_delivery_checks_the_address_again(
    sql_store: Store, clock: FakeClock, receiver: Receiver
) -> None:
    """A subscription accepted once (the name allowed then, or an old store's) is refused at
    delivery when its address is inside now: nothing reaches it, the error says only
    target_refused, and the subscription backs off."""
    allowed = _open(sql_store, clock, ALLOW_LOCAL)
    try:
        hook = allowed.subscribe_webhook(COUNCIL, receiver.url, actor="clerk")
        enroll(allowed, COUNCIL, "m1")
    finally:
        allowed.close()
    now_strict = _open(sql_store, clock, NO_ALLOWANCE)
    try:
        assert now_strict.deliver_webhooks(http_sender(timeout=5)) == 0
        view = now_strict.get_webhook(COUNCIL, hook.subscription.id)
        assert view.last_error == "target_refused" and view.attempts == 1
        assert [f["error"] for f in view.failures] == ["target_refused"]
        assert view.next_attempt_at is not None
    finally:
        now_strict.close()
    assert receiver.received == []


def test_a_name_that_resolves_to_nothing_yet_is_checked_when_delivering(
    strict: Governance,
) -> None:
    """A public-looking name that does not resolve now is accepted (it reaches nothing); its
    deliveries fail until it resolves, and are checked then like any other. The failure reads
    target_refused, the word a refused address gets: probing cannot tell the two apart."""
    hook = strict.subscribe_webhook(COUNCIL, "https://hooks.example/in", actor="clerk")
    enroll(strict, COUNCIL, "m1")
    assert strict.deliver_webhooks(http_sender(timeout=5)) == 0
    view = strict.get_webhook(COUNCIL, hook.subscription.id)
    assert view.last_error == "target_refused"
    assert [f["error"] for f in view.failures] == ["target_refused"]


def test_an_unresolvable_name_and_a_refused_address_fail_alike_at_delivery(
    sql_store: Store, clock: FakeClock, receiver: Receiver
) -> None:
    """Once accepted, a target that resolves to nothing and one that resolves inside leave the
    same trace: target_refused, with the same back-off."""
    allowed = _open(sql_store, clock, {"GOVFLOW_WEBHOOK_ALLOW_HOSTS": "127.0.0.1"})
    try:
        inside = allowed.subscribe_webhook(COUNCIL, receiver.url, actor="clerk").subscription
        nowhere = allowed.subscribe_webhook(
            COUNCIL, "https://nowhere.example/in", actor="clerk"
        ).subscription
    finally:
        allowed.close()
    app = _open(sql_store, clock, NO_ALLOWANCE)
    try:
        enroll(app, COUNCIL, "m1")
        assert app.deliver_webhooks(http_sender(timeout=5)) == 0
        views = [app.get_webhook(COUNCIL, s.id) for s in (inside, nowhere)]
        traces = [
            (v.last_error, v.attempts, v.next_attempt_at, [f["error"] for f in v.failures])
            for v in views
        ]
        assert traces[0] == traces[1]
        assert traces[0][0] == "target_refused"
    finally:
        app.close()
    assert receiver.received == []


# -- delivery errors say nothing about the inside -----------------------------------------------


def test_delivery_errors_are_a_fixed_vocabulary(local: Governance, clock: FakeClock) -> None:
    """A closed port, a silent one and an error status read refused, timeout and
    http_status:503: never the operating system's words."""
    closed = socket.create_server(("127.0.0.1", 0))
    closed_url = f"http://127.0.0.1:{closed.getsockname()[1]}/hook"
    closed.close()
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"

    def unavailable(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(503)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    failing = Server(unavailable)
    try:
        hooks = {
            url: local.subscribe_webhook(COUNCIL, url, actor="clerk").subscription.id
            for url in (closed_url, silent_url, failing.url)
        }
        enroll(local, COUNCIL, "m1")
        assert local.deliver_webhooks(http_sender(timeout=1)) == 0
    finally:
        silent.close()
        failing.close()
    errors = {url: local.get_webhook(COUNCIL, sid) for url, sid in hooks.items()}
    assert errors[closed_url].last_error == "refused"
    assert errors[silent_url].last_error == "timeout"
    assert errors[failing.url].last_error == "http_status:503"
    for view in errors.values():
        assert [f["error"] for f in view.failures] == [view.last_error]


def test_redirects_are_not_followed(local: Governance, receiver: Receiver) -> None:
    """A receiver answering 302 towards another address is a failure, not a second request."""

    def moved(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", receiver.url)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    mover = Server(moved)
    try:
        hook = local.subscribe_webhook(COUNCIL, mover.url, actor="clerk")
        enroll(local, COUNCIL, "m1")
        assert local.deliver_webhooks(http_sender(timeout=5)) == 0
    finally:
        mover.close()
    assert receiver.received == []
    assert local.get_webhook(COUNCIL, hook.subscription.id).last_error == "http_status:302"


# -- the signing secret is never in an event ----------------------------------------------------


def _payloads(app: Governance) -> list[bytes]:
    return [app.payload(n.state, n.topic) for n in app.recorder.select_notifications(1, 100_000)]


def test_the_signing_secret_is_in_no_event_and_still_signs(
    sql_store: Store, clock: FakeClock, receiver: Receiver
) -> None:
    """The subscription's event keeps a fingerprint of the secret, never the secret; a
    restarted server still signs with it."""
    app = _open(sql_store, clock, ALLOW_LOCAL)
    try:
        new = app.subscribe_webhook(COUNCIL, receiver.url, actor="clerk")
        secret = new.secret
        assert all(secret.encode() not in payload for payload in _payloads(app))
        subscribed = next(
            orjson.loads(p) for p in _payloads(app) if b'"url":"' + receiver.url.encode() in p
        )
        assert "secret" not in subscribed
        assert subscribed["secret_fingerprint"] == hashlib.sha256(secret.encode()).hexdigest()[:16]
    finally:
        app.close()
    again = _open(sql_store, clock, ALLOW_LOCAL)
    try:
        enroll(again, COUNCIL, "m1")
        assert again.deliver_webhooks(http_sender(timeout=5)) == 1
    finally:
        again.close()
    headers, body = receiver.received[0]
    stamp = int(headers["Govflow-Signature"].split(",")[0].split("=")[1])
    assert verify_signature(secret, body, headers["Govflow-Signature"], now=stamp)


def test_with_a_cipher_key_the_secret_is_nowhere_in_clear(
    tmp_path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    """With GOVFLOW_CIPHER_KEY set, the database file holds the secret nowhere in clear."""
    from pydantic import SecretStr

    from govflow.bootstrap import cipher_env
    from tests.conftest import TEST_CIPHER_KEY

    path = tmp_path / "events.db"
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        **cipher_env(SecretStr(TEST_CIPHER_KEY)),
    }
    app = _open(Store("sqlite", env, path=path), clock, ALLOW_LOCAL)
    try:
        secret = app.subscribe_webhook(COUNCIL, receiver.url, actor="clerk").secret
        enroll(app, COUNCIL, "m1")
        assert app.deliver_webhooks(http_sender(timeout=5)) == 1
    finally:
        app.close()
    assert secret.encode() not in path.read_bytes()
    headers, body = receiver.received[0]
    stamp = int(headers["Govflow-Signature"].split(",")[0].split("=")[1])
    assert verify_signature(secret, body, headers["Govflow-Signature"], now=stamp)


def test_an_old_store_with_the_secret_in_its_event_still_delivers(
    local: Governance, receiver: Receiver
) -> None:
    """A subscription recorded before secrets left the events (version 1, the secret in
    clear) still decodes, shows no secret, and signs with its secret."""
    legacy = "whsec_" + "legacy-secret-0123456789abcdef"
    sid = record_v1_subscription(local, receiver.url, legacy)
    local.webhook_store.save(DeliveryState(str(sid), position=head(local)))
    assert "secret" not in json.dumps(local.get_webhook(COUNCIL, sid).model_dump(mode="json"))
    enroll(local, COUNCIL, "m1")
    assert local.deliver_webhooks(http_sender(timeout=5)) == 1
    headers, body = receiver.received[0]
    t, v1 = (part.split("=", 1)[1] for part in headers["Govflow-Signature"].split(","))
    expected = hmac.new(legacy.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(v1, expected)


# -- who may subscribe --------------------------------------------------------------------------


def test_an_integration_that_may_not_read_cannot_subscribe(
    local: Governance, receiver: Receiver
) -> None:
    """webhooks:manage alone does not get the feed through a subscription (from the start or
    not): subscribing needs the read scope too; nothing is recorded for the refusal."""
    manage_only = local.issue_token(
        COUNCIL, "bridge", kind=HolderKind.INTEGRATION, scopes=(Scope.WEBHOOKS,), actor="clerk"
    )
    both = local.issue_token(
        COUNCIL,
        "relay",
        kind=HolderKind.INTEGRATION,
        scopes=(Scope.WEBHOOKS, Scope.READ),
        actor="clerk",
    )
    url = f"/v1/councils/{COUNCIL}/webhooks"
    with TestClient(create_api(local)) as client:
        before = head(local)
        for from_start in (True, False):
            refused = client.post(
                url,
                json={"url": receiver.url, "from_start": from_start},
                headers={"Authorization": f"Bearer {manage_only}"},
            )
            assert refused.status_code == 403 and refused.json()["code"] == "auth.forbidden"
        assert head(local) == before and local.list_webhooks(COUNCIL) == []
        # listing and removing stay open to webhooks:manage alone
        listed = client.get(url, headers={"Authorization": f"Bearer {manage_only}"})
        assert listed.status_code == 200
        accepted = client.post(
            url,
            json={"url": receiver.url, "from_start": True},
            headers={"Authorization": f"Bearer {both}"},
        )
        assert accepted.status_code == 201


# -- one receiver cannot hold up another --------------------------------------------------------


def test_a_slow_receiver_does_not_hold_another_council_s_deliveries(
    local: Governance, receiver: Receiver
) -> None:
    """While one council's receiver takes its time, another council's events are delivered."""
    entered, release = threading.Event(), threading.Event()

    def slow(handler: BaseHTTPRequestHandler) -> None:
        entered.set()
        release.wait(90)
        handler.send_response(204)
        handler.end_headers()

    slowpoke = Server(slow)
    slow_hook = local.subscribe_webhook(COUNCIL, slowpoke.url, actor="clerk")
    fast_hook = local.subscribe_webhook("other", receiver.url, actor="clerk")
    enroll(local, COUNCIL, "a")
    enroll(local, "other", "b")
    delivering = threading.Thread(
        target=local.deliver_webhooks, args=(http_sender(timeout=120),), daemon=True
    )
    delivering.start()
    try:
        assert entered.wait(30)
        fast_id = fast_hook.subscription.id
        assert until(lambda: local.get_webhook("other", fast_id).delivered == 1, seconds=30)
        assert len(receiver.received) == 1
        pending = local.get_webhook(COUNCIL, slow_hook.subscription.id)
        assert pending.delivered == 0 and pending.attempts == 0  # still in flight
    finally:
        release.set()
        delivering.join(60)
        slowpoke.close()
    assert local.get_webhook(COUNCIL, slow_hook.subscription.id).delivered == 1


def test_a_receiver_that_drips_its_answer_is_cut_at_its_budget(local: Governance) -> None:
    """An answer trickling in a byte at a time does not hold a delivery past its budget: the
    attempt ends as a timeout and backs off."""
    stop = threading.Event()

    def drip(handler: BaseHTTPRequestHandler) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 200:
            if stop.wait(0.2):
                return
            try:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
            except OSError:
                return

    dripping = Server(drip)
    try:
        hook = local.subscribe_webhook(COUNCIL, dripping.url, actor="clerk")
        enroll(local, COUNCIL, "a")
        assert local.deliver_webhooks(http_sender(timeout=1)) == 0
        view = local.get_webhook(COUNCIL, hook.subscription.id)
        assert view.last_error == "timeout" and view.next_attempt_at is not None
    finally:
        stop.set()
        dripping.close()


# -- an idle dispatcher is idle -----------------------------------------------------------------


def test_cursors_move_past_records_they_do_not_deliver(
    local: Governance, receiver: Receiver
) -> None:
    """Unpublished records (tokens), other topics and other councils' events move every
    subscription's cursor to the head of the log, so the next pass has nothing to look at."""
    everything = local.subscribe_webhook(COUNCIL, receiver.url, actor="clerk")
    members = local.subscribe_webhook(
        COUNCIL, receiver.url + "?m", ("govflow.council.member_enrolled",), actor="clerk"
    )
    threshold = local.subscribe_webhook(
        COUNCIL,
        receiver.url + "?t",
        ("govflow.council.spending_threshold_changed",),
        actor="clerk",
        from_start=True,
    )
    enroll(local, COUNCIL, "m1")
    send = http_sender(timeout=5)
    assert local.deliver_webhooks(send) == 2
    for _ in range(30):  # unpublished records: each new token
        local.issue_token(COUNCIL, "m1", actor="clerk")
    enroll(local, "other", "x1", "x2")
    assert local.deliver_webhooks(send) == 0
    end = head(local)
    for hook in (everything, members, threshold):
        assert local.get_webhook(COUNCIL, hook.subscription.id).position == end
    assert local.deliver_webhooks(send) == 0
    assert len(receiver.received) == 2


# -- a new subscription starts where it says ---------------------------------------------------


def test_a_pass_right_after_the_subscription_is_recorded_sends_no_history(
    local: Governance, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delivery pass that runs between any two steps of subscribing (saving the event,
    keeping the secret, keeping the cursor) sends nothing and records no failure: a "from now
    on" receiver gets none of the history."""
    enroll(local, COUNCIL, "m1", "m2")
    save_new, keep_secret = local._save_new, local.webhook_store.keep_secret
    passes: list[int] = []

    def save_then_deliver(*aggregates: Any, what: str) -> int:
        position = save_new(*aggregates, what=what)
        if what.startswith("a subscription"):
            passes.append(local.deliver_webhooks(http_sender(timeout=5)))
        return position

    def keep_then_deliver(subscription_id: str, sealed: str) -> None:
        keep_secret(subscription_id, sealed)
        passes.append(local.deliver_webhooks(http_sender(timeout=5)))

    monkeypatch.setattr(local, "_save_new", save_then_deliver)
    monkeypatch.setattr(local.webhook_store, "keep_secret", keep_then_deliver)
    hook = local.subscribe_webhook(COUNCIL, receiver.url, actor="clerk")
    monkeypatch.undo()
    assert passes == [0, 0] and receiver.received == []
    assert local.get_webhook(COUNCIL, hook.subscription.id).failures == []
    enroll(local, COUNCIL, "m3")
    assert local.deliver_webhooks(http_sender(timeout=5)) == 1
    assert len(receiver.received) == 1
    assert local.get_webhook(COUNCIL, hook.subscription.id).last_error is None


def test_a_secret_that_cannot_be_kept_leaves_no_subscription(
    local: Governance, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If keeping the secret fails, nothing is recorded: no subscription without a secret."""

    def broken(subscription_id: str, sealed: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(local.webhook_store, "keep_secret", broken)
    before = head(local)
    with pytest.raises(OSError):
        local.subscribe_webhook(COUNCIL, receiver.url, actor="clerk")
    assert head(local) == before and local.list_webhooks(COUNCIL) == []
    monkeypatch.undo()
    local.subscribe_webhook(COUNCIL, receiver.url, actor="clerk")  # the same URL, later


def test_subscribing_again_does_not_replace_the_kept_secret(
    local: Governance, receiver: Receiver
) -> None:
    """A second subscription of the same URL is refused before it touches the first one's
    secret or cursor."""
    first = local.subscribe_webhook(COUNCIL, receiver.url, actor="clerk")
    enroll(local, COUNCIL, "m1")
    with pytest.raises(AlreadyExistsError):
        local.subscribe_webhook(COUNCIL, receiver.url, actor="clerk", from_start=True)
    assert local.deliver_webhooks(http_sender(timeout=5)) == 1
    headers, body = receiver.received[0]
    stamp = int(headers["Govflow-Signature"].split(",")[0].split("=")[1])
    assert verify_signature(first.secret, body, headers["Govflow-Signature"], now=stamp)


def test_a_subscription_without_a_kept_cursor_is_not_delivered(
    local: Governance, receiver: Receiver
) -> None:
    """A subscription whose cursor was never kept (its event saved, the server stopped before
    the cursor) is not ready: a pass skips it instead of starting at the log's beginning."""
    record_v1_subscription(local, receiver.url, "whsec_" + "no-cursor-0123456789abcdef")
    enroll(local, COUNCIL, "m1")
    assert local.deliver_webhooks(http_sender(timeout=5)) == 0
    assert receiver.received == []


# -- a subscription lasts as long as its subscriber's access -----------------------------------


def _subscribe_through_api(app: Governance, token: str, url: str) -> str:
    with TestClient(create_api(app)) as client:
        answer = client.post(
            f"/v1/councils/{COUNCIL}/webhooks",
            json={"url": url},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["subscription"]["id"])


def test_an_integration_s_subscription_stops_when_its_token_is_revoked(
    local: Governance, receiver: Receiver
) -> None:
    """The integration that subscribed loses its token: the next delivery sends nothing and the
    subscription says subscriber_revoked; a clerk's and an old subscription go on."""
    token = local.issue_token(
        COUNCIL,
        "relay",
        kind=HolderKind.INTEGRATION,
        scopes=(Scope.WEBHOOKS, Scope.READ),
        actor="clerk",
    )
    sid = _subscribe_through_api(local, token, receiver.url)
    kept = local.subscribe_webhook(COUNCIL, receiver.url + "?old", actor="clerk")
    enroll(local, COUNCIL, "m1")
    assert local.deliver_webhooks(http_sender(timeout=5)) == 2
    local.revoke_token(token.split("_")[1], "the integration was retired", actor="clerk")
    enroll(local, COUNCIL, "m2")
    assert local.deliver_webhooks(http_sender(timeout=5)) == 1  # the old subscription only
    subscriptions = [h["Govflow-Subscription"] for h, _ in receiver.received]
    assert subscriptions.count(sid) == 1
    assert subscriptions.count(str(kept.subscription.id)) == 2
    view = local.get_webhook(COUNCIL, UUID(sid))
    assert view.last_error == "subscriber_revoked" and view.delivered == 1
    assert [f["error"] for f in view.failures] == ["subscriber_revoked"]


def test_a_clerk_s_subscription_follows_the_clerk_s_enrolment(
    local: Governance, receiver: Receiver
) -> None:
    """A subscription a clerk made through the API stops when that clerk leaves the council
    (and stays stopped when the member id is enrolled again for someone else)."""
    local.enroll_member(COUNCIL, "k1", "书记员", roles=("clerk",), actor="clerk")
    token = local.issue_token(COUNCIL, "k1", actor="clerk")
    sid = UUID(_subscribe_through_api(local, token, receiver.url))
    enroll(local, COUNCIL, "m1")
    assert local.deliver_webhooks(http_sender(timeout=5)) == 1
    local.remove_member(COUNCIL, "k1", actor="clerk")
    enroll(local, COUNCIL, "m2")
    assert local.deliver_webhooks(http_sender(timeout=5)) == 0
    assert local.get_webhook(COUNCIL, sid).last_error == "subscriber_revoked"
    local.enroll_member(COUNCIL, "k1", "另一位书记员", roles=("clerk",), actor="clerk")
    clock_now = local.clock()
    assert local.webhook_store.state(str(sid)).next_attempt_at is not None
    local.webhook_store.save(
        replace(local.webhook_store.state(str(sid)), next_attempt_at=clock_now)
    )
    assert local.deliver_webhooks(http_sender(timeout=5)) == 0
    assert len(receiver.received) == 1
    assert local.get_webhook(COUNCIL, sid).last_error == "subscriber_revoked"


# -- one council cannot take every delivery thread --------------------------------------------


def test_a_council_s_slow_subscriptions_leave_threads_for_other_councils(
    local: Governance, receiver: Receiver
) -> None:
    """More slow-but-successful subscriptions of one council than there are delivery threads,
    all from the start of the log: another council's subscription is still delivered while
    they all have events pending."""
    release = threading.Event()

    def slow(handler: BaseHTTPRequestHandler) -> None:
        release.wait(90)
        handler.send_response(200)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    slowpoke = Server(slow)
    enroll(local, COUNCIL, "m1", "m2")
    slow_ids = [
        local.subscribe_webhook(
            COUNCIL, f"{slowpoke.url}?{i}", actor="clerk", from_start=True
        ).subscription.id
        for i in range(webhook_delivery.DELIVERY_THREADS + 1)
    ]
    other = local.subscribe_webhook("other", receiver.url, actor="clerk")
    enroll(local, "other", "x1")
    delivering = threading.Thread(
        target=local.deliver_webhooks, args=(http_sender(timeout=120),), daemon=True
    )
    delivering.start()
    try:
        assert until(lambda: len(receiver.received) == 1, seconds=30)
        # the delivery is recorded after the receiver answered: wait for it too
        assert until(
            lambda: local.get_webhook("other", other.subscription.id).delivered == 1, seconds=30
        )
        assert all(local.get_webhook(COUNCIL, s).delivered == 0 for s in slow_ids)
    finally:
        release.set()
        delivering.join(120)
        slowpoke.close()
    delivered = {local.get_webhook(COUNCIL, s).delivered for s in slow_ids}
    assert len(delivered) == 1 and delivered.pop() >= 3  # all of them, everything


def test_a_long_backlog_takes_turns_with_the_council_s_other_subscriptions(
    local: Governance, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Subscriptions with long backlogs to slow receivers deliver a bounded turn at a time:
    a subscription of the same council that is behind by one event gets it while every one of
    them still has events pending (round-robin), not after one of them has caught up."""
    monkeypatch.setattr(webhook_delivery, "TURN_EVENTS", 3, raising=False)
    counts: dict[str, int] = {}
    seen_when_fresh_delivered: list[dict[str, int]] = []
    lock = threading.Lock()

    def slow(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(0.01)
        with lock:
            sid = handler.headers["Govflow-Subscription"]
            counts[sid] = counts.get(sid, 0) + 1
        handler.send_response(200)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def fresh(handler: BaseHTTPRequestHandler) -> None:
        with lock:
            seen_when_fresh_delivered.append(dict(counts))
        handler.send_response(200)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    slowpoke, quick = Server(slow), Server(fresh)
    try:
        enroll(local, COUNCIL, *(f"m{i}" for i in range(24)))
        backlog = [
            local.subscribe_webhook(
                COUNCIL, f"{slowpoke.url}?{i}", actor="clerk", from_start=True
            ).subscription.id
            for i in range(webhook_delivery.DELIVERY_THREADS)
        ]
        local.subscribe_webhook(COUNCIL, quick.url, actor="clerk")
        enroll(local, COUNCIL, "late")
        local.deliver_webhooks(http_sender(timeout=30))
    finally:
        slowpoke.close()
        quick.close()
    total = local.get_webhook(COUNCIL, backlog[0]).delivered
    assert total >= 25
    assert len(seen_when_fresh_delivered) == 1
    seen = seen_when_fresh_delivered[0]
    assert all(seen.get(str(s), 0) < total for s in backlog), seen
    assert all(local.get_webhook(COUNCIL, s).delivered == total for s in backlog)
