"""In-process implementation of `PricingRuleDirectory`, on the module's reads; returns DTOs."""

from __future__ import annotations

from modules.pricing.api import PricingRuleSummary
from modules.pricing.internal.reads import PricingReads


class ReadsPricingRuleDirectory:
    def __init__(self, reads: PricingReads) -> None:
        self._reads = reads

    async def get_rule(self, rule_id: int) -> PricingRuleSummary | None:
        rule = await self._reads.find_rule(rule_id)
        if rule is None:
            return None
        return PricingRuleSummary(
            id=rule.id,
            name=rule.name,
            is_active=rule.is_active,
            priority=rule.priority,
            carrier_id=rule.carrier_id,
            currency=rule.pricing.currency,
        )
