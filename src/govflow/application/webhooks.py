"""Use cases: webhook subscriptions and their delivery from the notification log.

Each subscription has a cursor in the log. A delivery pass posts the council's events after the
cursor, in log order, one request per event, and moves the cursor only on a 2xx answer: at
least once, in order, with the notification id as the receiver's idempotency key
(``Govflow-Delivery``). A failure stops that subscription's pass and schedules the next attempt
with exponential back-off (1 s doubling to at most 5 minutes), so a receiver that was down for
an hour gets everything, in order, within minutes of coming back.

Requests are signed: ``Govflow-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" under the subscription's secret>`` (see :func:`verify_signature`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

import orjson
from pydantic import Field

from govflow.application.core import GovernanceCore
from govflow.application.listing import ListingCases, is_public_topic
from govflow.application.views import FeedEvent, View
from govflow.application.webhook_store import (
    DeliveryState,
    Failure,
    InMemoryWebhookStore,
    WebhookStore,
    postgres_webhook_store,
    sqlite_webhook_store,
)
from govflow.domain.base import event_class
from govflow.domain.errors import InvalidInputError, NotFoundError
from govflow.domain.webhook import Subscription

# (url, body, headers) -> HTTP status; raises on a connection failure or timeout.
Sender = Callable[[str, bytes, dict[str, str]], int]

BATCH = 100
FIRST_RETRY = timedelta(seconds=1)
LONGEST_RETRY = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """The wait after ``attempts`` consecutive failures: 1 s, 2 s, 4 s ... at most 5 min."""
    wait: timedelta = min(FIRST_RETRY * 2 ** min(attempts - 1, 20), LONGEST_RETRY)
    return wait


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


def http_sender(timeout: float = 10.0) -> Sender:
    import httpx

    client = httpx.Client(timeout=timeout, follow_redirects=False)

    def send(url: str, body: bytes, headers: dict[str, str]) -> int:
        return client.post(url, content=body, headers=headers).status_code

    return send


class WebhookView(View):
    id: UUID
    council: str
    url: str
    topics: list[str]
    active: bool
    created_at: datetime
    position: int
    delivered: int
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    last_delivered_at: datetime | None
    failures: list[dict[str, object]] = Field(default_factory=list)


class NewWebhook(View):
    """Returned once, on subscribing: the only time the secret is shown."""

    subscription: WebhookView
    secret: str


class WebhookCases(ListingCases, GovernanceCore):
    _webhook_store: WebhookStore | None = None

    @property
    def webhook_store(self) -> WebhookStore:
        if self._webhook_store is None:
            in_memory: Callable[[], WebhookStore] = InMemoryWebhookStore
            self._webhook_store = self.side_store(
                sqlite_webhook_store, postgres_webhook_store, in_memory
            )
        return self._webhook_store

    def subscribe_webhook(
        self,
        code: str,
        url: str,
        topics: tuple[str, ...] = (),
        *,
        actor: str,
        from_start: bool = False,
    ) -> NewWebhook:
        """Subscribe ``url`` to the council's events (of ``topics``; all published ones if
        empty), from now on or, with ``from_start``, from the beginning of the log."""
        self.council_to_read(code)
        for topic in topics:
            try:
                event_class(topic)
            except LookupError:
                raise InvalidInputError(f"unknown topic {topic}") from None
            if not is_public_topic(topic):
                raise InvalidInputError(f"{topic} is not published")
        secret = "whsec_" + secrets.token_urlsafe(32)
        subscription = Subscription.subscribe(code, url, topics, secret, at=self.now(), actor=actor)
        position = self._save_new(subscription, what=f"a subscription of {url}")
        self.webhook_store.save(
            DeliveryState(str(subscription.id), position=0 if from_start else position)
        )
        return NewWebhook(subscription=self.get_webhook(code, subscription.id), secret=secret)

    def subscription(self, code: str, subscription_id: UUID) -> Subscription:
        subscription = self._get(Subscription, subscription_id, "webhook subscription")
        if subscription.council != code:
            raise NotFoundError("webhook subscription not found", id=str(subscription_id))
        return subscription

    def unsubscribe_webhook(
        self, code: str, subscription_id: UUID, reason: str, *, actor: str
    ) -> None:
        subscription = self.subscription(code, subscription_id)
        subscription.unsubscribe(reason, at=self.now(), actor=actor)
        self._save(subscription)

    def get_webhook(self, code: str, subscription_id: UUID) -> WebhookView:
        subscription = self.subscription(code, subscription_id)
        view = self._webhook_view(subscription)
        failures = self.webhook_store.failures(str(subscription_id))
        return view.model_copy(
            update={
                "failures": [
                    {"at": f.at, "notification_id": f.notification_id, "error": f.error}
                    for f in failures
                ]
            }
        )

    def list_webhooks(self, code: str) -> list[WebhookView]:
        self.council_to_read(code)
        return [
            self._webhook_view(self.subscription(code, sid))
            for sid, council in self.directory.webhooks.items()
            if council == code
        ]

    def _webhook_view(self, subscription: Subscription) -> WebhookView:
        state = self.webhook_store.state(str(subscription.id))
        return WebhookView(
            id=subscription.id,
            council=subscription.council,
            url=subscription.url,
            topics=sorted(subscription.topics),
            active=subscription.active,
            created_at=subscription.created_on,
            position=state.position,
            delivered=state.delivered,
            attempts=state.attempts,
            next_attempt_at=state.next_attempt_at,
            last_error=state.last_error,
            last_delivered_at=state.last_delivered_at,
        )

    # -- delivery -----------------------------------------------------------------------------

    def deliver_webhooks(self, send: Sender) -> int:
        """One delivery pass over every active subscription that is due; returns how many
        events were delivered."""
        delivered = 0
        for sid in list(self.directory.webhooks):
            subscription = self._get(Subscription, sid, "webhook subscription")
            if subscription.active:
                delivered += self._deliver(subscription, send)
        return delivered

    def _deliver(self, subscription: Subscription, send: Sender) -> int:
        store = self.webhook_store
        state = store.state(str(subscription.id))
        if state.next_attempt_at is not None and state.next_attempt_at > self.clock():
            return 0
        delivered = 0
        saved = state
        topics = tuple(sorted(subscription.topics))
        while True:
            events = self.read_feed(state.position, BATCH, topics)
            directory = self.directory  # caught up past the batch just read
            for event in events:
                if directory.council_of(event) != subscription.council:
                    state = replace(state, position=event.id)
                    continue
                error = self._post(subscription, event, send)
                now = self.clock()
                if error is not None:
                    attempts = state.attempts + 1
                    store.save(
                        replace(
                            state,
                            attempts=attempts,
                            next_attempt_at=now + backoff(attempts),
                            last_error=error,
                            last_attempt_at=now,
                        )
                    )
                    store.add_failure(Failure(str(subscription.id), now, event.id, error))
                    return delivered
                state = replace(
                    state,
                    position=event.id,
                    delivered=state.delivered + 1,
                    attempts=0,
                    next_attempt_at=None,
                    last_error=None,
                    last_attempt_at=now,
                    last_delivered_at=now,
                )
                store.save(state)  # before the next request: a crash re-sends at most one
                saved = state
                delivered += 1
            if state != saved:  # only other councils' events were passed over: keep the cursor
                store.save(state)
                saved = state
            if len(events) < BATCH:
                return delivered

    def _post(self, subscription: Subscription, event: FeedEvent, send: Sender) -> str | None:
        body = orjson.dumps({"council": subscription.council, **event.model_dump(mode="json")})
        timestamp = int(self.clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "govflow-webhooks",
            "Govflow-Delivery": str(event.id),
            "Govflow-Event": event.topic,
            "Govflow-Subscription": str(subscription.id),
            "Govflow-Signature": signature(subscription.secret, timestamp, body),
        }
        try:
            status = send(subscription.url, body, headers)
        except Exception as error:  # any transport failure is retried later
            return f"{type(error).__name__}: {error}"[:500]
        return None if 200 <= status < 300 else f"HTTP {status}"
