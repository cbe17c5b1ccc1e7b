"""Validators of the `database` area: the database kit's settings and make targets in every
repo with a database.

The kit's code is not rendered: it is platformgen's dbkit/ project, installed by the
generated repo as the platformgen-dbkit wheel its `database/requirements.lock` pins by
SHA-256 (docs/adr/0018-database-kit-wheel.md); its own tests run in tests/test_dbkit_kit.py.
Per spec: the static files are the template's, no kit code is rendered, `dbkit.json` is the
spec, the make targets are there. Once, on the reference: `make database-setup` installs a
fresh build of the wheel (and refuses a tampered one), and `make database-verify`'s kit
survives a target that stops mid-run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from conftest import ROOT
from support.dbkit import KIT, TEST_DB, build_wheel, dbkit_servers

from . import RenderedRepo, require, validator

__all__ = ["TEST_DB", "dbkit_servers"]  # the pipeline rehearsal's servers (support/dbkit.py)

KIT_TEMPLATE = ROOT / "templates" / "database" / "database"
REFERENCE = "getprospa"
# The kit's code, tests and build files live in dbkit/, never in a generated repo.
NOT_RENDERED = ("src", "tests", "pyproject.toml", "requirements-dev.lock")


def _make(
    repo: RenderedRepo, *targets: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DBKIT_", "MAKE"))}
    return subprocess.run(
        [require("make"), *targets],
        cwd=repo.root,
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=900,
    )


@validator("database")
def kit_files_are_the_template_and_hold_no_kit_code(repo: RenderedRepo) -> None:
    kit = repo.root / "database"
    for path in sorted(KIT_TEMPLATE.rglob("*")):
        rel = path.relative_to(KIT_TEMPLATE)
        if not path.is_file() or path.suffix == ".jinja" or "__pycache__" in rel.parts:
            continue
        assert (kit / rel).read_bytes() == path.read_bytes(), (
            f"database/{rel} differs from the template"
        )
    for name in NOT_RENDERED:
        assert not (kit / name).exists(), (
            f"database/{name}: the kit's code is the wheel's, not the repo's"
        )
    assert not list(repo.root.rglob("platformgen_dbkit")), "the kit's package was rendered"
    assert (repo.root / "docs" / "runbooks" / "database-migration.md").is_file()


@validator("database")
def kit_config_is_the_spec(repo: RenderedRepo) -> None:
    config = repo.root / "database" / "dbkit.json"
    assert json.loads(config.read_text()) == {
        "database": repo.spec["database"]["name"],
        "migration": repo.spec.get("migration"),
    }
    # The kit reads exactly this through $DBKIT_CONFIG, what the make targets set:
    # preflight's LOB limit and CDC checks follow the spec.
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from platformgen_dbkit.config import load_config; print(json.dumps(load_config(None)))",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(KIT / "src"), "DBKIT_CONFIG": str(config)},
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
        # The dms user exists only where DMS writes: the migration's target environment.
        target = repo.spec["migration"]["targetEnvironment"] if user.role == "dms" else None
        assert user.environments == ((target,) if target else None), (user.name, user.environments)
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
    for target in ("database-setup", "database-kit", "database-preflight", "database-verify"):
        assert target in out, f"make help does not list {target}"
    for gone in ("database-lint", "database-test", "database-lock"):
        assert gone not in out, f"make help still lists {gone}: the kit is tested in platformgen"
    # test-targets: what `make test` runs: nothing of the kit's (make -n stops there).
    checks = _make(repo, "-n", "lint", "test-targets")
    assert checks.returncode == 0, checks.stderr
    assert "database/" not in checks.stdout and "DBKIT" not in checks.stdout, checks.stdout
    dry = _make(repo, "-n", "database-verify", "database-preflight")
    assert dry.returncode == 0, dry.stderr
    assert "--require-hashes --no-deps" in dry.stdout and "--only-binary :all:" in dry.stdout
    assert (
        "DBKIT_CONFIG=database/dbkit.json database/.venv/bin/dbkit verify --checkpoint "
        "database/.runs/verify-checkpoint.jsonl" in dry.stdout
    ), dry.stdout
    # Without an index for the wheel, setup stops before it builds anything, and says how.
    bare = _make(repo, "database-setup")
    assert bare.returncode == 2 and "set DBKIT_INDEX_URL" in bare.stderr, bare.stderr
    usage = _make(repo, "database-kit")
    assert usage.returncode == 2 and "usage: make database-kit DBKIT_ARGS=" in usage.stderr
    assert not (repo.root / "database" / ".venv").exists()


def _tampered(wheel: Path, folder: Path) -> Path:
    """The same file name with one more module in it: what a look-alike upload would be."""
    folder.mkdir(parents=True)
    copy = Path(shutil.copy2(wheel, folder / wheel.name))
    with zipfile.ZipFile(copy, "a") as zf:
        zf.writestr("platformgen_dbkit/extra.py", "print('not the tested kit')\n")
    return copy


def _installed_kit(repo: RenderedRepo, work: Path) -> Path:
    """`make database-setup` with a fresh build of the kit's wheel; refuses a tampered one first."""
    wheel = build_wheel(work / "dist")
    _tampered(wheel, work / "tampered")
    bad = _make(repo, "database-setup", env={"DBKIT_FIND_LINKS": str(work / "tampered")})
    assert bad.returncode != 0 and "hash" in bad.stderr.lower(), bad.stdout + bad.stderr
    assert not (repo.root / "database" / ".venv" / ".installed").exists()
    # The committed setting (database/kit-source.mk) is what the executors read: no env.
    source = repo.root / "database" / "kit-source.mk"
    rendered = source.read_text()
    source.write_text(
        rendered.replace("DBKIT_FIND_LINKS ?=", f"DBKIT_FIND_LINKS ?= {work / 'dist'}")
    )
    try:
        good = _make(repo, "database-setup")
    finally:
        source.write_text(rendered)
    assert good.returncode == 0, good.stdout + good.stderr
    version = _make(repo, "database-kit", "DBKIT_ARGS=--version")
    assert version.returncode == 0, version.stderr
    import generator

    assert f"dbkit {generator.__version__}" in version.stdout, version.stdout
    return repo.root / "database" / ".venv" / "bin"


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
    work = repo.root.parent / "dbkit-stop"
    # A copy of the repository: the kit's venv and run files must not appear in the rendered
    # repository that the other validators scan at the same time.
    shutil.rmtree(work, ignore_errors=True)
    repo = dataclasses.replace(
        repo, root=Path(shutil.copytree(repo.root, work / "repo", symlinks=True))
    )
    venv = _installed_kit(repo, work)
    checkpoint = work / "cp.jsonl"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    with ExitStack() as stack:
        source, target = dbkit_servers(stack, work)
        load = subprocess.run(
            [
                venv / "python",
                KIT / "tests" / "dataset.py",
                source.dsn(TEST_DB),
                target.dsn(TEST_DB),
            ],
            capture_output=True,
            text=True,
        )
        assert load.returncode == 0, load.stderr
        cmd = [
            str(venv / "dbkit"), "verify", "--source", source.dsn(TEST_DB), "--target", target.dsn(TEST_DB),
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
        # The repo's own targets run the installed kit: DSNs from the environment, the
        # report where platform.mk puts it.
        dsns = {"DBKIT_SOURCE_DSN": source.dsn(TEST_DB), "DBKIT_TARGET_DSN": target.dsn(TEST_DB)}
        made = _make(repo, "database-verify", "VERIFY_ARGS=--tables same_rows,composite", env=dsns)
        preflight = _make(repo, "database-preflight", "PREFLIGHT_ARGS=--json", env=dsns)
    # make exits 2 when a recipe fails; the kit's own code (1: differences) is in its message.
    assert made.returncode == 2 and "database-verify] Error 1" in made.stderr, (
        made.stdout[-3000:] + made.stderr[-3000:]
    )
    made_report = json.loads((repo.root / "database/.runs/verify-report.json").read_text())
    assert {t["table"]: t["status"] for t in made_report["tables"]}["same_rows"] == "match"
    # It finished (0 ok, or make's 2 over the kit's 1 warnings / 2 blockers), never 3.
    assert preflight.returncode == 0 or "database-preflight] Error 3" not in preflight.stderr
    assert "Traceback" not in preflight.stderr, preflight.stderr
    json.loads(preflight.stdout.split("\n", 1)[1])  # after make's echo of the command
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
