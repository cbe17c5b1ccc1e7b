"""verify: prove that two servers hold the same rows, chunk by chunk, and locate every difference.

1. Each table is cut into chunks along its key on the source (`next_boundary_sql`); the
   boundaries are written to the checkpoint and used verbatim on both servers.
2. Workers compute each chunk's digest on both servers in SQL (digest.py).
3. A chunk whose digests differ is drilled into: key and row hash of each of its rows on
   both sides name the rows missing on the target, extra on the target, or different
   (and which columns differ). Values never leave the servers.
4. Chunk sizes adapt so a chunk takes about --chunk-time seconds; workers pause while the
   target's Threads_running is above --max-load; a server that goes away is retried, then the
   run stops with the finished chunks kept in the checkpoint for the next run.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import digest
from .checkpoint import Checkpoint, decode_key, display_value, encode_key, lock_checkpoint
from .db import DSN, Connection, with_retries
from .errors import DbkitError, Interrupted
from .names import HEARTBEAT_TABLE
from .output import Progress
from .schema import Table, describe, list_tables

Key = tuple[Any, ...]


@dataclass
class Options:
    checkpoint: Path
    tables: list[str] | None = None
    exclude: list[str] = field(default_factory=list)
    workers: int = 4
    chunk_time: float = 0.5
    chunk_size: int | None = None  # fixed size; None adapts to chunk_time
    min_chunk_rows: int = 100
    max_chunk_rows: int = 250_000
    max_load: int = 25
    retries: int = 3
    sleep: float = 0.0
    nokey: str = "table"  # "table": whole-table digest; "skip": leave unverified
    nokey_max_rows: int = 1_000_000
    max_listed: int = 1000
    restart: bool = False
    progress: bool = False


@dataclass
class TablePlan:
    """One table as both servers hold it, and how it is compared."""

    name: str
    source: Table
    target: Table
    columns: tuple[str, ...]  # compared columns (present on both sides)
    schema_differences: list[str]

    @property
    def keyed(self) -> bool:
        return bool(self.source.key)


@dataclass
class TableResult:
    name: str
    strategy: str
    key: list[str]
    chunks: int = 0
    rows_source: int = 0
    rows_target: int = 0
    mismatched_chunks: int = 0
    missing: dict[Key, str] = field(default_factory=dict)
    extra: dict[Key, str] = field(default_factory=dict)
    different: dict[Key, list[str]] = field(default_factory=dict)
    unlocated: list[str] = field(default_factory=list)
    schema_differences: list[str] = field(default_factory=list)
    status: str = "match"
    note: str = ""


class _Local(threading.local):
    source: Connection | None = None
    target: Connection | None = None


class Verifier:
    def __init__(self, source: DSN, target: DSN, options: Options) -> None:
        self.source_dsn, self.target_dsn, self.opt = source, target, options
        self._local = _Local()
        self._conns: list[Connection] = []
        self._lock = threading.Lock()
        self.throttled_seconds = 0.0
        self._speed: dict[str, float] = {}  # seconds per row, per table
        self.computed_chunks = 0
        self.computed_rows = 0  # source rows of the chunks computed in this run (not resumed)
        self.resumed_chunks = 0
        self.redone: list[tuple[str, int]] = []

    # -- connections -------------------------------------------------------------------
    def _conn(self, role: str) -> Connection:
        current = getattr(self._local, role)
        if current is None:
            current = Connection(self.source_dsn if role == "source" else self.target_dsn)
            setattr(self._local, role, current)
            with self._lock:
                self._conns.append(current)
        return current

    def _query(self, role: str, what: str, fn: Any) -> Any:
        return with_retries(fn, self._conn(role), self.opt.retries, what)

    # -- planning --------------------------------------------------------------------------
    def _plans(self, src: Connection, tgt: Connection) -> tuple[list[TablePlan], list[TableResult]]:
        # The heartbeat's row changes every second (`dbkit lag`): it is never compared.
        source_tables = [t for t in list_tables(src) if t != HEARTBEAT_TABLE]
        target_tables = [t for t in list_tables(tgt) if t != HEARTBEAT_TABLE]
        if self.opt.tables and HEARTBEAT_TABLE in self.opt.tables:
            raise DbkitError(
                f"{HEARTBEAT_TABLE} is dbkit's heartbeat table: its row changes every second, so verify never compares it",
                f"leave {HEARTBEAT_TABLE} out of --tables (`dbkit lag` measures it)",
            )
        wanted = self.opt.tables or source_tables
        unknown = [t for t in wanted if t not in source_tables]
        if unknown:
            raise DbkitError(
                f"{src.dsn.label}: no such table: {', '.join(unknown)}",
                f"the tables there are: {', '.join(source_tables) or '(none)'}",
            )
        wanted = [t for t in wanted if t not in set(self.opt.exclude)]
        plans, results = [], []
        for name in wanted:
            if name not in target_tables:
                results.append(
                    TableResult(name, "none", [], status="missing_on_target", note="the table is missing on the target")
                )
                continue
            s, t = describe(src, name), describe(tgt, name)
            if s.key and not set(s.key) <= set(t.column_names):
                results.append(
                    TableResult(
                        name, "none", list(s.key), status="differences",
                        note=f"key columns {', '.join(s.key)} are missing on the target: not compared",
                    )
                )  # fmt: skip
                continue
            plans.append(self._pair(s, t))
        if not self.opt.tables:
            for name in target_tables:
                if name not in source_tables and name not in self.opt.exclude:
                    results.append(
                        TableResult(
                            name, "none", [], status="extra_on_target", note="the table exists only on the target"
                        )
                    )
        return plans, results

    def _pair(self, s: Table, t: Table) -> TablePlan:
        diffs = []
        target_cols = {c.name: c for c in t.columns}
        columns = tuple(c.name for c in s.columns if c.name in target_cols)
        for c in s.columns:
            other = target_cols.get(c.name)
            if other is None:
                diffs.append(f"column {c.name} is missing on the target")
            elif other.column_type != c.column_type:
                diffs.append(f"column {c.name} is {c.column_type} on the source, {other.column_type} on the target")
            elif other.collation != c.collation:
                diffs.append(
                    f"column {c.name} has collation {c.collation} on the source, {other.collation} on the target"
                )
        for c in t.columns:
            if c.name not in set(s.column_names):
                diffs.append(f"column {c.name} exists only on the target")
        # Chunk along the source's key on both sides; force the target's index over the same
        # columns if it has one (else its optimizer picks a plan).
        target_key_name = None
        if s.key:
            if t.key == s.key:
                target_key_name = t.key_name
            else:
                diffs.append(f"the target's key is ({', '.join(t.key) or 'none'}), the source's ({', '.join(s.key)})")
        target = replace(t, key=s.key, key_name=target_key_name)
        return TablePlan(s.name, s, target, columns, diffs)

    def _fingerprint(self, plans: list[TablePlan], results: list[TableResult]) -> str:
        data = {
            "digest": digest.DIGEST_VERSION,
            "source": self.source_dsn.public(),
            "target": self.target_dsn.public(),
            "tables": [[p.name, list(p.columns), list(p.source.key)] for p in plans],
            "absent": sorted(r.name for r in results),
            "nokey": self.opt.nokey,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    # -- one chunk ----------------------------------------------------------------------------
    def _digests(self, plan: TablePlan, salt: str, n: int, lo: Key | None, hi: Key | None) -> tuple[Any, Any, float]:
        out: dict[str, Any] = {}
        started = time.monotonic()
        # Alternate which server goes first, so both stay busy across workers.
        order = ("source", "target") if n % 2 == 0 else ("target", "source")
        for role in order:
            table = plan.source if role == "source" else plan.target
            conn = self._conn(role)
            sql, args = digest.chunk_digest_sql(table, plan.columns, conn.flavor, salt, lo, hi)
            row = self._query(role, f"chunk {n} of {plan.name}", lambda c, s=sql, a=args: c.row(s, a))
            out[role] = [int(row[0]), str(row[1])]
        return out["source"], out["target"], time.monotonic() - started

    def _row_hashes(self, role: str, plan: TablePlan, salt: str, lo: Key | None, hi: Key | None) -> dict[Key, str]:
        table = plan.source if role == "source" else plan.target
        conn = self._conn(role)
        sql, args = digest.row_hashes_sql(table, plan.columns, conn.flavor, salt, lo, hi)
        rows = self._query(role, f"drill-down of {plan.name}", lambda c: c.rows(sql, args))
        width = len(plan.source.key)
        return {tuple(r[:width]): str(r[width]) for r in rows}

    def _differing_columns(self, plan: TablePlan, keys: list[Key]) -> dict[Key, list[str]]:
        values: dict[str, dict[Key, tuple[Any, ...]]] = {}
        width = len(plan.source.key)
        for role in ("source", "target"):
            table = plan.source if role == "source" else plan.target
            conn = self._conn(role)
            sql, args = digest.column_values_sql(table, plan.columns, conn.flavor, keys)
            rows = self._query(role, f"columns of {plan.name}", lambda c, s=sql, a=args: c.rows(s, a))
            values[role] = {tuple(r[:width]): tuple(r[width:]) for r in rows}
        out = {}
        for key in keys:
            a, b = values["source"].get(key), values["target"].get(key)
            if a is None or b is None:
                out[key] = []
                continue
            out[key] = [c for c, x, y in zip(plan.columns, a, b, strict=True) if x != y]
        return out

    def _throttle(self) -> None:
        if self.opt.max_load <= 0:
            return
        waited = 0.0
        while (
            running := self._query("target", "load check", lambda c: c.status("Threads_running"))
        ) > self.opt.max_load:
            if not waited:
                sys.stderr.write(
                    f"\ndbkit verify: the target is busy (Threads_running {running} > --max-load "
                    f"{self.opt.max_load}): waiting\n"
                )
            time.sleep(0.25)
            waited += 0.25
        if waited:
            with self._lock:
                self.throttled_seconds += waited

    def _chunk(self, plan: TablePlan, salt: str, n: int, lo: Key | None, hi: Key | None) -> dict[str, Any]:
        self._throttle()
        src, tgt, seconds = self._digests(plan, salt, n, lo, hi)
        record: dict[str, Any] = {
            "kind": "chunk", "table": plan.name, "n": n, "source": src, "target": tgt,
            "seconds": round(seconds, 4),
        }  # fmt: skip
        if src != tgt:
            a = self._row_hashes("source", plan, salt, lo, hi)
            b = self._row_hashes("target", plan, salt, lo, hi)
            changed = [k for k in a if k in b and a[k] != b[k]]
            columns = self._differing_columns(plan, changed[:50]) if changed else {}
            record["missing"] = [[encode_key(k), a[k]] for k in a if k not in b]
            record["extra"] = [[encode_key(k), b[k]] for k in b if k not in a]
            record["different"] = [[encode_key(k), columns.get(k)] for k in changed]
        if self.opt.sleep:
            time.sleep(self.opt.sleep)
        with self._lock:
            self._checkpoint.append(record)
            self.computed_chunks += 1
            self.computed_rows += src[0]
            rows = max(src[0], 1)
            self._speed[plan.name] = seconds / rows
        return record

    def _whole_table(self, plan: TablePlan, salt: str) -> dict[str, Any]:
        """Tables without a usable key: one digest over the whole table; rows located by hash."""
        src, tgt, _ = self._digests(plan, salt, 0, None, None)
        record: dict[str, Any] = {"kind": "table", "table": plan.name, "source": src, "target": tgt}
        if src != tgt:
            if max(src[0], tgt[0]) <= self.opt.nokey_max_rows:
                counts = {}
                for role in ("source", "target"):
                    conn = self._conn(role)
                    table = plan.source if role == "source" else plan.target
                    sql = digest.multiset_sql(table, plan.columns, conn.flavor, salt)
                    rows = self._query(role, f"row hashes of {plan.name}", lambda c, s=sql: c.rows(s))
                    counts[role] = {str(h): int(c) for h, c in rows}
                a, b = counts["source"], counts["target"]
                record["missing"] = sorted(h for h in a if a[h] > b.get(h, 0) for _ in range(a[h] - b.get(h, 0)))
                record["extra"] = sorted(h for h in b if b[h] > a.get(h, 0) for _ in range(b[h] - a.get(h, 0)))
            else:
                record["note"] = (
                    f"rows differ; more than --nokey-max-rows={self.opt.nokey_max_rows} rows, so they are "
                    "not located. Add a primary key, or raise --nokey-max-rows"
                )
        with self._lock:
            self._checkpoint.append(record)
            self.computed_chunks += 1
            self.computed_rows += src[0]
        return record

    # -- the run ---------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        # The checkpoint's lock first: a second run on it is refused before it does any work.
        new = not self.opt.checkpoint.exists()
        fd = lock_checkpoint(self.opt.checkpoint)
        try:
            src, tgt = self._conn("source"), self._conn("target")
            plans, absent = self._plans(src, tgt)
            fingerprint = self._fingerprint(plans, absent)
        except BaseException:
            if new and os.fstat(fd).st_size == 0:
                self.opt.checkpoint.unlink(missing_ok=True)  # leave no empty file behind
            os.close(fd)
            for conn in self._conns:
                conn.close()
            raise
        self._checkpoint = Checkpoint(
            self.opt.checkpoint, fingerprint, secrets.token_hex(8), restart=self.opt.restart, fd=fd
        )
        salt = self._checkpoint.salt
        planned: dict[str, dict[int, tuple[Key | None, Key | None]]] = {}
        done: dict[str, dict[int, dict[str, Any]]] = {}
        tables_done: dict[str, dict[str, Any]] = {}
        for rec in self._checkpoint.records:
            if rec["kind"] == "plan":
                planned.setdefault(rec["table"], {})[rec["n"]] = (decode_key(rec["lo"]), decode_key(rec["hi"]))
            elif rec["kind"] == "chunk":
                done.setdefault(rec["table"], {})[rec["n"]] = rec
            elif rec["kind"] == "table":
                tables_done[rec["table"]] = rec
        self.resumed_chunks = sum(len(v) for v in done.values()) + len(tables_done)
        total = sum(p.source.rows_estimate for p in plans)
        progress = Progress(total, enabled=self.opt.progress)
        progress.advance(
            sum(r["source"][0] for d in done.values() for r in d.values())
            + sum(r["source"][0] for r in tables_done.values()),
            self.resumed_chunks,
        )
        results: dict[str, list[dict[str, Any]]] = {p.name: list(done.get(p.name, {}).values()) for p in plans}
        whole: dict[str, dict[str, Any]] = dict(tables_done)
        error: DbkitError | None = None
        limit = max(2, 2 * self.opt.workers)
        pool = ThreadPoolExecutor(max_workers=self.opt.workers, thread_name_prefix="dbkit")
        futures: dict[Future[dict[str, Any]], str] = {}

        def collect(block: bool) -> None:
            nonlocal error
            if not futures:
                return
            finished, _ = wait(list(futures), timeout=None if block else 0, return_when=FIRST_COMPLETED)
            for fut in finished:
                name = futures.pop(fut)
                try:
                    rec = fut.result()
                except DbkitError as exc:
                    error = error or exc
                    continue
                if rec["kind"] == "table":
                    whole[name] = rec
                else:
                    results[name].append(rec)
                progress.advance(rec["source"][0], 1)

        def submit(fn: Any, name: str, *args: Any) -> None:
            while len(futures) >= limit and error is None:
                collect(block=True)
            if error is None:
                futures[pool.submit(fn, *args)] = name

        try:
            planner = src
            for plan in plans:
                if error is not None:
                    break
                if not plan.keyed:
                    if plan.name not in whole and self.opt.nokey == "table":
                        submit(self._whole_table, plan.name, plan, salt)
                    continue
                table_plan = planned.get(plan.name, {})
                finished = done.get(plan.name, {})
                for n in sorted(table_plan):
                    if n not in finished:
                        submit(self._chunk, plan.name, plan, salt, n, *table_plan[n])
                if table_plan:
                    n = max(table_plan) + 1
                    lo = table_plan[n - 1][1]
                    if lo is None:
                        continue  # planning of this table had finished
                else:
                    n, lo = 0, None
                size = self.opt.chunk_size or 1000
                while error is None:
                    if self.opt.chunk_size is None and plan.name in self._speed:
                        wanted = int(self.opt.chunk_time / max(self._speed[plan.name], 1e-9))
                        size = max(self.opt.min_chunk_rows, min(self.opt.max_chunk_rows, wanted, size * 2))
                    sql, args = digest.next_boundary_sql(plan.source, lo, size)
                    row = with_retries(
                        lambda c, s=sql, a=args: c.row(s, a), planner, self.opt.retries, f"chunking {plan.name}"
                    )
                    hi: Key | None = tuple(row) if row else None
                    self._checkpoint.append(
                        {"kind": "plan", "table": plan.name, "n": n, "lo": encode_key(lo), "hi": encode_key(hi)}
                    )
                    submit(self._chunk, plan.name, plan, salt, n, lo, hi)
                    collect(block=False)
                    if hi is None:
                        break
                    n, lo = n + 1, hi
            while futures:
                collect(block=True)
        except DbkitError as exc:
            error = error or exc
            while futures:
                collect(block=True)
        except KeyboardInterrupt:
            error = Interrupted("interrupted", "run the same command again to resume")
            for fut in futures:
                fut.cancel()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            progress.close()
            for conn in self._conns:
                conn.close()
            if error is None:
                self._checkpoint.finish()
            self._checkpoint.close()
        if error is not None:
            kept = self.resumed_chunks + self.computed_chunks
            raise type(error)(
                f"{error.message}; {kept} finished chunks are kept in {self.opt.checkpoint}",
                error.fix or "run the same command again to resume",
            )
        return self._report(plans, absent, results, whole, time.monotonic() - started, src, tgt)

    # -- the report ---------------------------------------------------------------------------------
    def _report(
        self,
        plans: list[TablePlan],
        absent: list[TableResult],
        results: dict[str, list[dict[str, Any]]],
        whole: dict[str, dict[str, Any]],
        seconds: float,
        src: Connection,
        tgt: Connection,
    ) -> dict[str, Any]:
        tables: list[TableResult] = list(absent)
        for plan in plans:
            if not plan.keyed:
                res = TableResult(plan.name, "whole-table", [], schema_differences=plan.schema_differences)
                rec = whole.get(plan.name)
                if rec is None:
                    res.status, res.note = "unverified", "no usable key and --nokey skip: not compared"
                else:
                    res.chunks, res.rows_source, res.rows_target = 1, rec["source"][0], rec["target"][0]
                    if rec["source"] != rec["target"]:
                        res.mismatched_chunks = 1
                        res.unlocated = [f"missing on target (row hash {h})" for h in rec.get("missing", [])]
                        res.unlocated += [f"extra on target (row hash {h})" for h in rec.get("extra", [])]
                        res.note = rec.get("note", "no usable key: rows are identified by their hash")
                tables.append(res)
                continue
            res = TableResult(plan.name, "key", list(plan.source.key), schema_differences=plan.schema_differences)
            for rec in results[plan.name]:
                res.chunks += 1
                res.rows_source += rec["source"][0]
                res.rows_target += rec["target"][0]
                if rec["source"] != rec["target"]:
                    res.mismatched_chunks += 1
                for k, h in rec.get("missing", []):
                    res.missing[decode_key(k)] = h
                for k, h in rec.get("extra", []):
                    res.extra[decode_key(k)] = h
                for k, cols in rec.get("different", []):
                    res.different[decode_key(k)] = cols or []
            # A row counted in different chunks on the two sides (their collations order keys
            # differently) is missing in one chunk and extra in another: reconcile by key.
            for key in list(res.missing):
                if key in res.extra:
                    same = res.missing.pop(key) == res.extra.pop(key)
                    if not same:
                        res.different[key] = []
            tables.append(res)
        for res in tables:
            if res.status == "match" and (
                res.missing
                or res.extra
                or res.different
                or res.unlocated
                or res.mismatched_chunks
                or res.schema_differences
            ):
                res.status = "differences"
        n = self.opt.max_listed

        def keys(res: TableResult, items: Any) -> list[dict[str, Any]]:
            return [dict(zip(res.key, map(display_value, k), strict=True)) for k in sorted(items, key=_sortable)[:n]]

        out_tables = []
        for res in sorted(tables, key=lambda r: r.name):
            entry: dict[str, Any] = {
                "table": res.name, "status": res.status, "strategy": res.strategy, "key": res.key,
                "chunks": res.chunks, "rows_source": res.rows_source, "rows_target": res.rows_target,
                "mismatched_chunks": res.mismatched_chunks,
                "missing_on_target": keys(res, res.missing), "extra_on_target": keys(res, res.extra),
                "different": [
                    {"key": dict(zip(res.key, map(display_value, k), strict=True)), "columns": res.different[k]}
                    for k in sorted(res.different, key=_sortable)[:n]
                ],
                "counts": {"missing_on_target": len(res.missing), "extra_on_target": len(res.extra),
                           "different": len(res.different)},
                "unlocated": res.unlocated[:n], "schema_differences": res.schema_differences,
            }  # fmt: skip
            if res.note:
                entry["note"] = res.note
            out_tables.append(entry)
        statuses = {t["status"] for t in out_tables}
        result = (
            "match"
            if statuses <= {"match"}
            else ("unverified" if statuses <= {"match", "unverified"} else "differences")
        )
        rows = sum(t["rows_source"] for t in out_tables)
        return {
            "tool": "dbkit verify",
            "result": result,
            "source": {**self.source_dsn.public(), "server": src.version},
            "target": {**self.target_dsn.public(), "server": tgt.version},
            "tables": out_tables,
            "summary": {
                "tables": len(out_tables),
                "tables_with_differences": sum(t["status"] != "match" for t in out_tables),
                "chunks": sum(t["chunks"] for t in out_tables),
                "resumed_chunks": self.resumed_chunks,
                "computed_chunks": self.computed_chunks,
                "rows_source": rows,
                "computed_rows": self.computed_rows,
                "seconds": round(seconds, 3),
                # This run's speed: rows resumed from the checkpoint took no time here.
                "rows_per_second": round(self.computed_rows / seconds) if seconds > 0 else 0,
                "throttled_seconds": round(self.throttled_seconds, 2),
                "workers": self.opt.workers,
            },
            "checkpoint": str(self.opt.checkpoint),
        }


def _sortable(key: Key) -> tuple[str, ...]:
    return tuple(f"{type(v).__name__}:{v!r}" for v in key)


def verify(source: DSN, target: DSN, options: Options) -> dict[str, Any]:
    if source.host == target.host and source.port == target.port and source.database == target.database:
        raise DbkitError("source and target are the same database", "point --target at the copy")
    return Verifier(source, target, options).run()
