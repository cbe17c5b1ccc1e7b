"""Validators of rendered output, one module per template area.

Each template area registers the checks of its rendered files here with
`@validator("<area>")`. `tests/test_rendered.py` renders every spec of the
matrix (the reference, and tests/specs/*.yaml) and runs every validator whose
area has at least one unit in that spec. A validator that needs an external
tool calls `require("tool")`, which fails loudly when the tool is missing:
CI never skips a check silently.
"""

from __future__ import annotations

import importlib
import pkgutil
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from generator.engine.operations import RecordedUnit


@dataclass
class RenderedRepo:
    """One rendered spec of the matrix."""

    name: str
    spec_path: Path
    root: Path
    spec: dict[str, Any]
    units: list[RecordedUnit] = field(default_factory=list)

    def units_of(self, area: str) -> list[RecordedUnit]:
        return [u for u in self.units if u.area == area]


@dataclass(frozen=True)
class Validator:
    area: str
    name: str
    fn: Callable[[RenderedRepo], None]
    only: tuple[str, ...] | None = None
    """Specs of the matrix this validator runs on (None: every spec with its area)."""


REGISTRY: list[Validator] = []


def validator(
    area: str, *, only: tuple[str, ...] | None = None
) -> Callable[[Callable[[RenderedRepo], None]], Callable[[RenderedRepo], None]]:
    """Register a check of `area`'s rendered output; `only` limits it to some specs (say why)."""

    def register(fn: Callable[[RenderedRepo], None]) -> Callable[[RenderedRepo], None]:
        REGISTRY.append(Validator(area=area, name=fn.__name__, fn=fn, only=only))
        return fn

    return register


def require(tool: str, hint: str = "run `make test`, which installs it") -> str:
    """The path of an external tool, or a test failure that says what is missing."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing on this machine: {hint}", pytrace=False)
    return path


def load_all() -> list[Validator]:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return REGISTRY
