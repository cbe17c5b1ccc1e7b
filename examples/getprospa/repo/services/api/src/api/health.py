"""Liveness, readiness and draining.

- liveness answers 200 while the process runs; it checks no dependency, so a
  database outage never restarts healthy pods;
- readiness answers 200 once this code is compatible with the database schema, and
  503 once the pod is draining (SIGTERM received), so the load balancer stops sending
  traffic before in-flight requests finish.

Schema compatibility (schema.py: the schema is at or ahead of what this code needs) is
checked at start; until it holds (before migrations, or with the database unreachable
at start) it is re-checked at most every RECHECK_SECONDS, then cached for the life of
the process. A readiness probe never touches the database otherwise: losing the
database never makes a ready pod unready (that would deregister every target during a
Multi-AZ failover). A request that needs the database then answers 503, counted in
http_requests_total, and the next one works once the database is back.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, Response, jsonify

from . import schema
from .config import Settings
from .definition import DEFINITION

log = logging.getLogger(__name__)
RECHECK_SECONDS = 2.0


class Compatibility:
    """Whether this code can serve the database's schema: checked, then cached once true."""

    def __init__(self, engine: sa.Engine, required: int = schema.REQUIRED_SCHEMA_VERSION) -> None:
        self.engine = engine
        self.required = required
        self.problem: tuple[str, str] | None = ("starting", "not checked yet")
        self.checked_at = float("-inf")
        self._lock = threading.Lock()

    def check(self) -> None:
        self.checked_at = time.monotonic()
        try:
            with self.engine.connect() as conn:
                self.problem = schema.problem(schema.read(conn), self.required)
        except sa.exc.SQLAlchemyError as exc:
            self.problem = ("database unreachable", type(exc).__name__)
        if self.problem is None:
            log.info("schema compatible", extra={"required_schema_version": self.required})
        else:
            log.warning("not ready", extra={"reason": self.problem[0], "detail": self.problem[1]})

    def current(self) -> tuple[str, str] | None:
        """None when compatible (cached for good), else why not; re-checks now and then."""
        due = time.monotonic() - self.checked_at >= RECHECK_SECONDS
        if self.problem is not None and due and self._lock.acquire(blocking=False):
            try:
                self.check()
            finally:
                self._lock.release()
        return self.problem


def register(app: Flask, engine: sa.Engine, settings: Settings) -> Compatibility:
    compatibility = Compatibility(engine)
    compatibility.check()
    app.extensions["schema_compatibility"] = compatibility
    draining = Path(settings.draining_file)

    @app.get(DEFINITION.liveness_path)
    def livez() -> Response:
        return jsonify(status="ok")

    @app.get(DEFINITION.readiness_path)
    def readyz() -> tuple[Response, int]:
        if draining.exists():
            return jsonify(status="draining"), 503
        problem = compatibility.current()
        if problem is not None:
            return jsonify(status=problem[0], detail=problem[1]), 503
        return jsonify(status="ok", required_schema_version=compatibility.required), 200

    return compatibility
