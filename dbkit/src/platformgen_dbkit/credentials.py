"""Where the database users' credentials live: AWS Secrets Manager, or the environment.

Never files. Secrets Manager holds one secret per logical user and environment,
`<project>/<env>/database/<logical>`, created EMPTY by Terraform; `dbkit users apply` and
`rotate` write its value, in the shape DMS's `secrets_manager_arn` and AWS's rotation
functions read:

    {"engine": "mysql", "host": ..., "port": 3306, "dbname": ..., "username": ..., "password": ...}

The environment store reads `DBKIT_PASSWORD_<LOGICAL>` (and optionally
`DBKIT_USERNAME_<LOGICAL>`, default the `_a` user) and cannot be written: `rotate` needs
Secrets Manager (or a person who sets the two variables to the other user and a new password,
then runs `apply`).
"""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import DbkitError
from .userfile import User, UsersFile

# 40 characters from letters and digits: ~238 bits, and nothing a shell, a URL or a JSON
# document has to escape (passwords travel through DSNs and Kubernetes Secrets).
_ALPHABET = string.ascii_letters + string.digits
PASSWORD_LENGTH = 40


def new_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(PASSWORD_LENGTH))


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    host: str | None = None
    port: int | None = None
    dbname: str | None = None

    def document(self) -> dict[str, Any]:
        return {
            "engine": "mysql",
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "username": self.username,
            "password": self.password,
        }


class Store(Protocol):
    kind: str
    writable: bool

    def where(self, user: User) -> str: ...
    def read(self, user: User) -> Credentials | None: ...
    def write(self, user: User, creds: Credentials) -> None: ...


class EnvStore:
    """DBKIT_PASSWORD_<LOGICAL> (+ DBKIT_USERNAME_<LOGICAL>): read-only."""

    kind = "env"
    writable = False

    def where(self, user: User) -> str:
        return f"$DBKIT_PASSWORD_{user.env_name}"

    def read(self, user: User) -> Credentials | None:
        password = os.environ.get(f"DBKIT_PASSWORD_{user.env_name}", "")
        if not password:
            raise DbkitError(
                f"{self.where(user)} is not set (user {user.name})",
                f"export DBKIT_PASSWORD_{user.env_name}, or use --passwords secretsmanager",
            )
        username = os.environ.get(f"DBKIT_USERNAME_{user.env_name}", "") or user.mysql_users[0]
        if username not in user.mysql_users:
            raise DbkitError(
                f"$DBKIT_USERNAME_{user.env_name} is {username!r}, not one of {' or '.join(user.mysql_users)}",
                "name one of the user's two alternating MySQL users",
            )
        return Credentials(username, password)

    def write(self, user: User, creds: Credentials) -> None:
        raise DbkitError(
            f"cannot record new credentials for {user.name} in the environment",
            f"rotate with --passwords secretsmanager, or by hand: set DBKIT_USERNAME_{user.env_name} to the "
            f"other user and DBKIT_PASSWORD_{user.env_name} to a new password, then run users apply",
        )


class SecretsManagerStore:
    """One secret per logical user: `<project>/<env>/database/<logical>` (Terraform creates it empty)."""

    kind = "secretsmanager"
    writable = True

    def __init__(self, users: UsersFile, env: str) -> None:
        try:
            import boto3
            import botocore.exceptions
        except ImportError:  # pragma: no cover - boto3 is a dependency of the kit
            raise DbkitError("boto3 is not installed", "install the kit with its dependencies") from None
        self._users = users
        self._env = env
        self._errors = botocore.exceptions
        # The endpoint comes from the usual AWS variables (AWS_ENDPOINT_URL_SECRETS_MANAGER too).
        self._client = boto3.client("secretsmanager", region_name=users.regions[env])

    def where(self, user: User) -> str:
        return f"secret {self._users.secret_id(self._env, user)}"

    def _fail(self, user: User, exc: Exception) -> DbkitError:
        return DbkitError(
            f"{self.where(user)}: {exc}",
            "check the AWS credentials and region, and that Terraform created the secret (terraform apply)",
        )

    def read(self, user: User) -> Credentials | None:
        secret_id = self._users.secret_id(self._env, user)
        try:
            found = self._client.get_secret_value(SecretId=secret_id)
        except self._errors.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", "")
            if code == "ResourceNotFoundException" and "AWSCURRENT" in message:
                return None  # the secret exists with no value yet: Terraform created it empty
            if code == "ResourceNotFoundException":
                raise DbkitError(
                    f"{self.where(user)} does not exist",
                    "apply the environment's Terraform first: it creates the (empty) user secrets",
                ) from None
            raise self._fail(user, exc) from None
        except self._errors.BotoCoreError as exc:
            raise self._fail(user, exc) from None
        text = found.get("SecretString") or ""
        if not text.strip() or text.strip() == "{}":
            return None
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if (
            not isinstance(doc, dict)
            or not isinstance(doc.get("username"), str)
            or not isinstance(doc.get("password"), str)
        ):
            raise DbkitError(
                f"{self.where(user)} does not hold JSON with username and password",
                "put the value back to the shape {engine, host, port, dbname, username, password}, or empty it "
                "(a new password is then generated)",
            )
        port = doc.get("port")
        return Credentials(
            doc["username"],
            doc["password"],
            doc.get("host") if isinstance(doc.get("host"), str) else None,
            int(port) if isinstance(port, int | str) and str(port).isdigit() else None,
            doc.get("dbname") if isinstance(doc.get("dbname"), str) else None,
        )

    def write(self, user: User, creds: Credentials) -> None:
        try:
            self._client.put_secret_value(
                SecretId=self._users.secret_id(self._env, user),
                SecretString=json.dumps(creds.document(), sort_keys=True),
            )
        except (self._errors.ClientError, self._errors.BotoCoreError) as exc:
            raise self._fail(user, exc) from None


def open_store(kind: str, users: UsersFile, env: str) -> Store:
    if env not in users.regions:
        raise DbkitError(
            f"{users.path} has no environment {env!r}",
            f"use --env with one of {', '.join(users.regions)}",
        )
    return SecretsManagerStore(users, env) if kind == "secretsmanager" else EnvStore()
