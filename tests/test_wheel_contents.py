"""The wheel ships what the `platformgen` command runs, and nothing that needs a source checkout.

Developer tools (re-rendering the reference, generating docs, summaries) live in scripts/
and read the checkout's templates/, docs/ and examples/. Shipped inside `generator`, such
a tool is broken for everyone who installs the wheel: generator/terraform_docs.py read
`templates/` next to the package, which an installed wheel does not have. So a real wheel
is built (no release history needed: an empty release record, as in
tests/test_wheel_update.py), unpacked outside the checkout, and checked three ways:

- it holds only the `generator` package (with its data) and its metadata;
- every module it ships is one that `import generator.cli` loads, so no module is there
  for development only (a module the CLI imports lazily would have to be loaded here too);
- no module builds a path from `__file__` that climbs out of the package, and the
  template set is found inside the wheel (generator/_data), not in a checkout.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, copy_template_paths
from test_wheel_update import EMPTY_RECORD, SOURCE_ITEMS, build_wheel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this working tree, unpacked as pip would install it."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    source.mkdir()
    for item in SOURCE_ITEMS:
        src = ROOT / item
        if src.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "_data")
            shutil.copytree(src, source / item, ignore=ignore)
        else:
            shutil.copy2(src, source / item)
    copy_template_paths(ROOT, source)
    (source / "releases.toml").write_text(EMPTY_RECORD)
    wheel = build_wheel(source, tmp / "dist")
    installed = tmp / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(installed)
    return installed


def _modules(site: Path) -> dict[str, Path]:
    """Every Python module of the wheel's `generator` package, by dotted name."""
    out = {}
    for path in sorted((site / "generator").rglob("*.py")):
        rel = path.relative_to(site)
        if "_data" in rel.parts:
            continue
        parts = rel.with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def test_the_wheel_holds_only_the_package_and_its_metadata(site: Path) -> None:
    top = sorted(p.name for p in site.iterdir())
    assert [t for t in top if not t.endswith(".dist-info")] == ["generator"], top


def test_every_module_in_the_wheel_is_one_the_cli_runs(site: Path) -> None:
    probe = (
        "import json, sys\n"
        "import generator, generator.cli\n"
        "from generator.paths import data_root\n"
        "print(json.dumps({'file': generator.__file__, 'data': str(data_root()),\n"
        "  'loaded': sorted(m for m in sys.modules if m.split('.')[0] == 'generator')}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=site.parent,  # outside the checkout
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert Path(found["file"]).is_relative_to(site), found["file"]  # the wheel, not the checkout
    assert Path(found["data"]) == site / "generator" / "_data"
    unused = sorted(set(_modules(site)) - set(found["loaded"]))
    assert not unused, (
        f"the wheel ships modules the platformgen command never imports: {unused}. A "
        "developer tool belongs in scripts/ (run with the venv's python), not in generator/"
    )


def _climb(node: ast.AST) -> int | None:
    """How many folders up from the file an expression built on `__file__` points; None
    when it is not built on `__file__`. Counts `.parent`, `.parents[i]`, `os.path.dirname`."""
    if isinstance(node, ast.Name):
        return 0 if node.id == "__file__" else None
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "dirname" and node.args:
            inner = _climb(node.args[0])
            return None if inner is None else inner + 1
        if isinstance(func, ast.Attribute) and func.attr in ("resolve", "absolute"):
            return _climb(func.value)
        if isinstance(func, ast.Name) and func.id in ("Path", "PurePath") and node.args:
            return _climb(node.args[0])
        return None
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        inner = _climb(node.value)
        return None if inner is None else inner + 1
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "parents"
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, int)
    ):
        inner = _climb(node.value.value)
        return None if inner is None else inner + node.slice.value + 1
    return None


def test_no_module_climbs_out_of_the_package(site: Path) -> None:
    """A path from `__file__` may reach the package folder (`generator/`), never above it:
    above it lies a source checkout's root, or site-packages in an installed wheel."""
    problems = []
    for name, path in _modules(site).items():
        depth = len(path.relative_to(site).parts) - 1  # folders between the file and the root
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            climb = _climb(node)
            if climb is not None and climb > depth:
                problems.append(f"{name} line {node.lineno}: {ast.unparse(node)}")
    assert not problems, "reads outside the installed package:\n" + "\n".join(problems)


def test_the_climb_counter_sees_the_ways_a_path_leaves_the_package() -> None:
    """The static check above can fail: it counts each spelling of going up."""
    cases = {
        "Path(__file__).resolve().parents[1] / 'templates'": 2,
        "Path(__file__).parent.parent": 2,
        "os.path.dirname(os.path.dirname(__file__))": 2,
        "Path(__file__).resolve().parent": 1,
        "Path('x').parent": None,
    }
    for source, expected in cases.items():
        tree = ast.parse(source, mode="eval")
        climbs = [c for n in ast.walk(tree) if (c := _climb(n)) is not None]
        assert (max(climbs) if climbs else None) == expected, source
