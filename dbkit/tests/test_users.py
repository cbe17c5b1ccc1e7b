"""`dbkit users plan|apply|rotate` on a real server (the target test database's server).

The tests create MySQL users `app_shop_*`, `mig_shop_*` and `platform_readonly_*` and drop
them when done; the schema the file grants on is the target test database, whose name has
an underscore (`dbkit_target`): a GRANT that did not escape it would also open `dbkitXtarget`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from platformgen_dbkit.db import Connection, parse_dsn

from conftest import KIT, run_dbkit

ENV = "dev"
REGION = "ap-southeast-2"
PROJECT = "shopco"
LOOKALIKE = "dbkitxtarget"  # matches the unescaped pattern dbkit_target
USERS = ("app_shop_a", "app_shop_b", "mig_shop_a", "mig_shop_b", "platform_readonly_a", "platform_readonly_b")


def users_file(tmp_path: Path, schema: str) -> Path:
    doc = {
        "format": 1,
        "project": PROJECT,
        "database": schema,
        "host": "%",
        "environments": {ENV: {"region": REGION}},
        "users": [
            {"name": "shop", "role": "app", "mysqlUsers": ["app_shop_a", "app_shop_b"],
             "grants": [{"schema": schema, "privileges": ["DELETE", "INSERT", "SELECT", "UPDATE"]}]},
            {"name": "shop-migrator", "role": "migrator", "mysqlUsers": ["mig_shop_a", "mig_shop_b"],
             "grants": [{"schema": schema, "privileges": ["ALTER", "CREATE", "DELETE", "DROP", "INDEX", "INSERT", "SELECT", "UPDATE"]}]},
            {"name": "readonly", "role": "readonly", "mysqlUsers": ["platform_readonly_a", "platform_readonly_b"],
             "grants": [{"schema": schema, "privileges": ["SELECT", "SHOW VIEW"]}]},
        ],
    }  # fmt: skip
    path = tmp_path / "users.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def admin(dsns: tuple[str, str]) -> Iterator[tuple[str, Connection]]:
    """The master's DSN and a session as it; the test users are dropped before and after."""
    dsn = dsns[1]
    conn = Connection(parse_dsn(dsn, "admin"))

    def clean() -> None:
        for user in USERS:
            conn.rows(f"DROP USER IF EXISTS '{user}'@'%'")
        conn.rows(f"DROP DATABASE IF EXISTS {LOOKALIKE}")

    clean()
    conn.rows("CREATE TABLE IF NOT EXISTS users_probe (id INT PRIMARY KEY)")
    yield dsn, conn
    clean()
    conn.rows("DROP TABLE IF EXISTS users_probe")
    conn.close()


def env_passwords() -> dict[str, str]:
    return {
        "DBKIT_PASSWORD_SHOP": "shop-Password-1",
        "DBKIT_PASSWORD_SHOP_MIGRATOR": "migrator-Password-1",
        "DBKIT_PASSWORD_READONLY": "readonly-Password-1",
    }


