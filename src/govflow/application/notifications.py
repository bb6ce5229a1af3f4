"""Use cases: members' contacts, and who was told what, how (送达).

A contact's addresses are kept beside the log (:mod:`govflow.application.notification_store`),
sealed with the installation's cipher when one is set; the log records only who set it, which
channels it has and whether the member follows the council (``govflow.contact.set``). Every
delivery and each of its attempts is in the log (:mod:`govflow.domain.delivery`), which
:class:`DeliveryBook` follows to show, for an item or a notice, who was told how.
"""

from __future__ import annotations

import threading
from base64 import b64decode, b64encode
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from govflow.application.listing import ListingCases
from govflow.application.log_reader import LogReader, Record, scan
from govflow.application.notification_channels import one_address
from govflow.application.notification_store import (
    ContactRow,
    InMemoryNotificationStore,
    NotificationStore,
    postgres_notification_store,
    sqlite_notification_store,
)
from govflow.application.views import View
from govflow.domain.base import DomainEvent
from govflow.domain.delivery import (
    Contact,
    DeliveryAddressed,
    DeliveryAttempted,
    DeliveryPostedOnBoard,
    contact_id,
)
from govflow.domain.errors import InvalidInputError, NotFoundError
from govflow.domain.policy import Action, Principal, authorize

_SEALED = "aesgcm:"


class ContactView(View):
    member_id: str
    email: str
    gateway: str
    follows: bool


@dataclass
class Attempt:
    at: datetime
    channel: str
    delivered: bool
    error: str | None


@dataclass
class DeliveryRow:
    """One message to one person and how it went (no address: the log has none)."""

    id: UUID
    council: str
    recipient: str
    kind: str
    subject_id: UUID
    key: str
    item_number: int | None
    addressed_at: datetime
    status: str = "pending"
    attempts: list[Attempt] = field(default_factory=list)
    board_reason: str | None = None
    ended_at: datetime | None = None


DELIVERY_TOPICS = (
    DeliveryAddressed.TOPIC,
    DeliveryAttempted.TOPIC,
    DeliveryPostedOnBoard.TOPIC,
)


class DeliveryBook:
    """Every delivery, kept current from the notification log (thread-safe)."""

    def __init__(self, reader: LogReader, decode: Callable[[Record], DomainEvent]) -> None:
        self._reader, self._decode = reader, decode
        self._lock = threading.Lock()
        self.position = 0
        self.rows: dict[UUID, DeliveryRow] = {}

    def refresh(self) -> None:
        with self._lock:
            for record in scan(self._reader, self.position, topics=DELIVERY_TOPICS):
                self._apply(self._decode(record))
                self.position = record.id

    def _apply(self, event: DomainEvent) -> None:
        row = self.rows.get(event.originator_id)
        match event:
            case DeliveryAddressed():
                self.rows[event.originator_id] = DeliveryRow(
                    event.originator_id, event.council, event.recipient, event.kind.value,
                    event.subject_id, event.key, event.item_number, event.timestamp,
                )  # fmt: skip
            case DeliveryAttempted() if row:
                row.attempts.append(
                    Attempt(event.timestamp, event.channel, event.delivered, event.error)
                )
                if event.delivered:
                    row.status, row.ended_at = "delivered", event.timestamp
            case DeliveryPostedOnBoard() if row:
                row.status, row.board_reason = "posted_on_board", event.reason
                row.ended_at = event.timestamp


class NotificationCases(ListingCases):
    """Contacts and the record of deliveries (the sending: :mod:`notification_sending`)."""

    _notification_store: NotificationStore | None = None
    _delivery_book: DeliveryBook | None = None

    @property
    def notification_store(self) -> NotificationStore:
        if self._notification_store is None:
            in_memory: Callable[[], NotificationStore] = InMemoryNotificationStore
            self._notification_store = self.side_store(
                sqlite_notification_store, postgres_notification_store, in_memory
            )
        return self._notification_store

    # -- contacts -----------------------------------------------------------------------------

    def set_contact(
        self,
        code: str,
        member_id: str,
        *,
        email: str,
        gateway: str,
        follows: bool,
        actor: str,
    ) -> ContactView:
        """Keep the member's addresses beside the log, then record that they were set (and by
        whom) in it. Refused for someone not on the roll."""
        member = self.council(code).member(member_id)
        email, gateway = email.strip(), gateway.strip()
        if email and not one_address(email):
            raise InvalidInputError("the e-mail address must be one address", field="email")
        self.notification_store.put_contact(
            ContactRow(
                code,
                member_id,
                self._seal(email),
                self._seal(gateway),
                follows,
                member.enrolment,
            )
        )
        at, flags = self.now(), {"email": bool(email), "gateway": bool(gateway)}
        try:
            contact = self._get(Contact, contact_id(code, member_id), "contact")
        except NotFoundError:
            new = Contact.first(code, member_id, **flags, follows=follows, at=at, actor=actor)
            self._save_new(new, what="contact")
        else:
            contact.change(**flags, follows=follows, at=at, actor=actor)
            self._save(contact)
        return ContactView(member_id=member_id, email=email, gateway=gateway, follows=follows)

    def get_contact(self, code: str, member_id: str) -> ContactView:
        """The member's contact as set (empty if never set, or set for an earlier enrolment
        of the same member id)."""
        row = self.contact_of(code, member_id)
        if row is None:
            return ContactView(member_id=member_id, email="", gateway="", follows=False)
        return ContactView(
            member_id=member_id, email=row.email, gateway=row.gateway, follows=row.follows
        )

    def contact_of(self, code: str, member_id: str) -> ContactRow | None:
        """The member's contact, its addresses unsealed, if it was set for them as enrolled now."""
        member = self.council_to_read(code).members.get(member_id)
        row = self.notification_store.contact(code, member_id)
        if member is None or row is None or row.enrolment != member.enrolment:
            return None
        return ContactRow(
            code,
            member_id,
            self._unseal(row.email),
            self._unseal(row.gateway),
            row.follows,
            row.enrolment,
        )

    def _seal(self, value: str) -> str:
        cipher = self.mapper.cipher
        if cipher is None or not value:
            return value
        return _SEALED + b64encode(cipher.encrypt(value.encode())).decode()

    def _unseal(self, value: str) -> str:
        if not value.startswith(_SEALED):
            return value
        cipher = self.mapper.cipher
        assert cipher is not None, "an address sealed under a cipher key that is not set"
        return cipher.decrypt(b64decode(value[len(_SEALED) :])).decode()

    # -- who was told -------------------------------------------------------------------------

    @property
    def delivery_book(self) -> DeliveryBook:
        if self._delivery_book is None:
            self._delivery_book = DeliveryBook(self.log_reader, self._decode)
        self._delivery_book.refresh()
        return self._delivery_book

    def list_deliveries_as(
        self, who: Principal, code: str, *, number: int | None = None
    ) -> list[DeliveryRow]:
        authorize(who, Action.EXPORT, code)  # the record of the log's readers: auditors, clerk
        return self.list_deliveries(code, number=number)

    def list_deliveries(
        self, code: str, *, number: int | None = None, subject_id: UUID | None = None
    ) -> list[DeliveryRow]:
        """The council's deliveries, newest first: of item ``number`` (its notices' and its
        reminders') and/or about ``subject_id`` (a notice) if given."""
        self.council_to_read(code)
        rows = [
            r
            for r in self.delivery_book.rows.values()
            if r.council == code
            and (number is None or r.item_number == number)
            and (subject_id is None or r.subject_id == subject_id)
        ]
        return sorted(rows, key=lambda r: (r.addressed_at, r.recipient), reverse=True)
