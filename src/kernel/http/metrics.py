"""Prometheus metrics: requests by route template and status, latency, and the outbox backlog per module.

Not public (request counts by status show, for one, how hard someone is guessing passwords): a scraper sends
the static `FREIGHTDESK_METRICS_TOKEN` as a bearer token, or a person an access token with `system.monitoring`.

The request metrics are counted by `kernel.http.observe`. With several worker processes (`freightdesk run
--workers N`) each worker counts in files under `PROMETHEUS_MULTIPROC_DIR`, which the command sets up, and a
scrape answered by any worker sums them all (prometheus_client's multiprocess mode). The outbox figures are no
counters of a process: they are read from the modules' databases at each scrape and written into that answer
only, so a figure that cannot be read is absent rather than stale.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Iterator
from typing import Any

from litestar import Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from kernel.health import HealthRegistry, check_outbox
from kernel.http.access import requires
from kernel.http.envelope import RAW_BODY
from kernel.http.health import HEALTH_STATE_KEY

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_OUTBOX_FIGURES = (
    ("freightdesk_outbox_backlog", "Outbox events not yet delivered", "outboxBacklog"),
    ("freightdesk_outbox_oldest_pending_seconds", "Age of the oldest pending event", "oldestPendingSeconds"),
    ("freightdesk_outbox_dead_letters", "Events that exhausted their retries", "deadLetters"),
)
METRICS_PERMISSION = "system.monitoring"


class _Figures:
    """A collector of metric families read once, for the one scrape they were read for."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


def outbox_families(stats_by_module: Iterable[tuple[str, dict[str, Any]]]) -> list[Metric]:
    readable = GaugeMetricFamily(
        "freightdesk_outbox_readable",
        "1 when the module's outbox could be read at this scrape, else 0",
        labels=["module"],
    )
    figures = [(GaugeMetricFamily(name, text, labels=["module"]), key) for name, text, key in _OUTBOX_FIGURES]
    for module, stats in stats_by_module:
        is_readable = "outboxBacklog" in stats
        readable.add_metric([module], 1 if is_readable else 0)
        if is_readable:
            for family, key in figures:
                family.add_metric([module], stats[key])
    return [readable, *(family for family, _ in figures)]


def process_metrics() -> bytes:
    """This process's metrics or, in multiprocess mode, those of every worker summed."""
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus_client leaves it untyped
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@get(
    "/metrics",
    opt={**requires(METRICS_PERMISSION), RAW_BODY: True},
    media_type=CONTENT_TYPE_LATEST,
    tags=["metrics"],
    summary="Prometheus metrics (text format, not enveloped)",
)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The text exposition format; outbox gauges are read fresh at scrape time, all modules at once.

    When a module's outbox cannot be read, its figures are left out rather than given at their last value, and
    `freightdesk_outbox_readable` says so: a stale backlog must not look like a healthy one.
    """
    health: HealthRegistry = request.app.state[HEALTH_STATE_KEY]
    outboxes = [(name, p.session_maker, p.outbox) for name, p in health.modules.items() if p.outbox is not None]
    results = await asyncio.gather(*(check_outbox(session_maker, outbox) for _, session_maker, outbox in outboxes))
    scrape = CollectorRegistry()
    scrape.register(_Figures(outbox_families(zip((name for name, _, _ in outboxes), results, strict=True))))
    body = process_metrics() + generate_latest(scrape)
    return Response(body, status_code=200, headers={"Content-Type": CONTENT_TYPE_LATEST})
