"""Carrier module descriptor. Only bootstrap imports this."""

from __future__ import annotations

from kernel.http.health import module_health_route
from kernel.modules import DatabaseSpec, ModuleDescriptor
from modules.carrier.api import CarrierDirectory
from modules.carrier.events import ALL_EVENTS
from modules.carrier.internal.controllers import CarrierController
from modules.carrier.internal.directory import SqlCarrierDirectory
from modules.carrier.internal.models import CarrierBase, outbox
from modules.carrier.internal.seed import seed_carriers

descriptor = ModuleDescriptor(
    name="carrier",
    summary="Carriers: who ships, which services, indicative rates",
    database=DatabaseSpec(metadata=CarrierBase.metadata, default_file="carrier.sqlite", outbox=outbox),
    route_prefixes=("/carriers",),
    route_handlers=[module_health_route("/carriers/health", "carrier"), CarrierController],
    publishes=ALL_EVENTS,
    provides={CarrierDirectory: lambda context: SqlCarrierDirectory(context.session_maker)},
    seed=seed_carriers,
)
