"""Checks of the `migration:` section: the DMS source's CA file, the table selection and the
target environment's migration window (infra/docs/adr/0013-dms-migration.md in a generated
repository).

The window is a policy: `open` turns `local_infile` on in the target environment's RDS
parameter group (DMS loads a MySQL target with LOAD DATA LOCAL INFILE), which the platform
otherwise keeps off. So `open` needs a last day (`windowUntil`), at most
`WINDOW_MAX_DAYS` ahead of the validation's as-of date, and validation fails once that day
has passed: the window cannot stay open by accident after cutover.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterator
from pathlib import PurePosixPath

from .context import Context, check
from .diagnostics import Diagnostic

HEARTBEAT_TABLE = "dbkit_heartbeat"
"""The kit's heartbeat table (platformgen_dbkit.names.HEARTBEAT_TABLE; a test keeps them equal)."""

WINDOW_MAX_DAYS = 60
"""How far ahead windowUntil may lie: a full load plus weeks of CDC, not a standing setting."""


def dms_pattern_matches(pattern: str, table: str) -> bool:
    """Whether a DMS table-name pattern (% = any run of characters) selects `table`.
    MySQL table names are case-insensitive on RDS's default lower_case_table_names."""
    glob = pattern.replace("[", "[[]").replace("*", "[*]").replace("?", "[?]").replace("%", "*")
    return fnmatch.fnmatchcase(table.lower(), glob.lower())


@check
def migration_ca_certificate(ctx: Context) -> Iterator[Diagnostic]:
    migration = ctx.raw.get("migration")
    if not migration or "source" not in migration:
        return
    source = migration["source"]
    path = ("migration", "source", "caCertificate")
    value = source.get("caCertificate")
    if value is not None and isinstance(value, str):
        parts = PurePosixPath(value).parts
        if ".." in parts or value.startswith("/") or (parts and parts[0] == ".git"):
            yield ctx.finding(
                "error",
                "semantic.migration-ca-path",
                path,
                f"caCertificate '{value}' points outside the repository's files "
                "(absolute, '..' or .git)",
                "give a path inside the repository, for example database/digitalocean-ca.pem",
            )
    if value is not None and source.get("tls") == "required":
        yield ctx.finding(
            "warning",
            "semantic.migration-ca-unused",
            path,
            "tls is 'required', which encrypts without checking the server's certificate, "
            "so caCertificate is not used",
            "set tls: verify-full (recommended: DigitalOcean's endpoint is public) or remove "
            "caCertificate",
            key=True,
        )


@check
def migration_tables(ctx: Context) -> Iterator[Diagnostic]:
    migration = ctx.raw.get("migration")
    if not migration or not isinstance(migration.get("tables"), dict):
        return
    tables = migration["tables"]
    include = [p for p in tables.get("include", ["%"]) if isinstance(p, str)]
    exclude = [p for p in tables.get("exclude", []) if isinstance(p, str)]
    for i, pattern in enumerate(exclude):
        path = ("migration", "tables", "exclude", i)
        if dms_pattern_matches(pattern, HEARTBEAT_TABLE):
            yield ctx.finding(
                "error",
                "semantic.migration-heartbeat-excluded",
                path,
                f"exclude pattern '{pattern}' matches the kit's heartbeat table "
                f"{HEARTBEAT_TABLE}, which DMS must copy: `dbkit lag` and `dbkit cutover` "
                "read it on the target",
                f"narrow the pattern so it does not match {HEARTBEAT_TABLE} (DMS selects the "
                "heartbeat table with its own rule either way)",
            )
        if pattern in include:
            yield ctx.finding(
                "error",
                "semantic.migration-table-both",
                path,
                f"'{pattern}' is both included and excluded (exclude wins, so the include does "
                "nothing)",
                "remove it from one of the two lists",
            )
    if "%" in exclude:
        return
    for i, pattern in enumerate(include):
        if pattern != "%" and "%" in include:
            yield ctx.finding(
                "warning",
                "semantic.migration-table-redundant",
                ("migration", "tables", "include", i),
                f"include pattern '{pattern}' adds nothing: '%' already selects every table",
                "remove it, or replace '%' with the tables to copy",
            )


@check
def migration_window(ctx: Context) -> Iterator[Diagnostic]:
    migration = ctx.raw.get("migration")
    if not migration:
        return
    window = migration.get("window", "closed")
    until_raw = migration.get("windowUntil")
    until: dt.date | None = None
    if isinstance(until_raw, str):
        try:
            until = dt.date.fromisoformat(until_raw)
        except ValueError:
            yield ctx.finding(
                "error",
                "semantic.migration-window-date",
                ("migration", "windowUntil"),
                f"windowUntil '{until_raw}' is not a calendar date",
                "write a real day as YYYY-MM-DD, for example 2026-12-14",
            )
            return
    elif isinstance(until_raw, dt.date):  # YAML reads an unquoted date as a date
        until = until_raw
    if window == "open":
        if until is None:
            yield ctx.finding(
                "error",
                "policy.migration-window-unbounded",
                ("migration", "window"),
                "the migration window is open with no end: local_infile would stay on in "
                "the target environment's database until someone remembers to close it",
                "add migration.windowUntil: <last day, YYYY-MM-DD> (at most "
                f"{WINDOW_MAX_DAYS} days ahead), and set window: closed after cutover",
            )
        elif until < ctx.as_of:
            yield ctx.finding(
                "error",
                "policy.migration-window-expired",
                ("migration", "windowUntil"),
                f"the migration window was to close on {until.isoformat()}, but it is still "
                f"open on {ctx.as_of.isoformat()}: local_infile is still on in the target "
                "environment's database",
                "after cutover set window: closed (and remove windowUntil); if the migration "
                "is still running, move windowUntil to its new last day deliberately",
            )
        elif (until - ctx.as_of).days > WINDOW_MAX_DAYS:
            yield ctx.finding(
                "error",
                "policy.migration-window-too-long",
                ("migration", "windowUntil"),
                f"windowUntil {until.isoformat()} is {(until - ctx.as_of).days} days away; a "
                f"migration window may be open for at most {WINDOW_MAX_DAYS} days at a time",
                f"pick a day within {WINDOW_MAX_DAYS} days and move it later if the migration "
                "needs longer",
            )
    elif until_raw is not None:
        yield ctx.finding(
            "warning",
            "semantic.migration-window-until-unused",
            ("migration", "windowUntil"),
            "windowUntil is set but the window is closed, so it is not used",
            "remove windowUntil (it belongs with window: open)",
            key=True,
        )
