"""Customer HTTP routes: parse, call the reads or the service, shape the response, declare the permission.

Its dependencies (`customer_reads`, `customer_service`) are bound by the module's assembly (`module.py`).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter

from kernel.contracts.errors import FieldErrors
from kernel.http.access import requires
from kernel.http.conditional import CONDITIONS_DEPENDENCY, ConditionalResponse, ConditionsDependency
from kernel.http.fields import CountOut, ResourceId
from kernel.http.list_query import LimitQuery, PageQuery, SearchQuery, SortByQuery, SortOrderQuery, list_query
from kernel.paging import parse_bool, parse_list_params
from modules.customer.internal.reads import CustomerReads
from modules.customer.internal.schemas import (
    SORT_FIELDS,
    CustomerCreate,
    CustomerOut,
    CustomerPage,
    CustomerUpdate,
    customer_out,
    values_of,
)
from modules.customer.internal.service import CustomerService

IsActiveFilter = Annotated[str | None, QueryParameter(name="isActive", description="true or false")]
EmailPath = Annotated[str, PathParameter(min_length=1, max_length=254)]
Reads = NamedDependency[CustomerReads]
Service = NamedDependency[CustomerService]


def _active_filter(raw: str | None) -> bool | None:
    errors = FieldErrors()
    value = parse_bool(errors, "isActive", raw)
    errors.raise_if_any()
    return value


class CustomerController(Controller):
    path = "/customers"
    tags = ["customers"]
    dependencies = CONDITIONS_DEPENDENCY

    @get("/", opt=requires("customers.list"), summary="List customers; search over firstName, lastName and email")
    async def list_customers(
        self,
        customer_reads: Reads,
        is_active: IsActiveFilter = None,
        page: PageQuery = None,
        limit: LimitQuery = None,
        search: SearchQuery = None,
        sort_by: SortByQuery = None,
        sort_order: SortOrderQuery = None,
    ) -> CustomerPage:
        errors = FieldErrors()
        active = parse_bool(errors, "isActive", is_active)
        params = parse_list_params(list_query(page, limit, search, sort_by, sort_order), SORT_FIELDS, errors)
        listed = await customer_reads.page(params, active)
        return CustomerPage.of(listed, [customer_out(c) for c in listed.items])

    @post("/", opt=requires("customers.create"), summary="Create a customer")
    async def create_customer(self, customer_service: Service, data: JSONBody[CustomerCreate]) -> CustomerOut:
        return customer_out(await customer_service.create(values_of(data)))

    @get("/active", opt=requires("customers.list"), summary="Every active customer, by id")
    async def active_customers(self, customer_reads: Reads) -> list[CustomerOut]:
        return [customer_out(c) for c in await customer_reads.active()]

    @get("/count", opt=requires("customers.list"), summary="How many customers (optionally by isActive)")
    async def count_customers(self, customer_reads: Reads, is_active: IsActiveFilter = None) -> CountOut:
        return CountOut(count=await customer_reads.count(_active_filter(is_active)))

    @get("/email/{email:str}", opt=requires("customers.read"), summary="Find a customer by email (ignoring case)")
    async def customer_by_email(self, customer_reads: Reads, email: EmailPath) -> CustomerOut:
        return customer_out(await customer_reads.get_by_email(email))

    @get("/{id:int}", opt=requires("customers.read"), summary="One customer", response_class=ConditionalResponse)
    async def get_customer(self, customer_reads: Reads, id: ResourceId) -> CustomerOut:
        return customer_out(await customer_reads.get(id))

    @patch(
        "/{id:int}",
        opt=requires("customers.update"),
        summary="Change some fields of a customer",
        response_class=ConditionalResponse,
    )
    async def update_customer(
        self,
        customer_service: Service,
        conditions: ConditionsDependency,
        id: ResourceId,
        data: JSONBody[CustomerUpdate],
    ) -> CustomerOut:
        return customer_out(await customer_service.update(id, values_of(data), conditions.precondition(customer_out)))

    @put(
        "/{id:int}",
        opt=requires("customers.update"),
        summary="Alias of PATCH (the old clients use both)",
        response_class=ConditionalResponse,
    )
    async def replace_customer(
        self,
        customer_service: Service,
        conditions: ConditionsDependency,
        id: ResourceId,
        data: JSONBody[CustomerUpdate],
    ) -> CustomerOut:
        return customer_out(await customer_service.update(id, values_of(data), conditions.precondition(customer_out)))

    @delete(
        "/{id:int}",
        opt=requires("customers.delete"),
        summary="Delete a customer",
        status_code=204,
        response_class=ConditionalResponse,
    )
    async def delete_customer(
        self, customer_service: Service, conditions: ConditionsDependency, id: ResourceId
    ) -> None:
        await customer_service.delete(id, conditions.precondition(customer_out))
