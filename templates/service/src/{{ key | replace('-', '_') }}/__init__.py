"""The service package. `create_app` is the Flask application factory (app.py).

Importing the package imports nothing else, so gunicorn's settings module
(gunicorn_conf.py) runs before prometheus_client or the app are loaded.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
