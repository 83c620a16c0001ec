"""Transports carry envelopes from a producer's relay to the subscribed handlers.

`InProcessTransport` (the monolith default) calls the handlers directly, each in its own transaction in its
consumer's database. `RedisStreamsTransport` (kernel.events.redis_streams) implements the same interface for
split deployments.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kernel.contracts.events import IntegrationEvent
from kernel.correlation import current_correlation_id, set_correlation_id
from kernel.events.envelope import EventEnvelope
from kernel.events.outbox import Inbox

log = logging.getLogger("freightdesk.events")

Handler = Callable[[AsyncSession, Any, EventEnvelope], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """What a module declares: "when `event` happens, run `handler`" (the handler's name keys the inbox)."""

    event: type[IntegrationEvent]
    handler: Handler

    @property
    def handler_name(self) -> str:
        handler = self.handler
        qualname = getattr(handler, "__qualname__", type(handler).__qualname__)
        return f"{handler.__module__}.{qualname}"[-150:]


@dataclass(frozen=True)
class BoundSubscription:
    """A subscription tied to its consumer's database (bootstrap builds these)."""

    consumer: str
    subscription: Subscription
    session_maker: async_sessionmaker[AsyncSession]
    inbox: Inbox

    @property
    def name(self) -> str:
        return self.subscription.handler_name


class DeliveryFailed(Exception):
    """One or more handlers raised; the relay retries the event later.

    Handlers that succeeded are skipped on the retry (their inbox rows exist).
    """


class TransportUnavailable(Exception):
    """The transport could not take the event at all (its broker does not answer); nothing is wrong with the
    event. The relay counts no attempt for it and tries again on a later pass."""


class EventTransport(Protocol):
    name: str

    def subscribe(self, bound: BoundSubscription) -> None: ...

    async def publish(self, envelope: EventEnvelope) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


async def deliver_once(bound: BoundSubscription, envelope: EventEnvelope) -> bool:
    """Run one handler for one event, exactly once per (event, handler). Returns False for a duplicate.

    The inbox row is written first, in the handler's transaction: a duplicate fails on its key (one round trip,
    no read before it), and a concurrent delivery of the same event waits for the first one's outcome."""
    previous = current_correlation_id()
    set_correlation_id(envelope.correlation_id)
    try:
        async with bound.session_maker() as session:
            try:
                connection = await session.connection()  # the session's transaction, without the ORM's work
                await connection.execute(bound.inbox.insert, {"event_id": envelope.id, "handler": bound.name})
            except IntegrityError:
                await session.rollback()
                return False  # handled already, or by a concurrent delivery that committed first
            event: IntegrationEvent = envelope.open(bound.subscription.event)
            await bound.subscription.handler(session, event, envelope)
            await session.commit()
            return True
    finally:
        set_correlation_id(previous)


class InProcessTransport:
    name = "inprocess"

    def __init__(self) -> None:
        self._subscriptions: dict[str, list[BoundSubscription]] = {}

    def subscribe(self, bound: BoundSubscription) -> None:
        self._subscriptions.setdefault(bound.subscription.event.event_type, []).append(bound)

    async def publish(self, envelope: EventEnvelope) -> None:
        failures: list[str] = []
        for bound in self._subscriptions.get(envelope.type, []):
            try:
                await deliver_once(bound, envelope)
            except Exception as exc:
                log.warning(
                    "event handler failed",
                    extra={"event_id": envelope.id, "event_type": envelope.type, "handler": bound.name},
                    exc_info=True,
                )
                failures.append(f"{bound.name}: {type(exc).__name__}: {exc}")
        if failures:
            raise DeliveryFailed("; ".join(failures))

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
