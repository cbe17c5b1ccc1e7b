"""The freeze's reading of SHOW GRANTS in MySQL 8's format (no MySQL 8 server runs here;
MariaDB's format is covered by test_cutover.py on real servers)."""

from __future__ import annotations

from typing import Any

import pytest

from platformgen_dbkit import freeze
from platformgen_dbkit.errors import DbkitError


class Grants:
    """Answers the two queries the freeze planner sends, with SHOW GRANTS text as MySQL 8 prints it."""

    def __init__(self, lines: list[str], hosts: tuple[str, ...] = ("%",)) -> None:
        self.lines, self.hosts = lines, hosts

    def rows(self, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
        if sql.startswith("SELECT Host FROM mysql.user"):
            return [(h,) for h in self.hosts]
        assert sql.startswith("SHOW GRANTS FOR"), sql
        return [(line,) for line in self.lines]


def plan(lines: list[str]) -> list[freeze.Revocation]:
    return freeze.plan_freeze(Grants(lines), "api", "getprospa")  # type: ignore[arg-type]


def test_schema_dml_is_revoked_and_select_kept() -> None:
    revs = plan([
        "GRANT USAGE ON *.* TO `api`@`%`",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON `getprospa`.* TO `api`@`%`",
        "GRANT SELECT ON `other`.* TO `api`@`%`",
    ])  # fmt: skip
    assert [r.revoke_sql() for r in revs] == [["REVOKE INSERT, UPDATE, DELETE ON `getprospa`.* FROM `api`@`%`"]]
    assert revs[0].grant_sql() == "GRANT INSERT, UPDATE, DELETE ON `getprospa`.* TO `api`@`%`"


def test_all_privileges_keeps_reads_and_table_and_column_grants_are_revoked() -> None:
    revs = plan([
        "GRANT ALL PRIVILEGES ON `getprospa`.* TO `api`@`%`",
        "GRANT SELECT, UPDATE (`status`, `note`) ON `getprospa`.`orders` TO `api`@`%`",
        "GRANT INSERT ON `getprospa\\_x`.* TO `api`@`%`",
    ])  # fmt: skip
    assert revs[0].revoke_sql() == [
        "REVOKE ALL PRIVILEGES ON `getprospa`.* FROM `api`@`%`",
        "GRANT SELECT, SHOW VIEW ON `getprospa`.* TO `api`@`%`",
    ]
    assert revs[1].revoke_sql() == ["REVOKE UPDATE (`status`, `note`) ON `getprospa`.`orders` FROM `api`@`%`"]
    assert len(revs) == 2, "getprospa_x is another schema"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("GRANT INSERT, UPDATE ON *.* TO `api`@`%`", "every schema"),
        ("GRANT `app_writer`@`%` TO `api`@`%`", "role"),
    ],
)
def test_unfreezable_users_are_refused(line: str, message: str) -> None:
    with pytest.raises(DbkitError, match=message):
        plan(["GRANT SELECT ON `getprospa`.* TO `api`@`%`", line])


def test_admin_privileges_mysql8_root_and_a_user_without_connection_admin() -> None:
    root = Grants([
        "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, SHUTDOWN, PROCESS, FILE, REFERENCES, INDEX, "
        "ALTER, SHOW DATABASES, SUPER, CREATE USER ON *.* TO `root`@`%` WITH GRANT OPTION",
        "GRANT APPLICATION_PASSWORD_ADMIN,AUDIT_ADMIN,BACKUP_ADMIN,CONNECTION_ADMIN,SYSTEM_VARIABLES_ADMIN "
        "ON *.* TO `root`@`%` WITH GRANT OPTION",
    ])  # fmt: skip
    assert freeze.check_admin(root) == []  # type: ignore[arg-type]
    limited = Grants([
        "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, PROCESS, CREATE USER ON *.* TO `doadmin`@`%` WITH GRANT OPTION",
        "GRANT REPLICATION_SLAVE_ADMIN,ROLE_ADMIN ON *.* TO `doadmin`@`%` WITH GRANT OPTION",
    ])  # fmt: skip
    problems = freeze.check_admin(limited)  # type: ignore[arg-type]
    assert len(problems) == 1 and "CONNECTION_ADMIN" in problems[0]
    nothing = Grants(["GRANT SELECT ON `getprospa`.* TO `kit`@`%`"])
    assert len(freeze.check_admin(nothing)) == 3  # type: ignore[arg-type]
