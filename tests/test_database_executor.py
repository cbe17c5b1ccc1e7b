"""The database kit on the platform executor (database/executor/kit.sh, run by
`make database-kit-env` inside the VPC): DBKIT_ARGS reaches the kit as words, never through a
shell; only the kit's commands run, never a hook command; the master's credentials come
from its secret into the kit's environment, never onto the command line or the log.

Run for real with bash, with stand-ins for the AWS CLI (the master secret's value) and
the kit (it prints what it was given); `make database-run` starting the executor is in
tests/test_delivery_make.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KIT_SH = ROOT / "templates" / "database" / "database" / "executor" / "kit.sh"
MASTER = {"username": "platform_admin", "password": "Never-Logged-9f2c"}
OUTPUTS = {
    "host": "getprospa-dev.abcdefghijkl.ap-southeast-2.rds.amazonaws.com",
    "port": 3306,
    "dbname": "prospa",
    "masterSecretArn": "arn:aws:secretsmanager:ap-southeast-2:111111111111:secret:rds!db-0-AbCdEf",
    "userSecretArns": {},
}


SOURCE_SECRET = "getprospa/migration/digitalocean-source"
SOURCE = {
    "username": "dms_migrator",
    "password": "Source-Never-Logged-71",
    "host": "x",
    "port": 25060,
}
MIGRATION = {
    "targetEnvironment": "prod",
    "source": {
        "host": "db-mysql-syd1-prospa-do-user-0000000-0.b.db.ondigitalocean.com",
        "port": 25060,
        "database": "prospa",
        "user": "dms_migrator",
        "passwordSecret": SOURCE_SECRET,
        "tls": "verify-full",
        "caCertificate": "database/digitalocean-ca.pem",
    },
}
RUNS_URI = "s3://getprospa-prod-tfstate-111111111111/database-runs/prod/"

# A stand-in AWS CLI: secret values by id, and `s3 sync` between a folder and s3://B/K/,
# which is the folder bucket/B/K here; every call is logged.
AWS_STUB = """import json, os, shutil, sys
from pathlib import Path
here = Path(sys.argv[0]).parent
with open(here / "aws-calls", "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
args = [a for a in sys.argv[1:] if not a.startswith("--")]
if sys.argv[1] == "secretsmanager":
    sid = sys.argv[sys.argv.index("--secret-id") + 1]
    print(json.dumps(json.loads((here / "secrets.json").read_text())[sid]), end="")
elif sys.argv[1:3] == ["s3", "sync"]:
    src, dst = [a for a in sys.argv[3:] if not a.startswith("--") and a != os.environ["REGION"]]
    to_local = lambda p: here / "bucket" / p[len("s3://"):] if p.startswith("s3://") else Path(p)
    if to_local(src).is_dir():
        shutil.copytree(to_local(src), to_local(dst), dirs_exist_ok=True)
"""

# A stand-in kit: prints its words and DBKIT_ environment; KIT_JOURNAL makes it append to
# database/.runs/cutover-journal.jsonl, KIT_WAIT_SAVED wait (up to 10 s) until the bucket
# holds that line, KIT_SLEEP sleep, KIT_EXIT its exit status.
KIT_STUB = """import json, os, sys, time
from pathlib import Path
runs = Path("database/.runs")
seen = {"argv": sys.argv[1:], "env": {k: v for k, v in os.environ.items() if k.startswith("DBKIT_")},
        "runs": sorted(p.name for p in runs.iterdir()) if runs.is_dir() else None}
if os.environ.get("KIT_JOURNAL"):
    with open(runs / "cutover-journal.jsonl", "a") as f:
        f.write(os.environ["KIT_JOURNAL"] + "\\n")
if os.environ.get("KIT_WAIT_SAVED"):
    saved = Path(os.environ["KIT_WAIT_SAVED"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and os.environ["KIT_JOURNAL"] not in (saved.read_text() if saved.exists() else ""):
        time.sleep(0.05)
    seen["saved_while_running"] = saved.exists() and os.environ["KIT_JOURNAL"] in saved.read_text()
print(json.dumps(seen), flush=True)
time.sleep(float(os.environ.get("KIT_SLEEP", "0")))
sys.exit(int(os.environ.get("KIT_EXIT", "0")))
"""


def _kit(
    tmp_path: Path,
    args: str,
    outputs: object = OUTPUTS,
    env_name: str = "dev",
    migration: object = None,
    **extra: str,
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    (tmp_path / "ca.pem").write_text("not read by the stand-in\n")
    (tmp_path / "database").mkdir(exist_ok=True)
    (tmp_path / "database" / "dbkit.json").write_text(
        json.dumps({"database": "prospa", "migration": migration})
    )
    (tmp_path / "database" / "digitalocean-ca.pem").write_text("DigitalOcean CA stand-in\n")
    (tmp_path / "secrets.json").write_text(
        json.dumps({OUTPUTS["masterSecretArn"]: MASTER, SOURCE_SECRET: SOURCE})
    )
    aws = tmp_path / "aws"
    aws.write_text(f"#!{sys.executable}\n" + AWS_STUB)
    aws.chmod(0o755)
    kit = tmp_path / "kit.py"
    kit.write_text(KIT_STUB)
    env = {
        "PATH": os.environ["PATH"],
        "DATABASE_OUTPUTS": str(tmp_path / "outputs.json"),
        "DATABASE_TLS_CA_FILE": str(tmp_path / "ca.pem"),
        "REGION": "ap-southeast-2",
        "ENV": env_name,
        "DATABASE_RUNS_URI": RUNS_URI,
        "DBKIT": f"PYTHONDONTWRITEBYTECODE=1 {sys.executable} {kit}",
        "AWS": str(aws),
        "DBKIT_ARGS": args,
        **extra,
    }
    return subprocess.run(
        ["bash", str(KIT_SH)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )


def _bucket(tmp_path: Path) -> Path:
    return tmp_path / "bucket" / RUNS_URI[len("s3://") :]


def test_the_kit_gets_the_words_and_the_master_in_its_environment(tmp_path: Path) -> None:
    proc = _kit(tmp_path, "users rotate --users database/users.json --env dev --user api")
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["argv"] == [
        "users", "rotate", "--users", "database/users.json", "--env", "dev", "--user", "api",
    ]  # fmt: skip
    dsn = seen["env"]["DBKIT_ADMIN_DSN"]
    assert dsn == (
        f"mysql://platform_admin@{OUTPUTS['host']}:3306/prospa"
        f"?ssl-mode=VERIFY_IDENTITY&ssl-ca={tmp_path / 'ca.pem'}"
    )
    assert seen["env"]["DBKIT_TARGET_DSN"] == dsn
    assert seen["env"]["DBKIT_ADMIN_PASSWORD"] == MASTER["password"]
    assert MASTER["password"] not in dsn and MASTER["password"] not in proc.stderr
    calls = (tmp_path / "aws-calls").read_text()
    assert f"--secret-id {OUTPUTS['masterSecretArn']}" in calls


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("", "DBKIT_ARGS is empty"),
        ("rm -rf /", "'rm' is not a kit command"),
        ("lag; touch pwned", "'lag;' is not a kit command"),
        ("cutover --switch-command=/bin/sh", "--switch-command runs a command"),
        ("cutover --switch-command /bin/sh", "--switch-command runs a command"),
        ("cutover --resync-command=/bin/sh", "--resync-command runs a command"),
        ("cutover --resync-command /bin/sh", "--resync-command runs a command"),
        ("lag\ntouch pwned", "holds a line break"),
    ],
)
def test_anything_but_a_kit_command_is_refused(tmp_path: Path, args: str, expected: str) -> None:
    proc = _kit(tmp_path, args)
    assert proc.returncode == 2 and expected in proc.stderr, (proc.stdout, proc.stderr)
    assert not (tmp_path / "aws-calls").exists(), "refused before the master secret is read"


def test_shell_syntax_stays_words(tmp_path: Path) -> None:
    proc = _kit(tmp_path, "lag --json $(touch pwned) `touch pwned2` * &&")
    assert proc.returncode == 0, proc.stderr
    argv = json.loads(proc.stdout)["argv"]
    assert argv == ["lag", "--json", "$(touch", "pwned)", "`touch", "pwned2`", "*", "&&"]
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()


def test_the_migration_target_gets_the_source_from_its_secret(tmp_path: Path) -> None:
    proc = _kit(tmp_path, "lag --json", env_name="prod", migration=MIGRATION)
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)["env"]
    src = MIGRATION["source"]
    assert env["DBKIT_SOURCE_DSN"] == (
        f"mysql://dms_migrator@{src['host']}:25060/prospa"
        f"?ssl-mode=VERIFY_IDENTITY&ssl-ca={tmp_path / 'database' / 'digitalocean-ca.pem'}"
    )
    assert env["DBKIT_SOURCE_PASSWORD"] == SOURCE["password"]
    assert (
        SOURCE["password"] not in proc.stderr and SOURCE["password"] not in env["DBKIT_SOURCE_DSN"]
    )
    assert f"--secret-id {SOURCE_SECRET}" in (tmp_path / "aws-calls").read_text()
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and SOURCE["password"] in p.read_text()]
    assert leaked == [tmp_path / "secrets.json"], "the source password reached a file"


@pytest.mark.parametrize("tls", ["verify-ca", "require"])
def test_the_source_tls_follows_the_spec(tmp_path: Path, tls: str) -> None:
    migration = {**MIGRATION, "source": {**MIGRATION["source"], "tls": tls}}
    proc = _kit(tmp_path, "verify", env_name="prod", migration=migration)
    assert proc.returncode == 0, proc.stderr
    query = json.loads(proc.stdout)["env"]["DBKIT_SOURCE_DSN"].split("?")[1]
    ca = tmp_path / "database" / "digitalocean-ca.pem"
    assert query == (
        f"ssl-mode=VERIFY_CA&ssl-ca={ca}" if tls == "verify-ca" else "ssl-mode=REQUIRED"
    )


@pytest.mark.parametrize(
    ("env_name", "migration", "args"),
    [
        ("dev", MIGRATION, "lag --json"),  # not the migration's target
        ("prod", None, "lag --json"),  # no migration
        ("prod", MIGRATION, "users plan --users database/users.json --env prod"),
    ],
)
def test_no_source_elsewhere(tmp_path: Path, env_name: str, migration: object, args: str) -> None:
    proc = _kit(tmp_path, args, env_name=env_name, migration=migration)
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)["env"]
    assert "DBKIT_SOURCE_DSN" not in env and "DBKIT_SOURCE_PASSWORD" not in env
    assert SOURCE_SECRET not in (tmp_path / "aws-calls").read_text()


def test_a_missing_source_ca_is_refused(tmp_path: Path) -> None:
    migration = {
        **MIGRATION,
        "source": {**MIGRATION["source"], "caCertificate": "database/absent.pem"},
    }
    proc = _kit(tmp_path, "preflight", env_name="prod", migration=migration)
    assert proc.returncode == 2 and "database/absent.pem" in proc.stderr, proc.stderr


def test_the_runs_outlive_the_build(tmp_path: Path) -> None:
    """A cutover's journal from an earlier build is there for --abort, and what this run
    adds is saved back, also when the kit fails (its status is kept)."""
    earlier = _bucket(tmp_path)
    earlier.mkdir(parents=True)
    (earlier / "cutover-journal.jsonl").write_text('{"step": 3}\n')
    proc = _kit(
        tmp_path, "cutover --abort --journal database/.runs/cutover-journal.jsonl",
        env_name="prod", migration=MIGRATION, KIT_JOURNAL='{"step": "abort"}', KIT_EXIT="1",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["runs"] == ["cutover-journal.jsonl"]
    saved = (earlier / "cutover-journal.jsonl").read_text()
    assert saved == '{"step": 3}\n{"step": "abort"}\n'


def test_a_running_cutover_is_saved_periodically(tmp_path: Path) -> None:
    """The journal reaches the bucket while the cutover still runs (a lost build keeps it)."""
    proc = _kit(
        tmp_path, "cutover --journal database/.runs/cutover-journal.jsonl",
        env_name="prod", migration=MIGRATION, SAVE_EVERY="0.2",
        KIT_JOURNAL='{"step": 1}', KIT_WAIT_SAVED=str(_bucket(tmp_path) / "cutover-journal.jsonl"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["saved_while_running"] is True


def test_a_stopped_cutover_is_saved(tmp_path: Path) -> None:
    """A stopped build (SIGTERM to the script): the kit gets SIGTERM (its clean abort), and
    the journal is saved before the script exits."""
    import signal
    import time

    journal = tmp_path / "database" / ".runs" / "cutover-journal.jsonl"
    # The real run: _kit's setup, then the script in the background.
    _kit(tmp_path, "", env_name="prod", migration=MIGRATION)  # writes the stand-ins
    run_env = {
        "PATH": os.environ["PATH"], "REGION": "ap-southeast-2", "ENV": "prod",
        "DATABASE_OUTPUTS": str(tmp_path / "outputs.json"), "DATABASE_TLS_CA_FILE": str(tmp_path / "ca.pem"),
        "DATABASE_RUNS_URI": RUNS_URI, "AWS": str(tmp_path / "aws"), "SAVE_EVERY": "600",
        "DBKIT": f"PYTHONDONTWRITEBYTECODE=1 {sys.executable} {tmp_path / 'kit.py'}",
        "DBKIT_ARGS": "cutover", "KIT_JOURNAL": '{"step": 3}', "KIT_SLEEP": "30",
    }  # fmt: skip
    script = subprocess.Popen(["bash", str(KIT_SH)], cwd=tmp_path, env=run_env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 20
    while not (journal.exists() and journal.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    script.send_signal(signal.SIGTERM)
    _, err = script.communicate(timeout=20)
    assert script.returncode != 0, err
    assert (_bucket(tmp_path) / "cutover-journal.jsonl").read_text() == '{"step": 3}\n', err


def test_an_environment_without_a_database_is_refused(tmp_path: Path) -> None:
    proc = _kit(tmp_path, "lag --json", outputs=None)
    assert proc.returncode == 2 and "has no database" in proc.stderr, proc.stderr


BUILDSPEC = ROOT / "templates/terraform/infra/modules/executors/buildspecs/apply.yml"


def _build_phase(tmp_path: Path, failing: str = "", **env: str) -> tuple[int, list[str]]:
    """The apply buildspec's build phase, as CodeBuild runs it (bash, each command in turn,
    the phase failing at its first failing command), with a `make` that records its calls."""
    import yaml

    spec = yaml.safe_load(BUILDSPEC.read_text())
    assert spec["env"]["shell"] == "bash"
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    calls = tmp_path / "make-calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    make = bin_dir / "make"
    make.write_text(
        f'#!/bin/bash\nprintf "%s\\n" "$*" >> {calls}\n[[ "$1" != "{failing or "-"}" ]]\n'
    )
    make.chmod(0o755)
    script = "set -e\n" + "\n".join(spec["phases"]["build"]["commands"]) + "\n"
    proc = subprocess.run(
        ["bash", "-c", script],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "BUNDLE_DIR": str(bundle), "ENV": "dev", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, calls.read_text().splitlines() if calls.exists() else []


def test_the_apply_stage_creates_the_users_between_apply_and_addons(tmp_path: Path) -> None:
    """Bootstrap order: the database users and their secrets exist before the first Helm
    release (make addons, then the deploy stage); a failed apply stops the stage."""
    status, calls = _build_phase(tmp_path)
    assert status == 0
    assert calls == ["plan ENV=dev", "apply ENV=dev", "post-apply ENV=dev", "addons ENV=dev"]
    (tmp_path / "failed").mkdir()
    status, calls = _build_phase(tmp_path / "failed", failing="apply")
    assert status != 0 and calls == ["plan ENV=dev", "apply ENV=dev"], calls


def test_the_database_stage_runs_only_the_kit(tmp_path: Path) -> None:
    """STAGE=database (DBKIT_ARGS set by make database-run): the kit, nothing else; its
    arguments stay in the environment, never on make's command line."""
    status, calls = _build_phase(tmp_path, DBKIT_ARGS="lag --json; make apply")
    assert status == 0 and calls == ["database-kit-env ENV=dev"], calls


def test_the_runs_go_to_the_environments_state_bucket() -> None:
    """make database-kit-env hands the kit s3://<state bucket>/database-runs/<env>/, the
    bucket read from the environment's backend settings (the reference's prod)."""
    import re

    recipe = (KIT_SH.parent / "platform.mk").read_text()
    [line] = [x for x in recipe.splitlines() if "DATABASE_RUNS_URI=" in x]
    command = re.search(r'DATABASE_RUNS_URI="(.*)"', line)[1]  # type: ignore[index]
    command = command.replace("$$", "$").replace("$(INFRA)", "infra").replace("$(ENV)", "prod")
    repo = ROOT / "examples" / "getprospa" / "repo"
    proc = subprocess.run(
        ["bash", "-c", f'printf %s "{command}"'], cwd=repo, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    account = json.loads((repo / "infra/bootstrap/environments.auto.tfvars.json").read_text())[
        "environments"
    ]["prod"]["account_id"]
    assert proc.stdout == f"s3://getprospa-prod-tfstate-{account}/database-runs/prod/"
