"""The Flask application factory: settings, database, routes, errors, metrics and headers."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, Response, jsonify, request
from werkzeug.middleware.proxy_fix import ProxyFix

from . import errors, health, logs, observability, openapi, routes
from .auth import Authenticator
from .config import Settings, load_settings
from .db import create_engine

__all__ = ["create_app"]

SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),
    ("Cross-Origin-Resource-Policy", "same-site"),
    ("Cache-Control", "no-store"),
)
"""Added to every response that does not set them itself (lower-cased names below)."""
_SECURITY_NAMES = tuple((name.lower(), name, value) for name, value in SECURITY_HEADERS)
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
    if settings.trusted_proxy_hops:
        # The client address (logs, any per-client decision) is the right-most
        # X-Forwarded-For entry the trusted proxies added, never the left-most one a
        # client can write itself. TRUSTED_PROXY_HOPS counts those proxies.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxy_hops, x_proto=0, x_host=0
        )

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
        headers = response.headers
        # One pass over the response's few headers instead of a scan per security header.
        present = {name.lower(): value for name, value in headers.items()}
        for lower, name, value in _SECURITY_NAMES:
            if lower not in present:
                headers.add(name, value)
        vary = present.get("vary")
        if vary is None:
            headers["Vary"] = "Origin"
        elif "origin" not in {v.strip().lower() for v in vary.split(",")}:
            headers["Vary"] = f"{vary}, Origin"
        origin = request.headers.get("Origin")
        if origin and origin in allowed_origins:
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
            if request.method == "OPTIONS":
                headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, DELETE"
                headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
                headers["Access-Control-Max-Age"] = "600"
        return response

    return app
