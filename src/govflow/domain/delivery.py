"""Telling people (送达): one message to one person, each attempt and how it ended; and what a
person asked to be told (never their addresses, which are kept beside the log).

A :class:`Delivery` is named by its message and its recipient (:func:`delivery_id`), so the
store refuses a second delivery of the same message to the same person: a notifier that
restarts cannot tell anyone twice. It ends delivered, or posted on the board instead (no way
to reach the person, or every attempt failed).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.errors import RuleViolationError
from govflow.domain.ids import NAMESPACE


class MessageKind(StrEnum):
    NOTICE = "notice"  # a new notice (公示), to those who follow the council
    ANSWER = "answer"  # an objection answered, to the objector
    VOTE_REMINDER = "vote_reminder"  # to voters on the frozen roll who have not voted
    RATING_REMINDER = "rating_reminder"  # to those asked to rate who have not rated
    # a written consultation's form (书面征求意见表), to each voter on the frozen roll
    CONSULTATION_FORM = "consultation_form"
    # the consultation was extended: its new deadline, to each voter who has not replied
    CONSULTATION_EXTENDED = "consultation_extended"
    GRID_ROUTED = "grid_routed"  # an item routed to a grid's station, to the station's staff
    # a rectification order's deadline is near (限期整改), to whoever must act on it
    ORDER_REMINDER = "order_reminder"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    POSTED_ON_BOARD = "posted_on_board"


class DeliveryStateError(RuleViolationError):
    code = "delivery.invalid_state"


class DeliveryAddressed(DomainEvent):
    """A message is to reach a member (``recipient``), about a notice or an item.

    ``subject_id`` is the notice, or the item of a reminder; ``key`` says which message of it
    (a ballot key, a stage ...)."""

    TOPIC = "govflow.delivery.addressed"
    council: str
    recipient: str
    kind: MessageKind
    subject_id: UUID
    key: str
    item_number: int | None = None
    deadline: datetime | None = None


class DeliveryAttempted(DomainEvent):
    """One attempt through one channel (``email`` or ``gateway``), delivered or not.

    ``error`` is a word of a fixed vocabulary, never the server's message nor the address."""

    TOPIC = "govflow.delivery.attempted"
    channel: str
    delivered: bool
    error: str | None = None


class DeliveryPostedOnBoard(DomainEvent):
    """The person could not be reached, so the board tells them instead (公告).

    ``reason``: ``no_contact`` or ``undeliverable`` (every attempt failed)."""

    TOPIC = "govflow.delivery.posted_on_board"
    reason: str


def delivery_id(council: str, kind: MessageKind, key: str, recipient: str) -> UUID:
    return uuid5(NAMESPACE, f"delivery:{council}:{kind.value}:{key}:{recipient}")


class Delivery(Aggregate):
    created_by = (DeliveryAddressed,)

    @classmethod
    def address(
        cls,
        council: str,
        recipient: str,
        kind: MessageKind,
        subject_id: UUID,
        key: str,
        *,
        item_number: int | None,
        deadline: datetime | None,
        at: datetime,
        actor: str,
    ) -> Delivery:
        return cls._create(
            DeliveryAddressed,
            delivery_id(council, kind, key, recipient),
            at=at,
            actor=actor,
            council=council,
            recipient=recipient,
            kind=kind,
            subject_id=subject_id,
            key=key,
            item_number=item_number,
            deadline=deadline,
        )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case DeliveryAddressed():
                self.council = event.council
                self.recipient = event.recipient
                self.kind = event.kind
                self.subject_id = event.subject_id
                self.key = event.key
                self.item_number = event.item_number
                self.deadline = event.deadline
                self.status = DeliveryStatus.PENDING
                self.failures = 0
                self.channel: str | None = None
            case DeliveryAttempted():
                self.channel = event.channel
                if event.delivered:
                    self.status = DeliveryStatus.DELIVERED
                else:
                    self.failures += 1
            case DeliveryPostedOnBoard():
                self.status = DeliveryStatus.POSTED_ON_BOARD

    def _require_pending(self) -> None:
        if self.status is not DeliveryStatus.PENDING:
            raise DeliveryStateError(f"the delivery has ended ({self.status.value})")

    def attempted(self, channel: str, error: str | None, *, at: datetime, actor: str) -> None:
        """Record an attempt: delivered when ``error`` is None."""
        self._require_pending()
        self._trigger(
            DeliveryAttempted,
            at=at,
            actor=actor,
            channel=channel,
            delivered=error is None,
            error=error,
        )

    def post_on_board(self, reason: str, *, at: datetime, actor: str) -> None:
        self._require_pending()
        self._trigger(DeliveryPostedOnBoard, at=at, actor=actor, reason=reason)


class ContactSet(DomainEvent):
    """A member's contact was set: by whom, with which channels, following the council or not.

    The addresses themselves are never recorded (they are kept beside the log)."""

    TOPIC = "govflow.contact.set"
    council: str
    member_id: str
    email: bool
    gateway: bool
    follows: bool


def contact_id(council: str, member_id: str) -> UUID:
    return uuid5(NAMESPACE, f"contact:{council}:{member_id}")


class Contact(Aggregate):
    created_by = (ContactSet,)

    @classmethod
    def first(
        cls,
        council: str,
        member_id: str,
        *,
        email: bool,
        gateway: bool,
        follows: bool,
        at: datetime,
        actor: str,
    ) -> Contact:
        return cls._create(
            ContactSet,
            contact_id(council, member_id),
            at=at,
            actor=actor,
            council=council,
            member_id=member_id,
            email=email,
            gateway=gateway,
            follows=follows,
        )

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, ContactSet):
            self.council, self.member_id = event.council, event.member_id
            self.email, self.gateway, self.follows = event.email, event.gateway, event.follows

    def change(
        self, *, email: bool, gateway: bool, follows: bool, at: datetime, actor: str
    ) -> None:
        self._trigger(
            ContactSet,
            at=at,
            actor=actor,
            council=self.council,
            member_id=self.member_id,
            email=email,
            gateway=gateway,
            follows=follows,
        )
