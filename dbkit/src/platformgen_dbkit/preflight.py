"""preflight: what makes or breaks an AWS DMS migration, checked before it starts.

Every finding names the object it is about and the fix. Severity: `blocker` (the
migration fails or loses data: exit 2), `warning` (needs a decision: exit 1), `info`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .db import DSN, Connection, session
from .errors import EXIT_BLOCKERS, EXIT_OK, EXIT_WARNINGS
from .names import HEARTBEAT_TABLE
from .schema import choose_key, quote

LOB_TYPES = {"tinytext", "text", "mediumtext", "longtext", "tinyblob", "blob", "mediumblob", "longblob", "json"}
_ORDER = {"blocker": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    severity: str  # blocker | warning | info
    check: str
    object: str
    finding: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Settings:
    lob_mode: str = "full"
    lob_max_kb: int = 64
    cdc: bool = True
    binlog_min_hours: int = 24


def exit_code(findings: list[Finding]) -> int:
    severities = {f.severity for f in findings}
    if "blocker" in severities:
        return EXIT_BLOCKERS
    return EXIT_WARNINGS if "warning" in severities else EXIT_OK


def parse_grants(lines: list[str], database: str) -> set[str]:
    """Privileges that apply to `database` from SHOW GRANTS output (global and schema level)."""
    aliases = {"BINLOG MONITOR": "REPLICATION CLIENT", "REPLICATION REPLICA": "REPLICATION SLAVE",
               "SLAVE MONITOR": "REPLICATION CLIENT"}  # fmt: skip
    out: set[str] = set()
    for line in lines:
        m = re.match(r"GRANT (.+?) ON (\S+) TO ", line)
        if not m:
            continue
        scope = m.group(2).replace("`", "")
        if scope not in ("*.*", f"{database}.*"):
            continue
        for priv in re.split(r",\s*(?![^()]*\))", m.group(1)):
            name = re.sub(r"\s*\(.*\)$", "", priv.strip().upper())
            out.add(aliases.get(name, name))
    if "ALL PRIVILEGES" in out or "ALL" in out:
        out |= {"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX",
                "REPLICATION CLIENT", "REPLICATION SLAVE"}  # fmt: skip
    return out


class _Checker:
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.findings: list[Finding] = []

    def add(self, severity: str, check: str, obj: str, finding: str, fix: str) -> None:
        self.findings.append(Finding(severity, check, obj, finding, fix))

    # -- server settings ---------------------------------------------------------------------
    def source_settings(self, c: Connection) -> None:
        where = f"source {c.dsn.host}:{c.dsn.port}"
        cdc = "blocker" if self.s.cdc else "info"
        self.add("info", "server", where, f"{c.flavor} {c.version}", "none")
        if (c.variable("log_bin") or "OFF").upper() != "ON":
            self.add(cdc, "binlog", f"{where} log_bin", "binary logging is off: DMS CDC cannot read changes",
                     "turn binary logging on (DigitalOcean managed MySQL has it on)")  # fmt: skip
        fmt = (c.variable("binlog_format") or "").upper()
        if fmt != "ROW":
            self.add(cdc, "binlog", f"{where} binlog_format", f"binlog_format is {fmt or 'unset'}, DMS CDC needs ROW",
                     "SET GLOBAL binlog_format = 'ROW' (or in the provider's settings)")  # fmt: skip
        image = (c.variable("binlog_row_image") or "").upper()
        if image != "FULL":
            self.add(cdc, "binlog", f"{where} binlog_row_image", f"binlog_row_image is {image or 'unset'}, DMS CDC needs FULL",
                     "SET GLOBAL binlog_row_image = 'FULL'")  # fmt: skip
        seconds = int(c.variable("binlog_expire_logs_seconds") or 0)
        if not seconds:
            seconds = int(float(c.variable("expire_logs_days") or 0) * 86400)
        hours = seconds / 3600
        if seconds and hours < self.s.binlog_min_hours:
            self.add("warning" if self.s.cdc else "info", "binlog", f"{where} binlog retention",
                     f"binlogs are kept {hours:.1f} h; CDC needs them until DMS has read them (wanted: {self.s.binlog_min_hours} h)",
                     "DigitalOcean: raise binlog_retention_period with the API (measure it: defaults purged in ~15 min); "
                     "self-managed: SET GLOBAL binlog_expire_logs_seconds")  # fmt: skip
        elif not seconds:
            self.add("info", "binlog", f"{where} binlog retention", "the server does not expire binlogs by itself",
                     "on DigitalOcean retention is an API setting (binlog_retention_period): check it covers the full load plus a day")  # fmt: skip
        if int(c.variable("server_id") or 0) == 0:
            self.add(cdc, "replication", f"{where} server_id", "server_id is 0: the server cannot act as a replication source",
                     "set server_id to a unique non-zero value")  # fmt: skip
        for var in ("binlog_transaction_compression", "log_bin_compress"):
            if (c.variable(var) or "OFF").upper() == "ON":
                self.add(cdc, "binlog", f"{where} {var}", "binlog compression is on: DMS cannot read compressed binlogs",
                         f"SET GLOBAL {var} = OFF before the migration")  # fmt: skip
        if (c.variable("sql_require_primary_key") or "OFF").upper() == "ON":
            self.add("info", "keys", f"{where} sql_require_primary_key", "sql_require_primary_key is ON (as on DigitalOcean): new tables need a primary key",
                     "none; the key checks below name any older table without one")  # fmt: skip
        for var in ("net_read_timeout", "net_write_timeout"):
            value = int(c.variable(var) or 0)
            if value and value < 300:
                self.add("warning", "timeouts", f"{where} {var}", f"{var} is {value} s; large LOBs and slow loads time out",
                         f"SET GLOBAL {var} = 300 (AWS's recommendation for DMS)")  # fmt: skip
        self.time_zone(c)

    def time_zone(self, c: Connection) -> str:
        where = f"{c.dsn.role} {c.dsn.host}:{c.dsn.port}"
        tz = c.variable("time_zone") or ""
        effective = (c.variable("system_time_zone") or "") if tz.upper() == "SYSTEM" else tz
        if effective.upper() not in ("UTC", "+00:00", "GMT", "ETC/UTC", "Z"):
            self.add("warning", "time zone", f"{where} time_zone",
                     f"the server's time zone is {tz} ({effective}); TIMESTAMP values convert through it",
                     "run the database in UTC, or set serverTimezone in the DMS endpoint's extra connection attributes")  # fmt: skip
        return effective

    def target_settings(self, c: Connection, source: Connection) -> None:
        where = f"target {c.dsn.host}:{c.dsn.port}"
        self.add("info", "server", where, f"{c.flavor} {c.version}", "none")
        if (c.variable("local_infile") or "OFF").upper() != "ON":
            self.add("blocker", "target settings", f"{where} local_infile", "local_infile is off: the DMS full load uses LOAD DATA LOCAL INFILE",
                     "set local_infile = 1 in the target's parameter group while loading")  # fmt: skip
        if (c.variable("require_secure_transport") or "OFF").upper() != "ON":
            self.add("warning", "target settings", f"{where} require_secure_transport", "clients may connect without TLS",
                     "set require_secure_transport = 1 in the parameter group (platformgen's RDS does)")  # fmt: skip
        src_pk = (source.variable("sql_require_primary_key") or "OFF").upper()
        tgt_pk = (c.variable("sql_require_primary_key") or "OFF").upper()
        if src_pk != tgt_pk:
            self.add("warning" if tgt_pk == "ON" else "info", "keys", f"{where} sql_require_primary_key",
                     f"sql_require_primary_key is {src_pk} on the source, {tgt_pk} on the target",
                     "match them; with ON on the target, tables without a primary key cannot be created there")  # fmt: skip
        src_tz = source.variable("time_zone"), source.variable("system_time_zone")
        tgt_tz = c.variable("time_zone"), c.variable("system_time_zone")
        if src_tz != tgt_tz:
            self.add("warning", "time zone", where, f"time zones differ: source {src_tz[0]} ({src_tz[1]}), target {tgt_tz[0]} ({tgt_tz[1]})",
                     "use UTC on both (the target's parameter group: time_zone = UTC)")  # fmt: skip
        else:
            self.time_zone(c)
        for var in ("character_set_server", "collation_server"):
            a, b = source.variable(var), c.variable(var)
            if a != b:
                self.add("warning", "charset", f"{where} {var}", f"{var} is {a} on the source, {b} on the target",
                         f"set {var} = {a} in the target's parameter group, so new tables match")  # fmt: skip

    # -- grants -------------------------------------------------------------------------------
    def grants(self, c: Connection, needed: dict[str, str]) -> None:
        lines = [str(r[0]) for r in c.rows("SHOW GRANTS")]
        have = parse_grants(lines, c.dsn.database)
        who = f"{c.dsn.role} user {c.dsn.user}"
        for priv, why in needed.items():
            if priv not in have:
                sev = "blocker" if why.startswith("!") else "warning"
                self.add(sev, "grants", who, f"missing {priv}: {why.lstrip('!')}",
                         f"GRANT {priv} ON {'*.*' if 'REPLICATION' in priv else quote(c.dsn.database) + '.*'} TO the user "
                         "(privileges through roles are not expanded here: check SHOW GRANTS ... USING)")  # fmt: skip

    # -- tables -------------------------------------------------------------------------------
    def tables(self, c: Connection, target: Connection | None) -> None:
        db = c.dsn.database
        target_pk_required = (
            target is not None and (target.variable("sql_require_primary_key") or "OFF").upper() == "ON"
        )
        tables = c.rows(
            "SELECT TABLE_NAME, ENGINE, COALESCE(TABLE_ROWS, 0), COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0), "
            "AUTO_INCREMENT, TABLE_COLLATION FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME <> %s ORDER BY TABLE_NAME",
            (HEARTBEAT_TABLE,),
        )
        target_collations = {}
        if target is not None:
            target_collations = {
                str(n): coll for n, coll in target.rows(
                    "SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
                )
            }  # fmt: skip
        columns: dict[str, list[tuple[str, str, str | None, str | None, bool]]] = {}
        for t, col, dtype, charset, collation, generated in c.rows(
            "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, CHARACTER_SET_NAME, COLLATION_NAME, "
            "COALESCE(GENERATION_EXPRESSION, '') <> '' FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION"
        ):
            columns.setdefault(str(t), []).append((str(col), str(dtype).lower(), charset, collation, bool(generated)))
        for name, engine, rows, size, auto_inc, collation in tables:
            name = str(name)
            obj = f"{db}.{name}"
            self.add("info", "size", obj, f"about {int(rows):,} rows, {int(size) / 1048576:,.1f} MiB (data + indexes)",
                     "none; plan DMS parallel load (table-level) for the largest tables")  # fmt: skip
            key_name, _ = choose_key(c, name)
            if key_name is None:
                self.add("blocker" if target_pk_required else "warning", "keys", obj,
                         "no primary key or NOT NULL unique key: DMS validation and CDC updates need one"
                         + ("; the target has sql_require_primary_key = ON, so creating it fails" if target_pk_required else ""),
                         "add a primary key (an invisible BIGINT AUTO_INCREMENT column works) before the migration")  # fmt: skip
            elif key_name != "PRIMARY":
                self.add("info", "keys", obj, f"no primary key; unique key {key_name} is used instead",
                         "add a primary key if the target requires one (sql_require_primary_key)")  # fmt: skip
            if str(engine or "").upper() != "INNODB":
                self.add("warning", "engine", obj, f"engine is {engine}, not InnoDB: no transactions, no consistent snapshot",
                         f"ALTER TABLE {quote(name)} ENGINE=InnoDB before the migration")  # fmt: skip
            if auto_inc is not None:
                self.add("info", "auto_increment", obj, f"AUTO_INCREMENT counter is {auto_inc}; DMS does not carry the attribute or the counter",
                         "create the target schema with `dbkit schema copy` before the load (it keeps AUTO_INCREMENT columns), and at cutover "
                         f"ALTER TABLE {quote(name)} AUTO_INCREMENT = (SELECT MAX + 1) on the target")  # fmt: skip
            if target is not None and name in target_collations and target_collations[name] != collation:
                self.add("warning", "charset", obj, f"table collation is {collation} on the source, {target_collations[name]} on the target",
                         "create the target table with the source's charset and collation (`dbkit schema copy` does, onto an empty target)")  # fmt: skip
            lobs = []
            for col, dtype, charset, col_collation, generated in columns.get(name, []):
                cobj = f"{obj}.{col}"
                if charset is not None and charset != "utf8mb4":
                    self.add("warning", "charset", cobj, f"character set is {charset} ({col_collation}), not utf8mb4",
                             "keep the same charset on the target (DMS converts to the target's), or convert to utf8mb4 first")  # fmt: skip
                if generated:
                    self.add("warning", "generated column", cobj, "generated column: DMS cannot insert into it",
                             "create the target table (with the column) before the load with `dbkit schema copy`, and leave the column out of the table mapping")  # fmt: skip
                if dtype in LOB_TYPES:
                    lobs.append(col)
            if lobs:
                self.lob_sizes(c, name, lobs)
        self.programs(c)

    def lob_sizes(self, c: Connection, table: str, lobs: list[str]) -> None:
        """The largest value of each LOB column, against the DMS LOB limit (a full scan of the table)."""
        limit = self.s.lob_max_kb * 1024
        sizes = c.row(
            f"SELECT {', '.join(f'COALESCE(MAX(LENGTH({quote(col)})), 0)' for col in lobs)} FROM {quote(table)}"
        )
        for col, size in zip(lobs, sizes or (), strict=True):
            obj = f"{c.dsn.database}.{table}.{col}"
            size = int(size)
            if self.s.lob_mode == "limited" and size > limit:
                self.add("blocker", "lob", obj, f"largest value is {size:,} bytes, above the limited-LOB-mode limit of "
                         f"{limit:,} bytes: DMS truncates it with only a log warning",
                         f"raise migration.dms.lobMaxSizeKb to at least {-(-size // 1024)}, or use lobMode: full")  # fmt: skip
            elif size > limit:
                self.add("info", "lob", obj, f"largest value is {size:,} bytes (LOB chunk size {limit:,}): full LOB mode copies it in pieces",
                         "none; full LOB mode is slower for many large values")  # fmt: skip

    def programs(self, c: Connection) -> None:
        db = c.dsn.database
        definers: dict[str, list[str]] = {}
        for name, table, definer in c.rows(
            "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, DEFINER FROM information_schema.TRIGGERS "
            "WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY TRIGGER_NAME"
        ):
            definers.setdefault(str(definer), []).append(f"trigger {name}")
            self.add("warning", "trigger", f"{db}.{name} (on {table})", "DMS does not migrate triggers; on the target they would fire during the load",
                     "create triggers on the target after the full load, just before cutover")  # fmt: skip
        for name, kind, definer in c.rows(
            "SELECT ROUTINE_NAME, ROUTINE_TYPE, DEFINER FROM information_schema.ROUTINES "
            "WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_NAME"
        ):
            definers.setdefault(str(definer), []).append(f"{str(kind).lower()} {name}")
            self.add("warning", "routine", f"{db}.{name}", f"{str(kind).lower()}: DMS does not migrate stored programs",
                     "create it on the target from the schema dump (mysqldump --routines --no-data)")  # fmt: skip
        for name, definer, status in c.rows(
            "SELECT EVENT_NAME, DEFINER, STATUS FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE() ORDER BY EVENT_NAME"
        ):
            definers.setdefault(str(definer), []).append(f"event {name}")
            self.add("warning", "event", f"{db}.{name}", f"scheduled event ({status}): DMS does not migrate events",
                     "create it on the target DISABLED, and enable it at cutover (never on both sides)")  # fmt: skip
        for name, definer in c.rows(
            "SELECT TABLE_NAME, DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME"
        ):
            definers.setdefault(str(definer), []).append(f"view {name}")
            self.add(
                "warning",
                "view",
                f"{db}.{name}",
                "DMS does not migrate views",
                "create views on the target from the schema dump",
            )
        for definer, objects in sorted(definers.items()):
            self.add("warning", "definer", definer, f"definer of {', '.join(objects)}",
                     "create this account on the target (or recreate the objects with SQL SECURITY INVOKER or a target account)")  # fmt: skip
        for table, name, upd, dele, ref in c.rows(
            "SELECT TABLE_NAME, CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE, REFERENCED_TABLE_NAME "
            "FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() "
            "AND (UPDATE_RULE IN ('CASCADE', 'SET NULL') OR DELETE_RULE IN ('CASCADE', 'SET NULL')) ORDER BY TABLE_NAME, CONSTRAINT_NAME"
        ):
            self.add("warning", "foreign key", f"{db}.{table}.{name} (-> {ref})",
                     f"ON UPDATE {upd} / ON DELETE {dele}: CDC replays the child changes too, so cascades on the target apply twice",
                     "create foreign keys on the target after the full load, or keep them off (foreign_key_checks=0) during CDC")  # fmt: skip
        for table, index, col, sub in c.rows(
            "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = DATABASE() AND SUB_PART IS NOT NULL ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
        ):
            self.add("warning", "prefix index", f"{db}.{table}.{index}", f"prefix index on {col}({sub}): DMS does not create it",
                     "create the target schema (with its indexes) before the load: `dbkit schema copy`")  # fmt: skip


SOURCE_GRANTS = {
    "SELECT": "!DMS reads every table",
    "REPLICATION CLIENT": "!DMS CDC reads binlog positions",
    "REPLICATION SLAVE": "!DMS CDC streams the binlog",
}
TARGET_GRANTS = {
    p: "DMS writes the target schema"
    for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX")
}


def run_preflight(source: DSN, target: DSN | None, settings: Settings) -> list[Finding]:
    checker = _Checker(settings)
    with session(source) as src:
        checker.source_settings(src)
        needed = SOURCE_GRANTS if settings.cdc else {"SELECT": SOURCE_GRANTS["SELECT"]}
        checker.grants(src, needed)
        if target is not None:
            with session(target) as tgt:
                checker.target_settings(tgt, src)
                checker.grants(tgt, TARGET_GRANTS)
                checker.tables(src, tgt)
        else:
            checker.tables(src, None)
    return sorted(checker.findings, key=lambda f: (_ORDER[f.severity], f.check, f.object))
