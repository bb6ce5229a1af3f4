"""Where notifications keep what must not be in the log, and their progress: members' contact
addresses (personal data: in the log they would be in every export and backup of it), the
notifier's position in the log, and the deliveries still to attempt.

Beside the events, in the same database, like the webhooks' secrets and cursors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from govflow.application.sql_tables import SqlTables, postgres_connector, sqlite_connector


@dataclass(frozen=True)
class ContactRow:
    """A member's addresses (sealed when the installation has a cipher) and whether they follow
    the council's new notices; ``enrolment`` is the enrolment they were set for (a member id
    enrolled again later is another person, who is not sent the first one's messages)."""

    council: str
    member_id: str
    email: str = ""
    gateway: str = ""
    follows: bool = False
    enrolment: int = 0


class NotificationStore(Protocol):
    def contact(self, council: str, member_id: str) -> ContactRow | None: ...
    def put_contact(self, row: ContactRow) -> None: ...
    def followers(self, council: str) -> list[ContactRow]: ...
    def all_contacts(self) -> list[ContactRow]: ...
    def position(self) -> int | None:
        """How far the notifier has read the log (None: it never ran)."""
        ...

    def save_position(self, position: int) -> None: ...
    def pending(self) -> dict[str, datetime]:
        """Deliveries still to attempt, by id, with when to attempt next."""
        ...

    def put_pending(self, delivery_id: str, next_attempt_at: datetime) -> None: ...
    def drop_pending(self, delivery_id: str) -> None: ...


class InMemoryNotificationStore:
    def __init__(self) -> None:
        self._contacts: dict[tuple[str, str], ContactRow] = {}
        self._position: int | None = None
        self._pending: dict[str, datetime] = {}

    def contact(self, council: str, member_id: str) -> ContactRow | None:
        return self._contacts.get((council, member_id))

    def put_contact(self, row: ContactRow) -> None:
        self._contacts[(row.council, row.member_id)] = row

    def followers(self, council: str) -> list[ContactRow]:
        return sorted(
            (r for r in self._contacts.values() if r.council == council and r.follows),
            key=lambda r: r.member_id,
        )

    def all_contacts(self) -> list[ContactRow]:
        return list(self._contacts.values())

    def position(self) -> int | None:
        return self._position

    def save_position(self, position: int) -> None:
        self._position = position

    def pending(self) -> dict[str, datetime]:
        return dict(self._pending)

    def put_pending(self, delivery_id: str, next_attempt_at: datetime) -> None:
        self._pending[delivery_id] = next_attempt_at

    def drop_pending(self, delivery_id: str) -> None:
        self._pending.pop(delivery_id, None)


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS notify_contacts (council TEXT NOT NULL, member_id TEXT NOT NULL, "
    "email TEXT NOT NULL, gateway TEXT NOT NULL, follows INTEGER NOT NULL, "
    "enrolment BIGINT NOT NULL, PRIMARY KEY (council, member_id))",
    "CREATE TABLE IF NOT EXISTS notify_cursor (name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS notify_pending (delivery_id TEXT PRIMARY KEY, "
    "next_attempt_at TEXT NOT NULL)",
)
_CONTACT = "council, member_id, email, gateway, follows, enrolment"


def _contact(row: Any) -> ContactRow:
    return ContactRow(str(row[0]), str(row[1]), row[2], row[3], bool(row[4]), int(row[5]))


class SqlNotificationStore(SqlTables):
    """The three tables through any DB-API connection factory (SQLite, PostgreSQL)."""

    def __init__(self, connect: Callable[[], Any], placeholder: str) -> None:
        super().__init__(connect, placeholder, _SCHEMA)

    def _upsert(
        self, cursor: Any, table: str, keys: dict[str, Any], values: dict[str, Any]
    ) -> None:
        p = self._p
        where = " AND ".join(f"{k} = {p}" for k in keys)
        cursor.execute(
            f"UPDATE {table} SET {', '.join(f'{k} = {p}' for k in values)} WHERE {where}",
            (*values.values(), *keys.values()),
        )
        if cursor.rowcount == 0:
            columns = {**keys, **values}
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join(p for _ in columns)})",
                tuple(columns.values()),
            )

    def contact(self, council: str, member_id: str) -> ContactRow | None:
        p = self._p
        with self._transaction() as cursor:
            cursor.execute(
                f"SELECT {_CONTACT} FROM notify_contacts WHERE council = {p} AND member_id = {p}",
                (council, member_id),
            )
            row = cursor.fetchone()
        return None if row is None else _contact(row)

    def put_contact(self, row: ContactRow) -> None:
        with self._transaction() as cursor:
            self._upsert(
                cursor,
                "notify_contacts",
                {"council": row.council, "member_id": row.member_id},
                {
                    "email": row.email,
                    "gateway": row.gateway,
                    "follows": int(row.follows),
                    "enrolment": row.enrolment,
                },
            )

    def followers(self, council: str) -> list[ContactRow]:
        p = self._p
        with self._transaction() as cursor:
            cursor.execute(
                f"SELECT {_CONTACT} FROM notify_contacts WHERE council = {p} AND follows = 1 "
                "ORDER BY member_id",
                (council,),
            )
            rows = cursor.fetchall()
        return [_contact(r) for r in rows]

    def all_contacts(self) -> list[ContactRow]:
        with self._transaction() as cursor:
            cursor.execute(f"SELECT {_CONTACT} FROM notify_contacts ORDER BY council, member_id")
            rows = cursor.fetchall()
        return [_contact(r) for r in rows]

    def position(self) -> int | None:
        with self._transaction() as cursor:
            cursor.execute("SELECT position FROM notify_cursor WHERE name = 'notifier'")
            row = cursor.fetchone()
        return None if row is None else int(row[0])

    def save_position(self, position: int) -> None:
        with self._transaction() as cursor:
            self._upsert(cursor, "notify_cursor", {"name": "notifier"}, {"position": position})

    def pending(self) -> dict[str, datetime]:
        with self._transaction() as cursor:
            cursor.execute("SELECT delivery_id, next_attempt_at FROM notify_pending")
            rows = cursor.fetchall()
        return {str(r[0]): datetime.fromisoformat(r[1]) for r in rows}

    def put_pending(self, delivery_id: str, next_attempt_at: datetime) -> None:
        with self._transaction() as cursor:
            self._upsert(
                cursor,
                "notify_pending",
                {"delivery_id": delivery_id},
                {"next_attempt_at": next_attempt_at.isoformat()},
            )

    def drop_pending(self, delivery_id: str) -> None:
        p = self._p
        with self._transaction() as cursor:
            cursor.execute(f"DELETE FROM notify_pending WHERE delivery_id = {p}", (delivery_id,))


def sqlite_notification_store(path: str) -> SqlNotificationStore:
    return SqlNotificationStore(sqlite_connector(path), "?")


def postgres_notification_store(conninfo: str) -> SqlNotificationStore:
    return SqlNotificationStore(postgres_connector(conninfo), "%s")
