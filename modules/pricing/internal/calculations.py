"""Price calculation use cases: check the shipment, price it with the compiled rule set, store the result;
or price it for every active carrier at once (quotes) and store nothing.

Nothing is stored when the request breaks a rule (400) or no base rule matches (422, `NoBaseRule`).
`carrierId` and `customerId` are checked through the carrier and customer modules' Protocols, and quotes
take the active carriers from the carrier module's `CarrierDirectory.list_active`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

import msgspec
from sqlalchemy import CursorResult, Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kernel.contracts.errors import ValidationFailed
from kernel.db.group_commit import GroupCommit
from modules.carrier.api import CarrierDirectory
from modules.customer.api import CustomerDirectory
from modules.pricing.internal.engine import NoBaseRule, Request, Result
from modules.pricing.internal.models import CalculationRequest, CalculationRule, PriceCalculation
from modules.pricing.internal.reads import CalculationView
from modules.pricing.internal.rulebook import RuleBook

_CALCULATIONS = cast(Table, PriceCalculation.__table__)
# Statements built once, values per batch. Rows come back unordered by request id (unique): an ordered
# multi-row RETURNING is one statement per row on SQLite.
_STORE_CALCULATIONS = insert(_CALCULATIONS).returning(_CALCULATIONS.c.request_id, _CALCULATIONS.c.id)
_STORE_CALCULATION = insert(_CALCULATIONS)
_STORE_APPLIED_RULES = insert(cast(Table, CalculationRule.__table__))

MAX_WEIGHT = Decimal(1_000_000)
MAX_DISTANCE = Decimal(100_000)


def _number_problem(value: Decimal, low: Decimal, high: Decimal, above: bool) -> str | None:
    if not value.is_finite():
        return "must be a finite number"
    if above and value <= low:
        return f"must be greater than {low}"
    if not above and value < low:
        return f"must be at least {low}"
    if value > high:
        return f"must be at most {high}"
    return None


class Shipment(msgspec.Struct, frozen=True, kw_only=True):
    """A shipment to quote: a calculation's request without the carrier (every active carrier is priced)."""

    service_type: str
    weight: Decimal
    origin_country: str
    destination_country: str
    distance: Decimal | None = None
    customer_type: str | None = None
    customer_id: int | None = None


ShipmentT = TypeVar("ShipmentT", CalculationRequest, Shipment)


def trimmed_shipment(shipment: ShipmentT) -> ShipmentT:
    """The shipment as it is priced and stored: texts trimmed, countries in upper case."""
    return msgspec.structs.replace(
        shipment,
        service_type=shipment.service_type.strip(),
        origin_country=shipment.origin_country.strip().upper(),
        destination_country=shipment.destination_country.strip().upper(),
        customer_type=shipment.customer_type.strip() if shipment.customer_type is not None else None,
    )


class ShipmentRules:
    """The rules of a shipment beyond its wire shape (docs/api.md §6.3), for `calculate` and `quote` and for
    the routes' `BODY_RULES`: `carrierId` names an active carrier, `customerId` an existing customer."""

    def __init__(self, carriers: CarrierDirectory, customers: CustomerDirectory) -> None:
        self.carriers = carriers
        self.customers = customers

    async def problems(self, fields: Mapping[str, Any]) -> dict[str, list[str]]:
        """The broken rules among `fields` (by attribute name; any of them may be absent), by request name."""
        errors: dict[str, list[str]] = {}
        weight, distance = fields.get("weight"), fields.get("distance")
        bounds = (("weight", weight, MAX_WEIGHT, True), ("distance", distance, MAX_DISTANCE, False))
        for name, value, high, above in bounds:
            problem = None if value is None else _number_problem(value, Decimal(0), high, above)
            if problem is not None:
                errors[name] = [problem]
        for name, attribute in (("serviceType", "service_type"), ("customerType", "customer_type")):
            text = fields.get(attribute)
            if text is not None and not text.strip():
                errors[name] = ["must not be blank"]
        carrier_id, customer_id = fields.get("carrier_id"), fields.get("customer_id")
        if carrier_id is not None and not await self.carriers.is_active(carrier_id):
            errors["carrierId"] = ["must name an active carrier"]
        if customer_id is not None and not await self.customers.exists(customer_id):
            errors["customerId"] = ["must name an existing customer"]
        return errors

    async def checked(self, shipment: ShipmentT) -> ShipmentT:
        """The shipment trimmed; `ValidationFailed` listing every broken rule."""
        problems = await self.problems(msgspec.structs.asdict(shipment))
        if problems:
            raise ValidationFailed(problems)
        return trimmed_shipment(shipment)


