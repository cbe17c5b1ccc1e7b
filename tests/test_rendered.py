"""The rendered-output harness: every validator of every area, on every spec of the matrix."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest
from conftest import REFERENCE_SPEC, SPECS
from validators import RenderedRepo, Validator, load_all

from generator.engine.operations import find_recorded_units, new
from generator.engine.templates import bundled
from generator.engine.units import load_areas, plan_units
from generator.spec import load_spec

MATRIX = {"getprospa": REFERENCE_SPEC, **{p.stem: p for p in sorted(SPECS.glob("*.yaml"))}}


def _areas_by_spec() -> dict[str, set[str]]:
    with ExitStack() as stack:
        areas = load_areas(bundled(stack).root)
    out = {}
    for name, path in MATRIX.items():
        resolved = load_spec(path).resolved
        assert resolved is not None, f"{path} is not a valid spec"
        out[name] = {u.area for u in plan_units(resolved, areas)}
    return out


def _cases() -> list:
    areas = _areas_by_spec()
    return [
        pytest.param(spec, v, id=f"{spec}-{v.area}-{v.name}")
        for spec in MATRIX
        for v in load_all()
        if v.area in areas[spec] and (v.only is None or spec in v.only)
    ]


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], RenderedRepo]:
    cache: dict[str, RenderedRepo] = {}

    def get(name: str) -> RenderedRepo:
        if name not in cache:
            root = tmp_path_factory.mktemp(f"rendered-{name}") / "repo"
            new(MATRIX[name], root)
            resolved = load_spec(MATRIX[name]).resolved
            assert resolved is not None
            units = sorted(find_recorded_units(root).values(), key=lambda u: u.id)
            cache[name] = RenderedRepo(name, MATRIX[name], root, resolved, units)
        return cache[name]

    return get


@pytest.mark.parametrize(("spec", "check"), _cases())
def test_rendered_output(
    spec: str, check: Validator, rendered: Callable[[str], RenderedRepo]
) -> None:
    check.fn(rendered(spec))


def test_every_area_has_validators() -> None:
    with ExitStack() as stack:
        areas = {a.name for a in load_areas(bundled(stack).root)}
    covered = {v.area for v in load_all()}
    assert areas <= covered, f"areas without validators: {sorted(areas - covered)}"


def test_the_matrix_renders_every_area() -> None:
    with ExitStack() as stack:
        areas = {a.name for a in load_areas(bundled(stack).root)}
    rendered_areas = set().union(*_areas_by_spec().values())
    assert areas == rendered_areas


def test_reference_output_is_up_to_date(tmp_path: Path) -> None:
    """examples/getprospa/repo is exactly what the reference spec renders today."""
    from conftest import REFERENCE_DIR, tree

    from generator.reference import render_reference

    fresh = tmp_path / "repo"
    render_reference(REFERENCE_DIR, fresh)
    committed, expected = tree(REFERENCE_DIR / "repo"), tree(fresh)
    stale = sorted(
        p for p in committed.keys() | expected.keys() if committed.get(p) != expected.get(p)
    )
    assert not stale, f"run `make reference`; these files differ: {stale[:20]}"
