"""Base of every integration event: frozen, keyword-only, camelCase on the wire, typed and versioned."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import msgspec

_EVENT_TYPE = re.compile(r"^[a-z]+\.[a-z_]+$")


class IntegrationEvent(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Subclasses set `event_type` (`<module>.<past tense>`) and `event_version` (an int ≥ 1).

    Payloads carry ids and the fields named in the event catalogue, never secrets.
    """

    event_type: ClassVar[str]
    event_version: ClassVar[int]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        event_type = cls.__dict__.get("event_type")
        version = cls.__dict__.get("event_version")
        if not isinstance(event_type, str) or not _EVENT_TYPE.match(event_type):
            raise TypeError(f"{cls.__name__}.event_type must look like '<module>.<past_tense>'")
        if not isinstance(version, int) or version < 1:
            raise TypeError(f"{cls.__name__}.event_version must be an int >= 1")

    @property
    def producer(self) -> str:
        return self.event_type.split(".", 1)[0]
