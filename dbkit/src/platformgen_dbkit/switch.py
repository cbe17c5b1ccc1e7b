"""Step 7 of a cutover: point the app at the target by writing its database secret.

Two ways:
- `--switch-secret ID`: the app's Secrets Manager secret (JSON: engine, host, port, dbname,
  username, password). The kit reads it, replaces host, port and dbname with the target's,
  and takes username and password from `--target-credentials-secret` when given (the app
  user's secret on RDS, written by `dbkit users apply`). The write carries a
  ClientRequestToken derived from the cutover's run id, so a resumed step 7 cannot create a
  second version. The endpoint comes from boto3's usual settings (AWS_ENDPOINT_URL_SECRETS_MANAGER
  in tests against moto).
- `--switch-command CMD`: a hook run without a shell; exit 0 means switched. It gets
  DBKIT_CUTOVER_HOST, _PORT, _DATABASE and _RUN_ID in its environment.
- `--switch-user LOGICAL` (repeatable, with `--users`, `--env`): the same call as
  `dbkit users rotate --user LOGICAL --switch-to-target` for each, on the cutover's target
  connection (the master on RDS): a fresh password on the standby `_a`/`_b` user, checked,
  then the user's secret `<project>/<env>/database/<logical>` names the target and that user.
  `users apply` leaves such a secret alone while it names the migration source, so this is
  the one place it moves. A secret that already names the target (a resumed step 7) is kept.
External Secrets refreshes on its own schedule: `--resync-command` (e.g. annotating the
ExternalSecret with `force-sync`) runs after the switch.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .db import DSN
from .errors import DbkitError

if TYPE_CHECKING:
    from .credentials import Store
    from .userfile import UsersFile


@dataclass(frozen=True)
class SwitchPlan:
    secret_id: str | None = None
    credentials_secret_id: str | None = None
    command: str | None = None
    resync_command: str | None = None
    users: tuple[str, ...] = ()  # logical users of users_file (--switch-user)
    users_file: Path | None = None
    env: str | None = None
    passwords: str = "secretsmanager"

    def describe(self) -> str:
        if self.secret_id:
            return f"write secret {self.secret_id} (host, port, dbname of the target)"
        if self.users:
            return (
                f"point the {self.env} secrets of {', '.join(self.users)} at the target, each with a fresh password "
                "on its standby _a/_b user (users rotate --switch-to-target)"
            )
        return f"run {self.command}"

    def load(self) -> tuple[UsersFile, Store]:
        """The users file and the credential store; every --switch-user must be in the file."""
        from .credentials import open_store
        from .userfile import load_users

        assert self.users_file is not None and self.env is not None
        users = load_users(self.users_file)
        for name in self.users:
            users.user(name)
        return users, open_store(self.passwords, users, self.env)


def _client(region: str | None = None) -> Any:
    try:
        import boto3
    except ImportError:  # pragma: no cover - boto3 is a dependency of the kit
        raise DbkitError("boto3 is not installed", "install platformgen-dbkit with its dependencies") from None
    return boto3.client("secretsmanager", region_name=region) if region else boto3.client("secretsmanager")


def _version(client: Any, secret_id: str) -> str:
    try:
        return str(client.get_secret_value(SecretId=secret_id)["VersionId"])
    except Exception as exc:  # noqa: BLE001  (botocore's errors: one message with the fix)
        raise DbkitError(
            f"cannot read secret {secret_id}: {exc}",
            "check the secret id, the region and that this role may read it",
        ) from None


def _read_json(client: Any, secret_id: str) -> tuple[dict[str, Any], str]:
    try:
        found = client.get_secret_value(SecretId=secret_id)
    except Exception as exc:  # noqa: BLE001  (botocore's errors: one message with the fix)
        raise DbkitError(
            f"cannot read secret {secret_id}: {exc}",
            "check the secret id, the region (AWS_REGION) and that this role may read it",
        ) from None
    try:
        value = json.loads(found.get("SecretString") or "")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise DbkitError(
            f"secret {secret_id} does not hold a JSON object",
            'it must hold {"engine","host","port","dbname","username","password"}',
        )
    return value, str(found["VersionId"])


def current_version(plan: SwitchPlan) -> str | None:
    """The secret's current version id (recorded in the journal before step 7 acts)."""
    if not plan.secret_id:
        return None
    return _read_json(_client(), plan.secret_id)[1]


def before(plan: SwitchPlan) -> dict[str, Any]:
    """What step 7's journal record keeps before it acts: each secret's current version (and
    where to read it), so an --abort (even one given no switch flags) can tell whether the
    interrupted switch changed anything."""
    if plan.secret_id:
        return {"previous_version": current_version(plan)}
    if plan.users:
        users, _ = plan.load()
        region = users.regions[str(plan.env)]
        client = _client(region)
        ids = [users.secret_id(str(plan.env), users.user(name)) for name in plan.users]
        return {"previous_versions": {i: _version(client, i) for i in ids}, "region": region}
    return {}


