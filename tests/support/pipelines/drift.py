"""Which CI system runs the daily drift check, by the templates' own rule.

The rule lives once, in templates/_shared/delivery.jinja (macro ``drift_system``): the
delivering system when it is github or bitbucket, else the system of
pipelines.repositoryHost when listed, else the listed one of github, bitbucket; none when
neither is listed. The templates call it (the drift.yml file name imports it too); this
module evaluates the same macro with jinja2, as copier does, so the tests never restate it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

ROOT = Path(__file__).resolve().parents[3]
MACROS = "templates/_shared/delivery.jinja"


@cache
def _environment() -> SandboxedEnvironment:
    # copier's loader root is the template repository's root (copier.yml sits there).
    return SandboxedEnvironment(loader=FileSystemLoader(ROOT), undefined=StrictUndefined)


def drift_system(spec: dict[str, Any]) -> str | None:
    """The system that runs `make infra-drift ENV=<e>` per environment, or None."""
    module = _environment().get_template(MACROS).make_module({"spec": spec})
    return str(module.drift_system()) or None
