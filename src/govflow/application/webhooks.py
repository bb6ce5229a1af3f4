"""Use cases: webhook subscriptions (subscribe, list, show, unsubscribe).

A target inside the server's network is refused when subscribing (and again at every
delivery: :mod:`govflow.application.webhook_delivery`), unless the operator allowed the host by
name (``GOVFLOW_WEBHOOK_ALLOW_HOSTS``). The signing secret is shown once, kept beside the log,
and never recorded in an event.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import datetime
from uuid import UUID

from pydantic import Field

from govflow.application.listing import is_public_topic
from govflow.application.views import View
from govflow.application.webhook_delivery import (
    WebhookDelivery,
    backoff,
    public_error,
    verify_signature,
)
from govflow.application.webhook_http import DeliveryError, Sender, Target, http_sender, resolve
from govflow.application.webhook_store import DeliveryState
from govflow.domain.base import event_class
from govflow.domain.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from govflow.domain.policy import Action, Principal, authorize
from govflow.domain.webhook import Subscriber, Subscription, check_url

__all__ = [
    "NewWebhook",
    "Sender",
    "Target",
    "WebhookCases",
    "WebhookView",
    "backoff",
    "http_sender",
    "verify_signature",
]


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


class WebhookCases(WebhookDelivery):
    """Subscriptions to a council's events (their delivery: :class:`WebhookDelivery`)."""

    def subscribe_webhook_as(
        self,
        who: Principal,
        code: str,
        url: str,
        topics: tuple[str, ...] = (),
        *,
        from_start: bool = False,
    ) -> NewWebhook:
        """Subscribe for ``who``: the clerk, or an integration that may both manage webhooks
        and read the council's events (a subscription delivers them)."""
        actor = authorize(who, Action.SUBSCRIBE_WEBHOOK, code)
        subscriber = Subscriber(who.holder, who.kind.value, who.token_id, who.enrolment)
        return self.subscribe_webhook(
            code, url, topics, actor=actor, from_start=from_start, subscriber=subscriber
        )

    def subscribe_webhook(
        self,
        code: str,
        url: str,
        topics: tuple[str, ...] = (),
        *,
        actor: str,
        from_start: bool = False,
        subscriber: Subscriber | None = None,
    ) -> NewWebhook:
        """Subscribe ``url`` to the council's events (of ``topics``; all published ones if
        empty), from now on or, with ``from_start``, from the beginning of the log. Its
        deliveries last as long as ``subscriber`` (if given) may read the council."""
        self.council_to_read(code)
        for topic in topics:
            try:
                event_class(topic)
            except LookupError:
                raise InvalidInputError(f"unknown topic {topic}") from None
            if not is_public_topic(topic):
                raise InvalidInputError(f"{topic} is not published")
        self._check_target(check_url(url))
        secret = "whsec_" + secrets.token_urlsafe(32)
        subscription = Subscription.subscribe(
            code, url, topics, secret, at=self.now(), actor=actor, subscriber=subscriber
        )
        what = f"a subscription of {url}"
        if self._exists(subscription.id):  # before touching the one recorded's secret
            raise AlreadyExistsError(f"{what} already exists")
        # The secret and the cursor first, the event last: a subscription is delivered only
        # once its event is recorded, and then its secret and cursor are already kept (a pass
        # in between cannot start it at the log's beginning; a secret that could not be kept
        # leaves no subscription). Whatever the event saw after ``position`` it delivers.
        sid = str(subscription.id)
        position = self.recorder.max_notification_id() or 0
        self.webhook_store.keep_secret(sid, self._seal_webhook_secret(secret))
        self.webhook_store.save(DeliveryState(sid, position=0 if from_start else position))
        self._save_new(subscription, what=what)
        return NewWebhook(subscription=self.get_webhook(code, subscription.id), secret=secret)

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def _check_target(self, url: str) -> None:
        """Refuse a target inside now; a name that resolves to nothing yet is accepted (it
        reaches nothing, and every delivery checks again)."""
        with contextlib.suppress(DeliveryError):
            resolve(url, self.webhook_allowed_hosts)

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
                    {
                        "at": f.at,
                        "notification_id": f.notification_id,
                        "error": public_error(f.error),
                    }
                    for f in failures
                ]
            }
        )

    def list_webhooks(self, code: str) -> list[WebhookView]:
        self.council_to_read(code)
        return [
            self._webhook_view(self.subscription(code, sid))
            for sid, council in self.directory.webhooks().items()
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
            last_error=public_error(state.last_error),
            last_delivered_at=state.last_delivered_at,
        )
