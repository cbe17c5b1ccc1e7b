"""The database kit (dbkit/) is tested here, in platformgen's own `make test`, not in every
generated repository: its wheel is reproducible and is the one the template's lock pins, and
its own test suite (dbkit/tests) runs on two real MariaDB servers this harness starts
(docs/adr/0018-database-kit-wheel.md). The kit's lint runs in `make lint`.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
from support.dbkit import KIT, LOCK, ROOT, TEST_DB, build_wheel, dbkit_servers
from support.requirements import normalise, read_pins

import generator


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_lock_pins_a_fresh_reproducible_build_of_the_kit(tmp_path: Path) -> None:
    """The committed hash is the hash of the wheel built from this checkout: two builds give the
    same bytes, and the lock's platformgen-dbkit hash is theirs (after changing dbkit/, run
    `make dbkit-lock` and `make reference`)."""
    first, second = build_wheel(tmp_path / "a"), build_wheel(tmp_path / "b")
    assert first.read_bytes() == second.read_bytes(), "two builds of one checkout differ"
    pins = read_pins(LOCK)
    kit = pins["platformgen-dbkit"]
    assert kit.hashes == {_sha256(first)}, (
        f"{LOCK.relative_to(ROOT)} pins another build of dbkit/: run `make dbkit-lock`, then "
        "`make reference`, and commit both"
    )
    # One release: the kit's version is platformgen's, and the wheel's name says it.
    assert kit.version == generator.__version__
    init = (KIT / "src" / "platformgen_dbkit" / "__init__.py").read_text()
    assert f'__version__ = "{generator.__version__}"' in init, (
        "dbkit's __version__ is not platformgen's"
    )
    assert first.name == f"platformgen_dbkit-{generator.__version__}-py3-none-any.whl"


def test_the_lock_pins_the_kits_dependencies_at_platformgens_versions() -> None:
    """Every run-time dependency of the kit is in the lock with its hash, at the version of
    dbkit/pyproject.toml's exact pin and of constraints.txt (the versions the kit is tested with)."""
    text = (KIT / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)\]", text, re.S | re.M)
    assert block
    direct = dict(re.findall(r'"([A-Za-z0-9_.-]+)==([^"]+)"', block[1]))
    assert {"boto3", "pymysql"} <= set(direct), direct
    constraints = {
        normalise(name): version
        for name, version in (
            line.split("#")[0].strip().split("==", 1)
            for line in (ROOT / "constraints.txt").read_text().splitlines()
            if "==" in line.split("#")[0]
        )
    }
    pins = read_pins(LOCK)
    for name, version in direct.items():
        assert pins[normalise(name)].version == version, f"{name}: pyproject and lock disagree"
        assert constraints.get(normalise(name)) == version, (
            f"{name}: constraints.txt has another version"
        )
    for name, pin in pins.items():
        assert len(pin.hashes) >= 1, name
        if name != "platformgen-dbkit":
            assert constraints.get(name) == pin.version, f"{name}: lock and constraints disagree"


def test_the_wheel_holds_the_kit_and_nothing_else(tmp_path: Path) -> None:
    import zipfile

    names = zipfile.ZipFile(build_wheel(tmp_path)).namelist()
    assert "platformgen_dbkit/cli.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "tests/" in n]
    entry = zipfile.ZipFile(build_wheel(tmp_path)).read(
        next(n for n in names if n.endswith("entry_points.txt"))
    )
    assert b"dbkit = platformgen_dbkit.cli:main" in entry


@pytest.mark.slow
@pytest.mark.first  # three minutes: it starts early, beside the rehearsal, never last
def test_the_kits_own_suite_passes_on_two_mariadb_servers(tmp_path: Path) -> None:
    """dbkit/tests, as the kit's developers run them, against servers started here."""
    with ExitStack() as stack:
        source, target = dbkit_servers(stack, tmp_path)
        env = {
            **os.environ,
            "DBKIT_TEST_SOURCE_DSN": source.dsn(TEST_DB),
            "DBKIT_TEST_TARGET_DSN": target.dsn(TEST_DB),
        }
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"],
            cwd=KIT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
    tail = proc.stdout[-6000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, tail
    assert re.search(r"^\d+ passed", proc.stdout.splitlines()[-1]), tail


def test_make_lint_lints_the_kit_with_its_own_settings() -> None:
    """The kit's ruff settings (dbkit/pyproject.toml) apply: lint runs from dbkit/."""
    proc = subprocess.run(
        ["make", "-n", "lint"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")},
    )
    assert proc.returncode == 0, proc.stderr
    assert re.search(
        r"^cd dbkit && \S*ruff check \. && \S*ruff format --check \.$", proc.stdout, re.M
    ), proc.stdout
