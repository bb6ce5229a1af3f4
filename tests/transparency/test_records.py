"""The leaf of a govflow record (v2: a salted commitment) and reading leaves back from export
lines, whole or withheld."""

from __future__ import annotations

import base64
import hashlib

import orjson
import pytest

from govflow.transparency.records import (
    MalformedExportError,
    commitment,
    committed_leaf_hash,
    leaf_bytes,
    read_export,
    read_line,
    record_leaf_hash,
)

OID = "0f8fad5b-d9cb-469f-a165-70867728950e"
TOPIC = "govflow.council.member_enrolled"
SALT = bytes(range(16))


def line(**fields: object) -> bytes:
    record: dict[str, object] = {
        "notification_id": 7,
        "originator_id": OID,
        "originator_version": 2,
        "topic": TOPIC,
    }
    record.update(fields)
    return orjson.dumps(record) + b"\n"


def test_the_leaf_format_is_pinned() -> None:
    """The commitment, leaf bytes and leaf hash of a record never change (published
    checkpoints hold them); both hashes were checked with sha256sum over the bytes."""
    committed = commitment(SALT, b'{"a":1}')
    assert committed.hex() == "60d30b04f6008324e6da0b751a1fa608ed6c4758eb6e3b4b398204fddf81a7e0"
    assert committed == hashlib.sha256(b"govflow/log-commitment/v1\n" + SALT + b'{"a":1}').digest()
    assert leaf_bytes(7, OID, 2, TOPIC, committed) == (
        b"govflow/log-record/v2\n7\n" + OID.encode() + b"\n2\n" + TOPIC.encode() + b"\n" + committed
    )
    assert (
        record_leaf_hash(7, OID, 2, TOPIC, b'{"a":1}', SALT).hex()
        == "d433865d536eb2655bec0faf6a7d36c6c9ba0f1b0bab077e71be1e64a9d7fef5"
    )


def test_another_salt_makes_another_leaf() -> None:
    """Without the salt, the same bytes give no way to the leaf: each salt its own."""
    assert record_leaf_hash(7, OID, 2, TOPIC, b"{}", SALT) != record_leaf_hash(
        7, OID, 2, TOPIC, b"{}", bytes(16)
    )


def test_a_line_in_clear_hashes_its_data_bytes_as_written() -> None:
    """Without ``stored``, the leaf is over the data's bytes exactly, spacing and key order
    included (what the store holds), not over a re-encoding."""
    raw = b'{"b":2,"a":1.50}'
    exported = line(salt=SALT.hex(), data=orjson.Fragment(raw))
    record = read_line(exported)
    assert record.leaf == record_leaf_hash(7, OID, 2, TOPIC, raw, SALT)
    assert not record.withheld


def test_an_encrypted_line_hashes_its_stored_bytes() -> None:
    """With ``stored``, the leaf is over those bytes (ciphertext): no key needed."""
    cipher = b"\x8a\x01 not json"
    exported = line(stored=base64.b64encode(cipher).decode(), salt=SALT.hex(), data={"a": 1})
    assert read_line(exported).leaf == record_leaf_hash(7, OID, 2, TOPIC, cipher, SALT)


def test_a_withheld_line_gives_its_leaf_from_the_commitment_alone() -> None:
    """The public export's withheld record: the commitment, no data, no salt."""
    committed = commitment(SALT, b'{"choice":"yes"}')
    record = read_line(line(commitment=committed.hex()))
    assert record.withheld
    assert record.leaf == committed_leaf_hash(7, OID, 2, TOPIC, committed)
    assert record.leaf == record_leaf_hash(7, OID, 2, TOPIC, b'{"choice":"yes"}', SALT)


def test_a_line_not_sealed_yet_has_no_leaf() -> None:
    """A record exported before it was sealed has no salt: no leaf to check."""
    assert read_line(line(data={})).leaf is None
    assert read_line(line()).leaf is None


@pytest.mark.parametrize(
    "bad",
    [
        b"not json\n",
        b'{"notification_id": 7}\n',
        # keys reordered: not the export's layout, so the data's bytes are not known
        orjson.dumps(
            {
                "topic": TOPIC,
                "notification_id": 7,
                "originator_id": OID,
                "originator_version": 2,
                "salt": SALT.hex(),
                "data": {},
            }
        ),
        line(stored="***", salt=SALT.hex(), data={}),
        line(salt=SALT.hex(), data={}, extra=1),
        line(data={}, salt=SALT.hex()),  # the salt after the data
        line(salt="00ff", data={}),  # too short
        line(salt="zz" * 16, data={}),
        line(commitment="ab" * 31),
        line(commitment="ab" * 32, data={}),  # a withheld record shows no data
        line(salt=SALT.hex(), commitment="ab" * 32),
    ],
)
def test_lines_not_laid_out_as_exported_are_refused(bad: bytes) -> None:
    """A line that is not an exported record is refused with a stable code."""
    with pytest.raises(MalformedExportError) as refused:
        read_line(bad, 3)
    assert refused.value.code == "export.malformed"


def test_records_must_follow_the_log_order() -> None:
    """An export whose notification ids do not increase is refused at that line."""
    first, second = line(data={}), line(data={}).replace(b":7,", b":6,", 1)
    with pytest.raises(MalformedExportError, match="line 2"):
        list(read_export([first, second]))
