"""Audit: history and past state of any aggregate, the hash chain over the log, export.

Each record of the notification log is chained: ``digest_n = sha256(digest_{n-1} || record_n)``
where a record is its notification id, originator id, version, topic and stored bytes. The
digests are kept beside the log; publishing a checkpoint digest lets anyone holding it prove
later that nothing up to that record was altered, removed or inserted.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
import time
from base64 import b64encode
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent
from pydantic_core import to_jsonable_python

from govflow.application.audit_store import (
    AuditStore,
    Checkpoint,
    InMemoryAuditStore,
    Link,
    iterate_links,
    postgres_audit_store,
    sqlite_audit_store,
)
from govflow.application.directory import Directory
from govflow.application.listing import FEED_LIMIT, ListingCases, is_public_topic
from govflow.application.log_reader import Record, scan
from govflow.application.mapper import upcast
from govflow.application.sealer import log_store_of
from govflow.application.views import HistoryEntry
from govflow.domain import ballot as b
from govflow.domain.ballot import Ballot, SecretChoice
from govflow.domain.base import DomainEvent, event_class
from govflow.domain.errors import NotFoundError
from govflow.domain.paper import PaperBatchEntered
from govflow.transparency.records import commitment

GENESIS = "0" * 64
# The topics whose records may hold a choice the directory withholds (open or secret votes).
CHOICE_TOPICS = frozenset(
    {
        b.BallotCast.TOPIC,
        b.ProxyBallotCast.TOPIC,
        b.PaperBallotCast.TOPIC,
        b.SecretChoiceCast.TOPIC,
        PaperBatchEntered.TOPIC,
    }
)
_BATCH = 10_000
Progress = Callable[[int], None]


def chain_digest(previous: str, record: Record) -> str:
    """``sha256(previous || "id|originator-hex|version|topic|" || stored bytes)``."""
    return _link_digest(bytes.fromhex(previous), record).hex()


def _link_digest(previous: bytes, record: Record) -> bytes:
    h = hashlib.sha256(previous)
    h.update(f"{record.id}|{record.originator}|{record.version}|{record.topic}|".encode())
    h.update(record.state)
    return h.digest()


@dataclass(frozen=True)
class Problem:
    kind: str  # altered | removed | inserted | checkpoint_mismatch
    notification_id: int
    position: int
    detail: str


@dataclass
class VerifyReport:
    checked: int = 0
    unsealed: int = 0
    checkpoints_checked: int = 0
    published_checked: int = 0  # digests held outside the database the chain was held to
    problem: Problem | None = None
    head: Link | None = field(default=None)

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class ShownCheckpoint:
    checkpoint: Checkpoint
    published: str  # the digest first published for its position
    rewritten: bool  # the store's digest is no longer the published one


# What a verification of the store against itself proves, said wherever its answer is shown.
PROVES = (
    "self-consistency only: the log in the database matches the hash chain and checkpoints "
    "in the same database, and every digest govflow published before (kept in a file outside "
    "the database). Someone who can write the database could rewrite an event and recompute "
    "the chain and checkpoints; only a digest you hold yourself proves the log unchanged: "
    "govflow audit verify --expect POSITION:DIGEST."
)
VERIFY_MAX_AGE = 60.0

SNAPSHOT_EVERY = 500
SNAPSHOT_AGGREGATES = 64


class AuditCases(ListingCases):
    """Audit use cases.

    Past states come from snapshots kept in this process: while replaying an aggregate for
    ``get_state_as_of`` every ``SNAPSHOT_EVERY``-th version is kept (pickled, with its
    timestamp), so a later query starts from the nearest one. They are derived from the events
    alone (the log is append-only, so they never go stale) and never stored.
    """

    _audit_store: AuditStore | None = None
    _verified: tuple[float, VerifyReport, datetime] | None = None
    _snapshot_cache: OrderedDict[UUID, list[tuple[int, datetime, bytes]]] | None = None

    def _project_until(self, aggregate_id: UUID, at: datetime) -> Any:
        if self._snapshot_cache is None:
            self._snapshot_cache = OrderedDict()
        cache = self._snapshot_cache
        snapshots = cache.get(aggregate_id, [])
        aggregate: Any = None
        after = 0
        for version, timestamp, blob in reversed(snapshots):
            if timestamp <= at:
                aggregate, after = pickle.loads(blob), version
                break
        known = {version for version, _, _ in snapshots}
        taken: list[tuple[int, datetime, bytes]] = []
        for event in self.events.get(aggregate_id, gt=after or None):
            assert isinstance(event, DomainEvent)
            if event.timestamp > at:
                break
            aggregate = event.mutate(aggregate)
            version = event.originator_version
            if version % SNAPSHOT_EVERY == 0 and version not in known:
                taken.append((version, event.timestamp, pickle.dumps(aggregate)))
        if taken:
            cache[aggregate_id] = sorted(snapshots + taken)
        if aggregate_id in cache:
            cache.move_to_end(aggregate_id)
            while len(cache) > SNAPSHOT_AGGREGATES:
                cache.popitem(last=False)
        return aggregate

    @property
    def audit_store(self) -> AuditStore:
        if self._audit_store is None:
            self._audit_store = self._construct_audit_store()
        return self._audit_store

    def _construct_audit_store(self) -> AuditStore:
        in_memory: Callable[[], AuditStore] = InMemoryAuditStore
        return self.side_store(sqlite_audit_store, postgres_audit_store, in_memory)

    # -- history and past state --------------------------------------------------------------

    def get_history(
        self, aggregate_id: UUID, *, after: int = 0, limit: int | None = None
    ) -> list[HistoryEntry]:
        """The events of an aggregate in order (after version ``after``, at most ``limit``):
        when, who, what."""
        stored = self.recorder.select_events(aggregate_id, gt=after or None, limit=limit)
        directory = self.directory
        entries = [self._entry(s) for s in stored]
        for entry in entries:
            directory.disclose(entry.topic, entry.data)
        if not entries and not after:
            raise NotFoundError("no such aggregate", id=str(aggregate_id))
        return entries

    def _entry(self, stored: StoredEvent) -> HistoryEntry:
        """A history line straight from the stored payload (upcast, but not re-validated:
        a page of thousands of events is read in milliseconds)."""
        state = orjson.loads(self.payload(stored.state, stored.topic))
        upcast(event_class(stored.topic), state)
        timestamp = datetime.fromisoformat(state.pop("timestamp"))
        actor = state.pop("actor")
        return HistoryEntry.model_construct(
            version=stored.originator_version,
            topic=stored.topic,
            timestamp=timestamp,
            actor=actor,
            data=state,
        )

    def get_state_as_of(self, aggregate_id: UUID, at: datetime) -> dict[str, Any]:
        """The aggregate's state made of the events recorded up to ``at`` (inclusive)."""
        # The longest prefix of the history recorded by ``at``: a state the aggregate really
        # had. It starts from the latest snapshot taken by ``at`` and decodes nothing later.
        aggregate = self._project_until(aggregate_id, at)
        if aggregate is None:
            raise NotFoundError("the aggregate did not exist at that time", id=str(aggregate_id))
        state = {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}
        state.pop("applied_steps", None)
        jsonable: dict[str, Any] = to_jsonable_python(state)
        if isinstance(aggregate, Ballot | SecretChoice):
            self.directory.disclose_ballot(jsonable)
        return jsonable

    # -- the hash chain ---------------------------------------------------------------------

    def _notifications(self, after: int) -> Iterator[Record]:
        return scan(self.log_reader, after, batch=_BATCH)

    def extend_audit_chain(self, progress: Progress | None = None) -> Link | None:
        """Seal every record not yet in the chain; returns the new head."""
        head = self.audit_store.head()
        position, digest = (head.position, head.digest) if head else (0, GENESIS)
        after = head.notification_id if head else 0
        pending: list[Link] = []
        for notification in self._notifications(after):
            digest = chain_digest(digest, notification)
            position += 1
            pending.append(Link(position, notification.id, digest))
            if len(pending) >= _BATCH:
                self.audit_store.append(pending)
                if progress:
                    progress(len(pending))
                pending = []
        if pending:
            self.audit_store.append(pending)
            if progress:
                progress(len(pending))
        return self.audit_store.head()

    def record_checkpoint(self) -> Checkpoint:
        """Seal the log and record a checkpoint of its head: the digest to publish."""
        head = self.extend_audit_chain()
        if head is None:
            raise NotFoundError("the log is empty: nothing to checkpoint")
        checkpoint = Checkpoint(head.position, head.notification_id, head.digest, self.now())
        self.audit_store.add_checkpoint(checkpoint)
        self._publish(checkpoint, "checkpoint")
        return checkpoint

    def list_checkpoints(self) -> list[Checkpoint]:
        return self.audit_store.checkpoints()

    def _publish(self, checkpoint: Checkpoint, source: str) -> None:
        if self.published is not None:
            self.published.record(
                checkpoint.position,
                checkpoint.digest,
                checkpoint.notification_id,
                checkpoint.recorded_at,
                source,
            )

    def show_checkpoints(self, source: str = "board") -> list[ShownCheckpoint]:
        """The checkpoints to show the public, each kept among the published digests as it is
        shown (the board's own record), and flagged where the store's digest is no longer the
        one published before for that position."""
        checkpoints = self.list_checkpoints()
        held = self.published.held() if self.published is not None else {}
        for checkpoint in checkpoints:
            if checkpoint.position not in held:  # first shown now: keep it as handed out
                self._publish(checkpoint, source)
                held[checkpoint.position] = checkpoint.digest
        return [
            ShownCheckpoint(c, held[c.position], held[c.position] != c.digest) for c in checkpoints
        ]

    def verify_cached(self, max_age: float = VERIFY_MAX_AGE) -> tuple[VerifyReport, datetime]:
        """:meth:`verify_audit_chain` at most once per ``max_age`` seconds, shared by every
        caller: a whole-log check costs seconds, and anyone may ask for it. While one caller
        recomputes, the others get the previous report at once (only the very first report is
        waited for), so callers never pile up on it. Returns the report and when it was made."""
        lock: threading.Lock = self.__dict__.setdefault("_verify_lock", threading.Lock())
        cached = self._verified
        if cached is not None and time.monotonic() - cached[0] < max_age:
            return cached[1], cached[2]
        if cached is not None and not lock.acquire(blocking=False):
            return cached[1], cached[2]  # being recomputed: the last report meanwhile
        if cached is None:
            lock.acquire()
        try:
            cached = self._verified
            if cached is not None and time.monotonic() - cached[0] < max_age:
                return cached[1], cached[2]
            report = self.verify_audit_chain()
            self._verified = (time.monotonic(), report, self.now())
            return report, self._verified[2]
        finally:
            lock.release()

    def verify_audit_chain(
        self, expected: dict[int, str] | None = None, progress: Progress | None = None
    ) -> VerifyReport:
        """Recompute the chain from the log and compare it with the stored one.

        ``expected`` maps positions to digests held outside the database (published
        checkpoints): they catch a rewrite of the stored chain itself.
        """
        report = VerifyReport(head=self.audit_store.head())
        wanted = {c.position: c.digest for c in self.audit_store.checkpoints()}
        # digests held outside the database: given, and every one published before
        outside = {**(self.published.held() if self.published else {}), **(expected or {})}
        report.published_checked = len(outside)
        links = iterate_links(self.audit_store)
        digest = GENESIS
        raw = bytes.fromhex(GENESIS)
        link = next(links, None)
        checkpoints = wanted.keys() | outside.keys()
        for notification in self._notifications(0):
            if link is None:
                report.unsealed += 1
                continue
            if notification.id < link.notification_id:
                report.problem = Problem(
                    "inserted",
                    notification.id,
                    link.position,
                    "a record that the chain never sealed",
                )
                return report
            while link is not None and link.notification_id < notification.id:
                report.problem = Problem(
                    "removed",
                    link.notification_id,
                    link.position,
                    "a sealed record is missing from the log",
                )
                return report
            raw = _link_digest(raw, notification)
            digest = raw.hex()
            if digest != link.digest:
                report.problem = Problem(
                    "altered",
                    notification.id,
                    link.position,
                    "the record differs from what was sealed",
                )
                return report
            for source in (wanted, outside) if link.position in checkpoints else ():
                held = source.pop(link.position, None)
                if held is not None:
                    report.checkpoints_checked += 1
                    if held != digest:
                        report.problem = Problem(
                            "checkpoint_mismatch",
                            notification.id,
                            link.position,
                            "the chain was rewritten since this checkpoint",
                        )
                        return report
            report.checked += 1
            if progress and report.checked % _BATCH == 0:
                progress(_BATCH)
            link = next(links, None)
        if link is not None:
            report.problem = Problem(
                "removed",
                link.notification_id,
                link.position,
                "a sealed record is missing from the log",
            )
        elif outside:
            position = min(outside)
            report.problem = Problem(
                "checkpoint_mismatch",
                0,
                position,
                "a published checkpoint lies beyond the sealed chain",
            )
        return report

    def export_log(
        self, out: IO[bytes], progress: Progress | None = None, public: bool = False
    ) -> int:
        """Write the whole log as JSON Lines (``public``: the verifiable export, as the feed
        shows it); returns how many records were written."""
        count = 0
        for line in self.export_lines(public):
            out.write(line)
            count += 1
            if progress and count % _BATCH == 0:
                progress(_BATCH)
        return count

    def export_lines(self, public: bool = False, council: str | None = None) -> Iterator[bytes]:
        """The whole log, one JSON line per record, in log order. Each line holds what the
        verifiable log's leaf is made of (see :mod:`govflow.transparency.records`): the
        record's ``salt`` (hex, once it is sealed) and ``data``, the stored payload byte for
        byte, or, where the store keeps other bytes (encrypted), they are given in ``stored``
        (base64) before ``data``.

        The operator's export (``public=False``) holds everything, private records and every
        choice included. The verifiable export (``public=True``) shows a record the
        events feed shows (salt and data) and gives only the ``commitment`` (hex) of one it
        withholds: private topics, and a ballot (or paper batch) whose choice the directory
        withholds now (an open vote's, a secret vote's); every leaf can be recomputed from it
        alone, so it verifies whole. With ``council``, only that council's records are shown
        (what its events feed shows its members), every other one by its commitment."""
        if council is not None:
            self.council_to_read(council)
            public = True
        store = log_store_of(self)
        after = 0
        while True:
            records = self.log_reader.records(after, _BATCH)
            if not records:
                return
            salts = store.salts(after, records[-1].id)
            directory = self.directory if public else None
            for record in records:
                yield self._export_line(record, salts.get(record.id), directory, council)
            after = records[-1].id

    def export_line(self, notification_id: int, council: str | None = None) -> bytes:
        """One record's line of the verifiable export (see ``export_lines``)."""
        if council is not None:
            self.council_to_read(council)
        records = self.log_reader.records(notification_id - 1, 1)
        if not records or records[0].id != notification_id:
            raise NotFoundError("no such record", notification_id=notification_id)
        record = records[0]
        salts = log_store_of(self).salts(notification_id - 1, notification_id)
        return self._export_line(record, salts.get(record.id), self.directory, council)

    def _export_line(
        self,
        record: Record,
        salt: bytes | None,
        shown: Directory | None,
        council: str | None = None,
    ) -> bytes:
        line: dict[str, Any] = {
            "notification_id": record.id,
            "originator_id": str(UUID(record.originator)),
            "originator_version": record.version,
            "topic": record.topic,
        }
        if shown is not None and not is_public_topic(record.topic):
            if salt is not None:
                line["commitment"] = commitment(salt, record.state).hex()
            return orjson.dumps(line) + b"\n"
        data = self.payload(record.state, record.topic)
        if shown is not None and _withheld(record, data, shown, council):
            if salt is not None:
                line["commitment"] = commitment(salt, record.state).hex()
            return orjson.dumps(line) + b"\n"
        if data != record.state:
            line["stored"] = b64encode(record.state).decode()
        if salt is not None:
            line["salt"] = salt.hex()
        line["data"] = orjson.Fragment(data)
        return orjson.dumps(line) + b"\n"

    def export_council_lines(self, code: str) -> Iterator[bytes]:
        """One council's public events, one JSON line each, in log order, as its feed shows
        them (no private record, no choice of an open or secret vote)."""
        position = 0
        while True:
            events, reached = self.read_council_feed(code, position, FEED_LIMIT)
            for event in events:
                yield (
                    orjson.dumps(
                        {
                            "notification_id": event.id,
                            "originator_id": str(event.aggregate_id),
                            "originator_version": event.version,
                            "topic": event.topic,
                            "timestamp": event.timestamp.isoformat(),
                            "actor": event.actor,
                            "data": event.data,
                        },
                        default=str,
                    )
                    + b"\n"
                )
            if reached == position:  # the log's head
                return
            position = reached


def _withheld(record: Record, data: bytes, directory: Directory, council: str | None) -> bool:
    """Whether this public-topic record is withheld: of another council than ``council``
    (when given), or a ballot (or paper batch) whose choice the directory withholds now, as
    the feed would show it."""
    if council is None and record.topic not in CHOICE_TOPICS:
        return False
    state: dict[str, Any] = orjson.loads(data)
    upcast(event_class(record.topic), state)
    oid = UUID(hex=record.originator)
    if council is not None and directory.council_of_aggregate(oid, state) != council:
        return True
    return record.topic in CHOICE_TOPICS and "choice_withheld" in directory.disclose(
        record.topic, state
    )
