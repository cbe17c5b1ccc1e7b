"""A generated repository installs platformgen only from .platformgen/requirements.lock.

The lock is what `make platformgen-lock` writes for a wheel the team hosts (ADR 0017):
platformgen by URL and SHA-256, every dependency by version and SHA-256. Here the wheel is
this checkout's own build (`python -m build`, as `make dist` runs it) at a file:// URL (no
HTTPS host here), and the dependencies' hashes come from pip's own resolution report
against constraints.txt; uv, which `make platformgen-lock` uses, is not installed here.
Then the generated `make platform-validate` installs it with --require-hashes and runs it,
and refuses a wheel whose hash is not the locked one.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REFERENCE_SPEC, ROOT

from generator.engine.operations import new


def _run(cmd: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "PLATFORMGEN"))}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    tmp = tmp_path_factory.mktemp("platformgen-lock")
    repo = tmp / "repo"
    new(REFERENCE_SPEC, repo)
    dist = tmp / "dist"
    build = _run(
        [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", str(dist), "."],
        ROOT,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = dist.glob("platformgen-*-py3-none-any.whl")
    report = tmp / "report.json"
    resolve = _run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed",
         "--only-binary", ":all:", "--report", str(report), "-c", str(ROOT / "constraints.txt"), str(wheel)],
        ROOT,
    )  # fmt: skip
    assert resolve.returncode == 0, resolve.stderr[-3000:]
    lines = []
    for item in json.loads(report.read_text())["install"]:
        digest = item["download_info"]["archive_info"]["hashes"]["sha256"]
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        if name == "platformgen":
            assert digest == hashlib.sha256(wheel.read_bytes()).hexdigest()
            lines.append(f"platformgen @ {wheel.as_uri()} --hash=sha256:{digest}")
        else:
            lines.append(f"{name}=={version} --hash=sha256:{digest}")
    lock = repo / ".platformgen" / "requirements.lock"
    lock.write_text("\n".join(sorted(lines)) + "\n")
    return repo, lock, hashlib.sha256(wheel.read_bytes()).hexdigest()


def test_make_platform_validate_installs_the_locked_wheel_and_runs_it(
    locked: tuple[Path, Path, str],
) -> None:
    repo, _, _ = locked
    proc = _run(["make", "platform-validate"], repo)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "--require-hashes --no-deps" in proc.stdout
    assert (repo / ".platformgen/.venv/bin/platformgen").exists()


def test_a_wheel_that_is_not_the_locked_one_is_refused(locked: tuple[Path, Path, str]) -> None:
    repo, lock, digest = locked
    original = lock.read_text()
    try:
        lock.write_text(original.replace(digest, "0" * 64))
        proc = _run(["make", "platform-validate"], repo)
        assert proc.returncode != 0
        assert "DO NOT MATCH THE HASHES" in proc.stderr, proc.stderr[-3000:]
        assert not (repo / ".platformgen/.venv/.installed").exists()
    finally:
        lock.write_text(original)
