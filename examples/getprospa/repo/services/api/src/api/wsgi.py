"""The WSGI entry point gunicorn loads: one app (and one connection pool) per worker."""

from __future__ import annotations

from .app import create_app

app = create_app()
