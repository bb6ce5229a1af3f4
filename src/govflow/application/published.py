"""Published digests: every checkpoint digest govflow ever handed out, kept in an append-only
file outside the event store.

The audit chain and its checkpoints live in the same database as the events, so whoever can
write that database can rewrite an event, recompute the chain and replace the checkpoints;
a check of the database against itself then passes. A digest that left the database (printed
by ``govflow audit checkpoint``, shown on the board) is kept here as well, and every
verification holds the chain to it: a rewrite shows as a mismatch unless the writer of the
database can also write this file. Each position keeps the first digest recorded for it.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path


class PublishedDigests:
    """``POSITION:DIGEST NOTIFICATION_ID RECORDED_AT SOURCE`` lines, appended, never rewritten."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def held(self) -> dict[int, str]:
        """The first digest recorded for each position."""
        held: dict[int, str] = {}
        try:
            text = self.path.read_text(encoding="ascii")
        except FileNotFoundError:
            return held
        for line in text.splitlines():
            position, _, rest = line.partition(":")
            digest = rest.split(" ", 1)[0]
            if position.isdigit() and len(digest) == 64:
                held.setdefault(int(position), digest)
        return held

    def record(
        self, position: int, digest: str, notification_id: int, at: datetime, source: str
    ) -> bool:
        """Keep ``digest`` for ``position`` unless one is kept already; True if appended."""
        with self._lock:
            if position in self.held():
                return False
            self.path.parent.mkdir(parents=True, exist_ok=True)
            line = f"{position}:{digest} {notification_id} {at.isoformat()} {source}\n"
            with self.path.open("a", encoding="ascii") as file:
                file.write(line)
                file.flush()
                os.fsync(file.fileno())
            return True
