"""Integration events the pricing module publishes (through its outbox)."""

from __future__ import annotations

from typing import ClassVar

from kernel.contracts.events import IntegrationEvent


class PricingRuleChanged(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "pricing.rule_changed"
    event_version: ClassVar[int] = 1
    rule_id: int
    change: str
    """`created`, `updated` or `deleted`."""


ALL_EVENTS = (PricingRuleChanged,)
