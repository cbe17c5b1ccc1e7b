"""The database area renders exactly for the specs that have a database."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from conftest import REFERENCE_SPEC, SPECS

from generator.engine.templates import bundled
from generator.engine.units import load_areas, plan_units
from generator.spec import load_spec


@pytest.mark.parametrize(
    ("spec", "has_database"),
    [
        (REFERENCE_SPEC, True),
        (SPECS / "small.yaml", True),
        (SPECS / "large.yaml", True),
        (SPECS / "edge.yaml", False),
    ],
    ids=["getprospa", "small", "large", "edge"],
)
def test_database_unit_only_with_a_database(spec, has_database: bool) -> None:
    resolved = load_spec(spec).resolved
    assert resolved is not None
    assert ("database" in resolved) == has_database
    with ExitStack() as stack:
        units = plan_units(resolved, load_areas(bundled(stack).root))
    assert [u.dest.as_posix() for u in units if u.area == "database"] == (
        ["."] if has_database else []
    )
