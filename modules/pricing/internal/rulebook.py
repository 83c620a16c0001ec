"""The compiled rule set, built once from the active rules and rebuilt after a change it depends on.

Every process hosting pricing keeps its own set; the `rule_set` version in `pricing_cache_versions` keeps
them all current (kernel.db.versions, docs/adr/0009-rule-set-across-processes.md). A rule write bumps it in
its own transaction and drops this process's set at once after the commit; the handler of
`carrier.deactivated` and `carrier.deleted`, in whichever process the event reaches, bumps it in the inbox
transaction and drops that process's set. Every other process drops its set when its `VersionWatcher` sees
the version move, within a poll interval. A rebuild that started before a drop is not kept, so a stale set
never survives a change. A compiled set is served without touching the database.
"""

from __future__ import annotations

from modules.pricing.internal.engine import RuleSet
from modules.pricing.internal.reads import PricingReads

RULE_SET = "rule_set"
"""The name of the rule set's version: bumped by every change the compiled set depends on."""


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
