"""Fill throwaway MariaDB databases with a business that has grown: customers, carriers, rules, calculations.

`growth.py` measures the list, search, count and history routes and a calculation on these databases at two
scales and compares them; this script makes the data, and can run alone to time the generation:

| scale | customers | carriers | pricing rules | stored calculations |
| --- | ---: | ---: | ---: | ---: |
| `small` | 1,000 | 1,000 | 1,000 | 1,000 |
| `full` | 100,000 | 10,000 | 10,000 | 1,000,000 |

What it does:

1. Creates one fresh database per module, `<prefix>_<scale>_<module>` (auth, user, customer, carrier, pricing;
   the prefix is `fdbench_growth_<random>` unless `--prefix` names one), as the other benchmarks do
   (`harness.BenchDatabase`: root over the unix socket when run as root, granting the URL's user access).
2. Migrates them with the project's own migrations: `freightdesk db upgrade` with every
   `<MODULE>_DATABASE_URL` on its database. Nothing is seeded: a server started on them later finds every
   history already there, so it adds its reference data (roles, the administrator, whose own customer
   profile follows) but no demo data.
3. Inserts the rows **straight into the module tables**, in multi-row `INSERT ... VALUES` statements of a few
   thousand rows (asyncmy's `executemany`), one transaction per batch. This bypasses the services and so
   the outboxes: no events are written for the bulk data, and no process is told (none runs yet). The
   documents (`address`, `metadata`, `conditions`, `pricing`, `request`, `result`) are the JSON the column
   types write (`kernel.db.base.StructJSON` of the module's structs), and every result is one the pricing
   engine computed for its rule. `price_calculation_days` stays empty: the pricing module fills it with the
   first count of the history, as on any database it meets (`growth.py` reports what that first count costs).
4. Drops the databases at the end, unless `--keep` (then it prints the prefix and writes a manifest that
   `growth.py --reuse <prefix>` reads).

The data, from a fixed seed (`--seed`), spread over the two years before the run:

- Customers: first and last names from 120 and 150 common ones, a unique e-mail, a phone for most, 92 %
  active, a date of birth for 70 %, a customer type for 60 % (standard, premium, business), an address for 80 %,
  preferences for half; created at a growing rate (more in the second year), ids in creation order.
- Carriers: unique names made of three word lists (`Swift Cargo Lines`), a description, contact details,
  90 % active, metadata with a code, a website, 1-4 service types, 1-5 countries and indicative rates.
- Pricing rules: 20 carrier-agnostic rules (surcharges and discounts: heavy parcels, long distances, customer
  types, a fuel surcharge), the same at both scales, as a business has a few policy rules whatever its size;
  the rest name a carrier, picked at random: 85 % base rules for one service and origin country (often one
  destination, sometimes a weight or distance band, priority 0-100, some with a validity window, a few expired),
  15 % surcharges or discounts for one carrier; 90 % of the rules active.
- Calculations: each prices a shipment on the lane of a random active base rule of an active carrier
  (busier carriers get more: weights from a Pareto distribution), 70 % for a random customer, the result the
  engine computed for that rule (with its applied rules, also in `price_calculation_rules`), created at a
  growing rate over the two years, ids in creation order.

Run on demand:

    uv run python benchmarks/growth_data.py --scale small            # generate, report timings, drop
    uv run python benchmarks/growth_data.py --scale full --keep      # keep them for growth.py --reuse
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from harness import (
    DEFAULT_MYSQL_URL,
    BenchDatabase,
    BenchmarkError,
    MySqlServer,
    freightdesk_executable,
    log,
    server_environment,
)

from modules.pricing.internal.engine import Adjustment, Conditions, NoBaseRule, Pricing, Range, Request, Rule, RuleSet

MODULES = ("auth", "user", "customer", "carrier", "pricing")
SPAN_DAYS = 730
GLOBAL_RULES = 20
BATCH_ROWS = 2_000


@dataclass(frozen=True)
class Scale:
    customers: int
    carriers: int
    rules: int
    calculations: int


SCALES = {
    "small": Scale(customers=1_000, carriers=1_000, rules=1_000, calculations=1_000),
    "full": Scale(customers=100_000, carriers=10_000, rules=10_000, calculations=1_000_000),
}

FIRST_NAMES = (  # noqa: SIM905 - words read better as words
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Margaret "
    "Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin "
    "Amanda Brian Dorothy George Melissa Timothy Deborah Ronald Stephanie Edward Rebecca Jason Sharon Jeffrey "
    "Laura Ryan Cynthia Jacob Kathleen Gary Amy Nicholas Angela Eric Shirley Jonathan Anna Stephen Brenda "
    "Larry Pamela Justin Emma Scott Nicole Brandon Helen Benjamin Samantha Samuel Katherine Gregory Christine "
    "Alexander Debra Frank Rachel Patrick Carolyn Raymond Janet Jack Catherine Dennis Maria Jerry Heather "
    "Tyler Diane Aaron Ruth Jose Julie Adam Olivia Nathan Joyce Henry Virginia Douglas Victoria Zachary Kelly "
    "Peter Lauren Kyle Christina"
).split()
LAST_NAMES = (  # noqa: SIM905 - words read better as words
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall "
    "Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins "
    "Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly "
    "Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes "
    "Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan "
    "Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander "
    "Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina "
    "Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez Mcdonald Woods Washington Kennedy "
    "Wells Vargas Henry Chen Freeman"
).split()
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com", "corp.example.net")
CITIES = (
    ("New York", "NY", "US"),
    ("Chicago", "IL", "US"),
    ("Houston", "TX", "US"),
    ("Toronto", "ON", "CA"),
    ("Vancouver", "BC", "CA"),
    ("Mexico City", None, "MX"),
    ("London", None, "GB"),
    ("Berlin", None, "DE"),
    ("Paris", None, "FR"),
    ("Madrid", None, "ES"),
    ("Rome", None, "IT"),
    ("Amsterdam", None, "NL"),
    ("Tokyo", None, "JP"),
    ("Sydney", "NSW", "AU"),
    ("Singapore", None, "SG"),
)
STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Harbor Rd", "Market St", "Park Ave")
INDUSTRIES = ("Retail", "Manufacturing", "Healthcare", "Technology", "Food", "Automotive", "Construction", "Energy")
CONTACTS = ("email", "phone", "sms", "mail")
CUSTOMER_TYPES = ("standard", "premium", "business")
CARRIER_WORDS = (  # noqa: SIM905 - words read better as words
    "Swift Rapid Global Atlas Summit Pioneer Coastal Northern Southern Eastern Western Central Pacific "
    "Atlantic Royal Liberty Eagle Falcon Harbor Metro Prime Apex Blue Red Green Silver Golden Iron Union Trans"
).split()
CARRIER_NOUNS = (  # noqa: SIM905 - words read better as words
    "Cargo Freight Express Logistics Transport Shipping Haulage Courier Parcel Delivery Movers Carriers Line "
    "Forwarding Distribution Trucking Air Rail Sea Road Post Mail Dispatch Supply Route Fleet Motor Van Box "
    "Wings"
).split()
CARRIER_SUFFIXES = ("Inc", "Ltd", "Co", "Group", "Lines", "Services", "International", "Partners", "Systems", "LLC")
SERVICE_TYPES = ("Express", "Ground", "Freight", "Economy", "Priority", "Overnight", "Same Day", "Parcel")
COUNTRIES = ("US", "CA", "MX", "GB", "DE", "FR", "ES", "IT", "NL", "JP", "AU", "SG", "BR", "IN", "CN")
CURRENCIES = ("USD", "USD", "USD", "EUR", "EUR", "GBP", "CAD")
SURCHARGE_TYPES = ("Fuel Surcharge", "Residential Delivery", "Peak Season", "Remote Area", "Signature Required")
DISCOUNT_TYPES = ("Volume Discount", "Loyalty Discount", "Online Booking", "Off-Peak")


@dataclass
class Lane:
    """A shipment some active base rule of an active carrier prices: a `POST /pricing/calculate` body."""

    carrier_id: int
    service_type: str
    origin_country: str
    destination_country: str
    weight: float
    distance: float | None

    def body(self, customer_id: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "carrierId": self.carrier_id,
            "serviceType": self.service_type,
            "weight": self.weight,
            "originCountry": self.origin_country,
            "destinationCountry": self.destination_country,
        }
        if self.distance is not None:
            body["distance"] = self.distance
        if customer_id is not None:
            body["customerId"] = customer_id
        return body


@dataclass
class Dataset:
    """What was generated, and what a benchmark needs to ask for it."""

    scale: str
    prefix: str
    databases: dict[str, str]
    """module → database name"""
    urls: dict[str, str]
    """`<MODULE>_DATABASE_URL` → URL"""
    counts: dict[str, int]
    seconds: dict[str, float]
    rows_per_second: dict[str, float]
    span: tuple[str, str]
    """the first and last creation time of the data (ISO 8601)"""
    carrier_ids: list[int]
    customer_ids: list[int]
    carrier_search_terms: list[str]
    customer_search_terms: list[str]
    lanes: list[dict[str, Any]]
    """`Lane.body()` of a few hundred priced lanes (no customer)"""
    busiest_carriers: list[int] = field(default_factory=list)
    customers_with_calculations: list[int] = field(default_factory=list)
    """200 customers that have calculations (for the history by customer)"""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Dataset:
        data = json.loads(text)
        data["span"] = tuple(data["span"])
        return cls(**data)


# --------------------------------------------------------------------------------------------- helpers


def _times(rng: random.Random, count: int, start: datetime, end: datetime) -> list[datetime]:
    """`count` sorted moments in [start, end), denser towards the end (a business growing linearly)."""
    span = (end - start).total_seconds()
    return sorted(start + timedelta(seconds=span * math.sqrt(rng.random())) for _ in range(count))


def _naive(moment: datetime) -> datetime:
    """As `UTCDateTime` stores it on MariaDB: UTC, without the zone."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _json(value: Any) -> str:
    return msgspec.json.encode(msgspec.to_builtins(value)).decode()


