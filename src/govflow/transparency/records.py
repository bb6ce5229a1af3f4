"""What a leaf of govflow's log is, and how to read leaves back from an export.

A leaf is one record of the notification log, exactly as stored (``leaf_bytes``)::

    govflow/log-record/v1\\n
    <notification id, decimal>\\n
    <originator id, the lowercase hyphenated UUID>\\n
    <originator version, decimal>\\n
    <topic>\\n
    <the stored payload bytes, to the end>

The first line separates govflow's leaves from any other data hashed the same way; ids,
version and topic hold no newline, so the encoding is unambiguous with the payload last. The
payload is the bytes the event store holds: JSON in a store in clear, ciphertext in an
encrypted one, so a verifier needs no key.

The operator's export (``govflow audit export``) writes one JSON line per record, keys in this
order: ``notification_id``, ``originator_id``, ``originator_version``, ``topic``, ``stored``
(only where the stored bytes are not the JSON payload, as in an encrypted store: their base64),
``data`` (the JSON payload, byte for byte as stored when ``stored`` is absent). ``read_export``
recomputes each leaf from such a line alone.

Like the rest of this package, nothing here imports the engine.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from govflow.transparency.errors import TransparencyError
from govflow.transparency.merkle import leaf_hash

LEAF_PREFIX = b"govflow/log-record/v1\n"


class MalformedExportError(TransparencyError):
    """A line of an export that is not a record as govflow exports it."""

    code = "export.malformed"


def leaf_bytes(
    notification_id: int, originator_id: str, version: int, topic: str, stored: bytes
) -> bytes:
    """The bytes of one record's leaf (see the module's docstring)."""
    head = b"%d\n%s\n%d\n%s\n" % (notification_id, originator_id.encode(), version, topic.encode())
    return LEAF_PREFIX + head + stored


def record_leaf_hash(
    notification_id: int, originator_id: str, version: int, topic: str, stored: bytes
) -> bytes:
    """The RFC 9162 leaf hash of one record: SHA-256(0x00 || leaf bytes)."""
    return leaf_hash(leaf_bytes(notification_id, originator_id, version, topic, stored))


def hyphenated(hex32: str) -> str:
    """A UUID given as 32 hex digits, in its lowercase hyphenated form."""
    h = hex32.lower()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class ExportedRecord:
    """One record read from an export: where it is, what it is, and its leaf hash."""

    line: int  # 1-based line number in the export
    notification_id: int
    originator_id: str
    version: int
    topic: str
    leaf: bytes


def read_line(line: bytes, number: int = 0) -> ExportedRecord:
    """The record of one export line, with its leaf hash recomputed from the line alone.

    Raises:
        MalformedExportError: the line is not a record as govflow exports it.
    """
    try:
        obj: Any = orjson.loads(line)
        nid, oid = obj["notification_id"], obj["originator_id"]
        version, topic = obj["originator_version"], obj["topic"]
        stored_b64 = obj.get("stored")
    except (orjson.JSONDecodeError, KeyError, TypeError) as error:
        raise MalformedExportError(
            f"line {number} is not an exported record", line=number
        ) from error
    if not (
        isinstance(nid, int)
        and isinstance(oid, str)
        and isinstance(version, int)
        and isinstance(topic, str)
        and "\n" not in oid + topic
    ):
        raise MalformedExportError(f"line {number} has fields of the wrong type", line=number)
    if stored_b64 is not None:
        try:
            stored = base64.b64decode(stored_b64, validate=True)
        except (binascii.Error, TypeError, ValueError) as error:
            raise MalformedExportError(
                f"line {number}: stored is not base64", line=number
            ) from error
    else:
        stored = _raw_data(line, obj, number)
    return ExportedRecord(
        number, nid, oid, version, topic, record_leaf_hash(nid, oid, version, topic, stored)
    )


def _raw_data(line: bytes, obj: dict[str, Any], number: int) -> bytes:
    """The ``data`` value's bytes exactly as written: the stored payload of a store in clear.
    The line must be laid out as the export writes it (compact, keys in order, data last)."""
    head = orjson.dumps(
        {
            "notification_id": obj["notification_id"],
            "originator_id": obj["originator_id"],
            "originator_version": obj["originator_version"],
            "topic": obj["topic"],
        }
    )
    prefix = head[:-1] + b',"data":'
    body = line.rstrip(b"\r\n")
    if len(obj) != 5 or not body.startswith(prefix) or not body.endswith(b"}"):
        raise MalformedExportError(
            f"line {number} is not laid out as govflow exports a record", line=number
        )
    return body[len(prefix) : -1]


def read_export(lines: Iterable[bytes]) -> Iterator[ExportedRecord]:
    """Every record of an export (an open file in binary mode, or any lines), in order; blank
    lines are skipped. Notification ids must increase (the log's order).

    Raises:
        MalformedExportError: a line is not a record, or the records are out of order.
    """
    last = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = read_line(line, number)
        if record.notification_id <= last:
            raise MalformedExportError(
                f"line {number}: notification {record.notification_id} does not follow {last}",
                line=number,
                notification_id=record.notification_id,
            )
        last = record.notification_id
        yield record
