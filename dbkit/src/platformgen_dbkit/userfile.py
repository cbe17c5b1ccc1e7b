"""The users file (`database/users.json`, rendered from the spec): who exists, with which grants.

Every logical user (`api`, `api-migrator`, `readonly`, `dms`) is a pair of MySQL users,
`<mysql>_a` and `<mysql>_b`, with the same grants: rotation alternates between them
(infra/docs/adr/0012-database-users-and-rotation.md). The file lists every grant
explicitly, so a review of the file is a review of what the database allows; `users apply`
makes the server match it exactly.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DbkitError

FORMAT = 1
# Schema-level privileges a users file may grant: the same names on MySQL 8 and MariaDB.
# No ALL (it expands differently on each server), no global or administrative privileges.
PRIVILEGES = frozenset({
    "ALTER", "ALTER ROUTINE", "CREATE", "CREATE ROUTINE", "CREATE TEMPORARY TABLES",
    "CREATE VIEW", "DELETE", "DROP", "EVENT", "EXECUTE", "INDEX", "INSERT", "LOCK TABLES",
    "REFERENCES", "SELECT", "SHOW VIEW", "TRIGGER", "UPDATE",
})  # fmt: skip
ROLES = ("app", "migrator", "readonly", "dms")
_LOGICAL = re.compile(r"[a-z][a-z0-9-]{0,62}")
_MYSQL_USER = re.compile(r"[A-Za-z0-9_]{1,32}")
_SCHEMA = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_ENV = re.compile(r"[a-z][a-z0-9-]{0,31}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")


@dataclass(frozen=True)
class Grant:
    schema: str
    privileges: frozenset[str]


@dataclass(frozen=True)
class User:
    name: str  # the logical name: the secret's last part, DBKIT_PASSWORD_<NAME>
    role: str
    mysql_users: tuple[str, str]  # (_a, _b)
    grants: tuple[Grant, ...]
    environments: tuple[str, ...] | None = None  # None: every environment (dms: the migration's target only)

    @property
    def env_name(self) -> str:
        return self.name.upper().replace("-", "_")


@dataclass(frozen=True)
class UsersFile:
    path: Path
    project: str
    database: str
    host: str
    regions: dict[str, str]  # environment -> AWS region
    users: tuple[User, ...]

    def secret_id(self, env: str, user: User) -> str:
        return f"{self.project}/{env}/database/{user.name}"

    def for_env(self, env: str) -> UsersFile:
        """The users that exist in `env` (a user may name its environments, e.g. dms the migration target)."""
        return dataclasses.replace(
            self, users=tuple(u for u in self.users if u.environments is None or env in u.environments)
        )

    def user(self, name: str) -> User:
        for user in self.users:
            if user.name == name:
                return user
        raise DbkitError(
            f"{self.path}: no user {name!r}",
            f"use one of {', '.join(u.name for u in self.users)}",
        )


def _fail(
    path: Path, where: str, problem: str, fix: str = "re-render it from the spec (platformgen update)"
) -> DbkitError:
    return DbkitError(f"{path}: {where}: {problem}", fix)


def _str(path: Path, where: str, value: Any, pattern: re.Pattern[str]) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise _fail(path, where, f"{value!r} is not a valid value (must match {pattern.pattern})")
    return value


def load_users(path: Path) -> UsersFile:
    """Read and validate the users file: every problem names the file, the place and the fix."""
    if path.is_dir():
        raise DbkitError(f"{path} is a directory, not the users file", "pass --users database/users.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DbkitError(
            f"{path} does not exist", "pass --users database/users.json (rendered from the spec)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DbkitError(f"{path}: cannot read: {exc}", "check the path and its permissions") from None
    except ValueError as exc:
        raise _fail(path, "JSON", str(exc)) from None
    if not isinstance(data, dict):
        raise _fail(path, "top level", "must be an object")
    if data.get("format") != FORMAT:
        raise _fail(
            path,
            "format",
            f"is {data.get('format')!r}; this kit reads format {FORMAT}",
            "use the kit version the repository pins",
        )
    project = _str(path, "project", data.get("project"), _ENV)
    database = _str(path, "database", data.get("database"), _SCHEMA)
    host = data.get("host")
    if host != "%" and not (isinstance(host, str) and re.fullmatch(r"[0-9.]+(/[0-9.]+)?|[A-Za-z0-9.%-]{1,255}", host)):
        raise _fail(path, "host", f"{host!r} is not a MySQL account host")
    envs = data.get("environments")
    if not isinstance(envs, dict) or not envs:
        raise _fail(path, "environments", "must name at least one environment")
    regions = {
        _str(path, "environments", env, _ENV): _str(
            path, f"environments.{env}.region", (cfg or {}).get("region"), _REGION
        )
        for env, cfg in envs.items()
    }
    raw_users = data.get("users")
    if not isinstance(raw_users, list) or not raw_users:
        raise _fail(path, "users", "must list at least one user")
    users: list[User] = []
    seen_logical: set[str] = set()
    seen_mysql: set[str] = set()
    for i, raw in enumerate(raw_users):
        where = f"users[{i}]"
        if not isinstance(raw, dict):
            raise _fail(path, where, "must be an object")
        name = _str(path, f"{where}.name", raw.get("name"), _LOGICAL)
        if name in seen_logical:
            raise _fail(path, f"{where}.name", f"{name!r} is listed twice")
        seen_logical.add(name)
        role = raw.get("role")
        if role not in ROLES:
            raise _fail(path, f"{where}.role", f"{role!r} is not one of {', '.join(ROLES)}")
        pair = raw.get("mysqlUsers")
        if not (isinstance(pair, list) and len(pair) == 2):
            raise _fail(path, f"{where}.mysqlUsers", "must list the two alternating MySQL users (_a, _b)")
        a, b = (_str(path, f"{where}.mysqlUsers", u, _MYSQL_USER) for u in pair)
        for mysql_user in (a, b):
            if mysql_user in seen_mysql:
                raise _fail(path, f"{where}.mysqlUsers", f"{mysql_user!r} belongs to two logical users")
            seen_mysql.add(mysql_user)
        grants: list[Grant] = []
        raw_grants = raw.get("grants")
        if not isinstance(raw_grants, list) or not raw_grants:
            raise _fail(path, f"{where}.grants", "must list at least one grant")
        schemas: set[str] = set()
        for j, g in enumerate(raw_grants):
            gw = f"{where}.grants[{j}]"
            if not isinstance(g, dict):
                raise _fail(path, gw, "must be an object")
            schema = _str(path, f"{gw}.schema", g.get("schema"), _SCHEMA)
            if schema in schemas:
                raise _fail(path, f"{gw}.schema", f"{schema!r} is granted twice: merge the two")
            schemas.add(schema)
            privs = g.get("privileges")
            if not isinstance(privs, list) or not privs or not all(isinstance(p, str) for p in privs):
                raise _fail(path, f"{gw}.privileges", "must list privileges")
            unknown = sorted(set(privs) - PRIVILEGES)
            if unknown:
                raise _fail(
                    path,
                    f"{gw}.privileges",
                    f"{', '.join(unknown)} cannot be granted by a users file",
                    f"use schema privileges only: {', '.join(sorted(PRIVILEGES))}",
                )
            grants.append(Grant(schema, frozenset(privs)))
        environments: tuple[str, ...] | None = None
        if "environments" in raw:
            envs = raw["environments"]
            if not isinstance(envs, list) or not envs or not all(isinstance(e, str) for e in envs):
                raise _fail(path, f"{where}.environments", "must list environment names")
            unknown_envs = sorted(set(envs) - set(regions))
            if unknown_envs:
                raise _fail(path, f"{where}.environments", f"{', '.join(unknown_envs)} not in environments")
            environments = tuple(envs)
        users.append(User(name, role, (a, b), tuple(grants), environments))
    return UsersFile(path, project, database, host, regions, tuple(users))
