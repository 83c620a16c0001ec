"""Prometheus metrics: requests by route template and status, latency, and the outbox backlog per module.

Not public (request counts by status show, for one, how hard someone is guessing passwords): a scraper sends
the static `FREIGHTDESK_METRICS_TOKEN` as a bearer token, or a person an access token with `system.monitoring`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from litestar import Request, Response, get
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, generate_latest

from kernel.health import HealthRegistry, check_outbox
from kernel.http.access import requires
from kernel.http.envelope import RAW_BODY
from kernel.http.health import HEALTH_STATE_KEY

OUTBOX_BACKLOG = Gauge("freightdesk_outbox_backlog", "Outbox events not yet delivered", ["module"])
OUTBOX_OLDEST = Gauge("freightdesk_outbox_oldest_pending_seconds", "Age of the oldest pending event", ["module"])
OUTBOX_DEAD = Gauge("freightdesk_outbox_dead_letters", "Events that exhausted their retries", ["module"])
OUTBOX_READABLE = Gauge(
    "freightdesk_outbox_readable", "1 when the module's outbox could be read at this scrape, else 0", ["module"]
)
_OUTBOX_FIGURES = (
    (OUTBOX_BACKLOG, "outboxBacklog"),
    (OUTBOX_OLDEST, "oldestPendingSeconds"),
    (OUTBOX_DEAD, "deadLetters"),
)


def prometheus_config() -> PrometheusConfig:
    return PrometheusConfig(app_name="freightdesk", prefix="freightdesk", group_path=True, exclude=["^/metrics"])


METRICS_PERMISSION = "system.monitoring"


@get(
    "/metrics",
    opt={**requires(METRICS_PERMISSION), RAW_BODY: True},
    media_type=CONTENT_TYPE_LATEST,
    tags=["metrics"],
    summary="Prometheus metrics (text format, not enveloped)",
)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The text exposition format; outbox gauges are read fresh at scrape time, all modules at once.

    When a module's outbox cannot be read, its figures are dropped rather than left at their last value,
    and `freightdesk_outbox_readable` says so: a stale backlog must not look like a healthy one.
    """
    registry: HealthRegistry = request.app.state[HEALTH_STATE_KEY]
    outboxes = [(name, p.session_maker, p.outbox) for name, p in registry.modules.items() if p.outbox is not None]
    results = await asyncio.gather(*(check_outbox(session_maker, outbox) for _, session_maker, outbox in outboxes))
    for (name, _, _), stats in zip(outboxes, results, strict=True):
        readable = "outboxBacklog" in stats
        OUTBOX_READABLE.labels(module=name).set(1 if readable else 0)
        for gauge, key in _OUTBOX_FIGURES:
            if readable:
                gauge.labels(module=name).set(stats[key])
            else:
                with contextlib.suppress(KeyError):  # never set for this module
                    gauge.remove(name)
    return Response(generate_latest(REGISTRY), status_code=200, headers={"Content-Type": CONTENT_TYPE_LATEST})
