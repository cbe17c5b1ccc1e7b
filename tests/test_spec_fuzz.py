"""Fuzz the loader and validator: any input gives a clean result, never a traceback."""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml
from conftest import REFERENCE_SPEC, SPECS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from generator.spec import load_schema, load_spec_text

SEEDS = [yaml.safe_load(p.read_text()) for p in (REFERENCE_SPEC, *sorted(SPECS.glob("*.yaml")))]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values that are valid somewhere in a spec, so mutations often stay schema-valid and
# reach the semantic and policy checks.
PLAUSIBLE = st.sampled_from(
    [
        "dev",
        "prod",
        "staging",
        "live",
        "api",
        "web",
        "worker",
        "static",
        "container",
        "10.0.0.0/16",
        "10.0.0.0/20",
        "10.0.0.1/16",
        "8.8.0.0/16",
        "192.168.0.0/16",
        "123456789012",
        "db.t4g.medium",
        "8.0.42",
        "8.4.6",
        "/",
        "/api",
        "/x",
        "1.33",
        "perAz",
        "single",
        "production",
        "development",
        "TLSv1.3",
        "",
        "{{ 7*7 }}",
        "${{ x }}",
        "AKIAABCDEFGHIJKLMNOP",
        0,
        1,
        3,
        7,
        35,
        1024,
        65535,
        -1,
        True,
        False,
        None,
        [],
        {},
        ["github"],
        {"min": 5, "max": 2},
    ]
)
SCALARS = st.one_of(
    PLAUSIBLE,
    st.text(max_size=20),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _set(node: Any, path: tuple, value: Any, delete: bool) -> Any:
    if not path:
        return value
    parent = node
    for part in path[:-1]:
        parent = parent[part]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return node


@st.composite
def mutated_specs(draw: st.DrawFn) -> Any:
    spec = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = _paths(spec)
        path = draw(st.sampled_from(paths))
        delete = bool(path) and draw(st.booleans()) and draw(st.booleans())
        spec = _set(spec, path, copy.deepcopy(draw(VALUES)), delete)
        if not isinstance(spec, (dict, list)):
            break
    return spec


def _assert_clean(text: str) -> None:
    result = load_spec_text(text, "fuzz.yaml")
    # YAML also breaks lines at \r, NEL, LS and PS.
    lines = len(re.split(r"\r\n|[\r\n\x85\u2028\u2029]", text)) + 1
    for d in result.diagnostics:
        assert 1 <= d.line <= lines, d
        assert d.column >= 1, d
        assert d.message and d.fix, d
    if result.ok:
        assert result.resolved is not None
        validator = Draft202012Validator(load_schema())
        assert not list(validator.iter_errors(result.resolved))
    else:
        assert result.resolved is None


@SETTINGS
@given(st.text(max_size=400))
def test_any_text_gives_a_clean_result(text: str) -> None:
    _assert_clean(text)


@SETTINGS
@given(mutated_specs())
def test_mutated_specs_give_a_clean_result(spec: Any) -> None:
    _assert_clean(yaml.safe_dump(spec, allow_unicode=True))


@SETTINGS
@given(st.binary(max_size=200).map(lambda b: b.decode("utf-8", "replace")))
def test_yaml_fragments_give_a_clean_result(noise: str) -> None:
    base = REFERENCE_SPEC.read_text()
    cut = len(noise) % max(1, len(base))
    _assert_clean(base[:cut] + noise + base[cut:])
