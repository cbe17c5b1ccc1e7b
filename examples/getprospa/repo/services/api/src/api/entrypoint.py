"""The image's entrypoint: `serve` (the default) or `migrate`.

    serve     gunicorn with gthread workers (gunicorn.conf.py); never migrates
    migrate   Alembic to head: the Helm pre-install/pre-upgrade hook and the pipelines run it

Configuration is validated first: a bad setting exits with status 2 and one
message per problem, before anything listens or connects.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from . import migrate
from .config import ConfigError, load_settings
from .logs import configure_logging

USAGE = "usage: entrypoint serve | migrate"


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "serve"
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if command == "serve":
        # python:<module> imports the settings as a module; a file path would put this
        # package's folder on sys.path, where its modules would shadow others.
        gunicorn = Path(sys.executable).parent / "gunicorn"
        os.execv(  # noqa: S606 - replaces this process, so gunicorn is PID 1 and gets SIGTERM
            gunicorn,
            [
                str(gunicorn),
                "--config",
                f"python:{__package__}.gunicorn_conf",
                f"{__package__}.wsgi:app",
            ],
        )
    if command == "migrate":
        try:
            migrate.upgrade(settings)
        except Exception:
            logging.getLogger(__name__).exception("migration failed")
            return 1
        return 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
