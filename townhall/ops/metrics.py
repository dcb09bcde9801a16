"""Prometheus metrics: HTTP requests (a middleware) and gauges read at scrape time.

HTTP metrics are labelled by the resolved URL's name, never by the path (paths carry
references and tokens), by method (a fixed set) and by status class (2xx..5xx). The
gauges come from a few cheap queries run only when /metrics is scraped (QueueCollector).

Several gunicorn workers: set PROMETHEUS_MULTIPROC_DIR to an empty directory shared by the
workers (wiped at each start); prometheus_client then keeps each process's counters in
files there and the scrape adds them up (docs/operations.md).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from townhall.cases.selectors import case_opened_count_by_channel, case_sla_breached_open_count
from townhall.notify.selectors import notification_backlog_by_status
from townhall.ops.queue import queue_is_database, queue_state

disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series: Prometheus has no use for them here

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED = "unmatched"  # no URL pattern matched (404s, redirects before routing)

HTTP_REQUESTS = Counter(
    "townhall_http_requests",
    "HTTP requests served, by method, URL name and status class.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "townhall_http_request_duration_seconds",
    "Time to serve an HTTP request, by method and URL name.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# Every metric name /metrics exports (the Grafana dashboard may use only these).
EXPORTED = {
    "townhall_http_requests_total",
    "townhall_http_request_duration_seconds_bucket",
    "townhall_http_request_duration_seconds_count",
    "townhall_http_request_duration_seconds_sum",
    "townhall_tasks_ready",
    "townhall_tasks_oldest_ready_age_seconds",
    "townhall_notifications_backlog",
    "townhall_cases_sla_breached_open",
    "townhall_cases_opened_total",
}


def route_of(request: HttpRequest) -> str:
    """The URL pattern's name ("console:case"), never the path."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return match.view_name or UNMATCHED


class MetricsMiddleware:
    """Counts and times every request; outermost but for the request id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in METHODS else "other"
        route = route_of(request)
        HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(method, route, f"{response.status_code // 100}xx").inc()
        return response


class QueueCollector(Collector):
    """Gauges read at scrape time: four queries (tasks, outbox, SLA, cases by channel)."""

    def collect(self) -> Iterable[Metric]:
        if queue_is_database():
            state = queue_state()
            yield GaugeMetricFamily(
                "townhall_tasks_ready", "Background tasks a worker could start now.", state.ready
            )
            yield GaugeMetricFamily(
                "townhall_tasks_oldest_ready_age_seconds",
                "Seconds the longest-waiting runnable task has waited.",
                state.oldest_age_seconds,
            )
        backlog = GaugeMetricFamily(
            "townhall_notifications_backlog",
            "Outbox messages not delivered, by status.",
            labels=["status"],
        )
        for status, count in sorted(notification_backlog_by_status().items()):
            backlog.add_metric([status], count)
        yield backlog
        yield GaugeMetricFamily(
            "townhall_cases_sla_breached_open",
            "Open cases past their due time or marked late.",
            case_sla_breached_open_count(),
        )
        opened = CounterMetricFamily(
            "townhall_cases_opened",
            "Cases opened, by the channel they came in on.",
            labels=["channel"],
        )
        for channel, count in sorted(case_opened_count_by_channel().items()):
            opened.add_metric([channel], count)
        yield opened


def process_exposition() -> bytes:
    """This process's metrics, or every worker's added up when PROMETHEUS_MULTIPROC_DIR is set."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def exposition() -> bytes:
    """The text format of every metric: the processes' and the gauges read now."""
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(QueueCollector())
    return process_exposition() + generate_latest(gauges)
