"""What a leaf of govflow's log is, and how to read leaves back from an export.

A leaf commits to one record of the notification log through a salted digest of its stored
bytes, never to the bytes themselves (``leaf_bytes``)::

    govflow/log-record/v2\\n
    <notification id, decimal>\\n
    <originator id, the lowercase hyphenated UUID>\\n
    <originator version, decimal>\\n
    <topic>\\n
    <commitment: 32 raw bytes>

    commitment = SHA-256("govflow/log-commitment/v1\\n" || salt || stored payload bytes)

The salt is 16 random bytes per record, made by the sealer when it seals the record and kept
beside its leaf. Without the salt a leaf hash (which inclusion proofs serve as siblings) cannot
be matched against guessed contents: a ballot's JSON with each candidate choice, a short token.
The first line separates govflow's leaves from any other data hashed the same way; ids,
version and topic hold no newline and the commitment has a fixed length, so the encoding is
unambiguous. The stored payload is the bytes the event store holds: JSON in a store in clear,
ciphertext in an encrypted one, so a verifier needs no key.

An export writes one JSON line per record, keys in this order: ``notification_id``,
``originator_id``, ``originator_version``, ``topic``, then either

- ``stored`` (only where the stored bytes are not the JSON payload, as in an encrypted store:
  their base64), ``salt`` (hex; absent for a record not sealed yet), ``data`` (the JSON payload,
  byte for byte as stored when ``stored`` is absent): a record shown whole, or
- ``commitment`` (hex): a record whose content is withheld (in a council's verifiable export:
  private records, other councils' records and choices of open or secret votes). Its leaf is
  recomputed from the commitment, so the tree is checked whole; its content is not shown and
  cannot be checked against it.

``read_export`` recomputes each leaf from such a line alone.

Like the rest of this package, nothing here imports the engine.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from govflow.transparency.errors import TransparencyError
from govflow.transparency.merkle import leaf_hash

LEAF_PREFIX = b"govflow/log-record/v2\n"
COMMITMENT_PREFIX = b"govflow/log-commitment/v1\n"
SALT_SIZE = 16
# The extension line of every checkpoint over v2 leaves (v1 checkpoints had none).
LEAF_EXTENSION = "govflow/log-record/v2"
_HEADER = ("notification_id", "originator_id", "originator_version", "topic")
_LAYOUTS = {
    (*_HEADER, "data"),  # not sealed yet
    (*_HEADER, "salt", "data"),
    (*_HEADER, "stored", "data"),  # not sealed yet
    (*_HEADER, "stored", "salt", "data"),
    (*_HEADER, "commitment"),
    _HEADER,  # withheld and not sealed yet
}


class MalformedExportError(TransparencyError):
    """A line of an export that is not a record as govflow exports it."""

    code = "export.malformed"


def commitment(salt: bytes, stored: bytes) -> bytes:
    """SHA-256("govflow/log-commitment/v1\\n" || salt || stored): what a leaf holds of a
    record's stored bytes."""
    digest = hashlib.sha256(COMMITMENT_PREFIX)
    digest.update(salt)
    digest.update(stored)
    return digest.digest()


def leaf_bytes(
    notification_id: int, originator_id: str, version: int, topic: str, committed: bytes
) -> bytes:
    """The bytes of one record's leaf, given the record's commitment (see the docstring)."""
    head = b"%d\n%s\n%d\n%s\n" % (notification_id, originator_id.encode(), version, topic.encode())
    return LEAF_PREFIX + head + committed


def committed_leaf_hash(
    notification_id: int, originator_id: str, version: int, topic: str, committed: bytes
) -> bytes:
    """The RFC 9162 leaf hash of a record known by its commitment."""
    return leaf_hash(leaf_bytes(notification_id, originator_id, version, topic, committed))


def record_leaf_hash(
    notification_id: int, originator_id: str, version: int, topic: str, stored: bytes, salt: bytes
) -> bytes:
    """The RFC 9162 leaf hash of one record: SHA-256(0x00 || leaf bytes)."""
    return committed_leaf_hash(
        notification_id, originator_id, version, topic, commitment(salt, stored)
    )


def hyphenated(hex32: str) -> str:
    """A UUID given as 32 hex digits, in its lowercase hyphenated form."""
    h = hex32.lower()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class ExportedRecord:
    """One record read from an export: where it is, what it is, and its leaf hash (None for
    a record the export shows as not sealed yet: no salt). ``withheld``: only its commitment
    was given, not its content."""

    line: int  # 1-based line number in the export
    notification_id: int
    originator_id: str
    version: int
    topic: str
    leaf: bytes | None
    withheld: bool = False
    stored: bytes | None = None  # the stored payload bytes, for a record shown whole


def _hex(value: Any, size: int, what: str, number: int) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != size:
        raise MalformedExportError(f"line {number}: {what} is not {size} bytes in hex", line=number)
    return raw


def read_line(line: bytes, number: int = 0) -> ExportedRecord:
    """The record of one export line, with its leaf hash recomputed from the line alone.

    Raises:
        MalformedExportError: the line is not a record as govflow exports it.
    """
    try:
        obj: Any = orjson.loads(line)
        nid, oid = obj["notification_id"], obj["originator_id"]
        version, topic = obj["originator_version"], obj["topic"]
        layout = tuple(obj)
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
    if layout not in _LAYOUTS:
        raise MalformedExportError(
            f"line {number} is not laid out as govflow exports a record", line=number
        )
    if "commitment" in obj:
        committed = _hex(obj["commitment"], 32, "commitment", number)
        leaf = committed_leaf_hash(nid, oid, version, topic, committed)
        return ExportedRecord(number, nid, oid, version, topic, leaf, withheld=True)
    if "data" not in obj:
        return ExportedRecord(number, nid, oid, version, topic, None, withheld=True)
    salt = _hex(obj["salt"], SALT_SIZE, "salt", number) if "salt" in obj else None
    stored_b64 = obj.get("stored")
    if stored_b64 is not None:
        try:
            stored = base64.b64decode(stored_b64, validate=True)
        except (binascii.Error, TypeError, ValueError) as error:
            raise MalformedExportError(
                f"line {number}: stored is not base64", line=number
            ) from error
    else:
        stored = _raw_data(line, obj, number)
    sealed = record_leaf_hash(nid, oid, version, topic, stored, salt) if salt else None
    return ExportedRecord(number, nid, oid, version, topic, sealed, stored=stored)


def _raw_data(line: bytes, obj: dict[str, Any], number: int) -> bytes:
    """The ``data`` value's bytes exactly as written: the stored payload of a store in clear.
    The line must be laid out as the export writes it (compact, keys in order, data last)."""
    head = orjson.dumps({key: obj[key] for key in (*_HEADER, "salt") if key in obj})
    prefix = head[:-1] + b',"data":'
    body = line.rstrip(b"\r\n")
    if not body.startswith(prefix) or not body.endswith(b"}"):
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
