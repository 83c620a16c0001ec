"""Reactions to events: carrier changes the compiled rule set depends on move its version.

An event reaches one process of the deployment (the one whose relay or consumer took it), so its handler
bumps the `rule_set` version in the inbox transaction, and every process's `VersionWatcher` drops its set
when it sees the version move (rulebook.py). The handling process drops its own set at once: the rule data
does not change in this transaction, so dropping before the commit is as good as after it.

Pricing does not subscribe to its own `pricing.rule_changed`: the rule write bumps the version itself.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kernel.events.envelope import EventEnvelope
from kernel.events.transport import Subscription
from modules.carrier.events import CarrierDeactivated, CarrierDeleted
from modules.pricing.internal.models import versions
from modules.pricing.internal.rulebook import RULE_SET, RuleBook


class RuleSetInvalidation:
    def __init__(self, book: RuleBook) -> None:
        self.book = book

    async def on_carrier_deactivated(
        self, session: AsyncSession, event: CarrierDeactivated, envelope: EventEnvelope
    ) -> None:
        await self._rule_set_changed(session)

    async def on_carrier_deleted(self, session: AsyncSession, event: CarrierDeleted, envelope: EventEnvelope) -> None:
        await self._rule_set_changed(session)

    async def _rule_set_changed(self, session: AsyncSession) -> None:
        await versions.bump(session, RULE_SET)
        self.book.invalidate()

    def subscriptions(self) -> list[Subscription]:
        return [
            Subscription(CarrierDeactivated, self.on_carrier_deactivated),
            Subscription(CarrierDeleted, self.on_carrier_deleted),
        ]


SUBSCRIBES_TO = (CarrierDeactivated, CarrierDeleted)
