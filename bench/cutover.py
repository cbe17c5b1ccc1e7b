"""cutover benchmark: the write freeze of `dbkit cutover` with 1M rows under 200 acknowledged writes/s.

Two MariaDB servers on loopback with native replication (dbkit/tests/replication.py) stand in
for DMS CDC. The source holds ROWS rows; a verify report is taken; then a load of RATE
acknowledged writes/s runs as the app user (it reconnects to whatever the "secret" file names,
as a pod re-reads its mounted secret) while `dbkit cutover` runs steps 1-8.

Reported, never asserted (target: write freeze <= 15 s):
- write_freeze_seconds: the kit's figure, from the REVOKE to the secret switch;
- load_max_gap_seconds: the longest time the load went without an acknowledged write;
- the acknowledged writes on each side, and how many of them the target lacks (must be 0);
- each step's seconds.
Prints JSON and writes bench/results/cutover.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "dbkit" / "tests"))

from replication import (  # noqa: E402
    APP_USER,
    DATABASE,
    ORDERS,
    SWITCH_SCRIPT,
    Load,
    replicated_pair,
    write_secret,
)

RESULTS = ROOT / "bench" / "results" / "cutover.json"
ROWS = int(os.environ.get("BENCH_CUTOVER_ROWS", "1000000"))
RATE = float(os.environ.get("BENCH_CUTOVER_RATE", "200"))
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "dbkit" / "src")}


def dbkit(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "platformgen_dbkit", *map(str, args)],
        capture_output=True,
        text=True,
        env=ENV,
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-cutover-") as tmp:
        work = Path(tmp)
        with replicated_pair(work / "servers") as pair:
            started = time.monotonic()
            pair.source.execute(ORDERS, DATABASE)
            pair.source.execute(
                "INSERT INTO orders (token, amount, note) SELECT MD5(seq), seq % 1000, CONCAT('note-', seq) "
                f"FROM seq_1_to_{ROWS}",
                DATABASE,
            )
            dbkit("lag", "--source", pair.source_dsn, "--target", pair.target_dsn, "--duration", "0.5",
                  "--interval", "0.1")  # fmt: skip
            want = pair.source.execute("SELECT COUNT(*) FROM orders", DATABASE)
            while pair.target.execute("SELECT COUNT(*) FROM orders", DATABASE) != want:
                time.sleep(0.2)
            load_seconds = time.monotonic() - started
            verify = dbkit("verify", "--source", pair.source_dsn, "--target", pair.target_dsn,
                           "--exclude", "dbkit_heartbeat", "--checkpoint", work / "verify.jsonl",
                           "--report", work / "verify.json", "--json", "--no-progress")  # fmt: skip
            if verify.returncode != 0:
                raise SystemExit(f"verify before the cutover failed: {verify.stderr}")
            secret = work / "secret.json"
            write_secret(secret, pair.source)
            script = work / "switch.py"
            script.write_text(SWITCH_SCRIPT)
            with Load(secret, rate=RATE, threads=4) as load:
                time.sleep(3.0)
                cut_started = time.monotonic()
                proc = dbkit(
                    "cutover", "--source", pair.source_dsn, "--target", pair.target_dsn, "--app-user", APP_USER,
                    "--journal", work / "journal.jsonl", "--report", work / "report",
                    "--verify-report", work / "verify.json", "--interval", "0.5", "--lag-threshold", "1",
                    "--switch-command", f"{sys.executable} {script} {secret}",
                )  # fmt: skip
                cut_seconds = time.monotonic() - cut_started
                time.sleep(3.0)
            if proc.returncode != 0:
                raise SystemExit(
                    f"cutover failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
                )
            report = json.loads((work / "report" / "cutover.json").read_text())
            tokens = set(pair.target.execute("SELECT token FROM orders", DATABASE).split())
            acked_source = sum(a[1] == pair.source.port for a in load.acked)
            acked_target = sum(a[1] == pair.target.port for a in load.acked)
            lost = sum(a[0] not in tokens for a in load.acked)
            seconds_under_load = cut_seconds + 6.0
            result = {
                "rows": ROWS,
                "load_target_writes_per_second": RATE,
                "load_acknowledged_writes_per_second": round(
                    len(load.acked) / seconds_under_load, 1
                ),
                "write_freeze_seconds": report["write_freeze_seconds"],
                "write_freeze_target_seconds": 15,
                "load_max_gap_seconds": round(load.max_gap, 3),
                "acknowledged_on_source": acked_source,
                "acknowledged_on_target": acked_target,
                "acknowledged_missing_on_target": lost,
                "load_errors": load.errors,
                "cutover_seconds": round(cut_seconds, 3),
                "steps": {s["name"]: s["seconds"] for s in report["steps"]},
                "setup_seconds": round(load_seconds, 1),
                "cpu_count": os.cpu_count(),
            }
    print(json.dumps(result, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
