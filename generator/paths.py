"""Where platformgen's own data lives: the template set, the spec schema, the release record.

From a source checkout they are at the repository root (copier needs
`copier.yml` at the root of the template repository). An installed wheel
carries the same files under `generator/_data/`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_root() -> Path:
    """The folder holding the template paths (copier.yml, templates/, schema/) and releases.toml."""
    installed = _PACKAGE / "_data"
    if (installed / "copier.yml").is_file():
        return installed
    checkout = _PACKAGE.parent
    if (checkout / "copier.yml").is_file() and (checkout / "templates").is_dir():
        return checkout
    raise RuntimeError(
        f"platformgen's template set is missing (looked in {installed} and {checkout}); "
        "reinstall platformgen"
    )


def schema_path() -> Path:
    return data_root() / "schema" / "platform.v1.schema.json"


def release_record_path() -> Path:
    """releases.toml: the template releases and what makes a template version."""
    return data_root() / "releases.toml"


def history_bundle() -> Path | None:
    """Git bundle of released template versions shipped in the wheel, if any."""
    bundle = _PACKAGE / "_data" / "history.bundle"
    return bundle if bundle.is_file() else None
