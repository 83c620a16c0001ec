"""Pricing module's public interface: what other modules may ask of pricing rules, as Protocols and DTOs."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import msgspec

from kernel.contracts.calls import idempotent
from kernel.contracts.errors import Conflict, NotFound


class PricingRuleSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    is_active: bool
    priority: int
    carrier_id: int | None = None
    currency: str


@runtime_checkable
class PricingRuleDirectory(Protocol):
    """Read access to pricing rules for other modules. Returns DTOs, never ORM objects."""

    @idempotent
    async def get_rule(self, rule_id: int) -> PricingRuleSummary | None:
        """The rule, or None when no rule has that id."""


class PricingRuleNotFound(NotFound):
    default_message = "Pricing rule not found"


class PricingRuleInUse(Conflict):
    default_message = "Pricing rule is used by stored calculations; deactivate it instead"


class PriceCalculationNotFound(NotFound):
    default_message = "Price calculation not found"
