"""A webhook subscription: where an integration wants a council's events delivered.

Deliveries are signed with the subscription's secret (HMAC-SHA256). The secret is never in an
event: the application keeps it beside the log, and the event holds only its fingerprint (old
events of version 1 held it in clear; they are read as they are). ``govflow.webhook.*`` topics
are never published. The id is derived from the council and the URL, so anyone can compute it:
it is a name, not a secret.

Which targets may be reached is decided here too (:func:`refused_name`, :func:`refused_address`):
nothing inside the server's network (loopback, private, link-local, site-local, unspecified,
multicast, reserved, shared and cloud metadata addresses, in any spelling), unless the
operator names the host as allowed.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid5

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.errors import InvalidInputError
from govflow.domain.ids import NAMESPACE

MAX_URL = 2000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefusedError(InvalidInputError):
    """The webhook's target is inside the server's network (or cannot be reached safely)."""

    code = "webhook.target_refused"


def fingerprint(secret: str) -> str:
    """What an event may say about a secret: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


class Subscribed(DomainEvent):
    """A URL was subscribed to the council's events, its secret known by a fingerprint only.

    ``topics`` empty: every published topic. ``secret_fingerprint`` identifies the signing
    secret without revealing it (version 1 held the secret itself)."""

    TOPIC = "govflow.webhook.subscribed"
    class_version = 2
    council: str
    url: str
    topics: tuple[str, ...] = ()  # empty: every published topic
    secret_fingerprint: str
    # Who subscribed, so that deliveries stop when they lose access (all None: recorded before
    # subscribers were, or by an operator's tool; such a subscription is not re-checked).
    subscriber: str | None = None  # the holder: a member id or an integration's name
    subscriber_kind: str | None = None  # "person" or "integration"
    subscriber_token: str | None = None  # the id of the token they subscribed with
    subscriber_enrolment: int | None = None  # a person's enrolment when subscribing

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 held the secret itself: keep only its fingerprint."""
        state["secret_fingerprint"] = fingerprint(state.pop("secret"))


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
    try:
        parts.port  # noqa: B018 (reading it validates it)
    except ValueError:
        raise InvalidInputError("a webhook URL's port must be a number up to 65535") from None
    return url


# Names that lead inside whatever they resolve to: the loopback name, names reserved for local
# networks, and cloud metadata services.
_INSIDE_NAMES = frozenset(
    {"localhost", "metadata", "metadata.google.internal", "metadata.goog", "instance-data"}
)
_INSIDE_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan")

# Ranges that ``ipaddress`` counts as global but that lead inside or nowhere.
_INSIDE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "100.64.0.0/10",  # shared address space (carrier NAT; Alibaba Cloud's metadata)
        "192.0.0.0/24",  # IETF protocol assignments (Oracle Cloud's metadata)
        "2001::/23",  # IETF protocol assignments (Teredo among them)
        "64:ff9b:1::/48",  # local-use NAT64
        "fec0::/10",  # site-local (deprecated, but still routed inside by some networks)
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def host_of(url: str) -> str:
    """The URL's host as a name to compare: lower case, no trailing dot, no brackets."""
    return (urlsplit(url).hostname or "").rstrip(".").lower()


def refused_name(host: str) -> bool:
    """Whether ``host`` (see :func:`host_of`) names something inside by its name alone: the
    loopback and metadata names, local-only suffixes, and single labels (which the
    resolver's search list completes to an inside name). Address literals are judged by
    :func:`refused_address` instead."""
    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        pass
    return host in _INSIDE_NAMES or host.endswith(_INSIDE_SUFFIXES) or "." not in host


def refused_address(address: IPAddress) -> bool:
    """Whether a resolved address is inside: anything but a global unicast address, looking
    through IPv4 addresses carried in IPv6 ones (mapped, 6to4, NAT64)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return True
        carried = address.ipv4_mapped or address.sixtofour
        if carried is None and address in _NAT64:
            carried = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if carried is not None and refused_address(carried):
            return True
    if not address.is_global or address.is_multicast or address.is_reserved:
        return True
    return any(address in network for network in _INSIDE_NETWORKS)


@dataclass(frozen=True)
class Subscriber:
    """Who made a subscription: its deliveries last as long as their access does."""

    holder: str
    kind: str  # "person" or "integration" (HolderKind's values)
    token: str | None = None  # the token's id
    enrolment: int | None = None  # a person's enrolment


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
        subscriber: Subscriber | None = None,
    ) -> Subscription:
        """A new subscription signed with ``secret``, which its event does not keep, made by
        ``subscriber`` (whose access it follows) if known."""
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
            secret_fingerprint=fingerprint(secret),
            subscriber=subscriber.holder if subscriber else None,
            subscriber_kind=subscriber.kind if subscriber else None,
            subscriber_token=subscriber.token if subscriber else None,
            subscriber_enrolment=subscriber.enrolment if subscriber else None,
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case Subscribed():
                self.council, self.url = event.council, event.url
                self.secret_fingerprint = event.secret_fingerprint
                self.topics = frozenset(event.topics)
                self.created_on = event.timestamp
                self.active = True
                self.subscriber: Subscriber | None = (
                    None
                    if event.subscriber is None
                    else Subscriber(
                        event.subscriber,
                        event.subscriber_kind or "person",
                        event.subscriber_token,
                        event.subscriber_enrolment,
                    )
                )
            case Unsubscribed():
                self.active = False

    def unsubscribe(self, reason: str, *, at: datetime, actor: str) -> None:
        if self.active:
            self._trigger(Unsubscribed, at=at, actor=actor, reason=reason)

    def wants(self, topic: str) -> bool:
        return not self.topics or topic in self.topics
