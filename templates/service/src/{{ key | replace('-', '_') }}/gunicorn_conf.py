"""gunicorn settings: gthread workers, timeouts, JSON logs, metrics across workers, draining.

Defaults come from platform.yaml (service.json: workers from the app's CPU
request); the environment overrides them per environment:

    WEB_CONCURRENCY               worker processes
    GUNICORN_THREADS              threads per worker (keep DATABASE_POOL_SIZE >= this)
    GUNICORN_TIMEOUT              seconds before a stuck worker is replaced
    GUNICORN_GRACEFUL_TIMEOUT     seconds in-flight requests get after draining
    SHUTDOWN_DELAY_SECONDS        seconds between SIGTERM and the graceful stop, while
                                  readiness already answers 503 and requests still run

The pod's terminationGracePeriodSeconds must exceed the last two together.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

_here = Path(__file__).resolve().parent
_package = _here.name
_defaults = json.loads((_here / "service.json").read_text(encoding="utf-8"))["gunicorn"]


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


port = _int("PORT", _defaults["port"])
bind = [f"0.0.0.0:{port}"]
worker_class = "gthread"
workers = _int("WEB_CONCURRENCY", _defaults["workers"])
threads = _int("GUNICORN_THREADS", _defaults["threads"])
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
# Longer than the ALB's 60 s idle timeout, so the load balancer closes idle connections first.
keepalive = 75
max_requests = 10000
max_requests_jitter = 1000
limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190
worker_tmp_dir = "/tmp"  # noqa: S108 - the pod's emptyDir; the root filesystem is read-only
control_socket_disable = True
accesslog = None  # the app logs each request as JSON, with its request id
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": f"{_package}.logs.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        }
    },
    "root": {"level": loglevel.upper(), "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
    },
}

# Before anything loads prometheus_client: every worker writes its metrics here and
# /metrics sums them. Emptied at start, so no stale worker's numbers survive a restart.
_metrics_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/prometheus")  # noqa: S108
shutil.rmtree(_metrics_dir, ignore_errors=True)
Path(_metrics_dir).mkdir(parents=True)
_draining = Path(os.environ.get("DRAINING_FILE", "/tmp/draining"))  # noqa: S108
_delay = _int("SHUTDOWN_DELAY_SECONDS", 5)


def on_starting(server: Any) -> None:
    """Ready again after a restart; SIGTERM drains before gunicorn's graceful stop."""
    _draining.unlink(missing_ok=True)
    graceful_stop = server.handle_term

    def drain_then_stop() -> None:
        _draining.touch()
        server.log.info("SIGTERM: readiness is now 503; stopping in %s s", _delay)
        time.sleep(_delay)
        graceful_stop()

    server.handle_term = drain_then_stop


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
