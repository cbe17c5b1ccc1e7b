"""`dbkit users plan|apply|rotate`: the database's users as code.

`plan` reads the server (as the master, break-glass) and the credential store and lists
what `apply` would change; `apply` makes the server match the users file exactly: the two
alternating MySQL users of every logical user exist, the active one has the password its
secret holds (a new one is generated when the secret is empty), and each has exactly the
file's grants (missing ones granted, any other global, schema, table or column privilege
revoked). A second `apply` changes nothing. `rotate` sets a new password on the user the
secret does NOT name, checks it logs in, then points the secret at it: the previous user
keeps working until the next rotation (infra/docs/adr/0012-database-users-and-rotation.md).

Portable SQL (MySQL 8 and MariaDB 10.4+): CREATE USER / ALTER USER ... IDENTIFIED BY,
GRANT/REVOKE on named privileges, and grants read from information_schema
(USER_/SCHEMA_/TABLE_/COLUMN_PRIVILEGES) rather than SHOW GRANTS, whose text differs
(MariaDB prints the password hash in the USAGE line and other quoting). Underscores in
schema names are escaped in GRANT (`a\\_b`), or `_` would be a wildcard matching `aXb`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .credentials import Credentials, Store, new_password
from .db import DSN, Connection
from .errors import DbkitError, ServerGone
from .schema import quote
from .userfile import User, UsersFile


@dataclass
class Action:
    user: str  # logical user
    mysql_user: str
    action: str  # create-user, set-password, grant, revoke, write-secret
    detail: str  # what, with no password in it
    run: Callable[[], None] = field(repr=False, compare=False)

    def as_dict(self) -> dict[str, str]:
        return {"user": self.user, "mysql_user": self.mysql_user, "action": self.action, "detail": self.detail}


def escape_schema(name: str) -> str:
    """A schema name as GRANT ... ON `db`.* must spell it to match only itself."""
    return name.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")


def _account(users: UsersFile, mysql_user: str) -> str:
    # Both parts are validated by userfile (letters, digits, _ ; a host pattern): no quotes inside.
    return f"'{mysql_user}'@'{users.host}'"


def _bound(text: str) -> str:
    """Text for a statement with bound parameters: PyMySQL formats it with %, so '%' is '%%'."""
    return text.replace("%", "%%")


@dataclass
class Privileges:
    """What a MySQL account holds now, read from information_schema."""

    exists: bool
    global_: set[str] = field(default_factory=set)
    global_grant_option: bool = False
    schema: dict[str, set[str]] = field(default_factory=dict)  # escaped schema -> privileges
    schema_grant_option: set[str] = field(default_factory=set)
    table: set[tuple[str, str, str]] = field(default_factory=set)  # (schema, table, privilege)
    column: set[tuple[str, str, str, str]] = field(default_factory=set)


def read_privileges(conn: Connection, users: UsersFile, mysql_user: str) -> Privileges:
    exists = conn.value("SELECT COUNT(*) FROM mysql.user WHERE User = %s AND Host = %s", (mysql_user, users.host))
    if not exists:
        return Privileges(exists=False)
    grantee = _account(users, mysql_user)
    found = Privileges(exists=True)
    for priv, grantable in conn.rows(
        "SELECT PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = %s", (grantee,)
    ):
        if priv != "USAGE":
            found.global_.add(priv)
        found.global_grant_option |= grantable == "YES"
    for schema, priv, grantable in conn.rows(
        "SELECT TABLE_SCHEMA, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.SCHEMA_PRIVILEGES "
        "WHERE GRANTEE = %s",
        (grantee,),
    ):
        found.schema.setdefault(schema, set()).add(priv)
        if grantable == "YES":
            found.schema_grant_option.add(schema)
    found.table = {
        (s, t, p)
        for s, t, p in conn.rows(
            "SELECT TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES "
            "WHERE GRANTEE = %s",
            (grantee,),
        )
    }
    found.column = {
        (s, t, c, p)
        for s, t, c, p in conn.rows(
            "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, PRIVILEGE_TYPE FROM information_schema.COLUMN_PRIVILEGES "
            "WHERE GRANTEE = %s",
            (grantee,),
        )
    }
    return found


def can_login(admin: DSN, username: str, password: str) -> bool:
    """Whether this user logs in with this password (on the admin DSN's server)."""
    probe = dataclasses.replace(
        admin, role="user check", user=username, password=password, database="information_schema"
    )
    try:
        conn = Connection(probe, read_timeout=30)
    except ServerGone:
        raise
    except DbkitError:
        return False  # access denied, or a locked account
    conn.close()
    return True


class Planner:
    """Collects the actions that make one environment's server match the users file."""

    def __init__(self, conn: Connection, admin: DSN, users: UsersFile, store: Store) -> None:
        self.conn, self.admin, self.users, self.store = conn, admin, users, store
        self.actions: list[Action] = []
        self.notes: list[str] = []

    def elsewhere(self, creds: Credentials) -> bool:
        """Whether the credentials name another server than the one being managed."""
        return creds.host is not None and (creds.host, creds.port or 3306) != (self.admin.host, self.admin.port)

    def _exec(self, sql: str, args: tuple[Any, ...] | None = None) -> Callable[[], None]:
        return lambda: self.conn.rows(sql, args) and None

    def _add(self, user: User, mysql_user: str, action: str, detail: str, run: Callable[[], None]) -> None:
        self.actions.append(Action(user.name, mysql_user, action, detail, run))

    def grants(self, user: User, mysql_user: str, have: Privileges) -> None:
        account = _account(self.users, mysql_user)
        want = {escape_schema(g.schema): set(g.privileges) for g in user.grants}
        for schema in sorted(want):
            missing = sorted(want[schema] - have.schema.get(schema, set()))
            if missing:
                sql = f"GRANT {', '.join(missing)} ON {quote(schema)}.* TO {account}"
                self._add(user, mysql_user, "grant", sql, self._exec(sql))
        for schema in sorted(have.schema):
            extra = sorted(have.schema[schema] - want.get(schema, set()))
            if extra:
                sql = f"REVOKE {', '.join(extra)} ON {quote(schema)}.* FROM {account}"
                self._add(user, mysql_user, "revoke", sql, self._exec(sql))
        for schema in sorted(have.schema_grant_option):
            sql = f"REVOKE GRANT OPTION ON {quote(schema)}.* FROM {account}"
            self._add(user, mysql_user, "revoke", sql, self._exec(sql))
        if have.global_:
            sql = f"REVOKE {', '.join(sorted(have.global_))} ON *.* FROM {account}"
            self._add(user, mysql_user, "revoke", sql, self._exec(sql))
        if have.global_grant_option:
            sql = f"REVOKE GRANT OPTION ON *.* FROM {account}"
            self._add(user, mysql_user, "revoke", sql, self._exec(sql))
        for schema, table, priv in sorted(have.table):
            sql = f"REVOKE {priv} ON {quote(schema)}.{quote(table)} FROM {account}"
            self._add(user, mysql_user, "revoke", sql, self._exec(sql))
        for schema, table, column, priv in sorted(have.column):
            sql = f"REVOKE {priv} ({quote(column)}) ON {quote(schema)}.{quote(table)} FROM {account}"
            self._add(user, mysql_user, "revoke", sql, self._exec(sql))

    def active(self, user: User) -> tuple[Credentials, str]:
        """The credentials the store holds (new ones when it is empty), and what to write:
        "" nothing, "new" a generated password, "complete" the missing host, port or dbname."""
        creds = self.store.read(user)
        if creds is not None and self.elsewhere(creds):
            # During a migration the app's secret names the source (its host and its user):
            # leave it alone, keep both users here ready with throwaway passwords;
            # `rotate --switch-to-target` points the secret here at cutover.
            self.notes.append(
                f"{self.store.where(user)} points at {creds.host}:{creds.port}, not at this server: left alone; "
                f"{' and '.join(user.mysql_users)} are kept ready here"
            )
            return Credentials("", ""), ""
        if creds is None:
            fresh = Credentials(
                user.mysql_users[0], new_password(), self.admin.host, self.admin.port, self.users.database
            )
            return fresh, "new"
        if creds.username not in user.mysql_users:
            raise DbkitError(
                f"{self.store.where(user)} names MySQL user {creds.username!r}, not one of "
                f"{' or '.join(user.mysql_users)}",
                "empty the secret (users apply then generates a password for the _a user), or set its username "
                "to one of the two",
            )
        if self.store.writable and None in (creds.host, creds.port, creds.dbname):
            creds = dataclasses.replace(
                creds,
                host=creds.host or self.admin.host,
                port=creds.port or self.admin.port,
                dbname=creds.dbname or self.users.database,
            )
            return creds, "complete"
        return creds, ""

    def user(self, user: User) -> Credentials:
        creds, write = self.active(user)
        for mysql_user in user.mysql_users:
            have = read_privileges(self.conn, self.users, mysql_user)
            account = _account(self.users, mysql_user)
            is_active = mysql_user == creds.username
            if not have.exists:
                # The standby user gets a password nobody keeps: `rotate` sets a known one.
                password = creds.password if is_active else new_password()
                why = "with the secret's password" if is_active else "standby, with a throwaway password"
                self._add(
                    user, mysql_user, "create-user", f"CREATE USER {account} IDENTIFIED BY '***' ({why})",
                    self._exec(f"CREATE USER {_bound(account)} IDENTIFIED BY %s", (password,)),
                )  # fmt: skip
            elif is_active and not can_login(self.admin, mysql_user, creds.password):
                self._add(
                    user, mysql_user, "set-password",
                    f"ALTER USER {account} IDENTIFIED BY '***' (it does not log in with the password of "
                    f"{self.store.where(user)})",
                    self._exec(f"ALTER USER {_bound(account)} IDENTIFIED BY %s", (creds.password,)),
                )  # fmt: skip
            self.grants(user, mysql_user, have)
        if write:
            detail = (
                f"write {self.store.where(user)}: username {creds.username}, a new password"
                if write == "new"
                else f"complete {self.store.where(user)} (host, port, dbname)"
            )
            self._add(user, creds.username, "write-secret", detail, lambda: self.store.write(user, creds))
        return creds


LOCK_NAME = "platformgen_dbkit_users"


def lock(conn: Connection) -> None:
    """One `users apply` or `rotate` at a time per server (GET_LOCK: MySQL 8 and MariaDB).
    Two rotations at once could both pick the same standby user, and one secret would then
    hold a password that no longer works. The lock ends with the session."""
    if conn.value("SELECT GET_LOCK(%s, 0)", (LOCK_NAME,)) != 1:
        raise DbkitError(
            "another dbkit users apply or rotate is running against this server",
            "wait for it to finish (its session holds the lock), then run the command again",
        )


def check_server(conn: Connection) -> None:
    """The grants escape `_` in schema names, which is right while partial_revokes is OFF
    (RDS's default). With it ON, MySQL 8 reads wildcards in database-level grants literally,
    and the escaped names would name another schema: refuse rather than grant the wrong thing."""
    if (conn.variable("partial_revokes") or "OFF").upper() in ("ON", "1"):
        raise DbkitError(
            f"{conn.dsn.label}: partial_revokes is ON",
            "set partial_revokes to 0 in the parameter group (RDS's default), or manage these users by hand",
        )


def plan(conn: Connection, admin: DSN, users: UsersFile, store: Store) -> tuple[list[Action], list[str]]:
    check_server(conn)
    planner = Planner(conn, admin, users, store)
    for user in users.users:
        planner.user(user)
    return planner.actions, planner.notes


def apply(actions: list[Action]) -> None:
    for action in actions:
        action.run()


@dataclass(frozen=True)
class Rotation:
    user: str
    previous: str
    current: str
    where: str

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def rotate(
    conn: Connection, admin: DSN, users: UsersFile, store: Store, name: str, *, switch: bool = False
) -> tuple[list[Action], Rotation]:
    """Bring the user to the file first (apply), then alternate: new password on the standby
    user, checked, then the secret points at it. With `switch`, a secret that names another
    server (the migration source) is pointed at this one (the cutover's secret switch)."""
    user = users.user(name)
    if not store.writable:
        store.write(user, Credentials("", ""))  # raises the environment store's explanation
    check_server(conn)
    planner = Planner(conn, admin, users, store)
    planner.user(user)
    actions = planner.actions
    apply(actions)
    current = store.read(user)
    if current is None:
        raise DbkitError(f"{store.where(user)} is still empty after users apply", "run users apply and look at its log")
    if planner.elsewhere(current):
        if not switch:
            raise DbkitError(
                f"{store.where(user)} points at {current.host}:{current.port}, not at the server being managed "
                f"({admin.host}:{admin.port}); nothing was rotated",
                "rotate after the cutover has pointed the secret at this server (rotate --switch-to-target does "
                "that), or pass --target with the server the secret names",
            )
        current = dataclasses.replace(current, host=admin.host, port=admin.port, dbname=users.database)
    standby = user.mysql_users[1] if current.username == user.mysql_users[0] else user.mysql_users[0]
    password = new_password()
    conn.rows(f"ALTER USER {_bound(_account(users, standby))} IDENTIFIED BY %s", (password,))
    if not can_login(admin, standby, password):
        raise DbkitError(
            f"{standby} does not log in with its new password; {store.where(user)} still names {current.username}",
            "check the account (locked? host pattern?) and run rotate again",
        )
    store.write(user, dataclasses.replace(current, username=standby, password=password))
    return actions, Rotation(user.name, current.username, standby, store.where(user))
