"""verify against two real servers: every planted difference found and located, nothing else."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from platformgen_dbkit import digest
from platformgen_dbkit.db import Connection
from platformgen_dbkit.schema import describe, quote

import dataset
from conftest import KIT, run_dbkit, verify_json

TABLES = "hard_cases,composite,nokey,same_rows,empty_table"


def _keys(table: dict[str, Any], kind: str) -> set[tuple[Any, ...]]:
    return {tuple(k.values()) for k in table[kind]}


def _by_table(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["table"]: t for t in report["tables"]}


def assert_planted(report: dict[str, Any]) -> None:
    tables = _by_table(report)
    for name, planted in dataset.PLANTED.items():
        t = tables[name]
        assert t["status"] == "differences", t
        assert _keys(t, "missing_on_target") == planted["missing"], name
        assert _keys(t, "extra_on_target") == planted["extra"], name
        found = {tuple(d["key"].values()): d["columns"] for d in t["different"]}
        assert found == planted["different"], name
    nokey = tables["nokey"]
    assert nokey["strategy"] == "whole-table" and nokey["status"] == "differences"
    assert len(nokey["unlocated"]) == 2, nokey  # the changed row: one missing, one extra hash
    for name in ("same_rows", "empty_table"):
        assert tables[name]["status"] == "match", tables[name]
    assert tables["same_rows"]["rows_source"] == tables["same_rows"]["rows_target"] == 1200
    assert report["result"] == "differences"


def test_every_planted_difference_is_found_by_key(loaded: Any, dsns: tuple[str, str], tmp_path: Path) -> None:
    code, report, err = verify_json(
        dsns, tmp_path / "cp.jsonl", "--tables", TABLES, "--chunk-size", str(dataset.CHUNK), "--workers", "3"
    )
    assert code == 1, err
    assert_planted(report)
    hard = _by_table(report)["hard_cases"]
    assert hard["rows_source"] == dataset.ROWS
    assert hard["rows_target"] == dataset.ROWS  # one missing, one extra
    # ids 1..3000 in chunks of 100: differences in chunks 0, 2, 5, 6, 7, 8, 9 and the last
    assert hard["chunks"] == dataset.ROWS // dataset.CHUNK
    assert hard["mismatched_chunks"] == 8


def test_adaptive_chunks_find_the_same(loaded: Any, dsns: tuple[str, str], tmp_path: Path) -> None:
    code, report, err = verify_json(dsns, tmp_path / "cp.jsonl", "--tables", TABLES, "--chunk-time", "0.05")
    assert code == 1, err
    assert_planted(report)


def test_identical_tables_exit_zero(loaded: Any, dsns: tuple[str, str], tmp_path: Path) -> None:
    written = tmp_path / "reports" / "verify.json"
    code, report, err = verify_json(
        dsns,
        tmp_path / "cp.jsonl",
        "--tables",
        "same_rows,empty_table",
        "--chunk-size",
        "100",
        "--report",
        str(written),
    )
    assert code == 0, err
    assert report["result"] == "match"
    assert json.loads(written.read_text()) == report
    assert written.stat().st_mode & 0o777 == 0o600 == (tmp_path / "cp.jsonl").stat().st_mode & 0o777
    assert report["summary"]["chunks"] == 12 + 1


def _xor_crc32_sql(table: Any, columns: list[str]) -> str:
    """pt-table-checksum's per-row CRC32, XOR-folded: the comparison this test makes (not in the kit)."""
    cols = ", ".join(quote(c) for c in columns)
    nulls = ", ".join(f"ISNULL({quote(c)})" for c in columns if table.column(c).nullable)
    text = f"CONCAT_WS('#', {cols}{', CONCAT(' + nulls + ')' if nulls else ''})"
    return f"SELECT COUNT(*), BIT_XOR(CAST(CRC32({text}) AS UNSIGNED)) FROM {quote(table.name)}"


