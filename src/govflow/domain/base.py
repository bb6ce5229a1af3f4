"""Pydantic domain events with explicit stable topics, and the aggregate base class.

Aggregates check invariants, then record a past-tense event; ``apply`` is the only place their
state changes. Time is always passed in (``at``): the domain never reads the clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Self, TypeVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict

_TOPICS: dict[str, type[DomainEvent]] = {}
_CREATED_BY: dict[type[DomainEvent], type[Aggregate]] = {}

SYSTEM_ACTOR = "system"
INTEGRATION_ACTOR_PREFIX = "integration:"  # an integration acting under its token's scopes


class DomainEvent(BaseModel):
    """Something that happened to one aggregate, recorded for good.

    ``TOPIC`` is the persisted name of the class: stable across renames and moves.
    ``class_version`` goes up when the shape changes; ``upcast_vN_vN+1`` static methods
    then turn older stored payloads into the newer shape.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    TOPIC: ClassVar[str] = ""
    class_version: ClassVar[int] = 1

    originator_id: UUID
    originator_version: int
    timestamp: AwareDatetime
    actor: str
    step: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        topic = cls.__dict__.get("TOPIC", "")
        if topic:
            if topic in _TOPICS and _TOPICS[topic].__qualname__ != cls.__qualname__:
                raise TypeError(f"topic {topic!r} is already taken by {_TOPICS[topic]!r}")
            _TOPICS[topic] = cls

    def mutate(self, aggregate: Aggregate | None) -> Aggregate:
        if aggregate is None:
            aggregate = _CREATED_BY[type(self)](self)
        aggregate.apply(self)
        aggregate.version = self.originator_version
        aggregate.modified_on = self.timestamp
        if self.step is not None:
            aggregate.applied_steps.add(self.step)
        return aggregate


def event_class(topic: str) -> type[DomainEvent]:
    """The event class persisted under ``topic``."""
    try:
        return _TOPICS[topic]
    except KeyError:
        raise LookupError(f"no event class is registered for topic {topic!r}") from None


def event_classes() -> dict[str, type[DomainEvent]]:
    """Every registered event class by topic (import ``govflow.domain`` first)."""
    return dict(sorted(_TOPICS.items()))


A = TypeVar("A", bound="Aggregate")


class Aggregate:
    """Base of govflow's aggregates: an id, a version and the events not yet saved.

    Subclasses list the events that create them in ``created_by`` and change state only in
    ``apply``.
    """

    created_by: ClassVar[tuple[type[DomainEvent], ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for created in cls.created_by:
            _CREATED_BY[created] = cls

    def __init__(self, created: DomainEvent) -> None:
        self.id: UUID = created.originator_id
        self.version = 0
        self.created_on: datetime = created.timestamp
        self.modified_on: datetime = created.timestamp
        self.applied_steps: set[str] = set()
        self._pending_events: list[DomainEvent] = []

    def apply(self, event: DomainEvent) -> None:
        raise NotImplementedError

    @classmethod
    def _create(
        cls,
        event_cls: type[DomainEvent],
        aggregate_id: UUID,
        *,
        at: datetime,
        actor: str,
        step: str | None = None,
        **fields: Any,
    ) -> Self:
        event = event_cls(
            originator_id=aggregate_id,
            originator_version=1,
            timestamp=at,
            actor=actor,
            step=step,
            **fields,
        )
        aggregate = event.mutate(None)
        assert isinstance(aggregate, cls)
        aggregate._pending_events.append(event)
        return aggregate

    def _trigger(
        self,
        event_cls: type[DomainEvent],
        *,
        at: datetime,
        actor: str,
        step: str | None = None,
        **fields: Any,
    ) -> DomainEvent:
        event = event_cls(
            originator_id=self.id,
            originator_version=self.version + 1,
            timestamp=at,
            actor=actor,
            step=step,
            **fields,
        )
        event.mutate(self)
        self._pending_events.append(event)
        return event

    def has_applied(self, step: str | None) -> bool:
        """Whether a command carrying this idempotency ``step`` id was applied already."""
        return step is not None and step in self.applied_steps

    def collect_events(self) -> list[DomainEvent]:
        events, self._pending_events = self._pending_events, []
        return events
