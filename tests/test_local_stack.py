"""The generated repository's `make test` starts the database it needs, for real.

A new user of a generated repository runs `make test` with no database: it must start
MySQL through compose.yaml (docker compose, or podman-compose: here podman-compose, the
one installed), wait until it is healthy, run the tests with TEST_DATABASE_URL and dbkit's
two DSNs (two databases on that one server: dbkit's tests pass on it), and remove what it
started while leaving the developer's own containers as they were.

No registry is reachable here, so compose.yaml's pinned `mysql` image cannot be pulled:
MYSQL_IMAGE (compose.yaml's override) points it at a local MariaDB 10.11 image that keeps
the official image's contract (tests/support/mariadb_image.py). Everything else is the
generated code as a user runs it: the root Makefile, local/compose.sh, compose.yaml,
podman-compose and podman.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REFERENCE_SPEC
from support.mariadb_image import mariadb_image
from support.service_stack import podman_env

from generator.engine.operations import new

# The test target that needs the database (the others need helm and terraform, covered
# elsewhere): the API's suite (TEST_DATABASE_URL). The database kit's suite runs in
# platformgen (tests/test_dbkit_kit.py), not in the generated repo's make test.
DB_TARGETS = "service-api-test"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("local-stack") / "repo"
    new(REFERENCE_SPEC, root)
    return root


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    if shutil.which("podman-compose") is None:
        pytest.fail(
            "podman-compose is missing: `make test` installs it (scripts/system-packages.txt)"
        )
    base = {
        k: v
        for k, v in podman_env().items()
        if not k.startswith(("TEST_DATABASE", "DBKIT_TEST", "MAKE", "COMPOSE"))
    }
    return {**base, "MYSQL_IMAGE": mariadb_image()}


def _state(env: dict[str, str]) -> tuple[set[str], set[str], set[str]]:
    """The containers, volumes and networks of the reference's compose projects (by name:
    other work on this machine may create and remove its own meanwhile)."""

    def names(*args: str) -> set[str]:
        out = subprocess.run(["podman", *args], capture_output=True, text=True, env=env, check=True)
        return {name for name in out.stdout.split() if name.startswith("getprospa")}

    return (
        names("ps", "-a", "--format", "{{.Names}}"),
        names("volume", "ls", "-q"),
        names("network", "ls", "-q"),
    )


@pytest.fixture
def developer_container(env: dict[str, str]) -> Iterator[str]:
    """A running container of the repository's own compose project, as `make up` leaves it."""
    name = f"getprospa_db_dev_{os.getpid()}"
    subprocess.run(
        ["podman", "run", "-d", "--name", name, "--label", "com.docker.compose.project=getprospa",
         "--label", "com.docker.compose.service=db", "-e", "MYSQL_ROOT_PASSWORD=developer",
         env["MYSQL_IMAGE"]],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    yield name
    subprocess.run(["podman", "rm", "-f", "-t", "0", name], capture_output=True, env=env)


def test_make_test_starts_waits_runs_and_removes_its_own_database(
    repo: Path, env: dict[str, str], developer_container: str
) -> None:
    before = _state(env)
    proc = subprocess.run(
        ["make", "test", f"TEST_TARGETS={DB_TARGETS}"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=1500,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "bash local/compose.sh test make --no-print-directory test-targets" in out
    assert "with podman-compose" in out
    # The suite ran, against the started server.
    assert " passed" in out and " failed" not in out and " error" not in out, out[-3000:]
    assert _state(env) == before, "make test left containers, volumes or networks behind"
    running = subprocess.run(
        ["podman", "inspect", "--format", "{{.State.Running}}", developer_container],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert running.stdout.strip() == "true", "make test touched the developer's container"


def test_a_failing_command_keeps_its_status_and_still_cleans_up(
    repo: Path, env: dict[str, str]
) -> None:
    before = _state(env)
    script = (
        'case "$TEST_DATABASE_URL" in mysql+pymysql://root:*@127.0.0.1:*/) ;; *) exit 9 ;; esac; '
        # Nothing for the database kit: its tests run in platformgen, not here.
        '[ -z "${DBKIT_TEST_SOURCE_DSN:-}${DBKIT_TEST_TARGET_DSN:-}" ] && exit 7; exit 8'
    )
    proc = subprocess.run(
        ["bash", "local/compose.sh", "test", "bash", "-c", script],
        cwd=repo, capture_output=True, text=True, env=env, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 7, proc.stdout + proc.stderr
    assert _state(env) == before


def test_without_docker_compose_or_podman_compose_the_error_names_both(
    repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    """A PATH with make and the shell tools, but neither compose: one clear message."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in (
        "bash",
        "make",
        "sed",
        "head",
        "dirname",
        "cat",
        "tr",
        "base64",
        "python3",
        "env",
        "sh",
    ):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    proc = subprocess.run(
        ["make", "test", f"TEST_TARGETS={DB_TARGETS}"],
        cwd=repo, capture_output=True, text=True, env={**env, "PATH": str(bin_dir)}, timeout=120,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "neither `docker compose`" in proc.stderr and "`podman-compose`" in proc.stderr, (
        proc.stderr
    )
    assert "TEST_DATABASE_URL" in proc.stderr
