"""Stores pydantic events as orjson under their explicit topics, upcasting older versions.

eventsourcing's own mapper is bypassed, so its ``class_version`` upcast loop is re-implemented
here: a stored payload of version N is passed through ``upcast_vN_vN+1`` ... up to the class's
current version before it is validated.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    Cipher,
    Compressor,
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
)

from govflow.domain.base import DomainEvent, event_class

_ENVELOPE = {"originator_id", "originator_version"}


def encode_event(event: DomainEvent) -> bytes:
    """The canonical stored payload of ``event`` (without id and version)."""
    state = event.model_dump(mode="json", exclude=_ENVELOPE)
    if type(event).class_version > 1:
        state["class_version"] = type(event).class_version
    return orjson.dumps(state)


def decode_event(topic: str, originator_id: UUID | str, version: int, payload: bytes) -> Any:
    """Rebuild an event from its stored payload, upcasting it to the current shape."""
    cls = event_class(topic)
    state: dict[str, Any] = orjson.loads(payload)
    upcast(cls, state)
    state["originator_id"] = originator_id
    state["originator_version"] = version
    return cls.model_validate(state)


def upcast(cls: type[DomainEvent], state: dict[str, Any]) -> None:
    from_version = state.pop("class_version", 1)
    while from_version < cls.class_version:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1


class PydanticMapper(Mapper[UUID]):
    def __init__(self, compressor: Compressor | None = None, cipher: Cipher | None = None):
        super().__init__(transcoder=JSONTranscoder(), compressor=compressor, cipher=cipher)

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        assert isinstance(domain_event, DomainEvent)
        payload = encode_event(domain_event)
        if self.compressor:
            payload = self.compressor.compress(payload)
        if self.cipher:
            payload = self.cipher.encrypt(payload)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=type(domain_event).TOPIC,
            state=payload,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return decode_event(
            stored_event.topic,
            stored_event.originator_id,
            stored_event.originator_version,
            self.plaintext(stored_event.state, stored_event.topic),
        )

    def plaintext(self, state: bytes, topic: str = "") -> bytes:
        """The decrypted, decompressed payload of a stored event."""
        try:
            if self.cipher:
                state = self.cipher.decrypt(state)
            if self.compressor:
                state = self.compressor.decompress(state)
        except Exception as error:
            raise MapperDeserialisationError(
                f"cannot read an event of {topic!r}: {error}"
            ) from error
        if not state.startswith(b"{"):
            raise MapperDeserialisationError(
                f"cannot read an event of {topic!r}: it is encrypted (set GOVFLOW_CIPHER_KEY)"
                if not self.cipher
                else f"cannot read an event of {topic!r}: not a JSON payload"
            )
        return state
