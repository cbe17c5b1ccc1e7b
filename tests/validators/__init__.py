"""Validators of rendered output, one module per template area.

Each template area registers the checks of its rendered files here with
`@validator("<area>")`. `tests/test_rendered.py` renders every spec of the
matrix (the reference, and tests/specs/*.yaml) and runs every validator whose
area has at least one unit in that spec. A validator that needs an external
tool calls `require("tool")`, which fails loudly when the tool is missing:
CI never skips a check silently.

A validator never passes by doing nothing. When it applies to some specs only, it says
so at registration (`only=` names the specs, `when=` tests the spec), so the other specs
get no test case at all instead of a PASSED one that checked nothing; it never returns
early (tests/test_rendered.py refuses a `return` in a validator). A validator that loops
over a subset (the production environments, the apps with a database) takes it through
`nonempty()`, which fails when the subset is empty.
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
    when: Callable[[dict[str, Any]], bool] | None = None
    """Runs only on specs (the resolved spec) for which this is true."""

    def applies(self, spec_name: str, spec: dict[str, Any]) -> bool:
        if self.only is not None and spec_name not in self.only:
            return False
        return self.when is None or self.when(spec)


REGISTRY: list[Validator] = []


def validator(
    area: str,
    *,
    only: tuple[str, ...] | None = None,
    when: Callable[[dict[str, Any]], bool] | None = None,
) -> Callable[[Callable[[RenderedRepo], None]], Callable[[RenderedRepo], None]]:
    """Register a check of `area`'s rendered output.

    `only` limits it to some specs of the matrix by name, `when` to specs for which it is
    true (say why in a comment); elsewhere it has no test case.
    """

    def register(fn: Callable[[RenderedRepo], None]) -> Callable[[RenderedRepo], None]:
        REGISTRY.append(Validator(area=area, name=fn.__name__, fn=fn, only=only, when=when))
        return fn

    return register


def nonempty(items: list[Any], what: str) -> list[Any]:
    """`items`, or a failure: a check over an empty subset would pass having checked nothing."""
    if not items:
        pytest.fail(
            f"nothing to check: this spec has no {what}; register the validator with "
            "only= or when= so that it does not run here",
            pytrace=False,
        )
    return items


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
