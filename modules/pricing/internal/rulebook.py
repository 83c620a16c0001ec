"""The compiled rule set, built once from the active rules and rebuilt after a rule changes.

In-process: a write through this process drops it at once, and the module's subscriptions drop it again on
`pricing.rule_changed` (a write by another process hosting pricing) and on `carrier.deactivated` or
`carrier.deleted`. A rebuild that started before a drop is not kept, so a stale set never survives a change.
"""

from __future__ import annotations

from modules.pricing.internal.engine import RuleSet
from modules.pricing.internal.reads import PricingReads


class RuleBook:
    def __init__(self, reads: PricingReads) -> None:
        self._reads = reads
        self._rules: RuleSet | None = None
        self._generation = 0

    def invalidate(self) -> None:
        self._rules = None
        self._generation += 1

    async def rules(self) -> RuleSet:
        rules = self._rules
        if rules is not None:
            return rules
        generation = self._generation
        compiled = RuleSet.compile(view.as_rule() for view in await self._reads.active_rules())
        if generation == self._generation:
            self._rules = compiled
        return compiled