def test_swapped_rows_defeat_xor_crc32_but_not_the_digest(loaded: Any, conns: tuple[Connection, Connection]) -> None:
    """The reason for the digest's design: pt-table-checksum's fold cancels, ours does not."""
    source, target = conns
    table = describe(source, "hard_cases")
    columns = ["id", "s"]  # the rows as pt-table-checksum hashes them: key and swapped column
    crc = _xor_crc32_sql(table, columns) + " WHERE id BETWEEN 510 AND 511"
    assert source.row(crc) == target.row(crc)  # XOR-folded CRC32 sees no difference
    ours = [c.row(*digest.chunk_digest_sql(table, columns, c.flavor, "salt", (510,), (512,))) for c in (source, target)]
    assert ours[0] != ours[1]


def test_timestamps_compare_as_instants_whatever_the_time_zones(
    loaded: Any, conns: tuple[Connection, Connection]
) -> None:
    """The target's rows were written from another session time zone; the digest still matches."""
    source, target = conns
    table = describe(source, "hard_cases")
    sql, args = digest.chunk_digest_sql(table, ["id", "instant"], source.flavor, "s", (1000,), (1100,))
    assert source.row(sql, args) == target.row(sql, args)
    target.rows("SET time_zone = '+05:00'")
    try:  # a session that skipped dbkit's time_zone setting would see other text
        assert source.row(sql, args) != target.row(sql, args)
    finally:
        target.rows("SET time_zone = '+00:00'")


def test_kill_9_then_resume_redoes_no_finished_chunk(loaded: Any, dsns: tuple[str, str], tmp_path: Path) -> None:
    checkpoint = tmp_path / "cp.jsonl"
    args = ["--tables", TABLES, "--chunk-size", "50", "--workers", "2", "--sleep", "0.05"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "platformgen_dbkit", "verify", "--source", dsns[0], "--target", dsns[1],
         "--checkpoint", str(checkpoint), "--json", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(KIT / "src")},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _done_chunks(checkpoint) < 10:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _done_chunks(checkpoint)
    assert before >= 10, "verify finished no chunk before the kill"
    first = {(r["table"], r["n"]) for r in _records(checkpoint) if r["kind"] == "chunk"}
    code, report, err = verify_json(dsns, checkpoint, *args[:-2])
    assert code == 1, err
    assert_planted(report)
    summary = report["summary"]
    assert summary["resumed_chunks"] == before
    assert summary["resumed_chunks"] + summary["computed_chunks"] == summary["chunks"]
    done = [(r["table"], r["n"]) for r in _records(checkpoint) if r["kind"] == "chunk"]
    assert len(done) == len(set(done)), "a finished chunk was verified twice"
    assert first <= set(done)


