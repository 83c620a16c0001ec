"""In-process implementation of `CarrierDirectory`: opens its own session, returns DTOs."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from modules.carrier.api import CarrierSummary
from modules.carrier.internal.models import Carrier


def summarize(carrier: Carrier) -> CarrierSummary:
    details = carrier.details or {}
    pricing = details.get("pricing") or {}
    return CarrierSummary(
        id=carrier.id,
        name=carrier.name,
        is_active=carrier.is_active,
        code=details.get("code"),
        service_types=tuple(details.get("serviceTypes") or ()),
        currency=pricing.get("currency"),
        base_rate=Decimal(pricing["baseRate"]) if pricing.get("baseRate") is not None else None,
        per_kg_rate=Decimal(pricing["perKgRate"]) if pricing.get("perKgRate") is not None else None,
    )


class SqlCarrierDirectory:
    def __init__(self, session_maker: async_sessionmaker[AsyncSession]) -> None:
        self._session_maker = session_maker

    async def get_carrier(self, carrier_id: int) -> CarrierSummary | None:
        async with self._session_maker() as session:
            carrier = await session.get(Carrier, carrier_id)
            return summarize(carrier) if carrier is not None else None

    async def is_active(self, carrier_id: int) -> bool:
        async with self._session_maker() as session:
            active = await session.scalar(select(Carrier.is_active).where(Carrier.id == carrier_id))
            return bool(active)

    async def list_active(self) -> list[CarrierSummary]:
        async with self._session_maker() as session:
            rows = await session.scalars(select(Carrier).where(Carrier.is_active).order_by(Carrier.id))
            return [summarize(carrier) for carrier in rows]