def engine_request(shipment: CalculationRequest | Shipment, carrier_id: int | None) -> Request:
    return Request(
        service_type=shipment.service_type,
        weight=shipment.weight,
        origin_country=shipment.origin_country,
        destination_country=shipment.destination_country,
        carrier_id=carrier_id,
        distance=shipment.distance,
        customer_type=shipment.customer_type,
    )


def today() -> datetime:
    return datetime.now(UTC)


async def _store_calculations(connection: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """The calculations and the rules each applied, in the batch's transaction; their ids, in order."""
    ids: dict[str, int | None]
    if connection.dialect.insert_returning:  # MariaDB 10.5+, SQLite 3.35+: one statement for the batch
        ids = {request_id: id_ for request_id, id_ in await connection.execute(_STORE_CALCULATIONS, list(rows))}
    else:  # MySQL has no INSERT ... RETURNING
        ids = {}
        for row in rows:
            inserted = cast(CursorResult[Any], await connection.execute(_STORE_CALCULATION, dict(row)))
            (ids[row["request_id"]],) = inserted.inserted_primary_key or (None,)
    calculation_ids: list[int] = []
    for row in rows:
        calculation_id = ids.get(row["request_id"])
        if calculation_id is None:
            raise RuntimeError("the database reported no id for a stored calculation")
        calculation_ids.append(calculation_id)
    applied = [
        {"calculation_id": calculation_id, "rule_id": rule.rule_id}
        for calculation_id, row in zip(calculation_ids, rows, strict=True)
        for rule in row["result"].applied_rules
    ]
    if applied:
        await connection.execute(_STORE_APPLIED_RULES, applied)
    return calculation_ids


def calculation_store(engine: AsyncEngine) -> GroupCommit[Mapping[str, Any], int]:
    """Calculations of concurrent requests stored together: one transaction and one commit per batch
    (`kernel.db.group_commit`); a calculation's 201 still waits for its commit."""
    return GroupCommit(engine, _store_calculations)


class CalculationService:
    def __init__(self, store: GroupCommit[Mapping[str, Any], int], rules: ShipmentRules, book: RuleBook) -> None:
        self.store = store
        self.rules = rules
        self.book = book

    async def calculate(self, shipment: CalculationRequest) -> CalculationView:
        shipment = await self.rules.checked(shipment)
        now = today()
        rules = await self.book.rules()
        result = rules.price(engine_request(shipment, shipment.carrier_id), now.date())  # NoBaseRule → 422
        stored: dict[str, Any] = {
            "request_id": str(uuid.uuid4()),
            "carrier_id": shipment.carrier_id,
            "customer_id": shipment.customer_id,
            "request": shipment,
            "result": result,
            "calculated_at": now,
            "created_at": now,  # one instant: the history filters and sorts on created_at (models.PriceCalculation)
            "updated_at": now,
        }
        calculation_id = await self.store.submit(stored)
        return CalculationView(id=calculation_id, **stored)


class CarrierPrice(msgspec.Struct, frozen=True, kw_only=True):
    """One carrier's price for a quoted shipment."""

    carrier_id: int
    carrier_name: str
    result: Result


class QuoteView(msgspec.Struct, frozen=True, kw_only=True):
    """A shipment priced for every active carrier that has a base rule for it, cheapest first."""

    request: Shipment
    prices: tuple[CarrierPrice, ...]
    calculated_at: datetime


class QuoteService:
    """Quotes read the compiled rule set and the active carriers; they open no session and store nothing."""

    def __init__(self, carriers: CarrierDirectory, rules: ShipmentRules, book: RuleBook) -> None:
        self.carriers = carriers
        self.rules = rules
        self.book = book

    async def quote(self, shipment: Shipment) -> QuoteView:
        """Every active carrier's price (`RuleSet.quote`: cheapest total first, ties by carrier id); carriers
        without a base rule are left out, and `NoBaseRule` (422) when no carrier is left, as `calculate` does."""
        shipment = await self.rules.checked(shipment)
        now = today()
        names = {carrier.id: carrier.name for carrier in await self.carriers.list_active()}
        rules = await self.book.rules()
        quotes = rules.quote(engine_request(shipment, None), names.keys(), now.date())
        if not quotes:
            raise NoBaseRule()
        prices = tuple(
            CarrierPrice(carrier_id=q.carrier_id, carrier_name=names[q.carrier_id], result=q.result) for q in quotes
        )
        return QuoteView(request=shipment, prices=prices, calculated_at=now)
