"""The eventsourcing Application every use case builds on: persistence, clock, loading."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Mapper

from govflow.application.log_reader import (
    LogReader,
    PostgresLogReader,
    RecorderLogReader,
    SqliteLogReader,
)
from govflow.application.mapper import PydanticMapper
from govflow.application.published import PublishedDigests
from govflow.domain.base import Aggregate, DomainEvent
from govflow.domain.calendar import HolidayCalendar
from govflow.domain.council import Council
from govflow.domain.errors import AlreadyExistsError, ConcurrentChangeError, NotFoundError
from govflow.domain.ids import council_id, issue_id
from govflow.domain.issue import Issue, OpenVoting

Clock = Callable[[], datetime]
_acting_at: ContextVar[datetime | None] = ContextVar("govflow_acting_at", default=None)
# Within :meth:`GovernanceCore.reading_once`: what was read for reading only, by id.
_read_once: ContextVar[dict[Any, Any] | None] = ContextVar("govflow_read_once", default=None)
A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
READ_CACHE_SIZE = 256


def system_clock() -> datetime:
    return datetime.now(UTC)


class GovernanceCore(Application[UUID]):
    """Persistence and helpers shared by the use-case mixins of :class:`Governance`."""

    name = "Governance"
    timezone = "Asia/Shanghai"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Clock = system_clock,
        holiday_calendar: HolidayCalendar | None = None,
        token_key: str | None = None,
        published_digests: Path | None = None,
    ):
        super().__init__(env)
        # Every checkpoint digest handed out, kept outside the store (see published.py).
        self.published = PublishedDigests(published_digests) if published_digests else None
        self.clock = clock
        # Tokens are stored as HMAC-SHA256 under this key when set (GOVFLOW_TOKEN_KEY).
        self.token_key = token_key.encode() if token_key else None
        self.holiday_calendar = holiday_calendar or HolidayCalendar()
        # Frozen rolls never change once voting opened, so ballots read them from a cache
        # keyed by issue with the version read; a newer event on the issue invalidates it.
        self._open_votings: dict[UUID, tuple[int, OpenVoting]] = {}
        self._votings_lock = threading.Lock()
        self._ballot_counts: dict[tuple[UUID, str], int] = {}
        self._log_reader: LogReader | None = None
        self._read_cache: dict[UUID, Council] = {}

    def construct_mapper(self) -> Mapper[UUID]:
        return PydanticMapper(compressor=self.factory.compressor(), cipher=self.factory.cipher())

    def now(self) -> datetime:
        """The time of the command being handled: the workflow's time inside ``acting_at``."""
        return _acting_at.get() or self.clock()

    @staticmethod
    @contextmanager
    def acting_at(at: datetime | None) -> Iterator[None]:
        """Record events of this thread's commands at ``at`` (a workflow's durable time)."""
        token = _acting_at.set(at)
        try:
            yield
        finally:
            _acting_at.reset(token)

    def _get(self, kind: type[A], aggregate_id: UUID, what: str) -> A:
        try:
            aggregate: Any = self.repository.get(aggregate_id, projector_func=project)
        except AggregateNotFoundError:
            raise NotFoundError(f"{what} not found", id=str(aggregate_id)) from None
        if not isinstance(aggregate, kind):
            raise NotFoundError(f"{what} not found", id=str(aggregate_id))
        return aggregate

    @property
    def store_kind(self) -> str:
        """``sqlite``, ``postgres`` or ``memory``: where the events are kept."""
        module = type(self.factory).__module__
        for kind in ("sqlite", "postgres"):
            if module.startswith(f"eventsourcing.{kind}"):
                return kind
        return "memory"

    def side_store(
        self,
        sqlite: Callable[[str], T],
        postgres: Callable[[str], T],
        memory: Callable[[], T],
    ) -> T:
        """A store kept beside the events, in the same database: built from the SQLite path,
        the PostgreSQL connection string, or in memory."""
        if self.store_kind == "sqlite":
            return sqlite(self.env.get("SQLITE_DBNAME") or ":memory:")
        if self.store_kind == "postgres":
            return postgres(postgres_conninfo(self.env.get))
        return memory()

    @property
    def log_reader(self) -> LogReader:
        """A fast reader of this application's notification log."""
        if self._log_reader is None:
            table = f"{self.name.lower()}_events"

            def sqlite(path: str) -> LogReader:
                return SqliteLogReader(path)

            def postgres(conninfo: str) -> LogReader:
                return PostgresLogReader(conninfo, table)

            def memory() -> LogReader:
                return RecorderLogReader(self.recorder)

            self._log_reader = self.side_store(sqlite, postgres, memory)
        return self._log_reader

    def payload(self, state: bytes, topic: str = "") -> bytes:
        """A stored event's JSON payload, decrypted and decompressed, for raw reads."""
        assert isinstance(self.mapper, PydanticMapper)
        return self.mapper.plaintext(state, topic)

    def council(self, code: str) -> Council:
        return self._get(Council, council_id(code), f"council {code}")

    @staticmethod
    @contextmanager
    def reading_once() -> Iterator[None]:
        """Within the block, what is read for reading only (a council, an open voting) is
        read once and taken as it stood then: a batch of ballots decided as of one moment."""
        token = _read_once.set({})
        try:
            yield
        finally:
            _read_once.reset(token)

    @staticmethod
    def _once(key: Any, read: Callable[[], T]) -> T:
        memo = _read_once.get()
        if memo is None:
            return read()
        if key not in memo:
            memo[key] = read()
        found: T = memo[key]
        return found

    def council_to_read(self, code: str) -> Council:
        """The council for reading only (never change it): kept between calls and reloaded
        when a newer event exists, so checking a token does not replay a large roll."""
        return self._once(("council", code), lambda: self._council_to_read(code))

    def _council_to_read(self, code: str) -> Council:
        cid = council_id(code)
        latest = self.recorder.select_events(cid, desc=True, limit=1)
        if not latest:
            raise NotFoundError(f"council {code} not found", id=str(cid))
        cached = self._read_cache.get(cid)
        if cached is not None and cached.version == latest[0].originator_version:
            return cached
        council = self.council(code)
        if len(self._read_cache) >= READ_CACHE_SIZE:
            self._read_cache.clear()
        self._read_cache[cid] = council
        return council

    def issue(self, code: str, number: int) -> Issue:
        return self._get(Issue, issue_id(code, number), f"issue {code}/{number}")

    def domain_events(self, aggregate_id: UUID) -> Iterator[DomainEvent]:
        """The recorded events of one aggregate, in order, decoded as they are consumed."""
        return (e for e in self.events.get(aggregate_id) if isinstance(e, DomainEvent))

    def _save_new(self, *aggregates: Aggregate, what: str) -> int:
        """Save aggregates that must not exist yet; returns the last notification id."""
        try:
            recordings = self.save(*aggregates)
        except IntegrityError:
            raise AlreadyExistsError(f"{what} already exists") from None
        return recordings[-1].notification.id if recordings else 0

    def _save(self, *aggregates: Aggregate) -> int:
        try:
            recordings = self.save(*aggregates)
        except IntegrityError:
            raise ConcurrentChangeError("changed concurrently: try again") from None
        return recordings[-1].notification.id if recordings else 0


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """Apply ``events`` in order (eventsourcing's own projector checks a runtime Protocol on
    every event, which costs more than applying it)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def postgres_conninfo(get: Callable[[str], str | None]) -> str:
    """A libpq connection string from eventsourcing's POSTGRES_* settings."""
    parts = {
        "dbname": get("POSTGRES_DBNAME"),
        "host": get("POSTGRES_HOST"),
        "port": get("POSTGRES_PORT"),
        "user": get("POSTGRES_USER"),
        "password": get("POSTGRES_PASSWORD"),
    }
    return " ".join(f"{k}={v}" for k, v in parts.items() if v)
