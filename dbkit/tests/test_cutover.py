"""`dbkit cutover` on two MariaDB servers with native replication standing in for DMS CDC."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from conftest import KIT, run_dbkit
from replication import (
    APP_PASSWORD,
    APP_USER,
    DATABASE,
    ORDERS,
    SWITCH_SCRIPT,
    Load,
    Pair,
    replicated_pair,
    write_secret,
)

ROWS = 2000


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with replicated_pair(tmp_path_factory.mktemp("cutover")) as p:
        yield p


@pytest.fixture
def fresh(pair: Pair, tmp_path: Path) -> Pair:
    """The app's table with ROWS rows on both sides, the app's writes granted, replication on."""
    if not pair.replication_ok():
        pair.start_replication()
    grant = f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{DATABASE}`.* TO '{APP_USER}'@'127.0.0.1'"
    pair.source.execute(f"SET SESSION sql_log_bin = 0; {grant}")
    pair.target.execute(f"SET SESSION sql_log_bin = 0; {grant}")
    pair.source.execute(f"DROP TABLE IF EXISTS orders; {ORDERS}", DATABASE)
    values = ",".join(f"(MD5('{i}'), {i})" for i in range(ROWS))
    pair.source.execute(f"INSERT INTO orders (token, amount) VALUES {values}", DATABASE)
    run_dbkit("lag", "--source", pair.source_dsn, "--target", pair.target_dsn, "--interval", "0.1", "--duration", "0.3")
    _caught_up(pair)
    return pair


def _caught_up(pair: Pair) -> None:
    want = pair.source.execute("SELECT COUNT(*) FROM orders", DATABASE)
    for _ in range(200):
        if pair.target.execute("SELECT COUNT(*) FROM orders", DATABASE) == want:
            return
        time.sleep(0.05)
    pytest.fail("the target did not catch up")


def _verify_report(pair: Pair, tmp_path: Path) -> Path:
    report = tmp_path / "verify.json"
    proc = run_dbkit(
        "verify", "--source", pair.source_dsn, "--target", pair.target_dsn, "--exclude", "dbkit_heartbeat",
        "--checkpoint", tmp_path / "verify.jsonl", "--report", report, "--json", "--no-progress",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    return report


def _cutover_args(pair: Pair, tmp_path: Path, secret: Path, *extra: str | Path) -> list[str | Path]:
    script = tmp_path / "switch.py"
    script.write_text(SWITCH_SCRIPT)
    return [
        "cutover", "--source", pair.source_dsn, "--target", pair.target_dsn, "--app-user", APP_USER,
        "--journal", tmp_path / "journal.jsonl", "--report", tmp_path / "report",
        "--verify-report", tmp_path / "verify.json", "--interval", "0.2", "--lag-threshold", "1",
        "--lag-timeout", "30", "--fence-timeout", "30",
        "--switch-command", f"{sys.executable} {script} {secret}", *extra,
    ]  # fmt: skip


def _app_can_write(server_port: int) -> bool:
    try:
        conn = pymysql.connect(host="127.0.0.1", port=server_port, user=APP_USER, password=APP_PASSWORD,
                               database=DATABASE, autocommit=True, connect_timeout=2)  # fmt: skip
    except pymysql.err.MySQLError:
        return False
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO orders (token, amount) VALUES (MD5(RAND()), -1)")
        return True
    except pymysql.err.MySQLError:
        return False
    finally:
        conn.close()


def _journal(tmp_path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (tmp_path / "journal.jsonl").read_text().splitlines()]


def test_cutover_under_load_loses_no_acknowledged_write(fresh: Pair, tmp_path: Path) -> None:
    pair = fresh
    # A counter the binlog does not carry (as DMS does not carry AUTO_INCREMENT): step 6 must.
    pair.source.execute(
        "DROP TABLE IF EXISTS tickets; CREATE TABLE tickets (id INT AUTO_INCREMENT PRIMARY KEY)", DATABASE
    )
    pair.source.execute(
        "SET SESSION sql_log_bin = 0; INSERT INTO tickets VALUES (500000); DELETE FROM tickets", DATABASE
    )
    _verify_report(pair, tmp_path)
    secret = tmp_path / "secret.json"
    write_secret(secret, pair.source)
    with Load(secret, rate=100) as load:
        time.sleep(1.0)
        proc = run_dbkit(*_cutover_args(pair, tmp_path, secret), timeout=240)
        time.sleep(1.0)  # the load now writes to the target
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(secret.read_text())["port"] == pair.target.port
    on_source = [a for a in load.acked if a[1] == pair.source.port]
    on_target = [a for a in load.acked if a[1] == pair.target.port]
    assert len(on_source) > 50 and len(on_target) > 20, (len(on_source), len(on_target), proc.stdout)
    tokens = {row for row in pair.target.execute("SELECT token FROM orders", DATABASE).split()}
    lost = [a for a in load.acked if a[0] not in tokens]
    assert not lost, f"{len(lost)} acknowledged writes missing on the target: {lost[:5]}"
    # Step 6: the target's counter is the source's (the next ticket is 500000 + 1 on both).
    assert "AUTO_INCREMENT=500001" in pair.target.execute("SHOW CREATE TABLE tickets", DATABASE)
    assert not _app_can_write(pair.source.port), "the source stays frozen after the cutover"
    report = json.loads((tmp_path / "report" / "cutover.json").read_text())
    assert report["result"] == "done"
    assert [s["step"] for s in report["steps"] if s["status"] == "done"] == list(range(1, 9))
    assert report["counts"]["orders"]["status"] == "match"
    assert report["counts"]["orders"]["rows_source"] == report["counts"]["orders"]["rows_target"] >= ROWS
    assert isinstance(report["write_freeze_seconds"], float)
    assert report["lag_timeline"] and report["digests"]["cutover_verify_sha256"]
    assert {"table": "tickets", "from": 1, "to": 500001} in report["auto_increment"]
    assert "Write freeze" in (tmp_path / "report" / "cutover.md").read_text()
    assert f"(undo: GRANT INSERT, UPDATE, DELETE ON `{DATABASE}`.* TO `{APP_USER}`@`127.0.0.1`)" in proc.stdout
    # The journal wrote each step's start before its end.
    events = [(r["event"], r.get("step")) for r in _journal(tmp_path)]
    for step in range(1, 9):
        assert events.index(("start", step)) < events.index(("done", step))
    print(f"write freeze {report['write_freeze_seconds']} s; load max gap {load.max_gap:.2f} s")


@pytest.mark.parametrize("step", [1, 2, 3, 4, 5, 6])
def test_abort_after_each_step_gives_the_source_its_writes_back(fresh: Pair, tmp_path: Path, step: int) -> None:
    pair = fresh
    _verify_report(pair, tmp_path)
    secret = tmp_path / "secret.json"
    write_secret(secret, pair.source)
    before = secret.read_text()
    held = pymysql.connect(host="127.0.0.1", port=pair.source.port, user=APP_USER, password=APP_PASSWORD,
                           database=DATABASE, autocommit=True)  # fmt: skip
    proc = run_dbkit(*_cutover_args(pair, tmp_path, secret, "--stop-after", str(step)), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if step >= 3:
        assert not _app_can_write(pair.source.port), "frozen after step 3"
        with pytest.raises(pymysql.err.OperationalError):  # its session was killed
            held.cursor().execute("SELECT 1")
    abort = run_dbkit("cutover", "--abort", "--source", pair.source_dsn, "--target", pair.target_dsn,
                      "--journal", tmp_path / "journal.jsonl")  # fmt: skip
    assert abort.returncode == 0, abort.stdout + abort.stderr
    assert _app_can_write(pair.source.port), abort.stdout
    assert secret.read_text() == before
    assert "INSERT" in pair.app_grants(pair.target), "the target's grants were never touched"
    assert _journal(tmp_path)[-1]["event"] == "aborted"
    held.close()


def test_abort_after_the_switch_is_refused(fresh: Pair, tmp_path: Path) -> None:
    pair = fresh
    _verify_report(pair, tmp_path)
    secret = tmp_path / "secret.json"
    write_secret(secret, pair.source)
    proc = run_dbkit(*_cutover_args(pair, tmp_path, secret, "--stop-after", "7"), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    abort = run_dbkit("cutover", "--abort", "--source", pair.source_dsn, "--target", pair.target_dsn,
                      "--journal", tmp_path / "journal.jsonl")  # fmt: skip
    assert abort.returncode == 2 and "roll forward" in abort.stdout + abort.stderr
    assert not _app_can_write(pair.source.port)
    resumed = run_dbkit(*_cutover_args(pair, tmp_path, secret, "--resume"), timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert _journal(tmp_path)[-1]["event"] == "finished"


def test_sigterm_while_fencing_aborts(fresh: Pair, tmp_path: Path) -> None:
    pair = fresh
    _verify_report(pair, tmp_path)
    secret = tmp_path / "secret.json"
    write_secret(secret, pair.source)
    env = {**os.environ, "PYTHONPATH": str(KIT / "src")}
    assert run_dbkit(*_cutover_args(pair, tmp_path, secret, "--stop-after", "2")).returncode == 0
    pair.stop_replication()  # the fence cannot pass: the resumed cutover waits in step 4
    proc = subprocess.Popen([sys.executable, "-m", "platformgen_dbkit", *map(str, _cutover_args(pair, tmp_path, secret, "--resume"))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not any(r["event"] == "start" and r.get("step") == 4 for r in _read(tmp_path)):
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.01)
        assert not _app_can_write(pair.source.port)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        pair.start_replication()
    assert proc.returncode == 130, out + err
    assert _app_can_write(pair.source.port)
    assert json.loads(secret.read_text())["port"] == pair.source.port
    assert _journal(tmp_path)[-1]["event"] == "aborted"


def test_a_failed_switch_aborts_and_leaves_the_secret(fresh: Pair, tmp_path: Path) -> None:
    pair = fresh
    _verify_report(pair, tmp_path)
    secret = tmp_path / "secret.json"
    write_secret(secret, pair.source)
    args = _cutover_args(pair, tmp_path, secret)
    args[args.index("--switch-command") + 1] = f"{sys.executable} -c 'raise SystemExit(4)'"
    # The hook sees where to switch to, never the kit's credentials.
    check = "import os; assert not [k for k in os.environ if k.endswith('_PASSWORD')]; raise SystemExit(4)"
    args[args.index("--switch-command") + 1] = f'{sys.executable} -c "{check}"'
    proc = run_dbkit(*args, env={"DBKIT_SOURCE_PASSWORD": "leak"}, timeout=120)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "exited 4" in proc.stdout
    assert _app_can_write(pair.source.port)
    assert json.loads(secret.read_text())["port"] == pair.source.port


def test_dry_run_changes_nothing_and_refusals_exit_2(fresh: Pair, tmp_path: Path) -> None:
    pair = fresh
    pair.source.execute(
        "DROP TABLE IF EXISTS tickets; CREATE TABLE tickets (id INT AUTO_INCREMENT PRIMARY KEY)", DATABASE
    )
    pair.source.execute("SET SESSION sql_log_bin = 0; INSERT INTO tickets VALUES (299); DELETE FROM tickets", DATABASE)
    _verify_report(pair, tmp_path)
    secret = tmp_path / "secret.json"
    write_secret(secret, pair.source)
    proc = run_dbkit(*_cutover_args(pair, tmp_path, secret, "--dry-run"), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"REVOKE INSERT, UPDATE, DELETE ON `{DATABASE}`.* FROM `{APP_USER}`@`127.0.0.1`" in proc.stdout
    assert "step 6 would raise tickets's AUTO_INCREMENT on the target from 1 to at least 300" in proc.stdout
    assert "AUTO_INCREMENT=300" not in pair.target.execute("SHOW CREATE TABLE tickets", DATABASE)
    assert _app_can_write(pair.source.port)
    assert not (tmp_path / "journal.jsonl").exists()
    # A persistent difference in the last verify refuses the cutover (exit 2), nothing changed.
    pair.target.execute("SET SESSION sql_log_bin = 0; UPDATE orders SET amount = amount + 1 WHERE id = 7", DATABASE)
    report = tmp_path / "verify.json"
    run_dbkit("verify", "--source", pair.source_dsn, "--target", pair.target_dsn, "--exclude", "dbkit_heartbeat",
              "--checkpoint", tmp_path / "v2.jsonl", "--report", report, "--json")  # fmt: skip
    refused = run_dbkit(*_cutover_args(pair, tmp_path, secret), timeout=120)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "persist" in refused.stdout
    assert _app_can_write(pair.source.port)
    pair.target.execute("SET SESSION sql_log_bin = 0; UPDATE orders SET amount = amount - 1 WHERE id = 7", DATABASE)


def _read(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "journal.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):  # a line being written
            out.append(json.loads(line))
    return out


def test_differences_in_flight_during_the_last_verify_are_rechecked(fresh: Pair, tmp_path: Path) -> None:
    pair = fresh
    pair.stop_replication()
    try:
        pair.source.execute(
            "UPDATE orders SET amount = amount + 1 WHERE id IN (3, 1500); DELETE FROM orders WHERE id = 9", DATABASE
        )
        proc = run_dbkit("verify", "--source", pair.source_dsn, "--target", pair.target_dsn, "--exclude",
                         "dbkit_heartbeat", "--checkpoint", tmp_path / "v.jsonl", "--report", tmp_path / "verify.json")  # fmt: skip
        assert proc.returncode == 1, proc.stdout + proc.stderr  # the changes were in flight
    finally:
        pair.start_replication()
    secret = tmp_path / "secret.json"
    write_secret(secret, pair.source)
    dry = run_dbkit(*_cutover_args(pair, tmp_path, secret, "--dry-run"), timeout=120)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "3 differences were in flight" in dry.stdout


def test_a_difference_found_after_the_freeze_aborts(fresh: Pair, tmp_path: Path) -> None:
    pair = fresh
    _verify_report(pair, tmp_path)
    # Drift the CDC stream will never repair (written on the target only), after the last verify.
    pair.target.execute("SET SESSION sql_log_bin = 0; UPDATE orders SET amount = -5 WHERE id = 77", DATABASE)
    secret = tmp_path / "secret.json"
    write_secret(secret, pair.source)
    try:
        proc = run_dbkit(*_cutover_args(pair, tmp_path, secret), timeout=120)
    finally:
        pair.target.execute("SET SESSION sql_log_bin = 0; UPDATE orders o SET amount = 76 WHERE id = 77", DATABASE)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "rechecking after a new fence" in proc.stdout and "differ in orders" in proc.stdout
    assert _app_can_write(pair.source.port)
    assert json.loads(secret.read_text())["port"] == pair.source.port
    assert not any(r["event"] == "start" and r.get("step") == 6 for r in _journal(tmp_path))


def test_sigkill_then_resume_finishes_and_a_second_run_is_refused(fresh: Pair, tmp_path: Path) -> None:
    pair = fresh
    _verify_report(pair, tmp_path)
    secret = tmp_path / "secret.json"
    write_secret(secret, pair.source)
    env = {**os.environ, "PYTHONPATH": str(KIT / "src")}
    assert run_dbkit(*_cutover_args(pair, tmp_path, secret, "--stop-after", "2")).returncode == 0
    pair.stop_replication()  # the fence cannot pass: the resumed cutover waits in step 4
    argv = [sys.executable, "-m", "platformgen_dbkit", *map(str, _cutover_args(pair, tmp_path, secret, "--resume"))]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while not any(r["event"] == "start" and r.get("step") == 4 for r in _read(tmp_path)):
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.01)
        second = run_dbkit(*_cutover_args(pair, tmp_path, secret))
        assert second.returncode == 2 and "another cutover is running" in second.stdout, second.stdout + second.stderr
        proc.kill()  # SIGKILL: no handler runs, the journal is all that is left
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        pair.start_replication()
    assert not _app_can_write(pair.source.port), "still frozen: nobody gave the writes back"
    fresh_start = run_dbkit(*_cutover_args(pair, tmp_path, secret))
    assert fresh_start.returncode == 2 and "--resume" in fresh_start.stdout
    resumed = run_dbkit(*_cutover_args(pair, tmp_path, secret, "--resume"), timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming run" in resumed.stdout and "at step 4" in resumed.stdout
    assert json.loads(secret.read_text())["port"] == pair.target.port
    report = json.loads((tmp_path / "report" / "cutover.json").read_text())
    assert report["result"] == "done" and report["write_freeze_seconds"] > 0


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    sys.path.insert(0, str(KIT.parent / "tests"))
    from support.moto import moto_server

    folder = tmp_path_factory.mktemp("moto")
    with moto_server(folder / "moto.log", "123456789012") as server:
        yield {
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": server.endpoint, "AWS_CA_BUNDLE": str(server.ca_bundle),
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1",
        }  # fmt: skip


def _secrets(moto: dict[str, str]) -> object:
    import boto3

    return boto3.client("secretsmanager", endpoint_url=moto["AWS_ENDPOINT_URL_SECRETS_MANAGER"],
                        verify=moto["AWS_CA_BUNDLE"], region_name=moto["AWS_DEFAULT_REGION"],
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip


@pytest.mark.parametrize("abort", [False, True])
def test_switch_writes_the_apps_secret_in_secrets_manager(
    fresh: Pair, tmp_path: Path, moto: dict[str, str], abort: bool
) -> None:
    pair = fresh
    _verify_report(pair, tmp_path)
    client = _secrets(moto)
    name = f"getprospa/prod/database/api-{int(abort)}-{time.time_ns()}"
    value = {"engine": "mysql", "host": "127.0.0.1", "port": pair.source.port, "dbname": DATABASE,
             "username": APP_USER, "password": APP_PASSWORD}  # fmt: skip
    created = client.create_secret(Name=name, SecretString=json.dumps(value))
    client.create_secret(
        Name=f"{name}-rds", SecretString=json.dumps({**value, "username": "app_b", "password": "rds-pw-7f3a"})
    )
    args = _cutover_args(pair, tmp_path, tmp_path / "unused.json")
    i = args.index("--switch-command")
    args[i : i + 2] = ["--switch-secret", name, "--target-credentials-secret", f"{name}-rds"]
    if abort:
        args += ["--stop-after", "6"]
    proc = run_dbkit(*args, env=moto, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if abort:
        aborted = run_dbkit("cutover", "--abort", "--source", pair.source_dsn, "--target", pair.target_dsn,
                            "--journal", tmp_path / "journal.jsonl", env=moto)  # fmt: skip
        assert aborted.returncode == 0, aborted.stdout + aborted.stderr
        now = client.get_secret_value(SecretId=name)
        assert now["VersionId"] == created["VersionId"] and json.loads(now["SecretString"]) == value
        assert _app_can_write(pair.source.port)
        return
    now = client.get_secret_value(SecretId=name)
    assert now["VersionId"] != created["VersionId"]
    assert json.loads(now["SecretString"]) == {
        **value,
        "port": pair.target.port,
        "username": "app_b",
        "password": "rds-pw-7f3a",
    }
    journal = _journal(tmp_path)
    switched = next(r for r in journal if r["event"] == "done" and r["step"] == 7)
    assert switched["data"]["previous_version"] == created["VersionId"]
    assert "rds-pw-7f3a" not in json.dumps(journal), "no password in the journal"


def test_a_fence_that_never_passes_aborts(fresh: Pair, tmp_path: Path) -> None:
    pair = fresh
    _verify_report(pair, tmp_path)
    secret = tmp_path / "secret.json"
    write_secret(secret, pair.source)
    assert run_dbkit(*_cutover_args(pair, tmp_path, secret, "--stop-after", "2")).returncode == 0
    pair.stop_replication()
    try:
        args = _cutover_args(pair, tmp_path, secret, "--resume")
        args[args.index("--fence-timeout") + 1] = "1"
        proc = run_dbkit(*args, timeout=120)
    finally:
        pair.start_replication()
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "did not apply heartbeat" in proc.stdout
    assert _app_can_write(pair.source.port)
    assert json.loads(secret.read_text())["port"] == pair.source.port
    report = json.loads((tmp_path / "report" / "cutover.json").read_text())
    assert report["result"] == "aborted"
    assert {s["name"]: s["status"] for s in report["steps"]}["fence"] == "started"


def test_bad_input_exits_3_before_anything_changes(pair: Pair, tmp_path: Path) -> None:
    base = ["cutover", "--source", pair.source_dsn, "--target", pair.target_dsn, "--app-user", APP_USER,
            "--switch-command", "true", "--verify-report", tmp_path / "none.json"]  # fmt: skip
    (tmp_path / "file").write_text("")
    cases = {
        "is a file": [*base, "--report", tmp_path / "file"],
        "is a directory": [*base, "--journal", tmp_path],
        "no --app-user": ["cutover", "--source", pair.source_dsn, "--target", pair.target_dsn, "--switch-command", "x"],
        "no switch": ["cutover", "--source", pair.source_dsn, "--target", pair.target_dsn, "--app-user", APP_USER],
        "steps are 1 to 7": [*base, "--stop-after", "8"],
        "not allowed with argument": [*base, "--abort", "--resume"],
        "--users is given without --switch-user": [*base, "--users", tmp_path / "users.json"],
        "--switch-user needs --env": [*base[:-4], "--switch-user", "api", "--verify-report", tmp_path / "none.json"],
        "no user 'nope'": [
            *base[:-4],
            "--switch-user",
            "nope",
            "--users",
            _users_file(tmp_path, "shop"),
            "--env",
            "prod",
            "--verify-report",
            tmp_path / "none.json",
        ],
        "--target-credentials-secret is given without --switch-secret": [*base, "--target-credentials-secret", "x"],
        "--switch-user api is given twice": [
            *base[:-4],
            "--switch-user",
            "api",
            "--switch-user",
            "api",
            "--env",
            "prod",
        ],
    }
    for message, args in cases.items():
        proc = run_dbkit(*args)
        assert proc.returncode == 3, (message, proc.stdout, proc.stderr)
        assert message in proc.stderr, (message, proc.stderr)
    assert not (tmp_path / "cutover-journal.jsonl").exists()
    nothing = run_dbkit("cutover", "--abort", "--source", pair.source_dsn, "--target", pair.target_dsn,
                        "--journal", tmp_path / "new.jsonl")  # fmt: skip
    assert nothing.returncode == 0 and "nothing to abort" in nothing.stdout
    missing = run_dbkit(*base, "--journal", tmp_path / "j.jsonl")
    assert missing.returncode == 2 and "cannot read the verify report" in missing.stdout


SECOND_USER = "app2"  # a second app on the same database, with its own DigitalOcean user


def _second_app_user(pair: Pair) -> None:
    for server in (pair.source, pair.target):
        server.execute(
            "SET SESSION sql_log_bin = 0;"
            f"CREATE USER IF NOT EXISTS '{SECOND_USER}'@'127.0.0.1' IDENTIFIED BY '{APP_PASSWORD}';"
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{DATABASE}`.* TO '{SECOND_USER}'@'127.0.0.1';"
        )


def _can_write_as(user: str, port: int, password: str = APP_PASSWORD) -> bool:
    try:
        conn = pymysql.connect(host="127.0.0.1", port=port, user=user, password=password, database=DATABASE,
                               autocommit=True, connect_timeout=2)  # fmt: skip
    except pymysql.err.MySQLError:
        return False
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO orders (token, amount) VALUES (MD5(RAND()), -2)")
        return True
    except pymysql.err.MySQLError:
        return False
    finally:
        conn.close()


def test_every_app_user_is_frozen_and_given_back(fresh: Pair, tmp_path: Path) -> None:
    pair = fresh
    _second_app_user(pair)
    _verify_report(pair, tmp_path)
    secret = tmp_path / "secret.json"
    write_secret(secret, pair.source)
    held = pymysql.connect(host="127.0.0.1", port=pair.source.port, user=SECOND_USER, password=APP_PASSWORD,
                           database=DATABASE, autocommit=True)  # fmt: skip
    args = _cutover_args(pair, tmp_path, secret, "--app-user", SECOND_USER, "--stop-after", "3")
    proc = run_dbkit(*args, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not _can_write_as(APP_USER, pair.source.port) and not _can_write_as(SECOND_USER, pair.source.port)
    with pytest.raises(pymysql.err.OperationalError):  # the second app's session was killed too
        held.cursor().execute("SELECT 1")
    journal = _journal(tmp_path)
    assert journal[0]["app_users"] == [APP_USER, SECOND_USER]
    froze = next(r for r in journal if r["event"] == "done" and r["step"] == 3)["data"]
    assert set(froze["sessions_killed"]) == {APP_USER, SECOND_USER} and froze["sessions_killed"][SECOND_USER] >= 1
    report = json.loads((tmp_path / "report" / "cutover.json").read_text())
    assert report["app_users"] == [APP_USER, SECOND_USER]
    assert f"`{APP_USER}`, `{SECOND_USER}`" in (tmp_path / "report" / "cutover.md").read_text()
    abort = run_dbkit("cutover", "--abort", "--source", pair.source_dsn, "--target", pair.target_dsn,
                      "--journal", tmp_path / "journal.jsonl")  # fmt: skip
    assert abort.returncode == 0, abort.stdout + abort.stderr
    assert _can_write_as(APP_USER, pair.source.port) and _can_write_as(SECOND_USER, pair.source.port)
    held.close()
    twice = run_dbkit(*_cutover_args(pair, tmp_path, secret, "--app-user", APP_USER, "--dry-run"))
    assert twice.returncode == 3 and "--app-user app is given twice" in twice.stderr, twice.stderr


APPS = {"api": APP_USER, "worker": SECOND_USER}  # logical user -> its DigitalOcean user


def _users_file(tmp_path: Path, project: str) -> Path:
    doc = {
        "format": 1, "project": project, "database": DATABASE, "host": "%",
        "environments": {"prod": {"region": "eu-west-1"}},
        "users": [
            {"name": name, "role": "app", "mysqlUsers": [f"app_{name}_a", f"app_{name}_b"],
             "grants": [{"schema": DATABASE, "privileges": ["DELETE", "INSERT", "SELECT", "UPDATE"]}]}
            for name in APPS
        ],
    }  # fmt: skip
    path = tmp_path / "users.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("abort", [False, True])
def test_switch_users_points_each_apps_secret_at_the_target(
    fresh: Pair, tmp_path: Path, moto: dict[str, str], abort: bool
) -> None:
    """Step 7 is `users rotate --switch-to-target` for each app: the secret names RDS and a
    working _a/_b user; an abort before step 7 leaves every secret as it was."""
    pair = fresh
    _second_app_user(pair)
    _verify_report(pair, tmp_path)
    client = _secrets(moto)
    project = f"x{time.time_ns() % 10**12}"
    users_file = _users_file(tmp_path, project)
    on_source = {}
    for name, mysql_user in APPS.items():
        value = {"engine": "mysql", "host": "127.0.0.1", "port": pair.source.port, "dbname": DATABASE,
                 "username": mysql_user, "password": APP_PASSWORD}  # fmt: skip
        created = client.create_secret(Name=f"{project}/prod/database/{name}", SecretString=json.dumps(value))
        on_source[name] = (created["VersionId"], value)
    args = _cutover_args(pair, tmp_path, tmp_path / "unused.json", "--app-user", SECOND_USER)
    i = args.index("--switch-command")
    args[i : i + 2] = ["--switch-user", "api", "--switch-user", "worker", "--users", users_file, "--env", "prod"]
    if abort:
        dry = run_dbkit(*args, "--dry-run", env=moto, timeout=180)
        assert dry.returncode == 0, dry.stdout + dry.stderr
        for name, user in APPS.items():
            assert f"would point secret {project}/prod/database/{name} at the target" in dry.stdout
            assert f"would kill 0 open sessions of '{user}'" in dry.stdout
        args += ["--stop-after", "6"]
    proc = run_dbkit(*args, env=moto, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if abort:
        aborted = run_dbkit("cutover", "--abort", "--source", pair.source_dsn, "--target", pair.target_dsn,
                            "--journal", tmp_path / "journal.jsonl", env=moto)  # fmt: skip
        assert aborted.returncode == 0, aborted.stdout + aborted.stderr
        for name, (version, value) in on_source.items():
            now = client.get_secret_value(SecretId=f"{project}/prod/database/{name}")
            assert now["VersionId"] == version and json.loads(now["SecretString"]) == value
            assert _can_write_as(APPS[name], pair.source.port)
        return
    journal = _journal(tmp_path)
    started = next(r for r in journal if r["event"] == "start" and r["step"] == 7)["data"]
    assert started["previous_versions"] == {f"{project}/prod/database/{n}": v for n, (v, _) in on_source.items()}
    for name in APPS:
        now = json.loads(client.get_secret_value(SecretId=f"{project}/prod/database/{name}")["SecretString"])
        assert (now["host"], now["port"], now["dbname"]) == ("127.0.0.1", pair.target.port, DATABASE), now
        assert now["username"] in (f"app_{name}_a", f"app_{name}_b"), now
        assert now["password"] != APP_PASSWORD
        assert _can_write_as(now["username"], pair.target.port, now["password"]), f"{name}'s new user cannot write"
        assert now["password"] not in json.dumps(journal), "no password in the journal"
    report = json.loads((tmp_path / "report" / "cutover.json").read_text())
    assert report["result"] == "done" and report["app_users"] == [APP_USER, SECOND_USER]
    assert [s["user"] for s in report["switch"]["switched_users"]] == list(APPS)


def _app_secrets(client: object, pair: Pair, project: str) -> dict[str, tuple[str, dict[str, object]]]:
    made = {}
    for name, mysql_user in APPS.items():
        value = {"engine": "mysql", "host": "127.0.0.1", "port": pair.source.port, "dbname": DATABASE,
                 "username": mysql_user, "password": APP_PASSWORD}  # fmt: skip
        created = client.create_secret(Name=f"{project}/prod/database/{name}", SecretString=json.dumps(value))  # type: ignore[attr-defined]
        made[name] = (created["VersionId"], value)
    return made


def _switch_users_args(pair: Pair, tmp_path: Path, project: str, *extra: str) -> list[str | Path]:
    args = _cutover_args(pair, tmp_path, tmp_path / "unused.json", "--app-user", SECOND_USER, *extra)
    i = args.index("--switch-command")
    args[i : i + 2] = ["--switch-user", "api", "--switch-user", "worker", "--users", _users_file(tmp_path, project),
                       "--env", "prod"]  # fmt: skip
    return args


def test_a_switch_that_writes_no_secret_aborts_and_one_cut_short_resumes(
    fresh: Pair, tmp_path: Path, moto: dict[str, str]
) -> None:
    pair = fresh
    _second_app_user(pair)
    _verify_report(pair, tmp_path)
    client = _secrets(moto)
    project = f"x{time.time_ns() % 10**12}"
    made = _app_secrets(client, pair, project)
    # A `users apply` or `rotate` running on RDS at that moment: step 7 cannot take the lock,
    # writes nothing, and the cutover gives the source its writes back.
    blocker = pymysql.connect(host="127.0.0.1", port=pair.target.port, user="root", password=pair.target.password)
    try:
        with blocker.cursor() as cur:
            cur.execute("SELECT GET_LOCK('platformgen_dbkit_users', 0)")
        proc = run_dbkit(*_switch_users_args(pair, tmp_path, project), env=moto, timeout=180)
    finally:
        blocker.close()
    assert proc.returncode == 3 and "another dbkit users apply or rotate" in proc.stdout, proc.stdout + proc.stderr
    assert _can_write_as(APP_USER, pair.source.port) and _can_write_as(SECOND_USER, pair.source.port)
    for name, (version, value) in made.items():
        now = client.get_secret_value(SecretId=f"{project}/prod/database/{name}")
        assert now["VersionId"] == version and json.loads(now["SecretString"]) == value

    # The second app's secret breaks after the first was switched: no abort, a resume.
    journal = tmp_path / "second"
    journal.mkdir()
    _verify_report(pair, journal)
    project = f"x{time.time_ns() % 10**12}"
    made = _app_secrets(client, pair, project)
    args = _switch_users_args(pair, journal, project)
    assert run_dbkit(*args, "--stop-after", "6", env=moto, timeout=180).returncode == 0
    worker = f"{project}/prod/database/worker"
    client.put_secret_value(SecretId=worker, SecretString="not json")
    proc = run_dbkit(*args, "--resume", env=moto, timeout=180)
    assert proc.returncode == 3 and "step 7 (switch) began and did not finish" in proc.stdout, proc.stdout
    assert not _can_write_as(APP_USER, pair.source.port), "half switched: the source stays frozen"
    abort = run_dbkit("cutover", "--abort", "--source", pair.source_dsn, "--target", pair.target_dsn,
                      "--journal", journal / "journal.jsonl", env=moto)  # fmt: skip
    assert abort.returncode != 0 and "--abort --force" in abort.stdout + abort.stderr, abort.stdout + abort.stderr
    client.put_secret_value(SecretId=worker, SecretString=json.dumps(made["worker"][1]))
    api_now = client.get_secret_value(SecretId=f"{project}/prod/database/api")["SecretString"]
    resumed = run_dbkit(*args, "--resume", env=moto, timeout=180)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert client.get_secret_value(SecretId=f"{project}/prod/database/api")["SecretString"] == api_now, "kept"
    now = json.loads(client.get_secret_value(SecretId=worker)["SecretString"])
    assert now["port"] == pair.target.port and _can_write_as(now["username"], pair.target.port, now["password"])
