"""Delivering webhooks from the notification log, one subscription at a time each.

Each subscription has a cursor in the log. A delivery posts the council's events after the
cursor, in log order, one request per event, and moves the cursor only on a 2xx answer: at
least once, in order, with the notification id as the receiver's idempotency key
(``Govflow-Delivery``). A failure stops that subscription's delivery and schedules the next
attempt with exponential back-off (1 s doubling to at most 5 minutes), so a receiver that was
down for an hour gets everything, in order, within minutes of coming back.

Each subscription is delivered on its own thread, one request at a time with its own time
budget: a slow or silent receiver holds up nobody else's deliveries. The cursor also moves
past every record the subscription does not get (other topics, other councils, unpublished
records), read by topic in the query, so a pass over subscriptions that are caught up reads
nothing from the log.

Every delivery resolves the target again and refuses it if it is inside the server's network
(see :mod:`govflow.application.webhook_http`), unless the operator allowed the host by name
(``GOVFLOW_WEBHOOK_ALLOW_HOSTS``); a name that resolves to nothing fails with the same word,
``target_refused``, so the status does not tell which names exist inside. Secrets are kept
beside the log, sealed with the installation's cipher when one is set, never in an event.

Requests are signed: ``Govflow-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" under the subscription's secret>`` (see :func:`verify_signature`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
from base64 import b64decode, b64encode
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import timedelta
from functools import partial
from uuid import UUID

import orjson

from govflow.application.access import principal_of
from govflow.application.core import GovernanceCore
from govflow.application.listing import ListingCases, is_public_topic
from govflow.application.views import FeedEvent
from govflow.application.webhook_http import (
    CONNECTION_FAILED,
    SECRET_MISSING,
    SUBSCRIBER_REVOKED,
    TARGET_REFUSED,
    UNRESOLVABLE,
    VOCABULARY,
    DeliveryError,
    Sender,
    resolve,
)
from govflow.application.webhook_store import (
    DeliveryState,
    Failure,
    InMemoryWebhookStore,
    WebhookStore,
    postgres_webhook_store,
    sqlite_webhook_store,
)
from govflow.domain.access import AccessToken, HolderKind, Scope, token_uuid
from govflow.domain.base import event_classes
from govflow.domain.errors import ForbiddenError, NotFoundError
from govflow.domain.policy import Action, Principal, authorize
from govflow.domain.webhook import Subscription, TargetRefusedError, fingerprint

logger = logging.getLogger("govflow.webhooks")

BATCH = 100
FIRST_RETRY = timedelta(seconds=1)
LONGEST_RETRY = timedelta(minutes=5)
DELIVERY_THREADS = 8  # subscriptions delivered at once (each holds one database connection)
ALLOW_HOSTS = "GOVFLOW_WEBHOOK_ALLOW_HOSTS"  # host names an operator lets webhooks reach inside
_WEBHOOK_SEALED = "aesgcm:"
_HTTP_STATUS = re.compile(r"http_status:\d{3}")


def backoff(attempts: int) -> timedelta:
    """The wait after ``attempts`` consecutive failures: 1 s, 2 s, 4 s ... at most 5 min."""
    delay: timedelta = min(FIRST_RETRY * 2 ** min(attempts - 1, 20), LONGEST_RETRY)
    return delay


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str, body: bytes, header: str, *, now: float, tolerance: float = 300
) -> bool:
    """For receivers: whether ``header`` signs ``body`` with ``secret``, made recently."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def public_error(error: str | None) -> str | None:
    """A delivery error as it may be shown: a word of the fixed vocabulary or an HTTP status
    (errors stored before there was a vocabulary read ``failed``; ``unresolvable``, stored
    before it was told apart from nothing, reads ``target_refused``)."""
    if error == UNRESOLVABLE:
        return TARGET_REFUSED
    if error is None or error in VOCABULARY or _HTTP_STATUS.fullmatch(error):
        return error
    return "failed"


def published_topics() -> tuple[str, ...]:
    """Every topic a subscription without topics gets."""
    return tuple(t for t in event_classes() if is_public_topic(t))