def users(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    proc = run_dbkit("users", *args, "--env", ENV, "--json", env=env)
    try:
        out = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except ValueError:
        pytest.fail(f"users printed no JSON: {proc.stdout[:500]} {proc.stderr}")
    return proc.returncode, out, proc.stderr


def grants_of(conn: Connection, user: str) -> set[tuple[str, str]]:
    """Every privilege the account holds, at any level, as (where, privilege)."""
    grantee = f"'{user}'@'%'"
    found: set[tuple[str, str]] = set()
    for p, g in conn.rows(
        "SELECT PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE=%s", (grantee,)
    ):
        found |= {("*.*", p)} if p != "USAGE" else set()
        found |= {("*.*", "GRANT OPTION")} if g == "YES" else set()
    for s, p, g in conn.rows(
        "SELECT TABLE_SCHEMA, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE=%s",
        (grantee,),
    ):
        found |= {(s, p)} | ({(s, "GRANT OPTION")} if g == "YES" else set())
    for s, t, p in conn.rows(
        "SELECT TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE=%s",
        (grantee,),
    ):
        found.add((f"{s}.{t}", p))
    for s, t, c, p in conn.rows(
        "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, PRIVILEGE_TYPE FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE=%s",
        (grantee,),
    ):
        found.add((f"{s}.{t}.{c}", p))
    return found  # fmt: skip


def login(dsn: str, user: str, password: str, database: str = "information_schema") -> Connection:
    base = parse_dsn(dsn, "admin")
    return Connection(dataclasses.replace(base, role="login", user=user, password=password, database=database))


def can_login(dsn: str, user: str, password: str) -> bool:
    try:
        login(dsn, user, password).close()
    except Exception:
        return False
    return True


def test_apply_twice_is_a_noop_and_grants_match_the_file_exactly(tmp_path: Path, admin: tuple[str, Connection]) -> None:
    dsn, conn = admin
    schema = parse_dsn(dsn, "admin").database
    path = users_file(tmp_path, schema)
    env = {"DBKIT_ADMIN_DSN": dsn, **env_passwords()}
    # Drift planted by hand: extra grants at every level on the standby app user, and a
    # missing one on the migrator's active user.
    conn.rows(f"CREATE DATABASE {LOOKALIKE}")
    conn.rows("CREATE USER 'app_shop_b'@'%' IDENTIFIED BY 'whatever-1'")
    conn.rows("GRANT PROCESS, CREATE USER ON *.* TO 'app_shop_b'@'%'")
    conn.rows(f"GRANT SELECT, DROP ON `{schema.replace('_', chr(92) + '_')}`.* TO 'app_shop_b'@'%' WITH GRANT OPTION")
    conn.rows("GRANT SELECT ON `dbkit_source`.* TO 'app_shop_b'@'%'")
    conn.rows(f"GRANT ALTER ON `{schema}`.`users_probe` TO 'app_shop_b'@'%'")
    conn.rows(f"GRANT UPDATE (id) ON `{schema}`.`users_probe` TO 'app_shop_b'@'%'")
    conn.rows("CREATE USER 'mig_shop_a'@'%' IDENTIFIED BY 'migrator-Password-1'")

    code, plan, err = users("plan", "--users", path, "--passwords", "env", env=env)
    assert code == 1, err
    kinds = {(c["mysql_user"], c["action"]) for c in plan["changes"]}
    assert ("app_shop_a", "create-user") in kinds and ("app_shop_b", "revoke") in kinds
    assert ("mig_shop_a", "grant") in kinds and ("mig_shop_a", "set-password") not in kinds
    assert all("Password-1" not in json.dumps(c) for c in plan["changes"])  # never a password

    code, applied, err = users("apply", "--users", path, "--passwords", "env", env=env)
    assert code == 0, err
    assert len(applied["applied"]) == len(plan["changes"])

    escaped = schema.replace("_", "\\_")
    want = {
        "app": {(escaped, p) for p in ("DELETE", "INSERT", "SELECT", "UPDATE")},
        "mig": {(escaped, p) for p in ("ALTER", "CREATE", "DELETE", "DROP", "INDEX", "INSERT", "SELECT", "UPDATE")},
        "platform": {(escaped, p) for p in ("SELECT", "SHOW VIEW")},
    }
    for user in USERS:
        assert grants_of(conn, user) == want[user.split("_")[0]], user

    # The second apply changes nothing, and so does a plan.
    code, again, err = users("apply", "--users", path, "--passwords", "env", env=env)
    assert (code, again["applied"]) == (0, []), err
    code, plan, err = users("plan", "--users", path, "--passwords", "env", env=env)
    assert (code, plan["changes"]) == (0, []), err

    # What the grants mean: DML on the schema, no DDL, and nothing on the look-alike schema.
    app = login(dsn, "app_shop_a", "shop-Password-1", schema)
    app.rows("INSERT INTO users_probe VALUES (1)")
    assert app.value("SELECT COUNT(*) FROM users_probe") == 1
    with pytest.raises(Exception, match="refused"):
        app.rows("CREATE TABLE nope (id INT)")
    app.close()
    migrator = login(dsn, "mig_shop_a", "migrator-Password-1", schema)
    migrator.rows("CREATE TABLE users_probe_2 (id INT PRIMARY KEY)")
    migrator.rows("DROP TABLE users_probe_2")
    with pytest.raises(Exception, match="refused"):  # `_` was escaped: no wildcard grant
        migrator.rows(f"CREATE TABLE {LOOKALIKE}.nope (id INT)")
    migrator.close()

    # A password changed behind the kit's back is set back to the store's.
    conn.rows("ALTER USER 'app_shop_a'@'%' IDENTIFIED BY 'changed-by-hand'")
    code, plan, err = users("plan", "--users", path, "--passwords", "env", env=env)
    assert code == 1 and [c["action"] for c in plan["changes"]] == ["set-password"], plan
    assert users("apply", "--users", path, "--passwords", "env", env=env)[0] == 0
    assert can_login(dsn, "app_shop_a", "shop-Password-1")


def _moto_server(tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = KIT.parent / ".tool-venvs" / "moto" / "bin" / "moto_server"
    if not binary.exists():
        pytest.fail(f"{binary} is missing: run `make tools` at the repository root", pytrace=False)
    log = tmp_path / "moto.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(binary), "-H", "127.0.0.1", "-p", "0"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while "Running on http://127.0.0.1:" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"moto_server did not start: {log.read_text()}")
        time.sleep(0.2)
    port = log.read_text().split("Running on http://127.0.0.1:")[1].split()[0].strip("/")
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture
def secretsmanager(tmp_path: Path) -> Iterator[tuple[Any, dict[str, str]]]:
    """A moto server on loopback with the three secrets Terraform creates: EMPTY."""
    import boto3

    proc, endpoint = _moto_server(tmp_path)
    aws = {
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    client = boto3.client(
        "secretsmanager", region_name=REGION, endpoint_url=endpoint,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    for name in ("shop", "shop-migrator", "readonly"):
        client.create_secret(Name=f"{PROJECT}/{ENV}/database/{name}")
    try:
        yield client, aws
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)


def secret(client: Any, name: str) -> dict[str, Any]:
    return json.loads(client.get_secret_value(SecretId=f"{PROJECT}/{ENV}/database/{name}")["SecretString"])


def test_rotate_alternates_and_the_previous_user_works_until_the_next_rotation(
    tmp_path: Path, admin: tuple[str, Connection], secretsmanager: tuple[Any, dict[str, str]]
) -> None:
    dsn, conn = admin
    client, aws = secretsmanager
    parsed = parse_dsn(dsn, "admin")
    path = users_file(tmp_path, parsed.database)
    env = {"DBKIT_ADMIN_DSN": dsn, **aws}

    code, _applied, err = users("apply", "--users", path, "--passwords", "secretsmanager", env=env)
    assert code == 0, err
    first = secret(client, "shop")
    assert (first["username"], first["engine"], first["dbname"]) == ("app_shop_a", "mysql", parsed.database)
    assert (first["host"], first["port"]) == (parsed.host, parsed.port)
    assert len(first["password"]) >= 32 and first["password"] != secret(client, "readonly")["password"]
    assert can_login(dsn, "app_shop_a", first["password"])
    assert users("plan", "--users", path, "--passwords", "secretsmanager", env=env)[:2] == (
        0,
        {"env": ENV, "changes": []},
    )

    code, out, err = users("rotate", "--users", path, "--passwords", "secretsmanager", "--user", "shop", env=env)
    assert code == 0, err
    assert out["rotation"] == {
        "user": "shop", "previous": "app_shop_a", "current": "app_shop_b",
        "where": f"secret {PROJECT}/{ENV}/database/shop",
    }  # fmt: skip
    second = secret(client, "shop")
    assert second["username"] == "app_shop_b" and second["password"] != first["password"]
    assert {k: v for k, v in second.items() if k not in ("username", "password")} == {
        k: v for k, v in first.items() if k not in ("username", "password")
    }
    assert can_login(dsn, "app_shop_b", second["password"])
    assert can_login(dsn, "app_shop_a", first["password"])  # a pod on the old secret still works
    assert grants_of(conn, "app_shop_b") == grants_of(conn, "app_shop_a") != set()
    # Nothing to apply after a rotation: the secret names the standby user now.
    assert users("plan", "--users", path, "--passwords", "secretsmanager", env=env)[:2] == (
        0,
        {"env": ENV, "changes": []},
    )

    code, out, err = users("rotate", "--users", path, "--passwords", "secretsmanager", "--user", "shop", env=env)
    assert code == 0, err
    third = secret(client, "shop")
    assert third["username"] == "app_shop_a"
    assert not can_login(dsn, "app_shop_a", first["password"])  # only now is the first password gone
    assert can_login(dsn, "app_shop_a", third["password"])
    assert can_login(dsn, "app_shop_b", second["password"])
    # The other users' secrets were not touched.
    assert secret(client, "readonly")["username"] == "platform_readonly_a"

    # During a migration the app's secret names the source: rotating there is refused.
    moved = {**third, "host": "source.example.com", "port": 25060}
    client.put_secret_value(SecretId=f"{PROJECT}/{ENV}/database/shop", SecretString=json.dumps(moved))
    proc = run_dbkit("users", "rotate", "--users", path, "--env", ENV, "--user", "shop", env=env)
    assert proc.returncode == 3 and "points at source.example.com:25060" in proc.stderr, proc.stderr
    assert secret(client, "shop") == moved
    # ...while apply leaves that secret alone (and says so), and changes nothing else.
    code, out, err = users("plan", "--users", path, "--passwords", "secretsmanager", env=env)
    assert (code, out["changes"]) == (0, []) and "source.example.com:25060" in out["notes"][0], (out, err)
    # The cutover's switch: a new password on the standby user, and the secret names this server.
    code, out, err = users(
        "rotate", "--users", path, "--passwords", "secretsmanager", "--user", "shop", "--switch-to-target", env=env
    )
    assert code == 0, err
    switched = secret(client, "shop")
    assert (switched["host"], switched["port"], switched["username"]) == (parsed.host, parsed.port, "app_shop_b")
    assert can_login(dsn, "app_shop_b", switched["password"])


def test_one_apply_or_rotate_at_a_time(tmp_path: Path, admin: tuple[str, Connection]) -> None:
    dsn, conn = admin
    path = users_file(tmp_path, parse_dsn(dsn, "admin").database)
    env = {"DBKIT_ADMIN_DSN": dsn, **env_passwords()}
    assert conn.value("SELECT GET_LOCK('platformgen_dbkit_users', 0)") == 1  # another run holds it
    proc = run_dbkit("users", "apply", "--users", path, "--env", ENV, "--passwords", "env", env=env)
    assert proc.returncode == 3 and "another dbkit users apply or rotate is running" in proc.stderr, proc.stderr
    assert conn.value("SELECT COUNT(*) FROM mysql.user WHERE User LIKE 'app\\_shop\\_%'") == 0
    conn.rows("SELECT RELEASE_LOCK('platformgen_dbkit_users')")
    assert users("apply", "--users", path, "--passwords", "env", env=env)[0] == 0


def test_rotate_needs_a_store_it_can_write(tmp_path: Path, admin: tuple[str, Connection]) -> None:
    dsn, _ = admin
    path = users_file(tmp_path, parse_dsn(dsn, "admin").database)
    env = {"DBKIT_ADMIN_DSN": dsn, **env_passwords()}
    proc = run_dbkit("users", "rotate", "--users", path, "--env", ENV, "--passwords", "env", "--user", "shop", env=env)
    assert proc.returncode == 3, proc.stderr
    assert "DBKIT_USERNAME_SHOP" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["users"][0]["grants"][0].update(privileges=["ALL PRIVILEGES"]),
            "cannot be granted by a users file",
        ),
        (lambda d: d["users"][0]["grants"][0].update(privileges=["SUPER"]), "cannot be granted by a users file"),
        (lambda d: d["users"][1].update(mysqlUsers=["app_shop_a", "x_b"]), "belongs to two logical users"),
        (lambda d: d["users"][1].update(name="shop"), "listed twice"),
        (lambda d: d["users"][0].update(mysqlUsers=["a'; DROP USER root; --", "b"]), "is not a valid value"),
        (lambda d: d.update(format=2), "this kit reads format 1"),
        (lambda d: d["users"][0].update(role="admin"), "is not one of app, migrator, readonly, dms"),
    ],
)
def test_a_bad_users_file_is_refused_before_any_connection(tmp_path: Path, change: Any, message: str) -> None:
    path = users_file(tmp_path, "shop")
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    proc = run_dbkit("users", "plan", "--users", path, "--env", ENV, "--target", "mysql://root@127.0.0.1:1/shop")
    assert proc.returncode == 3
    assert str(path) in proc.stderr and message in proc.stderr and "fix:" in proc.stderr, proc.stderr