def check_users(plan: SwitchPlan, target: DSN) -> list[str]:
    """Step 1 for --switch-user: each secret can be written and names the migration source,
    and the target's master may manage users there. Returns the secrets (nothing is written)."""
    from .db import session
    from .users import check_server

    users, store = plan.load()
    if not store.writable:
        raise DbkitError(
            "--passwords env cannot record the switched credentials",
            "step 7 writes the users' secrets: use --passwords secretsmanager (the default)",
        )
    where = []
    for name in plan.users:
        user = users.user(name)
        creds = store.read(user)
        if creds is None:
            raise DbkitError(
                f"{store.where(user)} is empty: the app {name} does not use it to reach the source",
                "write the app's source credentials into it before the cutover (runbook: migrate from DigitalOcean)",
            )
        if creds.host is None or (creds.host, creds.port or 3306) == (target.host, target.port):
            raise DbkitError(
                f"{store.where(user)} already names the target {target.host}:{target.port}: nothing to switch",
                f"drop --switch-user {name}, or put the source's host and port back in the secret",
            )
        where.append(store.where(user))
    with session(target) as conn:
        check_server(conn)
    return where


def check(plan: SwitchPlan) -> None:
    """Step 1: the secrets are readable and well formed (nothing is written)."""
    if plan.users:
        return  # check_users, which needs the target
    if plan.secret_id:
        client = _client()
        _read_json(client, plan.secret_id)
        if plan.credentials_secret_id:
            creds, _ = _read_json(client, plan.credentials_secret_id)
            if not creds.get("username") or not creds.get("password"):
                raise DbkitError(
                    f"secret {plan.credentials_secret_id} has no username and password",
                    "run `dbkit users apply` on the target first",
                )
    elif plan.command:
        argv = shlex.split(plan.command)
        if not argv:
            raise DbkitError("--switch-command is empty", "give the command that switches the app")
    else:
        raise DbkitError("no switch given", "pass --switch-secret SECRET_ID or --switch-command CMD")


def _token(run_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dbkit-cutover:{run_id}"))


def _switch_users(plan: SwitchPlan, target: DSN) -> list[dict[str, Any]]:
    from .db import session
    from .users import lock, rotate

    users, store = plan.load()
    done: list[dict[str, Any]] = []
    with session(target) as conn:
        lock(conn)
        for name in plan.users:
            user = users.user(name)
            creds = store.read(user)
            if creds is not None and (creds.host, creds.port or 3306) == (target.host, target.port):
                # A resumed step 7: this secret was switched before the interruption.
                done.append({"user": name, "where": store.where(user), "current": creds.username, "kept": True})
                continue
            _, rotation = rotate(conn, target, users, store, name, switch=True)
            done.append(rotation.as_dict())
    return done


def switch(plan: SwitchPlan, target: DSN, run_id: str) -> dict[str, Any]:
    """Switch the app to the target; returns what was done (for the journal and the report)."""
    if plan.users:
        done: dict[str, Any] = {"switched_users": _switch_users(plan, target)}
    elif plan.secret_id:
        client = _client()
        value, previous = _read_json(client, plan.secret_id)
        value.update({"host": target.host, "port": target.port, "dbname": target.database})
        if plan.credentials_secret_id:
            creds, _ = _read_json(client, plan.credentials_secret_id)
            value.update({"username": creds["username"], "password": creds["password"]})
        try:
            written = client.put_secret_value(
                SecretId=plan.secret_id,
                SecretString=json.dumps(value, sort_keys=True),
                ClientRequestToken=_token(run_id),
            )
        except Exception as exc:  # noqa: BLE001
            raise DbkitError(f"cannot write secret {plan.secret_id}: {exc}", "check the role's permissions") from None
        done = {"secret": plan.secret_id, "previous_version": previous, "version": written["VersionId"]}
    else:
        assert plan.command
        _run(plan.command, target, run_id, "--switch-command")
        done = {"command": plan.command}
    if plan.resync_command:
        _run(plan.resync_command, target, run_id, "--resync-command")
        done["resync_command"] = plan.resync_command
    return done


def unchanged(plan: SwitchPlan, recorded: dict[str, Any]) -> bool:
    """Whether an interrupted step 7 left every secret as it was (the only safe case for --abort)."""
    versions = recorded.get("previous_versions")
    if isinstance(versions, dict) and versions:
        client = _client(recorded.get("region"))
        return all(_version(client, secret_id) == version for secret_id, version in versions.items())
    if not plan.secret_id or recorded.get("previous_version") is None:
        return False
    return current_version(plan) == recorded["previous_version"]


def _run(command: str, target: DSN, run_id: str, flag: str) -> None:
    # The hook gets no database credentials: the kit's DSNs and passwords stay with the kit.
    env = {
        **{k: v for k, v in os.environ.items() if not (k.startswith("DBKIT_") and k.endswith(("_DSN", "_PASSWORD")))},
        "DBKIT_CUTOVER_HOST": target.host,
        "DBKIT_CUTOVER_PORT": str(target.port),
        "DBKIT_CUTOVER_DATABASE": target.database,
        "DBKIT_CUTOVER_RUN_ID": run_id,
    }
    try:
        proc = subprocess.run(shlex.split(command), env=env, capture_output=True, text=True, timeout=300)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DbkitError(f"{flag} failed to run: {exc}", f"check the command given to {flag}") from None
    if proc.returncode != 0:
        raise DbkitError(
            f"{flag} exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-500:]}",
            f"fix the command given to {flag}, then --resume",
        )
