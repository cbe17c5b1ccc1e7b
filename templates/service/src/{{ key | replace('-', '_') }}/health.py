"""Liveness, readiness and draining.

- liveness answers 200 while the process runs; it checks no dependency, so a
  database outage never restarts healthy pods;
- readiness answers 200 only when the database answers and its schema is at the
  head revision, and 503 once the pod is draining (SIGTERM received), so the
  load balancer stops sending traffic before in-flight requests finish.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, Response, jsonify

from . import migrate
from .config import Settings
from .definition import DEFINITION

log = logging.getLogger(__name__)


def register(app: Flask, engine: sa.Engine, settings: Settings) -> None:
    head = migrate.head()
    draining = Path(settings.draining_file)

    @app.get(DEFINITION.liveness_path)
    def livez() -> Response:
        return jsonify(status="ok")

    @app.get(DEFINITION.readiness_path)
    def readyz() -> tuple[Response, int]:
        if draining.exists():
            return jsonify(status="draining"), 503
        try:
            with engine.connect() as conn:
                revision = migrate.current(conn)
        except sa.exc.SQLAlchemyError as exc:
            log.warning("not ready: database unreachable", extra={"error": type(exc).__name__})
            return jsonify(status="database unreachable"), 503
        if revision != head:
            return jsonify(status="migrations pending", revision=revision, head=head), 503
        return jsonify(status="ok", revision=revision), 200