def test_users_file_path_and_environment_errors(tmp_path: Path) -> None:
    target = ("--target", "mysql://root@127.0.0.1:1/shop")
    for where, message in ((tmp_path, "is a directory"), (tmp_path / "none.json", "does not exist")):
        proc = run_dbkit("users", "plan", "--users", where, "--env", ENV, *target)
        assert proc.returncode == 3 and message in proc.stderr, proc.stderr
    proc = run_dbkit("users", "plan", "--users", users_file(tmp_path, "shop"), "--env", "qa", *target)
    assert proc.returncode == 3 and "no environment 'qa'" in proc.stderr, proc.stderr
    proc = run_dbkit("users", "plan", "--users", users_file(tmp_path, "shop"), "--env", ENV, "--passwords", "env",
                     env={"DBKIT_ADMIN_DSN": ""})  # fmt: skip
    assert proc.returncode == 3 and "pass --target" in proc.stderr and "DBKIT_ADMIN_DSN" in proc.stderr, proc.stderr


def test_rotation_under_load_fails_no_request_while_pods_lag_behind_the_secret(
    tmp_path: Path, admin: tuple[str, Connection], secretsmanager: tuple[Any, dict[str, str]]
) -> None:
    """Pods open a new connection every few milliseconds with the secret as it was LAG
    seconds ago (External Secrets' refresh plus the kubelet's sync, scaled down). Rotations
    further apart than LAG fail no request; pods that miss two rotations do fail (the rule of
    ADR 0012: refresh + sync < the time between two rotations)."""
    import threading

    lag = 2.0
    dsn, _ = admin
    client, aws = secretsmanager
    schema = parse_dsn(dsn, "admin").database
    path = users_file(tmp_path, schema)
    env = {"DBKIT_ADMIN_DSN": dsn, **aws}
    assert users("apply", "--users", path, "--passwords", "secretsmanager", env=env)[0] == 0
    history: list[tuple[float, dict[str, Any]]] = [(time.monotonic() - lag, secret(client, "shop"))]
    stop = threading.Event()
    ok: list[float] = []
    failed: list[str] = []
    pinned: list[dict[str, Any]] = []  # pods that saw neither of two rotations

    def watch() -> None:  # what the cluster's copy of the secret would see, and when
        while not stop.is_set():
            value = secret(client, "shop")
            if value != history[-1][1]:
                history.append((time.monotonic(), value))
            time.sleep(0.05)

    def pod() -> None:
        while not stop.is_set():
            now = time.monotonic()
            creds = pinned[0] if pinned else [value for seen, value in history if seen <= now - lag][-1]
            try:
                conn = login(dsn, creds["username"], creds["password"], schema)
                conn.value("SELECT COUNT(*) FROM users_probe")
                conn.close()
                ok.append(now)
            except Exception as exc:
                failed.append(f"{creds['username']}: {exc}")
            time.sleep(0.01)

    def rotate() -> None:
        code, _, err = users("rotate", "--users", path, "--passwords", "secretsmanager", "--user", "shop", env=env)
        assert code == 0, err

    threads = [threading.Thread(target=f, daemon=True) for f in (watch, pod, pod)]
    for t in threads:
        t.start()
    try:
        for _ in range(2):  # rotations further apart than the lag
            rotate()
            time.sleep(lag * 1.5)
        served, failures = len(ok), list(failed)
        # Two rotations within one refresh: pods that saw neither still use the oldest
        # password, which the second rotation replaced.
        pinned.append(secret(client, "shop"))
        rotate()
        time.sleep(0.5)
        assert len(failed) == len(failures), "one rotation missed by the pods must not cut them off"
        rotate()
        time.sleep(1)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    print(f"rotation under load: {served} connections, {len(failures)} failed; then {len(failed)} failed "
          "once pods missed two rotations")  # fmt: skip
    assert failures == [] and served > 50, failures[:3]
    assert failed, "two rotations within the lag should have cut off pods on the oldest password"
    assert history[-1][1]["username"] != history[-2][1]["username"]