class Deliveries:
    """The delivery threads: at most one delivery running per subscription."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(DELIVERY_THREADS, thread_name_prefix="govflow-webhook")
        self._lock = threading.Lock()
        self._running: set[UUID] = set()
        self.gone: set[UUID] = set()  # unsubscribed: never delivered again

    def start(self, subscription_id: UUID, deliver: Callable[[], int]) -> Future[int] | None:
        """Start ``deliver`` unless this subscription's last delivery is still running."""
        with self._lock:
            if subscription_id in self._running:
                return None
            self._running.add(subscription_id)
        try:
            future = self.pool.submit(deliver)
        except RuntimeError:  # shut down
            self._finished(subscription_id)
            return None
        future.add_done_callback(lambda done: self._finished(subscription_id, done))
        return future

    def _finished(self, subscription_id: UUID, future: Future[int] | None = None) -> None:
        with self._lock:
            self._running.discard(subscription_id)
        if future is not None and not future.cancelled() and future.exception() is not None:
            logger.error(
                "delivering webhook %s failed", subscription_id, exc_info=future.exception()
            )


class WebhookDelivery(ListingCases, GovernanceCore):
    """Delivery of every subscription, their secrets and their progress (the side store)."""

    _webhook_store: WebhookStore | None = None
    _deliveries: Deliveries | None = None
    _deliveries_lock = threading.Lock()

    @property
    def webhook_store(self) -> WebhookStore:
        if self._webhook_store is None:
            in_memory: Callable[[], WebhookStore] = InMemoryWebhookStore
            self._webhook_store = self.side_store(
                sqlite_webhook_store, postgres_webhook_store, in_memory
            )
        return self._webhook_store

    @property
    def webhook_allowed_hosts(self) -> frozenset[str]:
        """The host names the operator lets webhooks reach whatever they resolve to."""
        listed = (self.env.get(ALLOW_HOSTS) or "").split(",")
        return frozenset(h.strip().strip("[]").rstrip(".").lower() for h in listed if h.strip())

    # -- secrets ------------------------------------------------------------------------------

    def _seal_webhook_secret(self, secret: str) -> str:
        cipher = self.mapper.cipher
        if cipher is None:
            return secret
        return _WEBHOOK_SEALED + b64encode(cipher.encrypt(secret.encode())).decode()

    def _webhook_secret(self, subscription_id: UUID) -> str | None:
        """The signing secret: kept beside the log, or, for a subscription recorded before
        that, in its first event (version 1)."""
        sealed = self.webhook_store.secret(str(subscription_id))
        if sealed is not None and sealed.startswith(_WEBHOOK_SEALED):
            cipher = self.mapper.cipher
            try:
                assert cipher is not None, "sealed under a cipher key that is not set"
                return cipher.decrypt(b64decode(sealed[len(_WEBHOOK_SEALED) :])).decode()
            except Exception:
                logger.exception("cannot unseal the secret of webhook %s", subscription_id)
                return None
        if sealed is not None:
            return sealed
        for stored in self.recorder.select_events(subscription_id, limit=1):
            secret = orjson.loads(self.payload(stored.state, stored.topic)).get("secret")
            return secret if isinstance(secret, str) else None
        return None

    # -- delivery -----------------------------------------------------------------------------

    @property
    def deliveries(self) -> Deliveries:
        with self._deliveries_lock:
            if self._deliveries is None:
                self._deliveries = Deliveries()
            return self._deliveries

    def deliver_webhooks(self, send: Sender, *, wait_at_most: float | None = None) -> int:
        """Start a delivery for every active subscription that is due and behind the log, each
        on its own thread; wait for them (at most ``wait_at_most`` seconds: the rest go on,
        and their subscriptions are not started again until they end). Returns how many
        events the deliveries that ended delivered."""
        head = self.recorder.max_notification_id() or 0
        now = self.clock()
        started = []
        for sid in list(self.directory.webhooks):
            if sid in self.deliveries.gone:
                continue
            state = self.webhook_store.kept_state(str(sid))
            if state is None:
                continue  # not ready: its cursor is kept before its event, so it is coming
            if state.position >= head:
                continue  # caught up: nothing to read
            if state.next_attempt_at is not None and state.next_attempt_at > now:
                continue  # backing off
            future = self.deliveries.start(sid, partial(self._deliver, sid, send, head))
            if future is not None:
                started.append(future)
        done, _ = wait(started, timeout=wait_at_most)
        return sum(f.result() for f in done)

    def _deliver(self, sid: UUID, send: Sender, head: int) -> int:
        """Deliver one subscription's events up to the log's head (or until one fails)."""
        subscription = self._get(Subscription, sid, "webhook subscription")
        store = self.webhook_store
        state = store.state(str(sid))
        if not subscription.active:
            self.deliveries.gone.add(sid)  # unsubscribing is for good
            return 0
        if self._subscriber_revoked(subscription):
            self._failed(state, SUBSCRIBER_REVOKED, state.position + 1)
            return 0
        topics = tuple(sorted(subscription.topics)) or published_topics()
        delivered = 0
        while True:
            events = self.read_feed(state.position, BATCH, topics)
            directory = self.directory  # caught up past the batch just read
            moved = state
            for event in events:
                if directory.council_of(event) != subscription.council:
                    moved = replace(moved, position=event.id)
                    continue
                error = self._post(subscription, event, send)
                now = self.clock()
                if error is not None:
                    self._failed(moved, error, event.id)
                    return delivered
                moved = replace(
                    moved,
                    position=event.id,
                    delivered=moved.delivered + 1,
                    attempts=0,
                    next_attempt_at=None,
                    last_error=None,
                    last_attempt_at=now,
                    last_delivered_at=now,
                )
                store.save(moved)  # before the next request: a crash re-sends at most one
                state = moved
                delivered += 1
            if len(events) < BATCH:  # nothing more of its topics up to the head
                moved = replace(moved, position=max(moved.position, head))
            if moved != state:
                store.save(moved)
                state = moved
            if len(events) < BATCH:
                return delivered

    def _failed(self, state: DeliveryState, error: str, notification_id: int) -> None:
        """Record a failed attempt at ``notification_id`` and back off."""
        now = self.clock()
        attempts = state.attempts + 1
        self.webhook_store.save(
            replace(
                state,
                attempts=attempts,
                next_attempt_at=now + backoff(attempts),
                last_error=error,
                last_attempt_at=now,
            )
        )
        self.webhook_store.add_failure(Failure(state.subscription_id, now, notification_id, error))

    def _subscriber_revoked(self, subscription: Subscription) -> bool:
        """Whether whoever made the subscription has lost access to the council's events: the
        token they subscribed with revoked, the member gone (or the member id enrolled again
        for someone else), or the policy no longer letting them read. A subscription that
        records no subscriber (older, or made by an operator's tool) is not checked."""
        who = subscription.subscriber
        if who is None:
            return False
        code = subscription.council
        scopes: frozenset[Scope] = frozenset()
        if who.token is not None:
            try:
                token = self._get(AccessToken, token_uuid(who.token), "token")
            except NotFoundError:
                return True
            if token.revoked or token.council != code or token.holder != who.holder:
                return True
            scopes = frozenset(token.scopes)
        try:
            if who.kind == HolderKind.INTEGRATION.value:
                if who.token is None:
                    return False  # nothing recorded to check it against
                principal = Principal(code, who.holder, HolderKind.INTEGRATION, scopes=scopes)
            else:
                council = self.council_to_read(code)
                member = council.members.get(who.holder)
                if member is None:
                    return True
                if who.enrolment is not None and member.enrolment != who.enrolment:
                    return True
                principal = principal_of(council, who.holder, member)
            authorize(principal, Action.READ, code)
        except (ForbiddenError, NotFoundError):
            return True
        return False

    def delivery_body(self, subscription: Subscription, event: FeedEvent) -> bytes:
        """The body posted for ``event``: what a receiver sees of it (the one place that
        renders a delivery)."""
        return orjson.dumps({"council": subscription.council, **event.model_dump(mode="json")})

    def _post(self, subscription: Subscription, event: FeedEvent, send: Sender) -> str | None:
        """Post one event; None on a 2xx answer, else the error in the fixed vocabulary."""
        secret = self._webhook_secret(subscription.id)
        if secret is None or fingerprint(secret) != subscription.secret_fingerprint:
            return SECRET_MISSING  # not the secret its subscriber was given: sign nothing
        body = self.delivery_body(subscription, event)
        timestamp = int(self.clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "govflow-webhooks",
            "Govflow-Delivery": str(event.id),
            "Govflow-Event": event.topic,
            "Govflow-Subscription": str(subscription.id),
            "Govflow-Signature": signature(secret, timestamp, body),
        }
        try:
            target = resolve(subscription.url, self.webhook_allowed_hosts)
        except (TargetRefusedError, DeliveryError):
            # one word for a name that resolves to nothing and one that resolves inside: the
            # status must not tell someone probing names which of them exist inside
            return TARGET_REFUSED
        try:
            status = send(target, body, headers)
        except TargetRefusedError:
            return TARGET_REFUSED
        except DeliveryError as error:
            return error.reason
        except Exception:  # a defect: in the log for the operator, retried like a failure
            logger.exception("posting webhook %s failed", subscription.id)
            return CONNECTION_FAILED
        return None if 200 <= status < 300 else f"http_status:{status}"

    def close(self) -> None:
        with self._deliveries_lock:
            if self._deliveries is not None:
                self._deliveries.pool.shutdown(wait=False, cancel_futures=True)
        super().close()
