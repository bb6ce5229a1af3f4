"""Telling people: who is told what, and sending it (a consumer of the notification log and a
periodic scan, run where the webhooks are delivered).

Each pass (:meth:`NotificationSending.tell_people`):

1. reads the log after its position: a new notice is addressed to every member who follows the
   council, an answered objection to its objector;
2. scans the open votes and evaluations whose deadline is within the lead time and addresses a
   reminder to each person on the frozen roll who has not voted (asked to rate and has not
   rated): one per person per voting round or evaluation;
3. attempts every delivery due, through the person's channels in turn, recording each attempt;
   a person without a usable address, or still unreached after the last round of attempts, is
   recorded as told by the board instead (公告).

A delivery is named by its message and recipient, so the store refuses a second one: a pass
that is repeated after a crash, or a restarted process, addresses nobody twice. The position
is kept beside the log and starts at the log's end (an installation that turns notifications
on does not send its whole history). A crash between a message sent and its attempt recorded
sends that one message again (receivers get the delivery id: ``Message-ID``,
``Govflow-Delivery``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from govflow.application.directory import IssueRow
from govflow.application.log_reader import scan
from govflow.application.notification_channels import Channel, DeliveryError, Message
from govflow.application.notification_text import About, compose
from govflow.application.notifications import NotificationCases
from govflow.application.webhook_http import CONNECTION_FAILED
from govflow.domain.base import SYSTEM_ACTOR
from govflow.domain.delivery import Delivery, DeliveryStatus, MessageKind
from govflow.domain.errors import NotFoundError
from govflow.domain.ids import ballot_id, issue_id, rating_id
from govflow.domain.issue import Issue
from govflow.domain.notice import Notice, NoticePosted, ObjectionAnswered, ObjectionFiled
from govflow.domain.rectification import Order

logger = logging.getLogger("govflow.notifications")

Waiting = Callable[[], list[str]]  # who has still to act, read when asked
NO_CONTACT, UNDELIVERABLE = "no_contact", "undeliverable"


@dataclass(frozen=True)
class NotifierConfig:
    public_url: str = "http://127.0.0.1:8000"
    lead: timedelta = timedelta(hours=24)  # remind this long before a deadline
    attempts: int = 3  # rounds over a person's channels before the board tells them instead
    retry_after: timedelta = timedelta(minutes=5)


class NotificationSending(NotificationCases):
    """The notifier: addressing from the log and the deadlines, then sending."""

    _reminded: set[tuple[UUID, str]] | None = None  # rounds whose reminders are all addressed

    def tell_people(
        self, channels: Sequence[Channel], config: NotifierConfig, *, reminders: bool = True
    ) -> int:
        """One pass (the deadlines scanned only with ``reminders``: it reads every open item);
        returns how many deliveries ended (delivered, or posted on the board)."""
        self._address_from_log()
        if reminders:
            self._address_reminders(config)
        return self._send_due(channels, config)

    # -- who is told what ---------------------------------------------------------------------

    def _address_from_log(self) -> None:
        store = self.notification_store
        head = self.recorder.max_notification_id() or 0
        position = store.position()
        if position is None:
            store.save_position(head)  # from now on, not the whole history
            return
        topics = (NoticePosted.TOPIC, ObjectionAnswered.TOPIC)
        for record in scan(self.log_reader, position, stop=head, topics=topics):
            event = self._decode(record)
            if isinstance(event, NoticePosted):
                self._address_notice(event)
            elif isinstance(event, ObjectionAnswered):
                self._address_answer(event)
            store.save_position(record.id)
        if head > position:
            store.save_position(head)

    def _address_notice(self, event: NoticePosted) -> None:
        row = self.directory.notice(event.originator_id)
        if row is None or not row.council:
            return
        number = row.subject_number if row.subject == "issue" else None
        for follower in self.notification_store.followers(row.council):
            if self.contact_of(row.council, follower.member_id) is None:
                continue  # left the roll, or the member id is another person's now
            self._address(
                row.council, follower.member_id, MessageKind.NOTICE, event.originator_id,
                str(event.originator_id), number, event.objection_until,
            )  # fmt: skip

    def _address_answer(self, event: ObjectionAnswered) -> None:
        row = self.directory.notice(event.originator_id)
        if row is None or not row.council:
            return
        objector = next(
            (
                e.actor
                for e in self.domain_events(event.originator_id)
                if isinstance(e, ObjectionFiled) and e.objection_no == event.objection_no
            ),
            None,
        )
        if objector is None:
            return
        number = row.subject_number if row.subject == "issue" else None
        key = f"{event.originator_id}#{event.objection_no}"
        self._address(
            row.council, objector, MessageKind.ANSWER, event.originator_id, key, number, None
        )

    def _address_reminders(self, config: NotifierConfig) -> None:
        if self._reminded is None:
            self._reminded = set()
        now = self.now()
        for row in self.directory.rows(IssueRow, active=True):
            issue = self.issue(row.council, row.number)
            for kind, key, closes_at, waiting in self._still_to_act(issue):
                if (issue.id, key) in self._reminded or not now < closes_at <= now + config.lead:
                    continue
                for person in waiting():
                    self._address(
                        issue.council, person, kind, issue.id, key, issue.number, closes_at
                    )
                self._reminded.add((issue.id, key))

    def _still_to_act(self, issue: Issue) -> list[tuple[MessageKind, str, datetime, Waiting]]:
        """The item's open vote and evaluation, each with who has still to act (read only
        when the reminder is due: a query per person)."""
        found: list[tuple[MessageKind, str, datetime, Waiting]] = []
        voting, evaluation = issue.voting, issue.evaluation
        if voting is not None and voting.is_open:
            key = voting.ballot_key
            found.append(
                (
                    MessageKind.VOTE_REMINDER,
                    key,
                    voting.closes_at,
                    lambda: [
                        v for v in sorted(voting.roll)
                        if not self._recorded(ballot_id(issue.id, key, v))
                    ],
                )
            )  # fmt: skip
        if evaluation is not None and evaluation.is_open:
            stage = evaluation.stage
            found.append(
                (
                    MessageKind.RATING_REMINDER,
                    f"rating:{stage}",
                    evaluation.closes_at,
                    lambda: [
                        r for r in sorted(evaluation.raters)
                        if not self._recorded(rating_id(issue.id, stage, r))
                    ],
                )
            )  # fmt: skip
        return found

    def _recorded(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def _address(
        self,
        council: str,
        recipient: str,
        kind: MessageKind,
        subject_id: UUID,
        key: str,
        number: int | None,
        deadline: datetime | None,
    ) -> None:
        """Address one message (the pending mark first: a crash before the delivery is saved
        leaves a mark without a delivery, dropped later; the log's position has not moved, so
        the message is addressed again)."""
        at = self.now()
        delivery = Delivery.address(
            council, recipient, kind, subject_id, key,
            item_number=number, deadline=deadline, at=at, actor=SYSTEM_ACTOR,
        )  # fmt: skip
        self.notification_store.put_pending(str(delivery.id), at)
        with contextlib.suppress(IntegrityError):  # addressed before: told once, whatever
            self.save(delivery)  # happened since

    # -- sending ------------------------------------------------------------------------------

    def _send_due(self, channels: Sequence[Channel], config: NotifierConfig) -> int:
        store, now, ended = self.notification_store, self.now(), 0
        for did, due in sorted(store.pending().items(), key=lambda item: item[1]):
            if due > now:
                continue
            try:
                delivery = self._get(Delivery, UUID(did), "delivery")
            except NotFoundError:
                store.drop_pending(did)
                continue
            if delivery.status is not DeliveryStatus.PENDING:  # ended before (addressed again)
                store.drop_pending(did)
                continue
            self._attempt(delivery, channels, config)
            if delivery.status is not DeliveryStatus.PENDING:
                store.drop_pending(did)
                ended += 1
        return ended

    def _attempt(
        self, delivery: Delivery, channels: Sequence[Channel], config: NotifierConfig
    ) -> None:
        contact = self.contact_of(delivery.council, delivery.recipient)
        routes = [
            (channel, address)
            for channel in channels
            if contact is not None
            and (address := contact.email if channel.name == "email" else contact.gateway)
        ]
        if not routes:
            delivery.post_on_board(NO_CONTACT, at=self.now(), actor=SYSTEM_ACTOR)
            self._save(delivery)
            return
        message = self._message(delivery, config)
        for channel, address in routes:
            try:
                channel.send(address, message)
                error = None
            except DeliveryError as failed:
                error = failed.reason
            except Exception:  # a defect: in the log for the operator, retried like a failure
                logger.exception("sending delivery %s failed", delivery.id)
                error = CONNECTION_FAILED
            delivery.attempted(channel.name, error, at=self.now(), actor=SYSTEM_ACTOR)
            if error is None:
                break
        exhausted = delivery.failures >= config.attempts * len(routes)
        if delivery.status is DeliveryStatus.PENDING and exhausted:
            delivery.post_on_board(UNDELIVERABLE, at=self.now(), actor=SYSTEM_ACTOR)
        self._save(delivery)
        if delivery.status is DeliveryStatus.PENDING:
            self.notification_store.put_pending(str(delivery.id), self.now() + config.retry_after)

    def _message(self, delivery: Delivery, config: NotifierConfig) -> Message:
        council = self.council_to_read(delivery.council)
        number = delivery.item_number
        title = None
        if number is not None:
            row = self.directory.issue(issue_id(delivery.council, number))
            title = row.title if row is not None else None
        base = config.public_url.rstrip("/")
        about = About(
            kind=delivery.kind,
            council_name=council.name,
            timezone=council.timezone,
            item_number=number,
            item_title=title,
            deadline=delivery.deadline,
            link=f"{base}/app/items/{number}" if number is not None else f"{base}/app/",
        )
        if delivery.kind in (MessageKind.NOTICE, MessageKind.ANSWER):
            notice = self._get(Notice, delivery.subject_id, "notice")
            about = replace(about, notice_title=notice.title)
        if delivery.kind is MessageKind.ANSWER:
            number_of = delivery.key.rpartition("#")[2]
            for e in self.domain_events(delivery.subject_id):
                if isinstance(e, ObjectionAnswered) and str(e.objection_no) == number_of:
                    about = replace(
                        about, reply=e.reply, upheld=e.upheld, objection_no=e.objection_no
                    )
        if delivery.kind is MessageKind.ORDER_REMINDER:
            order = self._get(Order, delivery.subject_id, "rectification order")
            about = replace(
                about,
                order_number=order.number,
                order_what=order.what,
                link=f"{base}/app/orders/{order.number}",
            )
        subject, text = compose(about)
        return Message(delivery.id, delivery.council, delivery.recipient, subject, text, about.link)
