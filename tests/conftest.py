"""Shared fixtures: paths, a CLI runner, and template repositories for update tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from generator.releases import RECORD_FILE, exclude_patterns, excluder, iter_files, load_record

if TYPE_CHECKING:
    from validators import RenderedRepo

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = ROOT / "examples" / "getprospa"
REFERENCE_SPEC = REFERENCE_DIR / "platform.yaml"
SPECS = ROOT / "tests" / "specs"
# Every spec the rendered output is checked on: the reference and tests/specs/*.yaml.
MATRIX = {"getprospa": REFERENCE_SPEC, **{p.stem: p for p in sorted(SPECS.glob("*.yaml"))}}
GIT_ENV = {
    "GIT_AUTHOR_NAME": "platformgen tests",
    "GIT_AUTHOR_EMAIL": "tests@platformgen.invalid",
    "GIT_COMMITTER_NAME": "platformgen tests",
    "GIT_COMMITTER_EMAIL": "tests@platformgen.invalid",
}


# The day validation judges EKS and MySQL support dates on (generator/spec/support.py):
# fixed, so findings never change with the calendar. Tests of the dates pass their own.
AS_OF = "2026-11-30"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLATFORMGEN_TEMPLATE_URL", raising=False)
    monkeypatch.setenv("PLATFORMGEN_AS_OF", AS_OF)
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    )
    assert proc.returncode == 0, f"git {args} failed: {proc.stderr}"
    return proc.stdout


def run_cli(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None):
    """Run the real `platformgen` CLI in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "generator.cli", "--no-color", *map(str, args)],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV, "PYTHONPATH": str(ROOT), **(env or {})},
    )


@pytest.fixture(scope="session")
def terraform(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The terraform CLI, offline (tests/support/terraform.py); fails loudly when missing."""
    from support.terraform import Terraform, ToolchainMissing

    try:
        return Terraform(tmp_path_factory.mktemp("terraform-config"))
    except ToolchainMissing as exc:
        pytest.fail(f"Terraform toolchain: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], RenderedRepo]:
    """Render a spec of the matrix by name, once per worker; every test of that worker shares
    it (tests/test_rendered.py's validators, the pipeline rehearsal): copy it to change it."""
    from validators import RenderedRepo

    from generator.engine.operations import find_recorded_units, new
    from generator.spec import load_spec

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


def tree(root: Path) -> dict[str, tuple[bytes, bool]]:
    """Every file under root (except .git) with its bytes and executable bit."""
    out: dict[str, tuple[bytes, bool]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if ".git" in rel.parts or not path.is_file():
            continue
        out[rel.as_posix()] = (path.read_bytes(), bool(path.stat().st_mode & 0o100))
    return out


def copy_template_paths(source: Path, dest: Path) -> None:
    """Copy what makes a template version (releases.toml's template-paths), without caches."""
    skip = excluder(exclude_patterns(source / "copier.yml"))
    for rel, path in iter_files(source, load_record(source / RECORD_FILE).paths, skip):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest / rel, follow_symlinks=False)


@dataclass
class TemplateRepo:
    """A git repository of the template set, for update tests: tag, change, tag again."""

    path: Path

    def tag(self, name: str, message: str = "release") -> None:
        git(self.path, "add", "--all")
        git(self.path, "commit", "--quiet", "--allow-empty", "-m", message)
        git(self.path, "tag", name)

    def edit(self, rel: str, fn: Callable[[str], str]) -> None:
        target = self.path / rel
        new = fn(target.read_text())
        assert new != target.read_text(), f"edit of {rel} changed nothing"
        target.write_text(new)


@pytest.fixture
def template_repo(tmp_path: Path) -> Iterator[TemplateRepo]:
    """The checkout's template set as a fresh git repository tagged v1.0.0."""
    repo = tmp_path / "templates-repo"
    copy_template_paths(ROOT, repo)
    git(repo, "init", "--quiet", "--initial-branch=main")
    result = TemplateRepo(repo)
    result.tag("v1.0.0", "templates v1.0.0")
    yield result


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `first` (minutes each) go to the front: pytest-xdist hands tests out
    in this order, so a long one never starts last and keeps the whole run waiting."""
    items.sort(key=lambda item: item.get_closest_marker("first") is None)