def _phone(rng: random.Random) -> str:
    return f"+1 {rng.randint(200, 999)}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}"


def _money(rng: random.Random, low: float, high: float, places: int = 2) -> Decimal:
    return Decimal(f"{rng.uniform(low, high):.{places}f}")


# --------------------------------------------------------------------------------------------- customers


def customer_rows(rng: random.Random, count: int, start: datetime, end: datetime) -> Iterator[tuple[Any, ...]]:
    for index, created in enumerate(_times(rng, count, start, end), start=1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first.lower()}.{last.lower()}.{index}@{rng.choice(EMAIL_DOMAINS)}"
        address = None
        if rng.random() < 0.8:
            city, state, country = rng.choice(CITIES)
            address_doc: dict[str, Any] = {
                "street": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
                "city": city,
                "country": country,
            }
            if state is not None:
                address_doc["state"] = state
            if rng.random() < 0.9:
                address_doc["zipCode"] = f"{rng.randint(10000, 99999)}"
            address = json.dumps(address_doc, separators=(",", ":"))
        preferences: dict[str, Any] = {}
        if rng.random() < 0.5:
            if rng.random() < 0.6:
                preferences["company"] = f"{last} {rng.choice(('Trading', 'Imports', 'Supplies', 'Goods'))}"
                preferences["industry"] = rng.choice(INDUSTRIES)
            preferences["preferredContact"] = rng.choice(CONTACTS)
            preferences["newsletter"] = rng.random() < 0.4
        born = date(1950, 1, 1) + timedelta(days=rng.randint(0, 55 * 365)) if rng.random() < 0.7 else None
        updated = created + timedelta(days=rng.random() * 30) if rng.random() < 0.3 else created
        yield (
            index,
            None,  # user_id: customers of their own, not users' profiles
            email,
            first,
            last,
            _phone(rng) if rng.random() < 0.85 else None,
            rng.random() < 0.92,
            born,
            rng.choice(CUSTOMER_TYPES) if rng.random() < 0.6 else None,
            address,
            json.dumps(preferences, separators=(",", ":")),
            _naive(created),
            _naive(min(updated, end)),
        )


