"""The engine: determinism, injection safety, path safety and plain-copier equivalence."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml
from conftest import REFERENCE_SPEC, ROOT, SPECS, run_cli, tree

from generator.engine.apply import Write, apply_operations
from generator.engine.errors import EngineError
from generator.engine.operations import new
from generator.engine.render import render_all
from generator.engine.templates import bundled
from generator.engine.units import load_areas, plan_units
from generator.spec import load_spec

MATRIX = [REFERENCE_SPEC, *sorted(SPECS.glob("*.yaml"))]


@pytest.mark.parametrize("spec", MATRIX, ids=lambda p: p.stem)
def test_same_spec_and_templates_give_identical_bytes(spec: Path, tmp_path: Path) -> None:
    new(spec, tmp_path / "a")
    # A second render in another process, with another hash seed, umask, time zone and cwd.
    env = {
        **os.environ,
        "PYTHONHASHSEED": "12345",
        "TZ": "Pacific/Chatham",
        "PYTHONPATH": str(ROOT),
    }
    script = (
        "import os, sys; os.umask(0o077); from pathlib import Path;"
        "from generator.engine.operations import new; new(Path(sys.argv[1]), Path(sys.argv[2]))"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(spec), str(tmp_path / "b")],
        check=True,
        env=env,
        cwd=tmp_path,
    )
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert a.keys() == b.keys()
    different = [path for path in a if a[path] != b[path]]
    assert not different


def test_template_syntax_in_spec_values_renders_literally(tmp_path: Path) -> None:
    spec = SPECS / "edge.yaml"
    resolved = load_spec(spec).resolved
    assert resolved is not None
    out = tmp_path / "repo"
    new(spec, out)
    readme = (out / "README.md").read_text()
    assert resolved["project"]["description"] in readme
    assert "{{ 7*1109 }}" in readme and "7763" not in readme
    answers = yaml.safe_load((out / ".copier-answers.repo.yml").read_text())
    assert answers["spec"] == resolved
    every_file = "\n".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    assert "7763" not in every_file  # {{ 7*1109 }} was never evaluated
    assert os.environ.get("HOME", "/root") + "\n" not in every_file  # lookup('env','HOME') neither


def test_names_that_would_escape_the_repository_are_rejected_before_rendering(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    proc = run_cli("new", SPECS / "invalid" / "traversal.yaml", "-o", out)
    assert proc.returncode == 1
    assert "nothing was written" in proc.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_apply_refuses_paths_outside_the_root(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    with pytest.raises(EngineError, match="outside the repository"):
        apply_operations(tmp_path / "root", [Write("../escaped.txt", b"x")])
    assert not (tmp_path / "escaped.txt").exists()


def test_engine_output_equals_plain_copier_copy(tmp_path: Path) -> None:
    """The engine's faster Worker must not change a byte compared with `copier copy`."""
    resolved = load_spec(REFERENCE_SPEC).resolved
    assert resolved is not None
    with ExitStack() as stack:
        templates = bundled(stack)
        units = plan_units(resolved, load_areas(templates.root))
        rendered = render_all(templates, units)
        for unit in units:
            data = tmp_path / f"{unit.area}-{unit.key}.yml"
            data.write_text(yaml.safe_dump({**unit.answers, "platformgen": templates.meta}))
            dst = tmp_path / "copier" / unit.id.replace(":", "-")
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "copier",
                    "copy",
                    "--quiet",
                    "--defaults",
                    "--data-file",
                    str(data),
                    str(templates.root),
                    str(dst),
                ],
                check=True,
                capture_output=True,
            )
            plain = {(unit.dest / path).as_posix(): value for path, value in tree(dst).items()}
            ours = {path: (f.content, f.executable) for path, f in rendered[unit.id].items()}
            assert plain == ours, unit.id
