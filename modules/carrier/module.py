"""The carrier module: what it is, what it needs, how it is assembled. Only bootstrap imports this."""

from __future__ import annotations

from functools import partial

from litestar import Router
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db.versions import VersionWatcher
from kernel.http.health import module_health_route
from kernel.modules import AssembledModule, DatabaseSpec, ModuleContext, ModuleDescriptor
from modules.carrier.api import CarrierDirectory
from modules.carrier.events import ALL_EVENTS
from modules.carrier.internal.controllers import CarrierController
from modules.carrier.internal.directory import ReadsCarrierDirectory
from modules.carrier.internal.models import CarrierBase, outbox, versions
from modules.carrier.internal.reads import CarrierReads
from modules.carrier.internal.seed import seed_carriers
from modules.carrier.internal.service import CarrierService


def assemble(context: ModuleContext) -> AssembledModule:
    """Carrier needs no other module."""
    reads = CarrierReads(context.engine)
    watcher = VersionWatcher(versions, context.engine)  # other processes' writes drop this one's cached reads
    reads.cache.watch(watcher)

    def provide_carrier_service(carrier_db_session: NamedDependency[AsyncSession]) -> CarrierService:
        return CarrierService(carrier_db_session, reads.cache)

    routes = Router(
        path="/",
        route_handlers=[module_health_route("/carriers/health", "carrier"), CarrierController],
        dependencies={
            "carrier_db_session": context.session_dependency(),
            "carrier_service": Provide(provide_carrier_service, sync_to_thread=False),
            "carrier_reads": Provide(lambda: reads, sync_to_thread=False, use_cache=True),
        },
    )
    directory: CarrierDirectory = ReadsCarrierDirectory(reads)
    return AssembledModule(
        routes=[routes],
        provides={CarrierDirectory: directory},
        seed=partial(seed_carriers, context.session_maker, reads),
        background=[watcher],
    )


descriptor = ModuleDescriptor(
    name="carrier",
    summary="Carriers: who ships, which services, indicative rates",
    database=DatabaseSpec(metadata=CarrierBase.metadata, default_file="carrier.sqlite", outbox=outbox),
    route_prefixes=("/carriers",),
    provides=(CarrierDirectory,),
    publishes=ALL_EVENTS,
    assemble=assemble,
)
