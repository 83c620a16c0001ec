"""Prometheus metrics: requests by route template and status, latency, and the outbox backlog per module."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, generate_latest

from kernel.health import HealthRegistry, check_outbox
from kernel.http.access import PUBLIC
from kernel.http.envelope import RAW_BODY
from kernel.http.health import HEALTH_STATE_KEY

OUTBOX_BACKLOG = Gauge("freightdesk_outbox_backlog", "Outbox events not yet delivered", ["module"])
OUTBOX_OLDEST = Gauge("freightdesk_outbox_oldest_pending_seconds", "Age of the oldest pending event", ["module"])
OUTBOX_DEAD = Gauge("freightdesk_outbox_dead_letters", "Events that exhausted their retries", ["module"])


def prometheus_config() -> PrometheusConfig:
    return PrometheusConfig(app_name="freightdesk", prefix="freightdesk", group_path=True, exclude=["^/metrics"])


@get("/metrics", opt={**PUBLIC, RAW_BODY: True}, include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The text exposition format; outbox gauges are read fresh at scrape time."""
    registry: HealthRegistry = request.app.state[HEALTH_STATE_KEY]
    for name, probe in registry.modules.items():
        if probe.outbox is None:
            continue
        stats = await check_outbox(probe.session_maker, probe.outbox)
        if "outboxBacklog" in stats:
            OUTBOX_BACKLOG.labels(module=name).set(stats["outboxBacklog"])
            OUTBOX_OLDEST.labels(module=name).set(stats["oldestPendingSeconds"])
            OUTBOX_DEAD.labels(module=name).set(stats["deadLetters"])
    return Response(generate_latest(REGISTRY), status_code=200, headers={"Content-Type": CONTENT_TYPE_LATEST})
