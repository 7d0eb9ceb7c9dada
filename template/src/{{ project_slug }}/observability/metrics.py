"""Prometheus metrics: HTTP traffic by route template, and database pool usage.

Routes are labelled by their template (``/items/{item_id}``), never the raw path, so label
cardinality stays bounded however many ids clients send. Each app owns its registry, so tests
and several apps in one process never collide.
"""

import time
from collections.abc import Iterator, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED_ROUTE = "<unmatched>"
EXPOSITION_CONTENT_TYPE = CONTENT_TYPE_LATEST
_LABELS = ("method", "route", "status_class")


class DatabasePoolCollector(Collector):
    """Reads each engine's connection pool at scrape time, so the numbers are never stale."""

    def __init__(self, engines: Mapping[str, Engine]) -> None:
        self._engines = engines

    def collect(self) -> Iterator[Metric]:
        size = GaugeMetricFamily(
            "db_pool_size", "Connections the pool keeps open.", labels=["engine"]
        )
        in_use = GaugeMetricFamily(
            "db_pool_checked_out", "Connections currently lent to requests.", labels=["engine"]
        )
        idle = GaugeMetricFamily(
            "db_pool_checked_in", "Open connections waiting in the pool.", labels=["engine"]
        )
        overflow = GaugeMetricFamily(
            "db_pool_overflow",
            "Connections beyond the pool size (negative: pool not yet full).",
            labels=["engine"],
        )
        for role, engine in self._engines.items():
            pool = engine.pool
            if not isinstance(pool, QueuePool):
                continue
            size.add_metric([role], pool.size())
            in_use.add_metric([role], pool.checkedout())
            idle.add_metric([role], pool.checkedin())
            overflow.add_metric([role], pool.overflow())
        yield from (size, in_use, idle, overflow)


class Metrics:
    """The registry of one app and the metrics the middleware records into it."""

    def __init__(self, engines: Mapping[str, Engine]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "HTTP requests served.",
            _LABELS,
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time from receiving a request to sending its last byte.",
            _LABELS,
            registry=self.registry,
        )
        self.registry.register(DatabasePoolCollector(engines))
        ProcessCollector(registry=self.registry)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def route_template(scope: Scope) -> str:
    """The path template of the route that handled the request; Starlette leaves it in the scope."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    return template if isinstance(template, str) else UNMATCHED_ROUTE


class MetricsMiddleware:
    """Pure ASGI middleware timing every HTTP request, errors included."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            labels = (scope["method"], route_template(scope), f"{status // 100}xx")
            self.metrics.requests.labels(*labels).inc()
            self.metrics.latency.labels(*labels).observe(time.perf_counter() - started)
