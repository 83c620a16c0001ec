"""In-process implementation of `CarrierDirectory`, on the module's reads; returns DTOs."""

from __future__ import annotations

from modules.carrier.api import CarrierSummary
from modules.carrier.internal.reads import CarrierReads, CarrierView


def summarize(carrier: CarrierView) -> CarrierSummary:
    details = carrier.details
    pricing = details.pricing
    return CarrierSummary(
        id=carrier.id,
        name=carrier.name,
        is_active=carrier.is_active,
        code=details.code,
        service_types=details.service_types or (),
        currency=pricing.currency if pricing is not None else None,
        base_rate=pricing.base_rate if pricing is not None else None,
        per_kg_rate=pricing.per_kg_rate if pricing is not None else None,
    )


class ReadsCarrierDirectory:
    def __init__(self, reads: CarrierReads) -> None:
        self._reads = reads

    async def get_carrier(self, carrier_id: int) -> CarrierSummary | None:
        carrier = await self._reads.find(carrier_id)
        return summarize(carrier) if carrier is not None else None

    async def is_active(self, carrier_id: int) -> bool:
        carrier = await self._reads.find(carrier_id)
        return carrier is not None and carrier.is_active

    async def list_active(self) -> list[CarrierSummary]:
        return [summarize(carrier) for carrier in await self._reads.active()]
