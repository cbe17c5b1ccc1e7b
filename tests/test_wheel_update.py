"""The pipx route: an installed wheel updates a generated repository with no template repository at hand.

Two releases of platformgen are built as real wheels from a throwaway source
repository, released the documented way (docs/releasing.md): the version is
committed, `scripts/release.py record` adds it to releases.toml. No tag is ever
made. A repository rendered by the first wheel is then updated by the second,
with no --templates and no network: the old version comes from the history
bundle the wheel carries (hatch_build.py), built from the release record.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import GIT_ENV, ROOT, SPECS, copy_template_paths, git

pytestmark = pytest.mark.slow
# Everything a build needs besides the template paths (which releases.toml lists).
SOURCE_ITEMS = ["pyproject.toml", "README.md", "hatch_build.py", "generator", "scripts"]
# This repository's release record without its releases: same template paths, no history.
EMPTY_RECORD = (ROOT / "releases.toml").read_text().split("[[release]]")[0]


def build(source: Path, out: Path, *, sdist: bool = False) -> subprocess.CompletedProcess[str]:
    """`python -m build`: the wheel directly, or (sdist=True) an sdist and the wheel from it."""
    return subprocess.run(
        [
            sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out),
            *([] if sdist else ["--wheel"]), str(source),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
    )  # fmt: skip


def build_wheel(source: Path, out: Path, *, sdist: bool = False) -> Path:
    proc = build(source, out, sdist=sdist)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = out.glob("platformgen-*.whl")
    return wheel


def _install(wheel: Path, target: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )


def _platformgen(site: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    # The installed wheel comes first on the path, ahead of this checkout's editable install.
    env = {
        **os.environ,
        **GIT_ENV,
        "PYTHONPATH": str(site),
        "PLATFORMGEN_TEMPLATE_URL": "/nonexistent",
    }
    return subprocess.run(
        [sys.executable, "-m", "generator.cli", "--no-color", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=site.parent,
    )


def release(source: Path, version: str) -> None:
    """Commit `version`, record that commit in releases.toml, commit the record (no tag)."""
    init = source / "generator" / "__init__.py"
    init.write_text(
        re.sub(r'__version__ = "[^"]+"', f'__version__ = "{version}"', init.read_text())
    )
    git(source, "add", "--all")
    git(source, "commit", "--quiet", "--allow-empty", "-m", f"platformgen {version}")
    proc = subprocess.run(
        [sys.executable, "scripts/release.py", "record", version],
        cwd=source,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    git(source, "commit", "--quiet", "-am", f"Record release {version}")


def test_installed_wheel_updates_from_its_own_template_history(tmp_path: Path) -> None:
    source = tmp_path / "platformgen-src"
    source.mkdir()
    for item in SOURCE_ITEMS:
        src = ROOT / item
        if src.is_dir():
            shutil.copytree(
                src, source / item, ignore=shutil.ignore_patterns("__pycache__", "_data")
            )
        else:
            shutil.copy2(src, source / item)
    copy_template_paths(ROOT, source)
    (source / "releases.toml").write_text(EMPTY_RECORD)
    git(source, "init", "--quiet", "--initial-branch=main")
    release(source, "0.1.0")
    wheel1 = build_wheel(source, tmp_path / "dist1")

    readme = source / "templates" / "repo" / "README.md.jinja"
    readme.write_text(readme.read_text().replace("## Layout\n", "## Layout\n\nAdded in 0.2.0.\n"))
    release(source, "0.2.0")
    wheel2 = build_wheel(source, tmp_path / "dist2")
    assert git(source, "tag", "--list") == ""

    with zipfile.ZipFile(wheel2) as wheel:
        names = set(wheel.namelist())
    assert "generator/_data/history.bundle" in names
    assert "generator/_data/releases.toml" in names
    assert "generator/_data/templates/repo/README.md.jinja" in names
    assert "generator/_data/schema/platform.v1.schema.json" in names

    site1, site2 = tmp_path / "site1", tmp_path / "site2"
    _install(wheel1, site1)
    _install(wheel2, site2)
    repo = tmp_path / "repo"
    proc = _platformgen(site1, "new", SPECS / "small.yaml", "-o", repo)
    assert proc.returncode == 0, proc.stderr
    assert "_commit: v0.1.0" in (repo / ".copier-answers.repo.yml").read_text()
    text = (repo / "README.md").read_text()
    (repo / "README.md").write_text(
        text.replace("## Changing the platform\n", "## Changing the platform\n\nOurs.\n")
    )
    git(repo, "commit", "--quiet", "-am", "our edit")

    proc = _platformgen(site2, "update", repo)
    assert proc.returncode == 0, proc.stderr
    merged = (repo / "README.md").read_text()
    assert "Added in 0.2.0." in merged
    assert "Ours." in merged
    assert "_commit: v0.2.0" in (repo / ".copier-answers.repo.yml").read_text()
    git(repo, "commit", "--quiet", "-am", "update to 0.2.0")

    # The older platformgen refuses to move the repository back (it would lose 0.2.0),
    # and says to upgrade instead of to run `update`.
    proc = _platformgen(site1, "update", repo)
    assert proc.returncode == 1
    assert "newer than v0.1.0" in proc.stderr and "--allow-downgrade" in proc.stderr
    assert "_commit: v0.2.0" in (repo / ".copier-answers.repo.yml").read_text()
    proc = _platformgen(site1, "render", repo)
    assert proc.returncode == 1
    assert "upgrade platformgen" in proc.stderr
    assert "run `platformgen update`" not in proc.stderr
