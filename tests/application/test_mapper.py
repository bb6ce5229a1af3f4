"""Stored events use explicit topics and are upcast from older shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import uuid4

import orjson

from govflow.application.mapper import PydanticMapper, encode_event
from govflow.domain.base import DomainEvent


class Renamed(DomainEvent):
    TOPIC: ClassVar[str] = "govflow.test.renamed"
    class_version: ClassVar[int] = 3
    title: str
    summary: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["title"] = state.pop("name")

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["summary"] = ""


def test_topic_is_the_explicit_name_not_the_module_path() -> None:
    """Moving or renaming a class does not change what is stored."""
    event = Renamed(
        originator_id=uuid4(),
        originator_version=1,
        timestamp=datetime(2026, 1, 1, tzinfo=UTC),
        actor="a",
        title="t",
        summary="s",
    )
    stored = PydanticMapper().to_stored_event(event)
    assert stored.topic == "govflow.test.renamed"
    assert orjson.loads(stored.state)["class_version"] == 3
    assert PydanticMapper().to_domain_event(stored) == event
    assert b"originator_id" not in encode_event(event)


def test_a_version_1_payload_is_upcast_through_every_step() -> None:
    """A v1 payload passes v1→v2→v3 before validation."""
    from eventsourcing.persistence import StoredEvent

    v1 = orjson.dumps({"timestamp": "2026-01-01T00:00:00Z", "actor": "a", "name": "old"})
    event = PydanticMapper().to_domain_event(
        StoredEvent(originator_id=uuid4(), originator_version=1, topic=Renamed.TOPIC, state=v1)
    )
    assert isinstance(event, Renamed)
    assert (event.title, event.summary) == ("old", "")
