"""Validators of the `database` area: the dbkit migration kit in every repo with a database.

The kit's code is static (no .jinja files except dbkit.json and the runbook), so it is the
same in every spec: `kit_code_is_the_template` proves that per spec, and the heavy checks
(the kit's own lint and test suite on two real MariaDB servers, and a target stopped in the
middle of verify) run once, on the reference. Every spec gets the light checks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from conftest import ROOT
from support.mariadb import MariaDB

from . import RenderedRepo, require, validator

KIT_TEMPLATE = ROOT / "templates" / "database" / "database"
REFERENCE = "getprospa"
TEST_DB = "dbkit_test"
# The source is a binlogging primary in UTC; the target runs in another time zone, so the
# digest's time-zone handling is exercised by every verify of TIMESTAMP columns.
SOURCE_ARGS = ["--log-bin", "--server-id=1", "--binlog-format=ROW", "--binlog-row-image=FULL"]
TARGET_ARGS = ["--default-time-zone=+10:00", "--server-id=2"]


def dbkit_servers(stack: ExitStack, base: Path) -> tuple[MariaDB, MariaDB]:
    source = stack.enter_context(MariaDB.start(base / "source", extra_args=SOURCE_ARGS))
    target = stack.enter_context(MariaDB.start(base / "target", extra_args=TARGET_ARGS))
    for server in (source, target):
        server.execute(f"CREATE DATABASE {TEST_DB}")
    return source, target


def _make(
    repo: RenderedRepo, *targets: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require("make"), *targets],
        cwd=repo.root,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=900,
    )


def _kit_python(repo: RenderedRepo) -> Path:
    proc = _make(repo, "database-setup")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return repo.root / "database" / ".venv" / "bin" / "python"


@validator("database")
def kit_code_is_the_template(repo: RenderedRepo) -> None:
    kit = repo.root / "database"
    for path in sorted(KIT_TEMPLATE.rglob("*")):
        rel = path.relative_to(KIT_TEMPLATE)
        if not path.is_file() or path.suffix == ".jinja" or "__pycache__" in rel.parts:
            continue
        assert (kit / rel).read_bytes() == path.read_bytes(), (
            f"database/{rel} differs from the template"
        )
    assert (repo.root / "docs" / "runbooks" / "database-migration.md").is_file()


@validator("database")
def kit_config_is_the_spec(repo: RenderedRepo) -> None:
    config = json.loads((repo.root / "database" / "dbkit.json").read_text())
    assert config == {
        "database": repo.spec["database"]["name"],
        "migration": repo.spec.get("migration"),
    }
    # The kit reads exactly this: preflight's LOB limit and CDC checks follow the spec.
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from dbkit.config import load_config; print(json.dumps(load_config(None)))",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(repo.root / "database" / "src")},
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == (repo.spec.get("migration") or {})


@validator("database")
def users_file_is_the_naming_table(repo: RenderedRepo) -> None:
    """database/users.json (dbkit users): the kit reads it, its MySQL user names are the
    naming table's (generator/spec/naming.py, root "database"), and every app with the
    database has its app and migrator users; readonly always; dms only with migration:."""
    from platformgen_dbkit.userfile import load_users

    from generator.spec.naming import container_apps, generated_names

    users = load_users(repo.root / "database" / "users.json")
    assert users.project == repo.spec["project"]["name"]
    assert users.database == repo.spec["database"]["name"]
    assert users.regions == {n: e["region"] for n, e in repo.spec["environments"].items()}
    rendered = {u for user in users.users for u in user.mysql_users}
    predicted = {
        n.value for n in generated_names(repo.spec, rendered_only=True) if n.rule.root == "database"
    }
    assert rendered == predicted, (sorted(rendered ^ predicted), "naming.py and users.json differ")
    apps = [a["name"] for a in container_apps(repo.spec) if a["database"]]
    want = [r for a in apps for r in ((a, "app"), (f"{a}-migrator", "migrator"))]
    want += [("readonly", "readonly")] + ([("dms", "dms")] if "migration" in repo.spec else [])
    assert [(u.name, u.role) for u in users.users] == want
    for user in users.users:
        schemas = {g.schema for g in user.grants}
        extra = {"awsdms_control"} if user.role == "dms" else set()
        assert schemas == {users.database} | extra, (user.name, schemas)
        if user.role in ("app", "readonly"):  # no DDL for the apps' pods or for people
            assert not {"ALTER", "CREATE", "DROP", "INDEX"} & set().union(
                *(g.privileges for g in user.grants)
            ), user.name


@validator("database")
def make_targets_are_registered(repo: RenderedRepo) -> None:
    out = _make(repo, "help").stdout
    for target in ("database-lint", "database-test", "database-preflight", "database-verify"):
        assert target in out, f"make help does not list {target}"
    # test-targets: what `make test` runs once it has a database (make -n test stops there).
    dry = _make(repo, "-n", "lint", "test-targets", "database-verify")
    assert dry.returncode == 0, dry.stderr
    assert "ruff check" in dry.stdout and "-m pytest" in dry.stdout
    assert "verify --checkpoint database/.runs/verify-checkpoint.jsonl" in dry.stdout


# The kit's own lint and test suite on two real servers run once, on the reference, through
# its repository's `make lint` and `make test` in the pipeline rehearsal
# (tests/test_pipeline_rehearsal.py, which starts dbkit_servers for DBKIT_TEST_*_DSN): every
# spec's kit code is the same bytes (kit_code_is_the_template), so running them per spec would
# prove nothing more. The stopped-target check below runs here, on the reference only.


def _records(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            out.append(json.loads(line))
        except ValueError:
            break
    return out


def _chunks(path: Path) -> list[tuple[str, int]]:
    return [
        (r["table"], r.get("n", -1)) for r in _records(path) if r.get("kind") in ("chunk", "table")
    ]


@validator("database", only=(REFERENCE,))
def verify_resumes_after_the_target_stops(repo: RenderedRepo) -> None:
    """The target stops mid-run: a clear error, the checkpoint keeps the finished chunks, and
    after a restart the resumed run completes with every planted difference and no chunk twice."""
    python = _kit_python(repo)
    kit = repo.root / "database"
    checkpoint = repo.root.parent / "dbkit-stop" / "cp.jsonl"
    env = {**os.environ, "PYTHONPATH": str(kit / "src")}
    with ExitStack() as stack:
        source, target = dbkit_servers(stack, repo.root.parent / "dbkit-stop")
        load = subprocess.run(
            [python, kit / "tests" / "dataset.py", source.dsn(TEST_DB), target.dsn(TEST_DB)],
            capture_output=True,
            text=True,
        )
        assert load.returncode == 0, load.stderr
        cmd = [
            str(python), "-m", "dbkit", "verify", "--source", source.dsn(TEST_DB), "--target", target.dsn(TEST_DB),
            "--checkpoint", str(checkpoint), "--json", "--chunk-size", "50", "--workers", "2", "--retries", "1",
        ]  # fmt: skip
        run = subprocess.Popen(
            [*cmd, "--sleep", "0.05"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        deadline = time.monotonic() + 60
        while len(_chunks(checkpoint)) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        target.stop()
        out, err = run.communicate(timeout=120)
        kept = _chunks(checkpoint)
        assert run.returncode == 3, (run.returncode, out[-2000:], err)
        assert f"target 127.0.0.1:{target.port}/{TEST_DB}" in err, err
        assert "went away" in err or "cannot connect" in err, err
        assert "finished chunks are kept in" in err and "Traceback" not in err, err
        assert 10 <= len(kept) < 60, len(kept)  # stopped mid-run (hard_cases alone has 60 chunks)
        target.restart()
        resumed = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert resumed.returncode == 1, resumed.stderr
    report = json.loads(resumed.stdout)
    tables = {t["table"]: t for t in report["tables"]}
    counts = {name: t["counts"] for name, t in tables.items()}
    assert counts["hard_cases"] == {
        "missing_on_target": 1,
        "extra_on_target": 1,
        "different": 16,
    }, counts
    assert counts["composite"] == {"missing_on_target": 2, "extra_on_target": 2, "different": 1}, (
        counts
    )
    assert tables["same_rows"]["status"] == "match"
    assert report["summary"]["resumed_chunks"] == len(kept)
    done = _chunks(checkpoint)
    assert len(done) == len(set(done)) == report["summary"]["chunks"], (
        "a chunk was verified twice or lost"
    )
