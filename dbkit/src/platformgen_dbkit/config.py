"""The kit's defaults from platform.yaml: dbkit.json, rendered by platformgen into the repo.

The kit is an installed package (platformgen-dbkit), so it cannot find the rendered file
next to itself: `--config` names it, else $DBKIT_CONFIG (the generated repo's
database/platform.mk sets it to database/dbkit.json); with neither, the spec has no defaults.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import DbkitError

CONFIG_ENV = "DBKIT_CONFIG"


def load_config(path: Path | None) -> dict[str, Any]:
    """The `migration` settings of the spec ({} when no config file is named)."""
    named = path or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    if named is None:
        return {}
    target = named
    if not target.is_file():
        where = "--config" if path is not None else f"${CONFIG_ENV}"
        raise DbkitError(
            f"config file {target} ({where}) does not exist or is not a file",
            "name the rendered database/dbkit.json (make database-kit sets it)",
        )
    try:
        data = json.loads(target.read_text())
    except (OSError, ValueError) as exc:
        raise DbkitError(f"cannot read {target}: {exc}", "re-render it with `make platform-render`") from None
    migration = data.get("migration") if isinstance(data, dict) else None
    return migration if isinstance(migration, dict) else {}


TLS_MODES = {"verify-full": "VERIFY_IDENTITY", "verify-ca": "VERIFY_CA", "required": "REQUIRED"}


def source_dsn(config: dict[str, Any]) -> str | None:
    """The spec's migration source as a DSN (no password: that comes from the environment)."""
    src = config.get("source")
    if not isinstance(src, dict):
        return None
    mode = TLS_MODES.get(str(src.get("tls", "verify-full")), "VERIFY_IDENTITY")
    return f"mysql://{src['user']}@{src['host']}:{src['port']}/{src['database']}?ssl-mode={mode}"