CUSTOMER_INSERT = (
    "INSERT INTO customers (id, user_id, email, first_name, last_name, phone, is_active, date_of_birth, customer_type, "
    "address, preferences, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


# ---------------------------------------------------------------------------------------------- carriers


@dataclass
class CarrierFacts:
    id: int
    active: bool
    services: list[str]
    countries: list[str]
    currency: str


def carrier_rows(
    rng: random.Random, count: int, start: datetime, end: datetime
) -> tuple[list[tuple[Any, ...]], list[CarrierFacts]]:
    names = [
        f"{a} {n} {s}" for a in CARRIER_WORDS for n in CARRIER_NOUNS for s in CARRIER_SUFFIXES
    ]  # 31 x 31 x 10 = 9,610 names
    picked = rng.sample(names, min(count, len(names)))
    while len(picked) < count:  # beyond the word lists: a number makes the name unique
        picked.append(f"{rng.choice(CARRIER_WORDS)} {rng.choice(CARRIER_NOUNS)} {len(picked) + 1:05d}")
    rows: list[tuple[Any, ...]] = []
    facts: list[CarrierFacts] = []
    for index, (name, created) in enumerate(zip(picked, _times(rng, count, start, end), strict=True), start=1):
        services = rng.sample(SERVICE_TYPES, rng.randint(1, 4))
        countries = rng.sample(COUNTRIES, rng.randint(1, 5))
        currency = rng.choice(CURRENCIES)
        active = rng.random() < 0.9
        code = "".join(word[0] for word in name.split()[:3]).upper() + f"{index:05d}"
        domain = name.lower().replace(" ", "-") + ".example.com"
        metadata: dict[str, Any] = {
            "code": code,
            "website": f"https://{domain}",
            "serviceTypes": services,
            "coverage": countries,
            "pricing": {
                "baseRate": str(_money(rng, 5, 40)),
                "currency": currency,
                "perKgRate": str(_money(rng, 0.5, 4)),
            },
        }
        if rng.random() < 0.6:
            metadata["trackingUrl"] = f"https://{domain}/track"
        rows.append(
            (
                index,
                name,
                name.lower(),  # kernel.contracts.text.name_key of an ASCII name
                f"{name}: {', '.join(services)} in {', '.join(countries)}" if rng.random() < 0.85 else None,
                active,
                f"ops@{domain}" if rng.random() < 0.8 else None,
                _phone(rng) if rng.random() < 0.8 else None,
                json.dumps(metadata, separators=(",", ":")),
                _naive(created),
                _naive(created),
            )
        )
        facts.append(CarrierFacts(index, active, services, countries, currency))
    return rows, facts


CARRIER_INSERT = (
    "INSERT INTO carriers (id, name, name_key, description, is_active, contact_email, contact_phone, metadata, "
    "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


# ------------------------------------------------------------------------------------------------- rules


def _adjustments(rng: random.Random, types: Sequence[str], most: int) -> tuple[Adjustment, ...]:
    chosen = rng.sample(types, rng.randint(0, most))
    return tuple(
        Adjustment(type=t, percentage=_money(rng, 1, 12, 1))
        if rng.random() < 0.5
        else Adjustment(type=t, amount=_money(rng, 1, 25))
        for t in chosen
    )


def global_rules(rng: random.Random) -> list[tuple[str, Conditions, Pricing, int]]:
    """Policy rules that name no carrier: the same twenty at every scale."""
    rules: list[tuple[str, Conditions, Pricing, int]] = []
    for index in range(GLOBAL_RULES):
        kind = index % 5
        if kind == 0:
            name, conditions = (
                "Heavy Parcel",
                Conditions(weight_range=Range(min=Decimal(30 + 20 * index), max=Decimal(5000))),
            )
            adjustment = Adjustment(type="Heavy Parcel", amount=Decimal(15 + index))
        elif kind == 1:
            name = "Long Haul"
            conditions = Conditions(distance_range=Range(min=Decimal(500 + 100 * index), max=Decimal(100000)))
            adjustment = Adjustment(type="Long Haul", percentage=Decimal(3))
        elif kind == 2:
            name = "Customer Type Discount"
            conditions = Conditions(customer_type=CUSTOMER_TYPES[index % 3])
            adjustment = Adjustment(type="Customer Discount", percentage=Decimal(5 + index % 3))
        elif kind == 3:
            name, conditions = "Fuel Surcharge", Conditions(service_type=SERVICE_TYPES[index % len(SERVICE_TYPES)])
            adjustment = Adjustment(type="Fuel Surcharge", percentage=Decimal("4.5"))
        else:
            name, conditions = "Remote Destination", Conditions(destination_country=COUNTRIES[index % len(COUNTRIES)])
            adjustment = Adjustment(type="Remote Area", amount=Decimal("9.50"))
        discount = kind == 2
        pricing = Pricing(
            base_rate=Decimal(0),
            currency="USD",
            surcharges=() if discount else (adjustment,),
            discounts=(adjustment,) if discount else (),
        )
        rules.append((f"{name} {index + 1}", conditions, pricing, 150 + index))
    return rules


def carrier_rule(
    rng: random.Random, carrier: CarrierFacts, today: date
) -> tuple[str, Conditions, Pricing, int, date | None, date | None]:
    service = rng.choice(carrier.services)
    origin = rng.choice(carrier.countries)
    valid_from = valid_to = None
    if rng.random() < 0.15:  # a validity window; one in five of them over already
        valid_from = today - timedelta(days=rng.randint(30, 700))
        valid_to = valid_from + timedelta(days=rng.randint(20, 900))
    if rng.random() < 0.85:
        weight = None
        if rng.random() < 0.3:
            low = rng.choice((0, 5, 20, 50))
            weight = Range(min=Decimal(low), max=Decimal(low * 4 + 20))
        distance = Range(min=Decimal(0), max=Decimal(rng.choice((500, 2000, 10000)))) if rng.random() < 0.15 else None
        destination = rng.choice(carrier.countries) if rng.random() < 0.6 else None
        conditions = Conditions(
            carrier_id=carrier.id,
            service_type=service,
            origin_country=origin,
            destination_country=destination,
            weight_range=weight,
            distance_range=distance,
        )
        pricing = Pricing(
            base_rate=_money(rng, 4, 45),
            currency=carrier.currency,
            per_kg_rate=_money(rng, 0.3, 4) if rng.random() < 0.9 else None,
            per_km_rate=_money(rng, 0.01, 0.2, 3) if distance is not None else None,
            minimum_charge=_money(rng, 5, 15) if rng.random() < 0.5 else None,
            maximum_charge=_money(rng, 300, 2000) if rng.random() < 0.4 else None,
            surcharges=_adjustments(rng, SURCHARGE_TYPES, 2),
            discounts=_adjustments(rng, DISCOUNT_TYPES, 1) if rng.random() < 0.2 else (),
        )
        route = f"{origin}-{destination}" if destination else f"from {origin}"
        return f"{service} {route}", conditions, pricing, rng.randint(0, 100), valid_from, valid_to
    conditions = Conditions(carrier_id=carrier.id, service_type=service if rng.random() < 0.5 else None)
    pricing = Pricing(
        base_rate=Decimal(0),
        currency=carrier.currency,
        surcharges=_adjustments(rng, SURCHARGE_TYPES, 2) or (Adjustment(type="Handling", amount=Decimal(3)),),
        discounts=_adjustments(rng, DISCOUNT_TYPES, 1),
    )
    return f"{carrier.id} adjustments", conditions, pricing, rng.randint(100, 200), valid_from, valid_to


RULE_INSERT = (
    "INSERT INTO pricing_rules (id, name, description, is_active, priority, valid_from, valid_to, carrier_id, "
    "conditions, pricing, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


# ------------------------------------------------------------------------------------------ calculations


@dataclass
class Template:
    """A lane priced once by the engine: the stored request (without the customer) and result documents."""

    lane: Lane
    request: dict[str, Any]
    result_json: str
    applied: tuple[int, ...]


def _lane_for(rng: random.Random, rule: Rule) -> Lane:
    conditions = rule.conditions
    assert conditions.carrier_id is not None
    assert conditions.service_type is not None
    assert conditions.origin_country is not None
    weight_range = conditions.weight_range
    low, high = (1.0, 60.0) if weight_range is None else (float(weight_range.min) + 0.5, float(weight_range.max))
    distance_range = conditions.distance_range
    distance = None
    if distance_range is not None:
        distance = round(rng.uniform(1, float(distance_range.max)), 1)
    elif rng.random() < 0.3:
        distance = round(rng.uniform(5, 3000), 1)
    return Lane(
        carrier_id=conditions.carrier_id,
        service_type=conditions.service_type,
        origin_country=conditions.origin_country,
        destination_country=conditions.destination_country or conditions.origin_country,
        weight=round(rng.uniform(low, max(low, high)), 1),
        distance=distance,
    )


def templates(rng: random.Random, rules: list[Rule], carriers: list[CarrierFacts], today: date) -> list[Template]:
    """Up to three priced lanes per active base rule of an active carrier, each priced by the engine."""
    rule_set = RuleSet.compile(rules)
    active_carriers = {c.id for c in carriers if c.active}
    made: list[Template] = []
    for rule in rules:
        c = rule.conditions
        if not (rule.is_active and rule.pricing.base_rate > 0 and c.carrier_id in active_carriers):
            continue
        for _ in range(3):
            lane = _lane_for(rng, rule)
            request = Request(
                service_type=lane.service_type,
                weight=Decimal(str(lane.weight)),
                origin_country=lane.origin_country,
                destination_country=lane.destination_country,
                carrier_id=lane.carrier_id,
                distance=None if lane.distance is None else Decimal(str(lane.distance)),
            )
            try:
                result = rule_set.price(request, today)
            except NoBaseRule:  # outside its validity window today
                continue
            stored_request = {
                "carrier_id": lane.carrier_id,
                "service_type": lane.service_type,
                "weight": str(request.weight),
                "origin_country": lane.origin_country,
                "destination_country": lane.destination_country,
            }
            if request.distance is not None:
                stored_request["distance"] = str(request.distance)
            applied = tuple(a.rule_id for a in result.applied_rules)
            made.append(Template(lane, stored_request, _json(result), applied))
    if not made:
        raise BenchmarkError("no rule prices any lane: the generated rules are broken")
    return made


CALCULATION_INSERT = (
    "INSERT INTO price_calculations (id, request_id, carrier_id, customer_id, request, result, calculated_at, "
    "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
CALCULATION_RULE_INSERT = "INSERT INTO price_calculation_rules (calculation_id, rule_id) VALUES (%s, %s)"


# ----------------------------------------------------------------------------------------------- insert


class Inserter:
    """One asyncmy connection to one database; batches of multi-row INSERTs, one transaction each."""

    def __init__(self, server: MySqlServer, database: str) -> None:
        self.server = server
        self.database = database
        self.connection: Any = None

    async def __aenter__(self) -> Inserter:
        import asyncmy

        self.connection = await asyncmy.connect(
            host=self.server.host,
            port=self.server.port,
            user=self.server.user,
            password=self.server.password,
            db=self.database,
            autocommit=False,
            charset="utf8mb4",
        )
        async with self.connection.cursor() as cursor:
            await cursor.execute("SET SESSION unique_checks = 0")
            await cursor.execute("SET SESSION time_zone = '+00:00'")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.connection.close()

    async def insert(self, statement: str, rows: Iterator[tuple[Any, ...]] | Sequence[tuple[Any, ...]]) -> int:
        batch: list[tuple[Any, ...]] = []
        done = 0
        async with self.connection.cursor() as cursor:
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH_ROWS:
                    await cursor.executemany(statement, batch)
                    await self.connection.commit()
                    done += len(batch)
                    batch.clear()
            if batch:
                await cursor.executemany(statement, batch)
                await self.connection.commit()
                done += len(batch)
        return done

    async def scalar(self, sql: str) -> Any:
        async with self.connection.cursor() as cursor:
            await cursor.execute(sql)
            row = await cursor.fetchone()
            return row[0] if row else None


def migrate(urls: dict[str, str], workdir: Path) -> None:
    """`freightdesk db upgrade`: every module's history, as a deployment migrates."""
    data_dir = workdir / "data"
    data_dir.mkdir(exist_ok=True)
    env = server_environment(data_dir, urls)
    done = subprocess.run(
        [str(freightdesk_executable()), "db", "upgrade"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise BenchmarkError(f"freightdesk db upgrade failed:\n{done.stdout}\n{done.stderr}")


async def fill(server: MySqlServer, dataset: Dataset, scale: Scale, seed: int) -> None:
    rng = random.Random(f"{seed}-{dataset.scale}")
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    start = end - timedelta(days=SPAN_DAYS)
    today = datetime.now(UTC).date()
    dataset.span = (start.isoformat(), end.isoformat())

    async def timed(name: str, rows: int, work: Any) -> None:
        started = time.perf_counter()
        await work
        seconds = time.perf_counter() - started
        dataset.seconds[name] = round(seconds, 2)
        dataset.rows_per_second[name] = round(rows / seconds) if seconds else 0
        dataset.counts[name] = rows
        log(f"{dataset.scale}: {rows:,} {name} in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")

    async with Inserter(server, dataset.databases["customer"]) as customers:
        await timed(
            "customers",
            scale.customers,
            customers.insert(CUSTOMER_INSERT, customer_rows(rng, scale.customers, start, end)),
        )

    carrier_data, facts = carrier_rows(rng, scale.carriers, start, end)
    async with Inserter(server, dataset.databases["carrier"]) as carriers:
        await timed("carriers", scale.carriers, carriers.insert(CARRIER_INSERT, carrier_data))

    # Rules: the global ones first (ids 1-20), then one per carrier picked at random.
    rule_rows: list[tuple[Any, ...]] = []
    rules: list[Rule] = []
    rule_times = _times(rng, scale.rules, start, end)
    for index, (name, conditions, pricing, priority) in enumerate(global_rules(rng), start=1):
        rule = Rule(id=index, name=name, priority=priority, pricing=pricing, conditions=conditions)
        rules.append(rule)
    for index in range(GLOBAL_RULES + 1, scale.rules + 1):
        carrier = rng.choice(facts)
        name, conditions, pricing, priority, valid_from, valid_to = carrier_rule(rng, carrier, today)
        rules.append(
            Rule(
                id=index,
                name=f"{name} #{index}",
                priority=priority,
                pricing=pricing,
                is_active=rng.random() < 0.9,
                valid_from=valid_from,
                valid_to=valid_to,
                conditions=conditions,
            )
        )
    for rule, created in zip(rules, rule_times, strict=True):
        rule_rows.append(
            (
                rule.id,
                rule.name,
                f"Rule {rule.id}: {rule.name}" if rng.random() < 0.7 else None,
                rule.is_active,
                rule.priority,
                rule.valid_from,
                rule.valid_to,
                rule.conditions.carrier_id,
                _json(rule.conditions),
                _json(rule.pricing),
                _naive(created),
                _naive(created),
            )
        )

    started = time.perf_counter()
    made = templates(rng, rules, facts, today)
    log(f"{dataset.scale}: priced {len(made):,} lanes with the engine in {time.perf_counter() - started:.1f} s")
    weights = [rng.paretovariate(1.2) for _ in made]
    dataset.lanes = [t.lane.body() for t in rng.sample(made, min(300, len(made)))]
    by_carrier: dict[int, float] = {}
    for template, weight in zip(made, weights, strict=True):
        by_carrier[template.lane.carrier_id] = by_carrier.get(template.lane.carrier_id, 0) + weight
    dataset.busiest_carriers = sorted(by_carrier, key=lambda c: -by_carrier[c])[:5]
    dataset.carrier_ids = sorted(rng.sample(sorted(by_carrier), min(200, len(by_carrier))))
    dataset.customer_ids = sorted(rng.sample(range(1, scale.customers + 1), min(200, scale.customers)))
    dataset.customer_search_terms = [name.lower()[:5] for name in rng.sample(LAST_NAMES, 20)]
    dataset.carrier_search_terms = [word.lower() for word in rng.sample(CARRIER_NOUNS, 20)]

    applied_templates: list[Template] = []
    calculated_for: set[int] = set()

    def calculations() -> Iterator[tuple[Any, ...]]:
        picks = rng.choices(made, weights=weights, k=scale.calculations)
        moments = _times(rng, scale.calculations, start, end)
        for calculation_id, (template, moment) in enumerate(zip(picks, moments, strict=True), start=1):
            customer_id = rng.randint(1, scale.customers) if rng.random() < 0.7 else None
            if customer_id is not None:
                calculated_for.add(customer_id)
            request = template.request if customer_id is None else {**template.request, "customer_id": customer_id}
            stamp = _naive(moment.replace(microsecond=rng.randint(0, 999_999)))
            applied_templates.append(template)
            yield (
                calculation_id,
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                template.lane.carrier_id,
                customer_id,
                json.dumps(request, separators=(",", ":")),
                template.result_json,
                stamp,
                stamp,
                stamp,
            )

    def calculation_rules() -> Iterator[tuple[int, int]]:
        for calculation_id, template in enumerate(applied_templates, start=1):
            for rule_id in template.applied:
                yield (calculation_id, rule_id)

    async with Inserter(server, dataset.databases["pricing"]) as pricing_db:
        await timed("pricing_rules", scale.rules, pricing_db.insert(RULE_INSERT, rule_rows))
        await timed("price_calculations", scale.calculations, pricing_db.insert(CALCULATION_INSERT, calculations()))
        dataset.customers_with_calculations = sorted(rng.sample(sorted(calculated_for), min(200, len(calculated_for))))
        links = sum(len(t.applied) for t in applied_templates)
        await timed("price_calculation_rules", links, pricing_db.insert(CALCULATION_RULE_INSERT, calculation_rules()))
        started = time.perf_counter()
        async with pricing_db.connection.cursor() as cursor:
            for table in ("pricing_rules", "price_calculations", "price_calculation_rules"):
                await cursor.execute(f"ANALYZE TABLE {table}")
                await cursor.fetchall()
        dataset.seconds["analyze"] = round(time.perf_counter() - started, 2)
    for module in ("customer", "carrier"):
        async with Inserter(server, dataset.databases[module]) as inserter, inserter.connection.cursor() as cursor:
            await cursor.execute(f"ANALYZE TABLE {'customers' if module == 'customer' else 'carriers'}")
            await cursor.fetchall()


def database_names(prefix: str, scale: str) -> dict[str, str]:
    return {module: f"{prefix}_{scale}_{module}" for module in MODULES}


def manifest_path(prefix: str, scale: str) -> Path:
    return Path(tempfile.gettempdir()) / f"{prefix}_{scale}.json"


def generate(server: MySqlServer, scale_name: str, prefix: str, seed: int, workdir: Path) -> Dataset:
    """Fresh databases for `scale_name`, migrated and filled; the caller drops them (`drop`)."""
    scale = SCALES[scale_name]
    names = database_names(prefix, scale_name)
    dataset = Dataset(
        scale=scale_name,
        prefix=prefix,
        databases=names,
        urls={f"{m.upper()}_DATABASE_URL": server.database_url(n) for m, n in names.items()},
        counts={},
        seconds={},
        rows_per_second={},
        span=("", ""),
        carrier_ids=[],
        customer_ids=[],
        carrier_search_terms=[],
        customer_search_terms=[],
        lanes=[],
    )
    started = time.perf_counter()
    for name in names.values():
        BenchDatabase(server, name).create()
    dataset.seconds["create"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    migrate(dataset.urls, workdir)
    dataset.seconds["migrate"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    asyncio.run(fill(server, dataset, scale, seed))
    dataset.seconds["fill"] = round(time.perf_counter() - started, 2)
    return dataset


def drop(server: MySqlServer, dataset: Dataset) -> None:
    """Drop the dataset's databases and what the root path granted on them (errors logged, not raised)."""
    for name in dataset.databases.values():
        database = BenchDatabase(server, name)
        if server.root_socket and server.user != "root":
            user = server.user.replace("'", "")
            database.granted_hosts = [
                r[0] for r in server.query(f"SELECT Host FROM mysql.db WHERE Db = '{name}' AND User = '{user}'")
            ]
        try:
            database.drop()
        except Exception as exc:  # cleanup must not hide the original error
            log(f"could not drop database {name}: {exc}")


@contextmanager
def datasets(
    server: MySqlServer, scales: Sequence[str], *, prefix: str | None, reuse: bool, keep: bool, seed: int
) -> Iterator[list[Dataset]]:
    """The datasets of `scales`: generated (under `prefix`, else a random one) or, with `reuse`, read from the
    manifests a `--keep` run wrote; dropped at the end unless `keep` or `reuse`."""
    made: list[Dataset] = []
    with tempfile.TemporaryDirectory(prefix="fdbench-growth-data-") as temp:
        try:
            if reuse:
                if prefix is None:
                    raise BenchmarkError("--reuse needs the prefix of a --keep run")
                for scale in scales:
                    path = manifest_path(prefix, scale)
                    if not path.exists():
                        raise BenchmarkError(f"no manifest {path}: generate with --keep --prefix {prefix} first")
                    made.append(Dataset.from_json(path.read_text()))
            else:
                prefix = prefix or f"fdbench_growth_{secrets.token_hex(3)}"
                for scale in scales:
                    dataset = generate(server, scale, prefix, seed, Path(temp))
                    made.append(dataset)
                    if keep:
                        manifest_path(prefix, scale).write_text(dataset.to_json())
            yield made
        finally:
            if not keep and not reuse:
                for dataset in made:
                    drop(server, dataset)
                # a scale that failed half-way is not in `made`: drop by name
                if prefix is not None:
                    for scale in scales:
                        if all(d.scale != scale for d in made):
                            for name in database_names(prefix, scale).values():
                                try:
                                    BenchDatabase(server, name).drop()
                                except Exception as exc:
                                    log(f"could not drop database {name}: {exc}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=(*SCALES, "both"), default="small")
    parser.add_argument("--mysql-url", default=os.environ.get("FREIGHTDESK_BENCH_MYSQL_URL", DEFAULT_MYSQL_URL))
    parser.add_argument("--prefix", default=None, help="database name prefix (default fdbench_growth_<random>)")
    parser.add_argument("--keep", action="store_true", help="keep the databases and write a manifest for growth.py")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    scales = list(SCALES) if args.scale == "both" else [args.scale]
    try:
        server = MySqlServer.from_url(args.mysql_url)
        with datasets(server, scales, prefix=args.prefix, reuse=False, keep=args.keep, seed=args.seed) as made:
            for dataset in made:
                print(
                    json.dumps(
                        {
                            "scale": dataset.scale,
                            "counts": dataset.counts,
                            "seconds": dataset.seconds,
                            "rows_per_second": dataset.rows_per_second,
                        },
                        indent=2,
                    )
                )
                if args.keep:
                    print(f"kept: prefix {dataset.prefix}, manifest {manifest_path(dataset.prefix, dataset.scale)}")
    except BenchmarkError as exc:
        log(str(exc))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
