"""The directory as a tracked projection in the event store's database: any number of
processes serve the same lists, a process whose store is caught up starts without reading the
log, concurrent catch-ups apply each record once, a changed set of sections rebuilds, and the
rows are encrypted like the events."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar

import pytest
from eventsourcing.persistence import MapperDeserialisationError

from govflow.application import Governance
from govflow.application.core import postgres_conninfo
from govflow.application.directory import (
    SECTIONS,
    CouncilRow,
    Directory,
    Row,
    Rows,
    Section,
    SpendingRow,
)
from govflow.application.directory_store import (
    DirectoryStore,
    postgres_directory_store,
    sqlite_directory_store,
)
from govflow.application.log_reader import LogReader, Record
from govflow.application.sql_tables import postgres_connector
from govflow.domain.base import DomainEvent
from govflow.domain.council import CouncilRegistered, MemberEnrolled
from tests.conftest import POSTGRES, Store, _store

ENROLLED = MemberEnrolled.TOPIC


class CountingReader:
    """A real log reader that counts the records it hands out."""

    def __init__(self, reader: LogReader) -> None:
        self._reader, self.read = reader, 0

    def records(
        self, after: int, limit: int, *, stop: int | None = None, topics: Sequence[str] = ()
    ) -> list[Record]:
        found = self._reader.records(after, limit, stop=stop, topics=topics)
        self.read += len(found)
        return found

    def last_id(self) -> int:
        return self._reader.last_id()


class EnrolmentCount(Row):
    KIND = "enrolment_count"
    aggregate: str
    council: str
    count: int = 0

    def key(self) -> str:
        return self.aggregate


class EnrolmentSection(Section):
    """Counts enrolments per council: a record applied twice would show."""

    NAME: ClassVar[str] = "enrolment_count"
    TOPICS: ClassVar[tuple[str, ...]] = (CouncilRegistered.TOPIC, ENROLLED)
    ROWS: ClassVar[tuple[type[Row], ...]] = (EnrolmentCount,)

    def apply(self, event: DomainEvent, rows: Rows) -> None:
        if isinstance(event, CouncilRegistered):
            rows.add(EnrolmentCount(aggregate=event.originator_id.hex, council=event.code))
        elif isinstance(event, MemberEnrolled):
            row = rows.get(EnrolmentCount, event.originator_id.hex)
            assert row is not None
            row.count += 1


def count_of(d: Directory, code: str) -> EnrolmentCount | None:
    found = d.rows(EnrolmentCount, code)
    return found[0] if found else None


def side_store(store: Store) -> DirectoryStore:
    if store.kind == "sqlite":
        return sqlite_directory_store(str(store.path))
    return postgres_directory_store(postgres_conninfo(store.env.get))


def directory(app: Governance, store: Store, sections: Sequence[Section] = SECTIONS) -> Directory:
    """A directory as another process would have: its own connections to the same tables."""
    return Directory(
        CountingReader(app.log_reader),
        app._decode,
        side_store(store),
        cipher=app.mapper.cipher,
        sections=sections,
    )


@pytest.fixture(params=["sqlite", "sqlite-encrypted", POSTGRES])
def shared(request: pytest.FixtureRequest, tmp_path: object) -> Store:
    return _store(request.param, request, tmp_path)  # type: ignore[arg-type]


def fill(app: Governance, code: str, members: int, spending: int = 0) -> None:
    app.register_council(code, f"{code}社区", actor="clerk")
    for n in range(members):
        app.enroll_member(code, f"m{n}", f"成员{n}", actor="clerk")
    for n in range(1, spending + 1):
        app.request_spending(
            code, n, Decimal("100.50") * n, purpose=f"修缮{n}", payee="某公司",
            budget_line="维修", actor="clerk",
        )  # fmt: skip


def test_two_processes_serve_the_same_lists_and_the_second_reads_no_history(
    shared: Store,
) -> None:
    writer, other = Governance(shared.env), Governance(shared.env)
    try:
        fill(writer, "east", 3, spending=4)
        assert [r.number for r in writer.list_spending("east")] == [4, 3, 2, 1]
        # a process started now finds the rows caught up: it reads no record of the log
        fresh = directory(other, shared)
        fresh.refresh()
        assert isinstance(fresh._reader, CountingReader) and fresh._reader.read == 0
        assert [r.code for r in fresh.rows(CouncilRow)] == ["east"]
        # a write through one process is listed by the other at once
        other.request_spending(
            "east", 5, "9.99", purpose="灯", payee="电工", budget_line="维修", actor="clerk"
        )
        rows = writer.list_spending("east")
        assert [(r.number, r.amount) for r in rows][:2] == [
            (5, Decimal("9.99")),
            (4, Decimal("402.00")),
        ]
        assert other.list_spending("east") == rows
        row = writer.directory.spending(rows[0].id)
        assert isinstance(row, SpendingRow) and row.purpose == "灯"
    finally:
        writer.close()
        other.close()


def test_concurrent_catch_ups_apply_each_record_once(shared: Store) -> None:
    app = Governance(shared.env)
    try:
        fill(app, "west", 0)
        sections = (*SECTIONS, EnrolmentSection())
        readers = [directory(app, shared, sections) for _ in range(4)]
        stop = threading.Event()
        errors: list[BaseException] = []

        def read(d: Directory) -> None:
            try:
                while not stop.is_set():
                    d.refresh()
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=read, args=(d,)) for d in readers]
        for thread in threads:
            thread.start()
        for n in range(40):
            app.enroll_member("west", f"w{n}", f"成员{n}", actor="clerk")
        stop.set()
        for thread in threads:
            thread.join()
        assert not errors
        for d in readers:
            d.refresh()
            counted = count_of(d, "west")
            assert counted is not None and counted.count == 40
        # together they read the log about once, not once each
        assert sum(d._reader.read for d in readers) < 2 * 41  # type: ignore[attr-defined]
    finally:
        app.close()


def test_a_new_section_is_built_from_the_start_of_the_log(shared: Store) -> None:
    app = Governance(shared.env)
    try:
        fill(app, "north", 5)
        first = directory(app, shared)
        first.refresh()
        assert count_of(first, "north") is None
        grown = directory(app, shared, (*SECTIONS, EnrolmentSection()))
        grown.refresh()
        counted = count_of(grown, "north")
        assert counted is not None and counted.count == 5
        assert [r.code for r in grown.rows(CouncilRow)] == ["north"]  # rebuilt, not lost
    finally:
        app.close()


def test_rows_are_kept_encrypted_when_the_events_are(tmp_path: object) -> None:
    store = _store("sqlite-encrypted", None, tmp_path)  # type: ignore[arg-type]
    app = Governance(store.env)
    try:
        fill(app, "south", 1, spending=1)
        assert app.list_spending("south")[0].purpose == "修缮1"
    finally:
        app.close()
    with sqlite3.connect(str(store.path)) as db:
        data = b"".join(bytes(r[0]) for r in db.execute("SELECT data FROM directory_rows"))
    assert data and "修缮1".encode() not in data and b"south" not in data


def test_rows_written_encrypted_are_not_read_as_garbage_without_the_key(tmp_path: object) -> None:
    store = _store("sqlite-encrypted", None, tmp_path)  # type: ignore[arg-type]
    app = Governance(store.env)
    try:
        fill(app, "keyed", 1)
        assert [r.code for r in app.list_councils()] == ["keyed"]
        unkeyed = Directory(app.log_reader, app._decode, side_store(store))  # caught up
        with pytest.raises(MapperDeserialisationError, match="encrypted"):
            unkeyed.rows(CouncilRow)
    finally:
        app.close()


@pytest.mark.postgres
def test_a_reader_waits_for_a_catch_up_in_progress(postgres_db: str) -> None:
    """The tracking row's lock: a second catch-up waits for the first and applies nothing
    twice (the first holds the lock while it writes)."""
    store = _store("postgres", _Request(postgres_db), None)  # type: ignore[arg-type]
    app = Governance(store.env)
    try:
        fill(app, "lock", 3)
        holder = postgres_connector(postgres_conninfo(store.env.get))()
        first = directory(app, store, (*SECTIONS, EnrolmentSection()))
        second = directory(app, store, (*SECTIONS, EnrolmentSection()))
        first.refresh()
        app.enroll_member("lock", "late", "迟到", actor="clerk")
        holder.execute("SELECT position FROM directory_tracking FOR UPDATE")
        done = threading.Event()
        threading.Thread(target=lambda: (second.refresh(), done.set())).start()
        assert not done.wait(1.0)  # blocked on the lock (not a timing assertion: it waits)
        holder.rollback()
        assert done.wait(60)
        counted = count_of(second, "lock")
        assert counted is not None and counted.count == 4
        holder.close()
    finally:
        app.close()


class _Request:
    def __init__(self, dbname: str) -> None:
        self._dbname = dbname

    def getfixturevalue(self, name: str) -> str:
        return self._dbname


@pytest.mark.postgres
def test_processes_creating_the_tables_at_once_do_not_collide(postgres_db: str) -> None:
    """PostgreSQL's CREATE TABLE IF NOT EXISTS fails when two run at once (a catalogue index):
    the side tables are created in turns."""
    store = _store("postgres", _Request(postgres_db), None)  # type: ignore[arg-type]
    conninfo = postgres_conninfo(store.env.get)
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def create() -> None:
        start.wait()
        try:
            postgres_directory_store(conninfo)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