def test_partial_revokes_on_is_refused() -> None:
    """MySQL 8 only (MariaDB has no partial_revokes, so no server here can show it): with it
    ON, the escaped schema names of the grants would name another schema."""
    from platformgen_dbkit.errors import DbkitError
    from platformgen_dbkit.users import check_server

    class MySQL8:
        dsn = parse_dsn("mysql://u@127.0.0.1/shop", "admin")

        def __init__(self, value: str | None) -> None:
            self.value = value

        def variable(self, name: str) -> str | None:
            return self.value if name == "partial_revokes" else None

    check_server(MySQL8("OFF"))  # type: ignore[arg-type]
    check_server(MySQL8(None))  # type: ignore[arg-type]  # MariaDB
    with pytest.raises(DbkitError, match="partial_revokes is ON"):
        check_server(MySQL8("ON"))  # type: ignore[arg-type]


def test_a_user_that_names_its_environments_exists_only_there(tmp_path: Path) -> None:
    """The dms user exists only in the migration's target environment (users.json names it)."""
    from platformgen_dbkit.errors import DbkitError
    from platformgen_dbkit.userfile import load_users

    path = users_file(tmp_path, "shop")
    doc = json.loads(path.read_text())
    doc["environments"]["prod"] = {"region": REGION}
    dms = {"name": "dms", "role": "dms", "mysqlUsers": ["platform_dms_a", "platform_dms_b"], "environments": ["prod"],
           "grants": [{"schema": "shop", "privileges": ["SELECT"]}]}  # fmt: skip
    doc["users"].append(dms)
    path.write_text(json.dumps(doc))
    assert "dms" not in {u.name for u in load_users(path).for_env(ENV).users}
    assert "dms" in {u.name for u in load_users(path).for_env("prod").users}

    dms["environments"] = ["nowhere"]
    path.write_text(json.dumps(doc))
    with pytest.raises(DbkitError, match="nowhere not in environments"):
        load_users(path)
