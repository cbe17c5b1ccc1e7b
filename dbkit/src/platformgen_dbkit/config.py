"""The kit's defaults from platform.yaml: dbkit.json, rendered by platformgen next to the kit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import DbkitError

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "dbkit.json"


def load_config(path: Path | None) -> dict[str, Any]:
    """The `migration` settings of the spec ({} when the spec has none)."""
    target = path or DEFAULT_PATH
    if not target.exists():
        if path is not None:
            raise DbkitError(f"config file {path} does not exist", "pass an existing --config file")
        return {}
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
