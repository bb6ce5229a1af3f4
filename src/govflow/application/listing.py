"""Use cases: lists (councils, issues, meetings, spending, notices) and the events feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from govflow.application.core import GovernanceCore
from govflow.application.directory import (
    CouncilRow,
    Directory,
    IssueRow,
    MeetingRow,
    NoticeRow,
    SpendingRow,
)
from govflow.application.directory_store import (
    memory_directory_store,
    postgres_directory_store,
    sqlite_directory_store,
)
from govflow.application.log_reader import Record
from govflow.application.mapper import decode_event, upcast
from govflow.application.views import FeedEvent
from govflow.domain.base import DomainEvent, event_class
from govflow.domain.errors import InvalidInputError

# Never published to integrations or the board: token digests, remembered API answers and
# webhook secrets.
# Contacts and deliveries name who has which channel and who was told: the clerk and auditors
# see them in the app (送达记录), the public feed and webhooks never.
PRIVATE_TOPIC_PREFIXES = (
    "govflow.access.",
    "govflow.idempotency.",
    "govflow.webhook.",
    "govflow.contact.",
    "govflow.delivery.",
)
FEED_LIMIT = 1000
FEED_WINDOW = 20_000  # records of the whole log one council feed page may look at


def is_public_topic(topic: str) -> bool:
    return not topic.startswith(PRIVATE_TOPIC_PREFIXES)


class ListingCases(GovernanceCore):
    _directory: Directory | None = None

    def _decode(self, record: Record) -> DomainEvent:
        event: DomainEvent = decode_event(
            record.topic,
            UUID(hex=record.originator),
            record.version,
            self.payload(record.state, record.topic),
        )
        return event

    @property
    def directory(self) -> Directory:
        """The lists, caught up with the log."""
        if self._directory is None:
            store = self.side_store(
                sqlite_directory_store, postgres_directory_store, memory_directory_store
            )
            self._directory = Directory(
                self.log_reader, self._decode, store, cipher=self.mapper.cipher
            )
        self._directory.refresh()
        return self._directory

    def list_councils(self) -> list[CouncilRow]:
        return sorted(self.directory.rows(CouncilRow), key=lambda r: r.code)

    def list_issues(
        self,
        code: str,
        *,
        stage: str | None = None,
        body: str | None = None,
        open_only: bool = False,
        since: datetime | None = None,
        until: datetime | None = None,
        grid: str | None = None,
    ) -> list[IssueRow]:
        """The council's issues, newest first, filtered by stage, body, grid and proposal
        date."""
        self.council_to_read(code)
        rows = [
            r
            for r in self.directory.rows(IssueRow, code)
            if (stage is None or r.stage == stage)
            and (body is None or r.body == body)
            and (not open_only or r.outcome is None)
            and (since is None or r.proposed_at >= since)
            and (until is None or r.proposed_at < until)
            and (grid is None or r.grid == grid)
        ]
        return sorted(rows, key=lambda r: r.number, reverse=True)

    def list_meetings(self, code: str) -> list[MeetingRow]:
        self.council_to_read(code)
        rows = self.directory.rows(MeetingRow, code)
        return sorted(rows, key=lambda r: r.number, reverse=True)

    def list_spending(self, code: str) -> list[SpendingRow]:
        self.council_to_read(code)
        rows = self.directory.rows(SpendingRow, code)
        return sorted(rows, key=lambda r: r.number, reverse=True)

    def list_notices(
        self,
        code: str | None = None,
        *,
        current_at: datetime | None = None,
        limit: int | None = None,
    ) -> list[NoticeRow]:
        """Notices newest first; with ``current_at`` only those on display at that time; with
        ``limit`` no more than that many (a page looks no further than it shows)."""
        if code is not None:
            self.council_to_read(code)
        rows: list[NoticeRow] = []
        for r in self.directory.paged(NoticeRow, code):
            if current_at is None or r.showing(current_at):
                rows.append(r)
                if limit is not None and len(rows) >= limit:
                    break
        return rows

    def list_notices_of(self, code: str, subject_id: UUID) -> list[NoticeRow]:
        """The notices about one item, meeting or spending of the council, newest first."""
        self.council_to_read(code)
        rows = self.directory.rows(NoticeRow, code, ref=subject_id.hex, newest_first=True)
        return rows

    def council_of(self, aggregate_id: UUID) -> str | None:
        """The council an aggregate belongs to, as recorded where it was created (None for
        none, if it does not exist, or if it is private: tokens, webhooks, remembered
        answers are never served as history)."""
        directory = self.directory
        for stored in self.recorder.select_events(aggregate_id, limit=1):
            if not is_public_topic(stored.topic):
                return None
            data = orjson.loads(self.payload(stored.state, stored.topic))
            return directory.council_of_aggregate(aggregate_id, data)
        return None

    def read_feed(
        self, after: int = 0, limit: int = 100, topics: tuple[str, ...] = ()
    ) -> list[FeedEvent]:
        """Public events after the cursor ``after`` (a notification id), in log order."""
        return self.scan_feed(after, limit, topics)[0]

    def scan_feed(
        self,
        after: int = 0,
        limit: int = 100,
        topics: tuple[str, ...] = (),
        *,
        window: int | None = None,
    ) -> tuple[list[FeedEvent], int]:
        """Public events after ``after`` and the position read up to: past every record
        looked at, published or not, so a cursor never stalls on private records. With
        ``window`` at most that many notification ids are looked at (a bounded answer)."""
        if not 0 <= after < 2**63 or not 1 <= limit <= FEED_LIMIT:
            raise InvalidInputError(
                f"after must be a notification id (>= 0) and limit between 1 and {FEED_LIMIT}"
            )
        for topic in topics:
            try:
                event_class(topic)  # unknown topics are refused, not silently empty
            except LookupError:
                raise InvalidInputError(f"unknown topic {topic!r}") from None
            if not is_public_topic(topic):
                raise InvalidInputError(f"{topic} is not published")
        head = self.recorder.max_notification_id() or 0
        stop = head if window is None else min(head, after + window)
        directory = self.directory
        events: list[FeedEvent] = []
        position = after
        while len(events) < limit and position < stop:
            records = self.log_reader.records(position, FEED_LIMIT, stop=stop, topics=topics)
            for record in records:
                if is_public_topic(record.topic):
                    events.append(self._feed_event(record, directory))
                position = record.id
                if len(events) == limit:
                    break
            if len(records) < FEED_LIMIT:
                position = stop if len(events) < limit else position
                break
        return events, position

    def read_council_feed(
        self, code: str, after: int = 0, limit: int = 100, topics: tuple[str, ...] = ()
    ) -> tuple[list[FeedEvent], int]:
        """The council's public events after ``after``, and the cursor to continue from.
        One call looks at most ``FEED_WINDOW`` records of the whole log: a council with few
        events in a busy log gets short (even empty) pages whose cursor still advances."""
        self.council_to_read(code)
        events: list[FeedEvent] = []
        position, end = after, after + FEED_WINDOW
        while position < end:
            batch, reached = self.scan_feed(position, FEED_LIMIT, topics, window=end - position)
            directory = self.directory  # caught up past the batch just read
            directory.prime([e.aggregate_id.hex for e in batch])
            for event in batch:
                position = event.id
                if directory.council_of(event) == code:
                    events.append(event)
                    if len(events) == limit:
                        return events, position
            position = reached
            if len(batch) < FEED_LIMIT:  # the window's end or the log's head
                break
        return events, position

    def _feed_event(self, record: Record, directory: Directory) -> FeedEvent:
        state: dict[str, Any] = orjson.loads(self.payload(record.state, record.topic))
        upcast(event_class(record.topic), state)
        directory.disclose(record.topic, state)
        return FeedEvent(
            id=record.id,
            topic=record.topic,
            aggregate_id=UUID(hex=record.originator),
            version=record.version,
            timestamp=datetime.fromisoformat(state.pop("timestamp")),
            actor=state.pop("actor"),
            data=state,
        )
