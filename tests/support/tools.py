"""Find the tools that live in their own virtualenvs (.tool-venvs/<tool>, made by `make tools`)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tool_venv_bin(venv: str, executable: str | None = None) -> Path:
    """Path of `executable` in .tool-venvs/<venv>/bin; a loud failure when it is missing."""
    path = ROOT / ".tool-venvs" / venv / "bin" / (executable or venv)
    if not path.exists():
        pytest.fail(
            f"{path} is missing: run `make tools` (part of `make test`), which builds it from "
            f"tools/{venv}.txt",
            pytrace=False,
        )
    return path


CHECKOV_ENV = {
    # Offline: no download of the Bridgecrew mapping or of a newer checkov.
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
}
CHECKOV_ARGS = ["--skip-download", "--quiet", "--compact"]
