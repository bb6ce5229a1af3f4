"""The published event catalogue stays in step with the code, and golden payloads still decode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from govflow.application import catalogue
from govflow.application.mapper import decode_event

ROOT = Path(__file__).parents[2]
GOLDEN = sorted((ROOT / "aggregates" / "golden").glob("*.json"))


def test_checked_in_catalogue_is_fresh() -> None:
    """Schemas, catalogue and procedure schema match the code (run `govflow schema export`)."""
    result = catalogue.export(ROOT, check=True)
    assert result.stale == [], "stale files: run `govflow schema export`"


def test_every_event_version_has_a_golden_payload() -> None:
    """Each event class at its current version has a checked-in example."""
    names = {p.stem for p in GOLDEN}
    missing = {
        f"{t}.v{c.class_version}" for t, c in catalogue.published_event_classes().items()
    } - names
    assert missing == set()


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_payload_still_decodes(path: Path) -> None:
    """A stored payload of every released event version decodes (through upcasters)."""
    golden = json.loads(path.read_text(encoding="utf-8"))
    payload = json.dumps(golden["payload"]).encode()
    event = decode_event(
        golden["topic"], golden["originator_id"], golden["originator_version"], payload
    )
    assert golden["topic"] == type(event).TOPIC


def test_export_never_overwrites_a_golden_payload(tmp_path: Path) -> None:
    """Golden payloads are written once: an existing file is kept as it is."""
    catalogue.export(tmp_path)
    target = tmp_path / "aggregates/golden/govflow.ballot.cast.v1.json"
    target.write_text('{"kept": true}\n', encoding="utf-8")
    result = catalogue.export(tmp_path)
    assert target.read_text(encoding="utf-8") == '{"kept": true}\n'
    assert result.written == []