def test_target_going_away_keeps_finished_chunks_and_resumes(
    loaded: Any, parsed: Any, dsns: tuple[str, str], tmp_path: Path
) -> None:
    """The network path to the target is cut mid-run: a clear error, the finished chunks kept;
    once it is back, the same command resumes and completes."""
    from proxy import Proxy

    t = parsed[1]
    proxy = Proxy(t.host, t.port)
    proxy.start()
    via_proxy = f"mysql://{t.user}:{t.password}@127.0.0.1:{proxy.port}/{t.database}"
    checkpoint = tmp_path / "cp.jsonl"
    cmd = [sys.executable, "-m", "platformgen_dbkit", "verify", "--source", dsns[0], "--target", via_proxy,
           "--checkpoint", str(checkpoint), "--json", "--tables", TABLES, "--chunk-size", "50", "--retries", "1"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(KIT / "src")}
    run = subprocess.Popen(
        [*cmd, "--sleep", "0.05"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    deadline = time.monotonic() + 60
    while _done_chunks(checkpoint) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    proxy.stop()
    _, err = run.communicate(timeout=120)
    kept = _done_chunks(checkpoint)
    assert run.returncode == 3, err
    assert f"target 127.0.0.1:{proxy.port}/{t.database}" in err and "Traceback" not in err, err
    assert f"finished chunks are kept in {checkpoint}" in err, err
    assert 10 <= kept < 60
    proxy.start()  # the same port again
    try:
        resumed = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    finally:
        proxy.stop()
    assert resumed.returncode == 1, resumed.stderr
    report = json.loads(resumed.stdout)
    assert_planted(report)
    assert report["summary"]["resumed_chunks"] == kept


def test_throttles_while_the_target_is_busy(loaded: Any, dsns: tuple[str, str], conns: Any, tmp_path: Path) -> None:
    from platformgen_dbkit.db import parse_dsn

    target = conns[1]
    baseline = min(target.status("Threads_running") for _ in range(5))  # with verify's own check
    busy = [Connection(parse_dsn(dsns[1], "target")) for _ in range(2)]
    blockers = [threading.Thread(target=lambda c=c: c.rows("SELECT SLEEP(4)")) for c in busy]
    for b in blockers:
        b.start()
    time.sleep(0.3)
    try:
        code, report, err = verify_json(
            dsns, tmp_path / "cp.jsonl", "--tables", "same_rows", "--max-load", str(baseline), "--workers", "1"
        )
    finally:
        for b in blockers:
            b.join()
        for c in busy:
            c.close()
    assert code == 0, err
    assert report["summary"]["throttled_seconds"] > 0, (baseline, err)  # it waited for the target
    assert "waiting" in err


def test_tables_without_a_key(loaded: Any, dsns: tuple[str, str], tmp_path: Path) -> None:
    code, report, err = verify_json(dsns, tmp_path / "a.jsonl", "--tables", "nokey,same_rows", "--nokey", "skip")
    assert code == 1, err
    tables = _by_table(report)
    assert tables["nokey"]["status"] == "unverified" and report["result"] == "unverified"
    assert tables["same_rows"]["status"] == "match"
    code, report, err = verify_json(dsns, tmp_path / "b.jsonl", "--tables", "nokey", "--nokey-max-rows", "10")
    assert code == 1, err
    nokey = _by_table(report)["nokey"]
    assert nokey["status"] == "differences" and nokey["unlocated"] == []
    assert "not located" in nokey["note"]


def test_progress_bar_on_a_terminal(loaded: Any, dsns: tuple[str, str], tmp_path: Path) -> None:
    import pty

    master, slave = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "platformgen_dbkit", "verify", "--source", dsns[0], "--target", dsns[1],
         "--checkpoint", str(tmp_path / "cp.jsonl"), "--tables", "same_rows", "--chunk-size", "100"],
        stdout=subprocess.PIPE, stderr=slave, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(KIT / "src")},
    )  # fmt: skip
    os.close(slave)
    shown = b""
    with contextlib.suppress(OSError):
        while chunk := os.read(master, 65536):
            shown += chunk
    os.close(master)
    assert proc.returncode == 0
    assert b"rows/s" in shown and b"[####" in shown and b"chunks" in shown, shown
    assert "MATCH: 1,200 rows in 12 chunks" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "postgres://u@h/db"], "must start with mysql://"),
        (["--source", "mysql://root@127.0.0.1:1/x"], "cannot connect"),
        (["--source", "mysql://root@127.0.0.1:99999/x"], "malformed"),
        (["--source", "mysql://127.0.0.1:3306/x"], "has no user"),
        (["--source", "mysql://root@127.0.0.1:3306/"], "names no database"),
        (["--tables", "no_such_table"], "no such table: no_such_table"),
        (["--workers", "0"], "must be at least 1"),
    ],
)
def test_bad_input_gets_a_clear_error(
    loaded: Any, dsns: tuple[str, str], tmp_path: Path, args: list[str], message: str
) -> None:
    base = {"--source": dsns[0], "--target": dsns[1], "--tables": "same_rows"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [x for kv in base.items() for x in kv]
    code, _, err = verify_json(("", ""), tmp_path / "cp.jsonl", *flat)
    assert code == 3
    assert message in err
    assert "Traceback" not in err


def test_schema_differences_are_differences(loaded: Any, conns: Any, dsns: tuple[str, str], tmp_path: Path) -> None:
    """Equal rows in unequal tables do not make a match: the report names the schema difference."""
    source, target = conns
    for conn, extra in ((source, ""), (target, ", extra INT NULL")):
        conn.rows("DROP TABLE IF EXISTS schema_diff")
        conn.rows(f"CREATE TABLE schema_diff (id INT NOT NULL PRIMARY KEY, v VARCHAR(10){extra})")
        conn.rows("INSERT INTO schema_diff (id, v) VALUES (1, 'a'), (2, 'b')")
    try:
        code, report, err = verify_json(dsns, tmp_path / "cp.jsonl", "--tables", "schema_diff")
    finally:
        for conn in conns:
            conn.rows("DROP TABLE schema_diff")
    assert code == 1, err
    table = _by_table(report)["schema_diff"]
    assert table["status"] == "differences"
    assert table["schema_differences"] == ["column extra exists only on the target"]
    assert table["counts"] == {"missing_on_target": 0, "extra_on_target": 0, "different": 0}


def test_a_target_without_the_key_columns_is_a_difference(
    loaded: Any, conns: Any, dsns: tuple[str, str], tmp_path: Path
) -> None:
    source, target = conns
    source.rows("CREATE TABLE key_gone (id INT NOT NULL PRIMARY KEY, v INT)")
    target.rows("CREATE TABLE key_gone (v INT)")
    try:
        code, report, err = verify_json(dsns, tmp_path / "cp.jsonl", "--tables", "key_gone,same_rows")
    finally:
        for conn in conns:
            conn.rows("DROP TABLE key_gone")
    assert code == 1, err
    tables = _by_table(report)
    assert tables["key_gone"]["status"] == "differences"
    assert "key columns id are missing on the target" in tables["key_gone"]["note"]
    assert tables["same_rows"]["status"] == "match"  # the other tables are still compared


def test_wrong_password_and_unknown_database(loaded: Any, parsed: Any, dsns: tuple[str, str], tmp_path: Path) -> None:
    s = parsed[0]
    wrong = f"mysql://{s.user}:wrong-password@{s.host}:{s.port}/{s.database}"
    code, _, err = verify_json((wrong, dsns[1]), tmp_path / "a.jsonl")
    assert code == 3 and "access denied" in err
    nodb = f"mysql://{s.user}:{s.password}@{s.host}:{s.port}/no_such_database"
    code, _, err = verify_json((nodb, dsns[1]), tmp_path / "b.jsonl")
    assert code == 3 and "does not exist" in err


def test_required_tls_is_enforced(loaded: Any, conns: tuple[Connection, Connection], dsns: tuple[str, str]) -> None:
    """ssl-mode=REQUIRED either gets TLS or refuses: never a silent plain-text session."""
    offers_tls = (conns[0].variable("have_ssl") or "").upper() == "YES"
    sep = "&" if "?" in dsns[0] else "?"
    proc = run_dbkit("preflight", "--source", f"{dsns[0]}{sep}ssl-mode=REQUIRED", "--json")
    if offers_tls:
        assert proc.returncode in (0, 1, 2), proc.stderr
    else:
        assert proc.returncode == 3 and "offers no TLS" in proc.stderr, proc.stderr


def test_checkpoint_of_an_unfinished_other_run_is_refused(loaded: Any, dsns: tuple[str, str], tmp_path: Path) -> None:
    checkpoint = tmp_path / "cp.jsonl"
    code, _, err = verify_json(dsns, checkpoint, "--tables", "same_rows")
    assert code == 0, err
    code, again, err = verify_json(dsns, checkpoint, "--tables", "same_rows")
    assert code == 0 and again["summary"]["resumed_chunks"] == 0, "a finished run was resumed, not redone"
    lines = checkpoint.read_text().splitlines()
    checkpoint.write_text("\n".join(lines[:-3]) + "\n")  # as if killed before the end
    code, _, err = verify_json(dsns, checkpoint, "--tables", "empty_table")
    assert code == 3 and "belongs to an unfinished run" in err
    code, report, err = verify_json(dsns, checkpoint, "--tables", "empty_table", "--restart")
    assert code == 0 and report["summary"]["resumed_chunks"] == 0, err


def _records(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            break
    return out


def _done_chunks(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(1 for r in _records(path) if r.get("kind") in ("chunk", "table"))
