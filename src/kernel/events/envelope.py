"""The envelope every integration event travels in (docs/api.md §8)."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec

from kernel.contracts.events import IntegrationEvent
from kernel.correlation import current_correlation_id
from kernel.ids import uuid7

E = TypeVar("E", bound=IntegrationEvent)


class EventEnvelope(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: str
    type: str
    version: int
    producer: str
    occurred_at: datetime
    correlation_id: str | None
    payload: dict[str, Any]

    @classmethod
    def wrap(cls, event: IntegrationEvent) -> EventEnvelope:
        return cls(
            id=str(uuid7()),
            type=event.event_type,
            version=event.event_version,
            producer=event.producer,
            occurred_at=datetime.now(UTC),
            correlation_id=current_correlation_id(),
            payload=msgspec.to_builtins(event),
        )

    def open(self, event_class: builtins.type[E]) -> E:
        """The typed event inside; raises msgspec.ValidationError when the payload does not fit."""
        return msgspec.convert(self.payload, event_class)

    def to_json(self) -> bytes:
        return msgspec.json.encode(self)

    @classmethod
    def from_json(cls, raw: bytes | str) -> EventEnvelope:
        return msgspec.json.decode(raw, type=cls)
