"""Demo pricing rules (docs/reference-data.md), ids 1-6 in this order on a fresh database.

Idempotent: rules are added only to an empty table. They name the demo carriers 1-4, which the carrier
module seeds first (modules are seeded in dependency order).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from modules.carrier.api import CarrierDirectory
from modules.pricing.internal.engine import Conditions, Range
from modules.pricing.internal.reads import PricingReads
from modules.pricing.internal.service import AdjustmentDraft, PricingDraft, PricingRuleService, RuleValues


def _pricing(
    base: str,
    per_kg: str | None = None,
    minimum: str | None = None,
    maximum: str | None = None,
    surcharges: tuple[AdjustmentDraft, ...] = (),
    discounts: tuple[AdjustmentDraft, ...] = (),
) -> PricingDraft:
    def money(value: str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    return PricingDraft(
        base_rate=Decimal(base),
        currency="USD",
        per_kg_rate=money(per_kg),
        minimum_charge=money(minimum),
        maximum_charge=money(maximum),
        surcharges=surcharges,
        discounts=discounts,
    )


def _flat(type_: str, amount: str) -> AdjustmentDraft:
    return AdjustmentDraft(type=type_, amount=Decimal(amount))


def _percent(type_: str, percentage: str) -> AdjustmentDraft:
    return AdjustmentDraft(type=type_, percentage=Decimal(percentage))


def _domestic(carrier_id: int, service: str) -> Conditions:
    return Conditions(carrier_id=carrier_id, service_type=service, origin_country="US", destination_country="US")


def demo_rules() -> list[RuleValues]:
    rules: list[tuple[str, Conditions, PricingDraft, int]] = [
        (
            "FedEx Express Domestic",
            _domestic(1, "Express"),
            _pricing(
                "15.99",
                "2.50",
                "12.99",
                "500",
                surcharges=(_percent("Fuel Surcharge", "8.5"), _flat("Weekend Delivery", "5.00")),
            ),
            100,
        ),
        (
            "UPS Ground Domestic",
            _domestic(2, "Ground"),
            _pricing("12.99", "2.25", "8.99", "400", discounts=(_percent("Volume Discount", "5"),)),
            90,
        ),
        (
            "DHL International Express",
            Conditions(carrier_id=4, service_type="Express", origin_country="US"),
            _pricing(
                "18.99",
                "3.00",
                "15.99",
                "1000",
                surcharges=(_flat("International Surcharge", "10.00"), _flat("Customs Handling", "5.00")),
            ),
            95,
        ),
        ("USPS Priority Mail", _domestic(3, "Priority Mail"), _pricing("8.99", "1.50", "6.99", "200"), 80),
        (
            "Heavy Package Surcharge",
            Conditions(weight_range=Range(min=Decimal(20), max=Decimal(999))),
            _pricing("0", surcharges=(_flat("Heavy Package", "15.00"),)),
            50,
        ),
        (
            "Premium Customer Discount",
            Conditions(customer_type="premium"),
            _pricing("0", discounts=(_percent("Premium Customer", "10"),)),
            200,
        ),
    ]
    return [
        {
            "name": name,
            "description": f"Demo rule: {name}",
            "is_active": True,
            "priority": priority,
            "conditions": conditions,
            "pricing": pricing,
        }
        for name, conditions, pricing, priority in rules
    ]


async def seed_rules(
    session_maker: async_sessionmaker[AsyncSession],
    reads: PricingReads,
    carriers: CarrierDirectory,
    on_change: Callable[[], None],
    demo: bool,
) -> None:
    if not demo or await reads.rule_count(None, None):
        return
    for rule in demo_rules():
        async with session_maker() as session:
            await PricingRuleService(session, carriers, on_change).create(rule)
