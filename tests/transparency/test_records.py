"""The leaf of a govflow record and reading leaves back from export lines."""

from __future__ import annotations

import base64

import orjson
import pytest

from govflow.transparency.records import (
    MalformedExportError,
    leaf_bytes,
    read_export,
    read_line,
    record_leaf_hash,
)

OID = "0f8fad5b-d9cb-469f-a165-70867728950e"
TOPIC = "govflow.council.member_enrolled"


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
    """The leaf bytes and hash of a record never change (published checkpoints hold them);
    the hash was checked with sha256sum over a NUL byte and the leaf bytes."""
    assert leaf_bytes(7, OID, 2, TOPIC, b'{"a":1}') == (
        b"govflow/log-record/v1\n7\n" + OID.encode() + b"\n2\n" + TOPIC.encode() + b'\n{"a":1}'
    )
    assert (
        record_leaf_hash(7, OID, 2, TOPIC, b'{"a":1}').hex()
        == "1bfe0563b7d125677d24704b6d823cab89f1cd38a9f9abaa4731482c3b270bf0"
    )


def test_a_line_in_clear_hashes_its_data_bytes_as_written() -> None:
    """Without ``stored``, the leaf is over the data's bytes exactly, spacing and key order
    included (what the store holds), not over a re-encoding."""
    raw = b'{"b":2,"a":1.50}'
    exported = line(data=orjson.Fragment(raw))
    assert read_line(exported).leaf == record_leaf_hash(7, OID, 2, TOPIC, raw)


def test_an_encrypted_line_hashes_its_stored_bytes() -> None:
    """With ``stored``, the leaf is over those bytes (ciphertext): no key needed."""
    cipher = b"\x8a\x01 not json"
    exported = line(stored=base64.b64encode(cipher).decode(), data={"a": 1})
    assert read_line(exported).leaf == record_leaf_hash(7, OID, 2, TOPIC, cipher)


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
                "data": {},
            }
        ),
        line(stored="***", data={}),
        line(data={}, extra=1),
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
