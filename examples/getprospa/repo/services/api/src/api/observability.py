"""JSON logs with the request id, request metrics and the Prometheus endpoint.

Under gunicorn, every worker is its own process: metrics live in
PROMETHEUS_MULTIPROC_DIR (set by gunicorn.conf.py, on /tmp) and /metrics sums
them across workers. Without it (tests, `flask run`), the process registry is used.
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

POOL_SAMPLE_SECONDS = 1.0
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests by method, route and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by method and route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
POOL_CHECKED_OUT = Gauge(
    "db_pool_connections_in_use", "Database connections checked out", multiprocess_mode="livesum"
)
POOL_IDLE = Gauge(
    "db_pool_connections_idle", "Database connections idle in the pool", multiprocess_mode="livesum"
)
POOL_OVERFLOW = Gauge(
    "db_pool_overflow", "Database connections beyond the pool size", multiprocess_mode="livesum"
)


def metrics_response() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        data = generate_latest(registry)
    else:
        data = generate_latest()
    return Response(
        data,
        mimetype=CONTENT_TYPE_LATEST.split(";")[0],
        headers={"Content-Type": CONTENT_TYPE_LATEST},
    )


_last_pool_sample = 0.0


def _sample_pool(engine: sa.Engine) -> None:
    """Pool gauges, at most every POOL_SAMPLE_SECONDS per worker (they cost a write each)."""
    global _last_pool_sample
    now = time.monotonic()
    if now - _last_pool_sample < POOL_SAMPLE_SECONDS:
        return
    _last_pool_sample = now
    pool = engine.pool
    if isinstance(pool, sa.QueuePool):
        POOL_CHECKED_OUT.set(pool.checkedout())
        POOL_IDLE.set(pool.checkedin())
        POOL_OVERFLOW.set(max(pool.overflow(), 0))


def register(app: Flask, engine: sa.Engine) -> None:
    access = logging.getLogger("access")
    # The labelled children, looked up once per (method, route, status): `labels()`
    # takes a lock and validates its arguments on every call.
    counters: dict[tuple[str, str, int], Any] = {}
    histograms: dict[tuple[str, str], Any] = {}

    @app.before_request
    def _start() -> None:
        given = request.headers.get("X-Request-ID")
        g.request_id = given if given and _REQUEST_ID.match(given) else os.urandom(16).hex()
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        rule = request.url_rule
        route = rule.rule if rule is not None else "unmatched"
        method, status = request.method, response.status_code
        counter = counters.get((method, route, status))
        if counter is None:
            counter = counters[(method, route, status)] = REQUESTS.labels(method, route, status)
        counter.inc()
        histogram = histograms.get((method, route))
        if histogram is None:
            histogram = histograms[(method, route)] = LATENCY.labels(method, route)
        histogram.observe(elapsed)
        _sample_pool(engine)
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if access.isEnabledFor(logging.INFO):
            environ = request.environ
            # Built and handed to the handlers directly: Logger.info would also walk the
            # stack for the caller's file and line, which the JSON line does not carry.
            record = access.makeRecord(
                "access", logging.INFO, "", 0, "request", (), None, extra=None
            )
            record._fields = {
                "method": method,
                "path": request.path,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                # The client address as ProxyFix resolved it (app.py): the
                # right-most X-Forwarded-For hop the trusted proxies added.
                "remote_addr": request.remote_addr,
                "user_agent": environ.get("HTTP_USER_AGENT", "")[:200],
            }
            access.handle(record)
        return response
