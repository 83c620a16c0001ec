"""The customer module: what it is, what it needs, how it is assembled. Only bootstrap imports this."""

from __future__ import annotations

from functools import partial

from litestar import Router
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db.versions import VersionWatcher
from kernel.http.body import BODY_RULES
from kernel.http.health import module_health_route
from kernel.modules import AssembledModule, DatabaseSpec, ModuleContext, ModuleDescriptor
from modules.customer.api import CustomerDirectory
from modules.customer.events import ALL_EVENTS
from modules.customer.internal.controllers import CustomerController
from modules.customer.internal.directory import ReadsCustomerDirectory
from modules.customer.internal.handlers import SUBSCRIBES_TO, UserEventHandlers
from modules.customer.internal.models import CustomerBase, inbox, outbox, versions
from modules.customer.internal.reads import CustomerReads
from modules.customer.internal.schemas import body_rules
from modules.customer.internal.seed import seed_customers
from modules.customer.internal.service import CustomerRules, CustomerService
from modules.user.api import UserAccounts


def assemble(context: ModuleContext, *, users: UserAccounts) -> AssembledModule:
    """Customer checks `userId` and follows users through the user module's `UserAccounts`."""
    reads = CustomerReads(context.engine)
    watcher = VersionWatcher(versions, context.engine)  # other processes' writes drop this one's cached reads
    reads.cache.watch(watcher)
    rules = CustomerRules(users)

    def provide_customer_service(customer_db_session: NamedDependency[AsyncSession]) -> CustomerService:
        return CustomerService(customer_db_session, rules, reads.cache)

    routes = Router(
        path="/",
        route_handlers=[module_health_route("/customers/health", "customer"), CustomerController],
        dependencies={
            "customer_db_session": context.session_dependency(),
            "customer_service": Provide(provide_customer_service, sync_to_thread=False),
            "customer_reads": Provide(lambda: reads, sync_to_thread=False, use_cache=True),
        },
        opt={BODY_RULES: body_rules(rules)},  # a rejected body is also checked against the rules
    )
    directory: CustomerDirectory = ReadsCustomerDirectory(reads)
    return AssembledModule(
        routes=[routes],
        provides={CustomerDirectory: directory},
        subscriptions=UserEventHandlers(users, rules, reads.cache).subscriptions(),
        seed=partial(seed_customers, context.session_maker, reads, rules),
        background=[watcher],
    )


descriptor = ModuleDescriptor(
    name="customer",
    summary="Customers: who the business ships for, each following its user when it has one",
    database=DatabaseSpec(metadata=CustomerBase.metadata, default_file="customer.sqlite", outbox=outbox, inbox=inbox),
    route_prefixes=("/customers",),
    depends_on=("user",),
    provides=(CustomerDirectory,),
    publishes=ALL_EVENTS,
    subscribes_to=SUBSCRIBES_TO,
    assemble=assemble,
)
