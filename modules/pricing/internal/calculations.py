"""Price calculation use cases: check the shipment, price it with the compiled rule set, store the result.

Nothing is stored when the request breaks a rule (400) or no base rule matches (422, `NoBaseRule`).
`carrierId` and `customerId` are checked through the carrier and customer modules' Protocols.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from kernel.contracts.errors import FieldErrors
from modules.carrier.api import CarrierDirectory
from modules.customer.api import CustomerDirectory
from modules.pricing.internal.engine import Request
from modules.pricing.internal.models import CalculationRequest, CalculationRule, PriceCalculation
from modules.pricing.internal.reads import CalculationView, calculation_view_of
from modules.pricing.internal.rulebook import RuleBook

MAX_WEIGHT = Decimal(1_000_000)
MAX_DISTANCE = Decimal(100_000)


def _checked_number(errors: FieldErrors, field: str, value: Decimal, low: Decimal, high: Decimal, above: bool) -> None:
    if not value.is_finite():
        errors.add(field, "must be a finite number")
    elif above and value <= low:
        errors.add(field, f"must be greater than {low}")
    elif not above and value < low:
        errors.add(field, f"must be at least {low}")
    elif value > high:
        errors.add(field, f"must be at most {high}")


def checked_shipment(errors: FieldErrors, shipment: CalculationRequest) -> CalculationRequest:
    """The shipment trimmed (countries in upper case), every broken rule added to `errors`."""
    _checked_number(errors, "weight", shipment.weight, Decimal(0), MAX_WEIGHT, above=True)
    if shipment.distance is not None:
        _checked_number(errors, "distance", shipment.distance, Decimal(0), MAX_DISTANCE, above=False)
    service_type = shipment.service_type.strip()
    if not service_type:
        errors.add("serviceType", "must not be blank")
    customer_type = shipment.customer_type.strip() if shipment.customer_type is not None else None
    if customer_type == "":
        errors.add("customerType", "must not be blank")
    return CalculationRequest(
        carrier_id=shipment.carrier_id,
        service_type=service_type,
        weight=shipment.weight,
        origin_country=shipment.origin_country.strip().upper(),
        destination_country=shipment.destination_country.strip().upper(),
        distance=shipment.distance,
        customer_type=customer_type,
        customer_id=shipment.customer_id,
    )


def engine_request(shipment: CalculationRequest, carrier_id: int | None) -> Request:
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


class CalculationService:
    def __init__(
        self, session: AsyncSession, carriers: CarrierDirectory, customers: CustomerDirectory, book: RuleBook
    ) -> None:
        self.session = session
        self.carriers = carriers
        self.customers = customers
        self.book = book

    async def calculate(self, shipment: CalculationRequest) -> CalculationView:
        errors = FieldErrors()
        shipment = checked_shipment(errors, shipment)
        if not await self.carriers.is_active(shipment.carrier_id):
            errors.add("carrierId", "must name an active carrier")
        if shipment.customer_id is not None and not await self.customers.exists(shipment.customer_id):
            errors.add("customerId", "must name an existing customer")
        errors.raise_if_any()
        now = today()
        rules = await self.book.rules()
        result = rules.price(engine_request(shipment, shipment.carrier_id), now.date())  # NoBaseRule → 422
        calculation = PriceCalculation(
            request_id=str(uuid.uuid4()),
            carrier_id=shipment.carrier_id,
            customer_id=shipment.customer_id,
            request=shipment,
            result=result,
            calculated_at=now,
            created_at=now,  # one instant: the history filters and sorts on created_at (models.PriceCalculation)
            updated_at=now,
        )
        self.session.add(calculation)
        await self.session.flush()
        self.session.add_all(
            CalculationRule(calculation_id=calculation.id, rule_id=applied.rule_id) for applied in result.applied_rules
        )
        await self.session.commit()
        return calculation_view_of(calculation)
