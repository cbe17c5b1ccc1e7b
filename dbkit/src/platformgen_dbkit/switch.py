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
from typing import Any

from .db import DSN
from .errors import DbkitError


@dataclass(frozen=True)
class SwitchPlan:
    secret_id: str | None = None
    credentials_secret_id: str | None = None
    command: str | None = None
    resync_command: str | None = None

    def describe(self) -> str:
        if self.secret_id:
            return f"write secret {self.secret_id} (host, port, dbname of the target)"
        return f"run {self.command}"


def _client() -> Any:
    try:
        import boto3
    except ImportError:  # pragma: no cover - boto3 is a dependency of the kit
        raise DbkitError("boto3 is not installed", "install platformgen-dbkit with its dependencies") from None
    return boto3.client("secretsmanager")


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


def check(plan: SwitchPlan) -> None:
    """Step 1: the secrets are readable and well formed (nothing is written)."""
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


def switch(plan: SwitchPlan, target: DSN, run_id: str) -> dict[str, Any]:
    """Switch the app to the target; returns what was done (for the journal and the report)."""
    if plan.secret_id:
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
        done: dict[str, Any] = {"secret": plan.secret_id, "previous_version": previous, "version": written["VersionId"]}
    else:
        assert plan.command
        _run(plan.command, target, run_id, "--switch-command")
        done = {"command": plan.command}
    if plan.resync_command:
        _run(plan.resync_command, target, run_id, "--resync-command")
        done["resync_command"] = plan.resync_command
    return done


def unchanged(plan: SwitchPlan, recorded_version: str | None) -> bool:
    """Whether an interrupted step 7 left the secret as it was (the only safe case for --abort)."""
    if not plan.secret_id or recorded_version is None:
        return False
    return current_version(plan) == recorded_version


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
