"""A webhook subscription: where an integration wants a council's events delivered.

Deliveries are signed with the subscription's secret (HMAC-SHA256). The secret is kept in the
event (the sender needs it), so ``govflow.webhook.*`` topics are never published themselves.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit
from uuid import UUID, uuid5

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.errors import InvalidInputError
from govflow.domain.ids import NAMESPACE

MAX_URL = 2000


class Subscribed(DomainEvent):
    TOPIC = "govflow.webhook.subscribed"
    council: str
    url: str
    topics: tuple[str, ...] = ()  # empty: every published topic
    secret: str


class Unsubscribed(DomainEvent):
    TOPIC = "govflow.webhook.unsubscribed"
    reason: str


def subscription_id(council: str, url: str) -> UUID:
    return uuid5(NAMESPACE, f"webhook:{council}:{url}")


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host, no credentials, no fragment."""
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError("a webhook URL must be an absolute http:// or https:// URL")
    if parts.username or parts.password or parts.fragment:
        raise InvalidInputError("a webhook URL carries no credentials and no #fragment")
    return url


class Subscription(Aggregate):
    created_by = (Subscribed,)

    @classmethod
    def subscribe(
        cls,
        council: str,
        url: str,
        topics: tuple[str, ...],
        secret: str,
        *,
        at: datetime,
        actor: str,
    ) -> Subscription:
        if len(secret) < 16:
            raise InvalidInputError("a webhook secret has at least 16 characters")
        return cls._create(
            Subscribed,
            subscription_id(council, check_url(url)),
            at=at,
            actor=actor,
            council=council,
            url=url,
            topics=tuple(sorted(set(topics))),
            secret=secret,
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case Subscribed():
                self.council, self.url, self.secret = event.council, event.url, event.secret
                self.topics = frozenset(event.topics)
                self.created_on = event.timestamp
                self.active = True
            case Unsubscribed():
                self.active = False

    def unsubscribe(self, reason: str, *, at: datetime, actor: str) -> None:
        if self.active:
            self._trigger(Unsubscribed, at=at, actor=actor, reason=reason)

    def wants(self, topic: str) -> bool:
        return not self.topics or topic in self.topics
