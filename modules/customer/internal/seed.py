"""Demo customers (docs/reference-data.md): `DEMO_COUNT` generated customers, the same on every run (a fixed
random seed), ids 1-250 in this order on a fresh database.

Idempotent: they are added only while the table holds no customer but users' own profiles (those linked to a
user, which the user events create: the user seed's own users may already have theirs), all in one transaction,
skipping an email a user's profile already has.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from modules.customer.api import CUSTOMER_TYPES
from modules.customer.internal.models import Customer, CustomerAddress, CustomerPreferences
from modules.customer.internal.reads import CustomerReads
from modules.customer.internal.service import PREFERRED_CONTACTS, CustomerRules, CustomerService, CustomerValues

DEMO_COUNT = 250
DEMO_RANDOM_SEED = 20261125
"""Changing it (or the lists below) changes every demo customer; the documented counts follow from it."""

_FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Isabella", "Lucas", "Mia", "Mateo",
    "Amelia", "Levi", "Harper", "Ethan", "Evelyn", "James", "Abigail", "Benjamin", "Charlotte", "Henry",
    "Emily", "Daniel", "Elena", "Samuel", "Grace", "David", "Chloe", "Joseph", "Zoe", "Arjun", "Aisha",
    "Kenji", "Yuki", "Fatima", "Omar", "Ingrid", "Lars", "Priya", "Rahul", "Mei", "Wei", "Sofia", "Diego",
    "Camila", "Thiago", "Nadia", "Tomasz", "Anna", "Jonas", "Freya", "Kwame", "Amara", "Hannah", "Gabriel",
)  # fmt: skip
_LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen",
    "King", "Wright", "Scott", "Nguyen", "Hill", "Green", "Adams", "Baker", "Nelson", "Patel", "Khan",
    "Tanaka", "Suzuki", "Muller", "Schmidt", "Novak", "Kowalski", "Silva", "Santos", "Andersson", "Larsen",
    "Mensah", "Okafor", "Cohen", "Rossi", "Dubois", "Fischer",
)  # fmt: skip
_DOMAINS = ("example.com", "example.net", "example.org")
# city, state, country, how a postal code looks (# a digit, ? a letter)
_PLACES = (
    ("Chicago", "IL", "US", "606##"),
    ("Houston", "TX", "US", "770##"),
    ("Seattle", "WA", "US", "981##"),
    ("Atlanta", "GA", "US", "303##"),
    ("Denver", "CO", "US", "802##"),
    ("Newark", "NJ", "US", "071##"),
    ("Toronto", "ON", "CA", "M5V #?#"),
    ("Vancouver", "BC", "CA", "V6B #?#"),
    ("London", None, "GB", "EC1A #??"),
    ("Manchester", None, "GB", "M1 #??"),
    ("Rotterdam", None, "NL", "30## ??"),
    ("Hamburg", None, "DE", "20###"),
    ("Lyon", None, "FR", "6900#"),
    ("Milan", None, "IT", "201##"),
    ("Madrid", None, "ES", "280##"),
    ("Warsaw", None, "PL", "00-###"),
    ("Stockholm", None, "SE", "111 ##"),
    ("Sydney", "NSW", "AU", "2000"),
    ("Osaka", None, "JP", "530-####"),
    ("Singapore", None, "SG", "0#####"),
    ("Sao Paulo", "SP", "BR", "01###-###"),
    ("Mexico City", "CDMX", "MX", "06###"),
)
_STREETS = ("Main", "Oak", "Harbor", "Station", "Mill", "Market", "Church", "Park", "Bridge", "Dock", "Canal")
_STREET_KINDS = ("Street", "Avenue", "Road", "Lane", "Way", "Boulevard")
_COMPANIES = (
    "Northwind Traders", "Contoso Retail", "Fabrikam Industries", "Tailspin Toys", "Wide World Importers",
    "Blue Yonder Foods", "Adventure Works", "Litware Outfitters", "Proseware Supplies", "Coho Vineyard",
    "Alpine Ski House", "Fourth Coffee", "Woodgrove Pharma", "Margie's Travel", "Lucerne Publishing",
)  # fmt: skip
_INDUSTRIES = (
    "Retail", "Manufacturing", "E-commerce", "Food and beverage", "Pharmaceuticals", "Automotive",
    "Electronics", "Textiles", "Publishing", "Agriculture",
)  # fmt: skip


def _code(rng: random.Random, shape: str) -> str:
    return "".join(
        str(rng.randint(0, 9)) if ch == "#" else rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") if ch == "?" else ch
        for ch in shape
    )


def demo_customers() -> list[CustomerValues]:
    """The demo customers, generated the same way every time."""
    rng = random.Random(DEMO_RANDOM_SEED)  # noqa: S311 (demo data, reproducible on purpose)
    taken: set[str] = set()
    customers: list[CustomerValues] = []
    for _ in range(DEMO_COUNT):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        domain = rng.choice(_DOMAINS)
        email, n = f"{first}.{last}@{domain}".lower(), 1
        while email in taken:
            n += 1
            email = f"{first}.{last}{n}@{domain}".lower()
        taken.add(email)
        customer: dict[str, Any] = {
            "email": email,
            "first_name": first,
            "last_name": last,
            "is_active": rng.random() >= 0.12,
            "customer_type": rng.choices(CUSTOMER_TYPES, weights=(70, 15, 15))[0],
        }
        if rng.random() < 0.75:
            customer["phone"] = f"+1 555 {rng.randint(200, 999)} {rng.randint(1000, 9999)}"
        if rng.random() < 0.6:
            customer["date_of_birth"] = date(1950, 1, 1) + timedelta(days=rng.randint(0, 20_000))
        if rng.random() < 0.8:
            city, state, country, postal = rng.choice(_PLACES)
            customer["address"] = CustomerAddress(
                street=f"{rng.randint(1, 2500)} {rng.choice(_STREETS)} {rng.choice(_STREET_KINDS)}",
                city=city,
                state=state,
                country=country,
                zip_code=_code(rng, postal),
            )
        business = customer["customer_type"] == "business" or rng.random() < 0.2
        customer["preferences"] = CustomerPreferences(
            company=rng.choice(_COMPANIES) if business else None,
            industry=rng.choice(_INDUSTRIES) if business else None,
            preferred_contact=rng.choice(PREFERRED_CONTACTS),
            newsletter=rng.random() < 0.4,
        )
        customers.append(customer)
    return customers


async def seed_customers(
    session_maker: async_sessionmaker[AsyncSession], reads: CustomerReads, rules: CustomerRules, demo: bool
) -> None:
    if not demo or await reads.count_unlinked():
        return
    async with session_maker() as session:
        taken = set(await session.scalars(select(Customer.email)))
        service = CustomerService(session, rules, reads.cache)
        for customer in demo_customers():
            if customer["email"] not in taken:
                await service.add(customer)
        await session.commit()
