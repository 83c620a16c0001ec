"""Reactions to events: each drops the compiled rule set, so the next calculation sees the change."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kernel.events.envelope import EventEnvelope
from kernel.events.transport import Subscription
from modules.carrier.events import CarrierDeactivated, CarrierDeleted
from modules.pricing.events import PricingRuleChanged
from modules.pricing.internal.rulebook import RuleBook


class RuleSetInvalidation:
    def __init__(self, book: RuleBook) -> None:
        self.book = book

    async def on_rule_changed(self, session: AsyncSession, event: PricingRuleChanged, envelope: EventEnvelope) -> None:
        self.book.invalidate()

    async def on_carrier_deactivated(
        self, session: AsyncSession, event: CarrierDeactivated, envelope: EventEnvelope
    ) -> None:
        self.book.invalidate()

    async def on_carrier_deleted(self, session: AsyncSession, event: CarrierDeleted, envelope: EventEnvelope) -> None:
        self.book.invalidate()

    def subscriptions(self) -> list[Subscription]:
        return [
            Subscription(PricingRuleChanged, self.on_rule_changed),
            Subscription(CarrierDeactivated, self.on_carrier_deactivated),
            Subscription(CarrierDeleted, self.on_carrier_deleted),
        ]


SUBSCRIBES_TO = (PricingRuleChanged, CarrierDeactivated, CarrierDeleted)
