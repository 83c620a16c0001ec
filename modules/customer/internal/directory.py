"""In-process implementation of `CustomerDirectory`, on the module's reads; returns DTOs."""

from __future__ import annotations

from modules.customer.api import CustomerSummary
from modules.customer.internal.reads import CustomerReads, CustomerView


def summarize(customer: CustomerView) -> CustomerSummary:
    return CustomerSummary(
        id=customer.id,
        email=customer.email,
        first_name=customer.first_name,
        last_name=customer.last_name,
        is_active=customer.is_active,
        customer_type=customer.customer_type,
    )


class ReadsCustomerDirectory:
    def __init__(self, reads: CustomerReads) -> None:
        self._reads = reads

    async def get_customer(self, customer_id: int) -> CustomerSummary | None:
        customer = await self._reads.find(customer_id)
        return summarize(customer) if customer is not None else None

    async def exists(self, customer_id: int) -> bool:
        return await self._reads.find(customer_id) is not None
