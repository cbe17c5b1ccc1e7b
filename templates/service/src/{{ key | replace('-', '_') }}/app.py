"""The Flask application factory: settings, database, routes, errors, metrics and headers."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, Response, jsonify, request

from . import errors, health, logs, observability, openapi, routes
from .auth import Authenticator
from .config import Settings, load_settings
from .db import create_engine

__all__ = ["create_app"]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Cross-Origin-Resource-Policy": "same-site",
    "Cache-Control": "no-store",
}
CORS_ALLOW_HEADERS = "Authorization, Content-Type, If-Match, Idempotency-Key, X-Request-ID"
CORS_EXPOSE_HEADERS = "ETag, Location, Idempotent-Replayed, X-Request-ID"


def create_app(settings: Settings | None = None, engine: sa.Engine | None = None) -> Flask:
    """Build the app. Settings come from the environment unless given (tests)."""
    settings = settings or load_settings()
    logs.configure_logging(settings.log_level)
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=settings.max_request_bytes, JSON_SORT_KEYS=False)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    engine = engine or create_engine(settings.database)
    app.extensions["database"] = engine
    app.extensions["settings"] = settings

    observability.register(app, engine)
    errors.register(app)
    health.register(app, engine, settings)
    routes.register(app, Authenticator(settings.auth))
    spec = openapi.document()

    @app.get("/openapi.json")
    def openapi_document() -> Response:
        return jsonify(spec)

    @app.get("/metrics")
    def metrics() -> Response:
        return observability.metrics_response()

    allowed_origins = set(settings.cors_allowed_origins)

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        origin = request.headers.get("Origin")
        if origin and origin in allowed_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, DELETE"
                response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
                response.headers["Access-Control-Max-Age"] = "600"
        response.vary.add("Origin")
        return response

    return app
