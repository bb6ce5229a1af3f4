"""The directory: lists of councils, issues, meetings, spending and notices, for the board,
the list endpoints and the events feed.

It is a projection of the notification log kept in the event store's database
(:mod:`govflow.application.directory_store`): rows and the position they are caught up to are
written in one transaction, so a process starts without replaying the log and any number of
processes serve the same lists. Each read first catches up on the records appended since the
stored position (only the topics the sections need), so lists never lag behind a write that
has returned; whichever process reads first does it, under the tracking row's lock.

Sections. Each list is a :class:`Section` (:mod:`govflow.application.directory_rows`): the
topics it follows and how an event changes its rows (:class:`Row` subclasses: a kind, a key,
the council, optionally a reference, active or not). The lists are in
:mod:`govflow.application.directory_sections`. To add a list, write a section (its rows and
``apply``), add it to ``SECTIONS`` and give it a ``VERSION``: a changed set of sections (or
a bumped version) rebuilds every row from the start of the log on the next read. Read rows
with :meth:`Directory.row` and :meth:`Directory.rows`. The domain never sees rows: they are
what lists show; detail pages load the aggregate itself.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from uuid import UUID

import structlog

from govflow.application.directory_rows import Codec, R, Row, Rows, Section, vote_key
from govflow.application.directory_sections import (
    SECTIONS,
    AnnualRatingRow,
    CouncilIdRow,
    CouncilRow,
    FundDrawsRow,
    FundRow,
    InspectionRow,
    IssueRow,
    MeetingRow,
    NoticeRow,
    OrderRow,
    SpendingRow,
    VoteRow,
    WebhookRow,
)
from govflow.application.directory_store import DirectoryStore, Query, Writer
from govflow.application.log_reader import LogReader, Record
from govflow.application.views import FeedEvent
from govflow.domain import ballot as b
from govflow.domain.base import DomainEvent
from govflow.domain.paper import PaperBatchEntered

__all__ = [
    "SECTIONS",
    "AnnualRatingRow",
    "CouncilIdRow",
    "CouncilRow",
    "Directory",
    "FundDrawsRow",
    "FundRow",
    "InspectionRow",
    "IssueRow",
    "MeetingRow",
    "NoticeRow",
    "OrderRow",
    "Row",
    "Rows",
    "Section",
    "SpendingRow",
    "VoteRow",
    "WebhookRow",
    "vote_key",
]

log = structlog.get_logger(__name__)

# the records that hold a choice: withheld while a vote is open, and always in a secret vote
_CHOICE_TOPICS = frozenset(
    {
        b.BallotCast.TOPIC,
        b.ProxyBallotCast.TOPIC,
        b.PaperBallotCast.TOPIC,
        b.SecretChoiceCast.TOPIC,
    }
)

BATCH = 5_000  # records applied per transaction when catching up


class _Unread:
    """Not read yet (a vote's row may be read as None: no such vote)."""


_UNREAD = _Unread()


# rows whose key is not the id of an aggregate the council owns (for council_of)
_NOT_OWNED = frozenset({VoteRow.KIND, WebhookRow.KIND, CouncilRow.KIND})


def _version(sections: Sequence[Section]) -> str:
    names = ",".join(sorted(f"{sec.NAME}@{sec.VERSION}" for sec in sections))
    return hashlib.sha256(names.encode()).hexdigest()[:16]


class Directory:
    """Lists kept in the event store's database, caught up from the log on each read."""

    def __init__(
        self,
        reader: LogReader,
        decode: Callable[[Record], DomainEvent],
        store: DirectoryStore,
        *,
        cipher: Any | None = None,
        sections: Sequence[Section] = SECTIONS,
    ) -> None:
        self._reader, self._decode, self._store = reader, decode, store
        self._codec = Codec(cipher)
        self._sections = tuple(sections)
        self._version = _version(self._sections)
        self._by_topic: dict[str, list[Section]] = {}
        for section in self._sections:
            for topic in section.TOPICS:
                self._by_topic.setdefault(topic, []).append(section)
        self._topics = tuple(self._by_topic)
        self._kinds = {cls.KIND: cls for sec in self._sections for cls in sec.ROWS}
        self._lock = threading.Lock()
        self.position = 0  # caught up at least to here (in this process's knowledge)
        self._councils: OrderedDict[str, str] = (
            OrderedDict()
        )  # aggregate -> council (never changes)
        self._absent: set[str] = set()  # keys of no row, at self.position
        self._votes: dict[str, VoteRow | _Unread | None] = {}  # read at self.position

    # catching up

    def refresh(self) -> int:
        """Catch up with the log; returns the position reached. Nothing new costs one short
        query; a position another process reached is taken over, not scanned again."""
        last = self._reader.last_id()
        if last <= self.position:
            return self.position
        with self._lock:
            stored, version = self._store.tracking()
            if stored < last or version != self._version:
                stored = self._catch_up(last)
            self._advanced(stored)
            return self.position

    def _advanced(self, position: int) -> None:
        if position > self.position:
            self.position = position
            self._votes.clear()
            self._absent.clear()

    def _catch_up(self, last: int) -> int:
        while True:
            with self._store.writing() as writer:
                if writer.version != self._version:
                    log.info("directory.rebuild", sections=[sec.NAME for sec in self._sections])
                    writer.reset(self._version)
                if writer.position >= last:
                    return writer.position
                self._apply_batch(writer, last)
                reached = writer.position
            if reached >= last:
                return reached

    def _apply_batch(self, writer: Writer, last: int) -> None:
        records = self._reader.records(writer.position, BATCH, stop=last, topics=self._topics)
        if not records:
            writer.advance(last)
            return
        rows = Rows(writer, self._codec, self._kinds)
        rows.prefetch([r.originator for r in records])
        for record in records:
            rows.seq = record.id
            event = self._decode(record)
            for section in self._by_topic.get(record.topic, ()):
                section.apply(event, rows)
        writer.put(rows.changed())
        writer.advance(records[-1].id if len(records) == BATCH else last)

    # reading

    def row(self, cls: type[R], key: str) -> R | None:
        stored = self._store.get(cls.KIND, key)
        return self._codec.decode(cls, stored) if stored is not None else None

    def rows(
        self,
        cls: type[R],
        council: str | None = None,
        *,
        ref: str | None = None,
        active: bool | None = None,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[R]:
        """Rows of one kind (of a council, with a reference, active or not), in the order
        they were created (newest first if asked)."""
        query = Query(cls.KIND, council, ref, active, newest_first, None, limit)
        return [self._codec.decode(cls, r) for r in self._store.select(query)]

    def paged(self, cls: type[R], council: str | None = None, *, page: int = 200) -> Iterator[R]:
        """Rows of one kind, newest first, read a page at a time."""
        before: int | None = None
        while True:
            query = Query(cls.KIND, council, newest_first=True, before_seq=before, limit=page)
            batch = self._store.select(query)
            for stored in batch:
                yield self._codec.decode(cls, stored)
            if len(batch) < page:
                return
            before = batch[-1].seq

    def council(self, code: str) -> CouncilRow | None:
        return self.row(CouncilRow, code)

    def issue(self, oid: UUID) -> IssueRow | None:
        return self.row(IssueRow, oid.hex)

    def meeting(self, oid: UUID) -> MeetingRow | None:
        return self.row(MeetingRow, oid.hex)

    def spending(self, oid: UUID) -> SpendingRow | None:
        return self.row(SpendingRow, oid.hex)

    def notice(self, oid: UUID) -> NoticeRow | None:
        return self.row(NoticeRow, oid.hex)

    def webhooks(self) -> dict[UUID, str]:
        """Every subscription and its council."""
        return {row.id: row.council for row in self.rows(WebhookRow)}

    def council_of(self, event: FeedEvent) -> str | None:
        """The council an event of the feed belongs to (None if it belongs to none)."""
        return self.council_of_aggregate(event.aggregate_id, event.data)

    def council_of_aggregate(self, oid: UUID, data: dict[str, object]) -> str | None:
        """The council of aggregate ``oid``, whose (first) event carries ``data``."""
        code = self._council_by_key(oid.hex)
        issue = data.get("issue_id")  # ballots and ratings name their issue
        if code is None and isinstance(issue, str):
            code = self._council_by_key(UUID(issue).hex)
            if code is not None:
                self._remember(oid.hex, code)
        # Nothing else is believed: an event's own ``council`` field is what its author
        # claimed, not where the aggregate was created.
        return code

    def prime(self, keys: Sequence[str]) -> None:
        """Look up the councils of these aggregates (hex ids) in one read, for a batch."""
        wanted = {k for k in keys if k not in self._councils and k not in self._absent}
        if not wanted:
            return
        for stored in self._store.by_keys(wanted):
            if stored.kind not in _NOT_OWNED:
                self._remember(stored.key, stored.council)
        if len(self._absent) > 100_000:
            self._absent.clear()
        self._absent.update(k for k in wanted if k not in self._councils)

    def _council_by_key(self, key: str) -> str | None:
        if (code := self._councils.get(key)) is not None:
            return code
        if key not in self._absent:
            self.prime([key])
        return self._councils.get(key)

    def _remember(self, key: str, code: str) -> None:
        self._councils[key] = code
        if len(self._councils) > 100_000:
            self._councils.popitem(last=False)

    def choice_withheld(self, issue: UUID, ballot_key: str) -> str | None:
        """Why a ballot's choice may not be shown now (None: it may, a named vote closed)."""
        key = vote_key(issue, ballot_key)
        vote = self._votes.get(key, _UNREAD)  # one read (other threads may clear the memo)
        if vote is _UNREAD:
            if len(self._votes) > 10_000:
                self._votes.clear()
            vote = self._votes[key] = self.row(VoteRow, key)
        assert not isinstance(vote, _Unread)
        if vote is None or vote.open:
            return "voting_open"
        return "secret_ballot" if vote.secret else None

    def disclose(self, topic: str, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` (an event's or a ballot's state) as it may be shown: while a vote is open
        no choice is shown, and a secret vote never shows one (only who took part: its choices,
        recorded apart, are withheld too, or their place in the log would pair them again)."""
        if topic == PaperBatchEntered.TOPIC:  # a batch of paper ballots: each entry's choice
            withheld = self.choice_withheld(UUID(str(data["issue_id"])), str(data["ballot_key"]))
            if withheld is not None:
                entries = data.get("entries") or []
                data["entries"] = [{**entry, "choice": None} for entry in entries]
                data["choice_withheld"] = withheld
            return data
        return self.disclose_ballot(data) if topic in _CHOICE_TOPICS else data

    def disclose_ballot(self, data: dict[str, Any]) -> dict[str, Any]:
        """A ballot's event data or state, its choice withheld unless it may be shown."""
        withheld = self.choice_withheld(UUID(str(data["issue_id"])), str(data["ballot_key"]))
        if withheld is not None:
            data["choice"], data["choice_withheld"] = None, withheld
        return data
