"""The write freeze of a cutover: revoke the app user's write grants, then kill its sessions.

Why both: a schema-level grant change reaches an open session only at its next `USE`, so
revoking alone leaves pooled connections writing. `read_only` is not the freeze: it would
also stop the kit's heartbeat, whose arrival on the target is the fence.

What the kit's source user needs (checked in step 1, before anything changes):
- to revoke and grant back: GRANT OPTION plus the privileges it revokes (or CREATE USER);
- to see and kill another user's sessions: PROCESS, and CONNECTION_ADMIN on MySQL 8
  (CONNECTION ADMIN on MariaDB 10.5+), or the deprecated SUPER.
DigitalOcean's `doadmin` holds GRANT OPTION and PROCESS; whether it holds CONNECTION_ADMIN
is not documented, so step 1 checks the user's own grants (SHOW GRANTS) and refuses early.

Portable SQL: SHOW GRANTS FOR, REVOKE/GRANT ... ON `db`.* / `db`.`table`,
information_schema.PROCESSLIST, KILL CONNECTION (MySQL 8 and MariaDB alike).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .db import Connection
from .errors import DbkitError

# Privileges that change data or schema; the freeze removes them at schema and table level.
WRITE_PRIVILEGES = frozenset({
    "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX", "CREATE VIEW", "TRIGGER",
    "CREATE ROUTINE", "ALTER ROUTINE", "EVENT", "LOCK TABLES", "REFERENCES", "DELETE HISTORY",
})  # fmt: skip
READ_BACK = ("SELECT", "SHOW VIEW")  # what ALL PRIVILEGES keeps during the freeze
_GRANT = re.compile(r"^GRANT (?P<privs>.+?) ON (?P<scope>\S+) TO (?P<account>\S+)")
_KILL_PRIVS = {"SUPER", "CONNECTION_ADMIN", "CONNECTION ADMIN", "ALL PRIVILEGES"}


@dataclass(frozen=True)
class Revocation:
    """Privileges taken from one account on one scope; granted back by `restore`."""

    account: str  # `user`@`host`, quoted as SHOW GRANTS prints it
    scope: str  # `db`.* or `db`.`table`
    privileges: tuple[str, ...]  # as SHOW GRANTS printed them (column lists kept)
    read_back: tuple[str, ...] = ()  # granted during the freeze (after revoking ALL PRIVILEGES)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Revocation:
        return cls(
            account=str(data["account"]),
            scope=str(data["scope"]),
            privileges=tuple(data["privileges"]),  # type: ignore[arg-type]
            read_back=tuple(data.get("read_back", ())),  # type: ignore[arg-type]
        )

    def revoke_sql(self) -> list[str]:
        sql = [f"REVOKE {', '.join(self.privileges)} ON {self.scope} FROM {self.account}"]
        if self.read_back:
            sql.append(f"GRANT {', '.join(self.read_back)} ON {self.scope} TO {self.account}")
        return sql

    def grant_sql(self) -> str:
        return f"GRANT {', '.join(self.privileges)} ON {self.scope} TO {self.account}"


def _split_privileges(text: str) -> list[str]:
    return [p.strip() for p in re.split(r",\s*(?![^()]*\))", text) if p.strip()]


def _name(privilege: str) -> str:
    return re.sub(r"\s*\(.*\)$", "", privilege.strip().upper())


def _scope_db(scope: str) -> tuple[str, str]:
    """(`db`.`t` or `db`.*) -> (db, table or '*'), unquoted, with `\\_` wildcard escapes removed."""
    m = re.match(r"^`((?:[^`]|``)+)`\.(\*|`(?:[^`]|``)+`)$", scope) or re.match(r"^([^.]+)\.(\S+)$", scope)
    if not m:
        return "", ""
    db = m.group(1).replace("``", "`").replace("\\_", "_").replace("\\%", "%")
    return db, m.group(2).strip("`").replace("``", "`")


def accounts(conn: Connection, user: str) -> list[str]:
    """Every `user`@`host` account with this user name (an app may have several hosts)."""
    try:
        hosts = conn.rows("SELECT Host FROM mysql.user WHERE User = %s ORDER BY Host", (user,))
    except DbkitError as exc:
        raise DbkitError(
            f"cannot list the accounts of {user!r}: {exc.message}",
            "the kit's source user needs SELECT on mysql.user (DigitalOcean's doadmin has it)",
        ) from None
    if not hosts:
        raise DbkitError(f"the source has no user {user!r}", "pass the app's MySQL user name with --app-user")
    return [f"`{user}`@`{h[0]}`" for h in hosts]


def grants_of(conn: Connection, account: str) -> list[str]:
    return [str(r[0]) for r in conn.rows(f"SHOW GRANTS FOR {account}")]


def plan_freeze(conn: Connection, user: str, database: str) -> list[Revocation]:
    """What the freeze revokes; refuses (DbkitError) what a schema-level revoke cannot freeze."""
    plan: list[Revocation] = []
    for account in accounts(conn, user):
        for line in grants_of(conn, account):
            m = _GRANT.match(line)
            if m is None:
                if line.upper().startswith("GRANT ") and " ON " not in line.upper():
                    raise DbkitError(
                        f"{account} holds a role ({line}): revoking its own grants would not freeze it",
                        "grant the app user its privileges directly (`dbkit users apply` does), not via roles",
                    )
                continue
            privs = _split_privileges(m.group("privs"))
            if privs and privs[0].upper() == "PROXY":
                continue
            db, table = _scope_db(m.group("scope"))
            names = {_name(p) for p in privs}
            writes = [p for p in privs if _name(p) in WRITE_PRIVILEGES]
            if m.group("scope") == "*.*":
                if "ALL PRIVILEGES" in names or writes:
                    raise DbkitError(
                        f"{account} has write privileges on every schema ({line})",
                        "grant the app user its privileges on the migrated schema only (`dbkit users apply`)",
                    )
                continue
            if db != database:
                continue
            if "ALL PRIVILEGES" in names or "ALL" in names:
                read_back = READ_BACK if table == "*" else ("SELECT",)
                plan.append(Revocation(account, m.group("scope"), ("ALL PRIVILEGES",), read_back))
            elif writes:
                plan.append(Revocation(account, m.group("scope"), tuple(writes)))
    return plan


def check_admin(conn: Connection) -> list[str]:
    """Problems with the kit's own source user's privileges for a freeze (empty: none)."""
    names: set[str] = set()
    grant_option = False
    for line in (str(r[0]) for r in conn.rows("SHOW GRANTS FOR CURRENT_USER()")):
        m = _GRANT.match(line)
        if m is None:
            continue
        if m.group("scope") == "*.*":
            names |= {_name(p) for p in _split_privileges(m.group("privs"))}
            grant_option = grant_option or "WITH GRANT OPTION" in line.upper()
    problems = []
    if not (grant_option or "CREATE USER" in names or "ALL PRIVILEGES" in names):
        problems.append("cannot revoke and grant back the app user's privileges: needs GRANT OPTION (or CREATE USER)")
    if not names & {"PROCESS", "ALL PRIVILEGES"}:
        problems.append("cannot see other users' sessions: needs PROCESS")
    if not names & _KILL_PRIVS:
        problems.append(
            "cannot kill the app user's sessions: needs CONNECTION_ADMIN (MySQL 8; CONNECTION ADMIN on MariaDB) or SUPER"
        )
    return problems


def held(conn: Connection, rev: Revocation) -> bool:
    """Whether the account still holds what `rev` takes (a resumed freeze revokes only that)."""
    want = {_name(p) for p in rev.privileges}
    for line in grants_of(conn, rev.account):
        m = _GRANT.match(line)
        if m and m.group("scope") == rev.scope and want & {_name(p) for p in _split_privileges(m.group("privs"))}:
            return True
    return False


def revoke(conn: Connection, plan: list[Revocation]) -> None:
    for rev in plan:
        if held(conn, rev):
            for sql in rev.revoke_sql():
                conn.rows(sql)


def restore(conn: Connection, plan: list[Revocation]) -> None:
    """Grant back what the freeze took (GRANT of a held privilege is a no-op: safe to repeat)."""
    for rev in plan:
        conn.rows(rev.grant_sql())


def sessions(conn: Connection, user: str) -> list[int]:
    return [
        int(r[0])
        for r in conn.rows("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = %s ORDER BY ID", (user,))
    ]


def kill_sessions(conn: Connection, user: str) -> int:
    """Kill every open session of `user`; those opened after the revoke cannot write anyway."""
    killed: set[int] = set()
    for _ in range(3):  # a pool may reconnect between the list and the kill
        ids = [i for i in sessions(conn, user) if i not in killed]
        if not ids:
            break
        for session_id in ids:
            try:
                conn.rows(f"KILL CONNECTION {int(session_id)}")
            except DbkitError as exc:
                if "1094" not in str(exc):  # unknown thread: it ended by itself
                    raise
            killed.add(session_id)
    return len(killed)
