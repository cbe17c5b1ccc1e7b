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


def _kit(tmp_path: Path, args: str, outputs: object = OUTPUTS) -> subprocess.CompletedProcess[str]:
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    (tmp_path / "ca.pem").write_text("not read by the stand-in\n")
    calls = tmp_path / "aws-calls"
    aws = tmp_path / "aws"
    aws.write_text(
        f"#!/bin/bash\nprintf \"%s\\n\" \"$*\" >> {calls}\nprintf '%s' '{json.dumps(MASTER)}'\n"
    )
    aws.chmod(0o755)
    kit = tmp_path / "kit.py"
    kit.write_text(
        "import json, os, sys\n"
        "print(json.dumps({'argv': sys.argv[1:], 'env': {k: v for k, v in os.environ.items()"
        " if k.startswith('DBKIT_')}}))\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "DATABASE_OUTPUTS": str(tmp_path / "outputs.json"),
        "DATABASE_TLS_CA_FILE": str(tmp_path / "ca.pem"),
        "REGION": "ap-southeast-2",
        "DBKIT": f"PYTHONDONTWRITEBYTECODE=1 {sys.executable} {kit}",
        "AWS": str(aws),
        "DBKIT_ARGS": args,
    }
    return subprocess.run(
        ["bash", str(KIT_SH)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )


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
