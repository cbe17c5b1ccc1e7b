"""`dbkit lag` on two MariaDB servers with native replication standing in for DMS CDC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import KIT, run_dbkit
from replication import ORDERS, Pair, replicated_pair


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with replicated_pair(tmp_path_factory.mktemp("lag")) as p:
        p.source.execute(ORDERS, "app")
        yield p


def _writes(pair: Pair, stop: threading.Event) -> None:
    """A steady write load on the source (as root: lag does not care who writes)."""
    n = 0
    while not stop.is_set():
        n += 1
        pair.source.execute(f"INSERT INTO orders (token, amount) VALUES (MD5('{n}-{time.time()}'), {n})", "app")
        time.sleep(0.02)


def test_lag_rises_while_replication_stops_and_drains_after(pair: Pair) -> None:
    env = {**os.environ, "PYTHONPATH": str(KIT / "src"), "DBKIT_SOURCE_DSN": pair.source_dsn,
           "DBKIT_TARGET_DSN": pair.target_dsn}  # fmt: skip
    stop = threading.Event()
    load = threading.Thread(target=_writes, args=(pair, stop), daemon=True)
    load.start()
    proc = subprocess.Popen(
        [sys.executable, "-m", "platformgen_dbkit", "lag", "--json", "--interval", "0.2", "--duration", "7"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    phases: list[tuple[float, str]] = []
    try:
        time.sleep(2.0)
        pair.stop_replication()
        phases.append((time.monotonic(), "stopped"))
        time.sleep(2.5)
        pair.start_replication()
        phases.append((time.monotonic(), "started"))
        out, err = proc.communicate(timeout=60)
    finally:
        stop.set()
        load.join()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    samples = [json.loads(line) for line in out.splitlines()]
    assert len(samples) >= 20, out
    assert all(set(s) == {"at", "seq_source", "seq_target", "lag_seconds"} for s in samples)
    lags = [s["lag_seconds"] for s in samples]
    assert None not in lags, "the heartbeat must reach the target"
    # Replicating: under a beat interval. Stopped: it climbs past 2 s. Restarted: drained.
    assert max(lags[:5]) < 0.5, lags
    peak = max(lags)
    assert peak >= 2.0, lags
    top = lags.index(peak)
    assert lags[top - 5 : top + 1] == sorted(lags[top - 5 : top + 1]), f"lag rises steadily while stopped: {lags}"
    assert max(lags[-5:]) < 0.5, f"drained after the restart: {lags}"
    seqs = [s["seq_source"] for s in samples]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_max_lag_sets_the_exit_code(pair: Pair) -> None:
    args = ("lag", "--source", pair.source_dsn, "--target", pair.target_dsn, "--interval", "0.2", "--duration", "1")
    assert run_dbkit(*args, "--max-lag", "0.5").returncode == 0
    pair.stop_replication()
    try:
        proc = run_dbkit(*args, "--duration", "1.5", "--max-lag", "0.5")
    finally:
        pair.start_replication()
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "ABOVE --max-lag" in proc.stdout


def test_bad_flags_and_unreachable_server_exit_3(pair: Pair, tmp_path: Path) -> None:
    bad = run_dbkit("lag", "--source", pair.source_dsn, "--target", pair.target_dsn, "--interval", "0")
    assert bad.returncode == 3 and "between" in bad.stderr
    gone = run_dbkit("lag", "--source", pair.source_dsn, "--target", "mysql://root@127.0.0.1:1/app", "--duration", "1")
    assert gone.returncode == 3 and "cannot connect" in gone.stderr


def test_concurrent_writers_get_unique_ordered_beats(pair: Pair) -> None:
    """A `lag` watcher beside a cutover: no beat number is written twice, so a fence holds."""
    from platformgen_dbkit.db import parse_dsn
    from platformgen_dbkit.heartbeat import Heartbeat

    source, target = parse_dsn(pair.source_dsn, "source"), parse_dsn(pair.target_dsn, "target")
    writers = [Heartbeat(source, target) for _ in range(3)]
    seen: list[list[int]] = [[] for _ in writers]

    def run(i: int) -> None:
        for _ in range(40):
            seen[i].append(writers[i].beat())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(writers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [n for s in seen for n in s]
    assert len(set(everything)) == len(everything) == 120, "each beat has its own number"
    assert all(s == sorted(s) for s in seen)
    fence = writers[0].beat()
    for _ in range(100):
        applied = writers[0].target_seq()
        if applied is not None and applied >= fence:
            break
        time.sleep(0.05)
    assert writers[0].target_seq() == fence == max(everything) + 1
    for w in writers:
        w.close()


def test_a_target_without_the_heartbeat_says_so(pair: Pair) -> None:
    pair.target.execute("SET SESSION sql_log_bin = 0; CREATE DATABASE IF NOT EXISTS elsewhere")
    target = pair.target.dsn("elsewhere")
    args = ("lag", "--source", pair.source_dsn, "--target", target, "--interval", "0.1", "--duration", "0.3")
    proc = run_dbkit(*args, "--max-lag", "5")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "no heartbeat on the target yet" in proc.stdout
    lines = run_dbkit(*args, "--json").stdout.splitlines()
    assert lines and all(json.loads(line)["lag_seconds"] is None for line in lines)
