"""What the directory's lists are made of: a :class:`Row` (what a list shows of one thing), a
:class:`Section` (how events change one list's rows), :class:`Rows` (one catch-up batch's
rows, read through and written back if changed) and the :class:`Codec` (rows to the stored
bytes: JSON, encrypted with the installation's cipher when one is set).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.persistence import MapperDeserialisationError
from pydantic import BaseModel, ConfigDict, PrivateAttr

from govflow.application.directory_store import StoredRow, Writer
from govflow.domain.base import DomainEvent


class Row(BaseModel):
    """What one list shows of one thing. ``KIND`` names the rows' kind in the store."""

    model_config = ConfigDict(validate_assignment=False)
    KIND: ClassVar[str]
    _seq: int = PrivateAttr(default=0)  # the notification id that created it (list order)

    def key(self) -> str:
        raise NotImplementedError

    def council_code(self) -> str:
        return str(getattr(self, "council", ""))

    def ref(self) -> str | None:
        return None

    def active(self) -> bool:
        return True


R = TypeVar("R", bound=Row)


def vote_key(issue: UUID, ballot_key: str) -> str:
    return f"{issue.hex}:{ballot_key}"


class Rows:
    """One catch-up batch's rows: read through (from the batch, else the store), changed in
    place, and written back at the end of the batch if they changed."""

    def __init__(self, writer: Writer, codec: Codec, kinds: Mapping[str, type[Row]]) -> None:
        self._writer, self._codec, self._kinds = writer, codec, kinds
        self._loaded: dict[tuple[str, str], tuple[Row | None, bytes | None]] = {}
        self._fetched: set[str] = set()  # keys whose rows of every kind are loaded
        self.seq = 0  # the notification id of the record being applied

    def prefetch(self, keys: Sequence[str]) -> None:
        """Load the rows of these keys (of any kind) in one read."""
        wanted = set(keys) - self._fetched
        for stored in self._writer.by_keys(wanted):
            if (cls := self._kinds.get(stored.kind)) is not None:
                self._loaded.setdefault((stored.kind, stored.key), self._codec.load(cls, stored))
        for key in wanted:
            for kind in self._kinds:
                self._loaded.setdefault((kind, key), (None, None))
        self._fetched |= wanted

    def get(self, cls: type[R], key: str) -> R | None:
        slot = (cls.KIND, key)
        if slot not in self._loaded:
            stored = [r for r in self._writer.by_keys([key]) if r.kind == cls.KIND]
            self._loaded[slot] = self._codec.load(cls, stored[0]) if stored else (None, None)
        found = self._loaded[slot][0]
        return found if isinstance(found, cls) else None

    def add(self, row: Row) -> None:
        row._seq = self.seq
        self._loaded[(row.KIND, row.key())] = (row, None)

    def changed(self) -> list[StoredRow]:
        out: list[StoredRow] = []
        for row, before in self._loaded.values():
            if row is not None:
                plain = row.model_dump_json().encode()
                if plain != before:
                    out.append(self._codec.store(row, plain))
        return out


class Codec:
    """Rows to stored bytes and back: JSON, encrypted when the installation has a cipher."""

    def __init__(self, cipher: Any | None = None) -> None:
        self._cipher = cipher

    def store(self, row: Row, plain: bytes) -> StoredRow:
        data = self._cipher.encrypt(plain) if self._cipher is not None else plain
        return StoredRow(
            row.KIND, row.key(), row.council_code(), row.ref(), row._seq, row.active(), data
        )

    def load(self, cls: type[R], stored: StoredRow) -> tuple[R, bytes]:
        what = f"cannot read a directory row of {stored.kind!r}"
        try:
            plain = self._cipher.decrypt(stored.data) if self._cipher else stored.data
        except Exception as error:  # another key, or a row written in clear
            raise MapperDeserialisationError(f"{what}: {error}") from error
        if not plain.startswith(b"{"):
            raise MapperDeserialisationError(
                f"{what}: it is encrypted (set GOVFLOW_CIPHER_KEY)"
                if self._cipher is None
                else f"{what}: not JSON"
            )
        row = cls.model_validate_json(plain)
        row._seq = stored.seq
        return row, plain

    def decode(self, cls: type[R], stored: StoredRow) -> R:
        return self.load(cls, stored)[0]


class Section:
    """A list kept from the log: ``TOPICS`` it follows, ``apply`` for each of their events."""

    NAME: ClassVar[str]
    VERSION: ClassVar[int] = 1
    TOPICS: ClassVar[tuple[str, ...]]
    ROWS: ClassVar[tuple[type[Row], ...]]

    def apply(self, event: DomainEvent, rows: Rows) -> None:
        raise NotImplementedError
