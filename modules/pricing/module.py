"""The pricing module: what it is, what it needs, how it is assembled. Only bootstrap imports this."""

from __future__ import annotations

from functools import partial

from litestar import Router
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db.keyset import CursorCodec
from kernel.db.versions import VersionWatcher
from kernel.http.body import BODY_RULES
from kernel.http.health import module_health_route
from kernel.modules import AssembledModule, DatabaseSpec, ModuleContext, ModuleDescriptor
from modules.carrier.api import CarrierDirectory
from modules.customer.api import CustomerDirectory
from modules.pricing.api import PricingRuleDirectory
from modules.pricing.events import ALL_EVENTS
from modules.pricing.internal.calculations import CalculationService, QuoteService, ShipmentRules, calculation_store
from modules.pricing.internal.controllers import PricingCalculationController, PricingRuleController
from modules.pricing.internal.directory import ReadsPricingRuleDirectory
from modules.pricing.internal.handlers import SUBSCRIBES_TO, RuleSetInvalidation
from modules.pricing.internal.models import PricingBase, inbox, outbox, versions
from modules.pricing.internal.reads import CalculationReads, PricingReads
from modules.pricing.internal.rulebook import RULE_SET, RuleBook
from modules.pricing.internal.schemas import shipment_body_rules
from modules.pricing.internal.seed import seed_rules
from modules.pricing.internal.service import PricingRuleService


def assemble(context: ModuleContext, *, carriers: CarrierDirectory, customers: CustomerDirectory) -> AssembledModule:
    """Pricing checks carriers through the carrier module's `CarrierDirectory` and the customers a calculation
    names through the customer module's `CustomerDirectory`."""
    reads = PricingReads(context.engine)
    # Cursors of the history are signed with the deployment's shared secret: any process can read any's.
    cursors = CursorCodec(context.settings.service_token_secret() or "", "pricing.calculations")
    calculation_reads = CalculationReads(context.engine, cursors)
    book = RuleBook(reads)
    shipment_rules = ShipmentRules(carriers, customers)
    quotes = QuoteService(carriers, shipment_rules, book)
    calculations = CalculationService(calculation_store(context.engine), shipment_rules, book)
    watcher = VersionWatcher(versions, context.engine)  # other processes' changes drop this one's rule set
    watcher.on_change(RULE_SET, book.invalidate)

    def provide_pricing_rule_service(pricing_db_session: NamedDependency[AsyncSession]) -> PricingRuleService:
        return PricingRuleService(pricing_db_session, carriers, book.invalidate)

    routes = Router(
        path="/",
        route_handlers=[
            module_health_route("/pricing/health", "pricing"),
            PricingRuleController,
            Router(
                path="/",
                route_handlers=[PricingCalculationController],
                # a rejected shipment is also checked against the shipment rules, so a 400 names every bad field
                opt={BODY_RULES: shipment_body_rules(shipment_rules)},
            ),
        ],
        dependencies={
            "pricing_db_session": context.session_dependency(),
            "pricing_rule_service": Provide(provide_pricing_rule_service, sync_to_thread=False),
            "pricing_calculation_service": Provide(lambda: calculations, sync_to_thread=False, use_cache=True),
            "pricing_quote_service": Provide(lambda: quotes, sync_to_thread=False, use_cache=True),
            "pricing_reads": Provide(lambda: reads, sync_to_thread=False, use_cache=True),
            "pricing_calculation_reads": Provide(lambda: calculation_reads, sync_to_thread=False, use_cache=True),
        },
    )
    directory: PricingRuleDirectory = ReadsPricingRuleDirectory(reads)
    return AssembledModule(
        routes=[routes],
        provides={PricingRuleDirectory: directory},
        subscriptions=RuleSetInvalidation(book).subscriptions(),
        seed=partial(seed_rules, context.session_maker, reads, carriers, book.invalidate),
        background=[watcher],
    )


descriptor = ModuleDescriptor(
    name="pricing",
    summary="Pricing rules and the prices they give a shipment",
    database=DatabaseSpec(metadata=PricingBase.metadata, default_file="pricing.sqlite", outbox=outbox, inbox=inbox),
    route_prefixes=("/pricing",),
    depends_on=("carrier", "customer"),
    provides=(PricingRuleDirectory,),
    publishes=ALL_EVENTS,
    subscribes_to=SUBSCRIBES_TO,
    assemble=assemble,
)
