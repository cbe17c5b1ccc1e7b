"""The rendered-output harness: every validator of every area, on every spec of the matrix."""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from conftest import MATRIX
from validators import RenderedRepo, Validator, load_all

from generator.engine.templates import bundled
from generator.engine.units import load_areas, plan_units
from generator.spec import load_spec


def _resolved() -> dict[str, dict[str, Any]]:
    out = {}
    for name, path in MATRIX.items():
        resolved = load_spec(path).resolved
        assert resolved is not None, f"{path} is not a valid spec"
        out[name] = resolved
    return out


def _areas_by_spec() -> dict[str, set[str]]:
    with ExitStack() as stack:
        areas = load_areas(bundled(stack).root)
    return {name: {u.area for u in plan_units(r, areas)} for name, r in _resolved().items()}


def _runs(check: Validator, areas: dict[str, set[str]], specs: dict[str, dict[str, Any]]) -> bool:
    return any(check.area in areas[n] and check.applies(n, specs[n]) for n in MATRIX)


def _cases() -> list:
    areas, specs = _areas_by_spec(), _resolved()
    return [
        pytest.param(spec, v, id=f"{spec}-{v.area}-{v.name}")
        for spec in MATRIX
        for v in load_all()
        if v.area in areas[spec] and v.applies(spec, specs[spec])
    ]


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


def test_every_validator_runs_on_some_spec_of_the_matrix() -> None:
    """A validator whose only=/when= matches no spec would never run, and nobody would see."""
    areas, specs = _areas_by_spec(), _resolved()
    for check in load_all():
        unknown = set(check.only or ()) - MATRIX.keys()
        assert not unknown, f"{check.name}: only= names specs not in the matrix: {unknown}"
        assert _runs(check, areas, specs), f"{check.name} runs on no spec of the matrix"


def test_validators_never_return_early() -> None:
    """A `return` before the assertions reports PASSED for a check that did not run: limit
    a validator with only= or when= at registration instead."""
    for check in load_all():
        tree = ast.parse(textwrap.dedent(inspect.getsource(check.fn)))
        function = tree.body[0]
        assert isinstance(function, ast.FunctionDef)
        returns = [node.lineno for node in _walk_own_body(function) if isinstance(node, ast.Return)]
        assert not returns, (
            f"{check.area}.{check.name} returns early (line {returns[0]} of the function): "
            "register it with only= or when= instead"
        )


def _walk_own_body(function: ast.FunctionDef) -> Iterator[ast.AST]:
    """Every node of the function's body, without descending into nested functions."""
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))


def test_the_matrix_renders_every_area() -> None:
    with ExitStack() as stack:
        areas = {a.name for a in load_areas(bundled(stack).root)}
    rendered_areas = set().union(*_areas_by_spec().values())
    assert areas == rendered_areas


def test_reference_output_is_up_to_date(tmp_path: Path) -> None:
    """examples/getprospa/repo is exactly what the reference spec renders today."""
    from conftest import REFERENCE_DIR, tree
    from support.scripts import load_script

    fresh = tmp_path / "repo"
    load_script("reference").render_reference(REFERENCE_DIR, fresh)
    committed, expected = tree(REFERENCE_DIR / "repo"), tree(fresh)
    stale = sorted(
        p for p in committed.keys() | expected.keys() if committed.get(p) != expected.get(p)
    )
    assert not stale, f"run `make reference`; these files differ: {stale[:20]}"
