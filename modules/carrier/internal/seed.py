"""Demo carriers (docs/reference-data.md), ids 1-25 in this order on a fresh database.

Idempotent: carriers are added only to an empty table.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from modules.carrier.internal.models import CarrierDetails, CarrierRates
from modules.carrier.internal.reads import CarrierReads
from modules.carrier.internal.service import CarrierService, CarrierValues

# name, code, website domain, service types, coverage, base rate, currency, per-kg rate
_DEMO: list[tuple[str, str, str, list[str], list[str], str, str, str]] = [
    (
        "FedEx Express",
        "FEDEX",
        "fedex.com",
        ["Express", "Ground", "Freight", "Home Delivery"],
        ["US", "CA", "MX", "EU", "APAC"],
        "15.99",
        "USD",
        "2.50",
    ),
    (
        "UPS",
        "UPS",
        "ups.com",
        ["Next Day Air", "2nd Day Air", "Ground", "Freight"],
        ["US", "CA", "EU"],
        "12.99",
        "USD",
        "2.25",
    ),
    (
        "USPS",
        "USPS",
        "usps.com",
        ["Priority Mail", "First-Class", "Parcel Select"],
        ["US"],
        "8.99",
        "USD",
        "1.50",
    ),
    ("DHL Express", "DHL", "dhl.com", ["Express", "Economy Select"], ["Worldwide"], "18.99", "USD", "3.00"),
    (
        "DHL eCommerce",
        "DHLECOM",
        "dhl.com",
        ["Parcel", "Parcel Plus"],
        ["US", "EU", "APAC"],
        "7.49",
        "USD",
        "1.20",
    ),
    ("TNT Express", "TNT", "tnt.com", ["Express", "Economy Express"], ["EU", "APAC"], "16.50", "EUR", "2.80"),
    (
        "Amazon Logistics",
        "AMZL",
        "logistics.amazon.com",
        ["Same Day", "Next Day", "Standard"],
        ["US", "EU"],
        "6.99",
        "USD",
        "1.10",
    ),
    ("OnTrac", "ONTRAC", "ontrac.com", ["Ground", "Sunrise"], ["US-West"], "7.99", "USD", "1.30"),
    ("LaserShip", "LSHIP", "lasership.com", ["Ground", "Same Day"], ["US-East"], "7.49", "USD", "1.25"),
    (
        "Canada Post",
        "CPC",
        "canadapost-postescanada.ca",
        ["Priority", "Xpresspost", "Expedited Parcel"],
        ["CA"],
        "11.50",
        "CAD",
        "2.10",
    ),
    ("Purolator", "PUR", "purolator.com", ["Express", "Ground"], ["CA", "US"], "13.25", "CAD", "2.40"),
    (
        "Royal Mail",
        "RM",
        "royalmail.com",
        ["Special Delivery", "Tracked 24", "Tracked 48"],
        ["GB"],
        "6.85",
        "GBP",
        "1.05",
    ),
    ("Hermes (Evri)", "EVRI", "evri.com", ["Standard", "Next Day"], ["GB"], "3.99", "GBP", "0.75"),
    ("DPD", "DPD", "dpd.com", ["Classic", "Predict", "Express"], ["EU", "GB"], "8.90", "EUR", "1.40"),
    ("GLS", "GLS", "gls-group.com", ["Business Parcel", "Express Parcel"], ["EU"], "7.90", "EUR", "1.20"),
    (
        "SF Express",
        "SF",
        "sf-express.com",
        ["Standard Express", "Economy Express"],
        ["CN", "APAC"],
        "45.00",
        "CNY",
        "8.00",
    ),
    (
        "Yamato Transport",
        "YAMATO",
        "kuronekoyamato.co.jp",
        ["TA-Q-BIN", "Compact"],
        ["JP"],
        "930",
        "JPY",
        "120",
    ),
    ("Japan Post", "JP", "post.japanpost.jp", ["EMS", "Yu-Pack"], ["JP", "Worldwide"], "1400", "JPY", "200"),
    ("Korea Post", "KP", "epost.go.kr", ["EMS", "K-Packet"], ["KR", "Worldwide"], "12000", "KRW", "2500"),
    (
        "Australia Post",
        "AP",
        "auspost.com.au",
        ["Express Post", "Parcel Post"],
        ["AU"],
        "11.95",
        "AUD",
        "2.00",
    ),
    ("Correios Brazil", "CORREIOS", "correios.com.br", ["SEDEX", "PAC"], ["BR"], "25.00", "BRL", "4.50"),
    ("XPO Logistics", "XPO", "xpo.com", ["LTL", "Freight"], ["US", "CA", "MX"], "85.00", "USD", "0.35"),
    ("Old Dominion Freight Line", "ODFL", "odfl.com", ["LTL", "Expedited"], ["US"], "95.00", "USD", "0.30"),
    ("Pitney Bowes", "PB", "pitneybowes.com", ["Standard", "Expedited"], ["US"], "5.99", "USD", "0.95"),
    ("FedEx Ground", "FDXG", "fedex.com", ["Ground", "Home Delivery"], ["US", "CA"], "10.49", "USD", "1.85"),
]


def demo_carriers() -> list[CarrierValues]:
    carriers: list[CarrierValues] = []
    for name, code, domain, services, coverage, base, currency, per_kg in _DEMO:
        details = CarrierDetails(
            code=code,
            website=f"https://www.{domain}",
            tracking_url=f"https://www.{domain}/track?number={{trackingNumber}}",
            service_types=tuple(services),
            coverage=tuple(coverage),
            pricing=CarrierRates(base_rate=Decimal(base), currency=currency, per_kg_rate=Decimal(per_kg)),
        )
        carriers.append(
            {
                "name": name,
                "description": f"{name}: {', '.join(services)}",
                "is_active": True,
                "contact_email": f"support@{code.lower()}.example.com",
                "contact_phone": "+1 800 555 0100",
                "details": details,
            }
        )
    return carriers


async def seed_carriers(session_maker: async_sessionmaker[AsyncSession], reads: CarrierReads, demo: bool) -> None:
    if not demo or await reads.count(None):
        return
    for carrier in demo_carriers():
        async with session_maker() as session:
            await CarrierService(session, reads.cache).create(carrier)
