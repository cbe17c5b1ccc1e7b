"""Rotating a database user's password under load loses no request (issue 14).

The real generated service (the reference's api, under gunicorn as generated, over
verified TLS to MariaDB) serves a steady load of reads and writes while `dbkit users
rotate` (alternating users: the password of the MySQL user not in the secret changes, then
the secret points at it) rotates the api user's password several times. Secrets Manager
is a moto server on loopback; the External Secrets Operator and the kubelet are a thread
that copies the secret's value into the mounted credentials file (an atomic rename, as the
kubelet swaps it) every REFRESH_SECONDS. The pool is kept small with overflow so that new
connections, which read the file, are opened all through the run.

It proves both halves of the rule the chart's validator checks (refresh plus kubelet sync
below the rotation interval):
1. rotations spaced wider than the refresh: every request succeeds, and both MySQL users of
   the pair served connections;
2. the control, which shows this test can fail: with the refresh stopped, a second rotation
   invalidates the user the pods still hold, and new connections fail.

The counts are printed (pytest -s)."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REFERENCE_SPEC
from support.moto import MotoServer, moto_server
from support.service_stack import database, free_port, identity, workdir
from support.tools import tool_venv_bin

from generator.spec import load_spec
from generator.spec.naming import database_users

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
REPO = REFERENCE_SPEC.parent / "repo"
SERVICE = REPO / "services" / "api"
USERS_FILE = REPO / "database" / "users.json"
ACCOUNT, REGION = "111111111111", "ap-southeast-2"
SECRET = "getprospa/dev/database/api"
REFRESH_SECONDS = 0.5  # the operator's refreshInterval and the kubelet's sync, scaled down
ROTATIONS = 4
CLIENTS = 6
COLLECTION = "/api/v1/loan-applications"


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log", ACCOUNT) as server:
        yield server


def _aws_env(moto: MotoServer) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": moto.endpoint,
        "AWS_CA_BUNDLE": str(moto.ca_bundle),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }


def _secrets(moto: MotoServer) -> Any:
    import boto3

    return boto3.client(
        "secretsmanager",
        region_name=REGION,
        endpoint_url=moto.endpoint,
        verify=str(moto.ca_bundle),
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _dbkit(moto: MotoServer, users: Path, admin_dsn: str, password: str, *args: str) -> str:
    """The kit as the platform executor runs it: the master (here MariaDB's root) from the
    environment, the secrets in Secrets Manager."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DBKIT_"))},
        **_aws_env(moto),
        "DBKIT_ADMIN_DSN": admin_dsn,
        "DBKIT_ADMIN_PASSWORD": password,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "platformgen_dbkit", "users", *args,
         "--users", str(users), "--env", "dev", "--passwords", "secretsmanager"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, (
        f"dbkit users {args}:\n{proc.stdout}\n{proc.stderr}"
    )
    return proc.stdout


class Kubelet(threading.Thread):
    """The operator and the kubelet: the secret's value, copied into the mounted file."""

    def __init__(self, client: Any, path: Path) -> None:
        super().__init__(daemon=True)
        self.client, self.path = client, path
        self.running = threading.Event()
        self.running.set()
        self.stopped = threading.Event()

    def sync(self) -> None:
        value = self.client.get_secret_value(SecretId=SECRET)["SecretString"]
        if not self.path.exists() or self.path.read_text() != value:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(value)
            tmp.replace(self.path)

    def run(self) -> None:
        while not self.stopped.is_set():
            if self.running.is_set():
                self.sync()
            time.sleep(REFRESH_SECONDS)


class Load:
    """CLIENTS threads of reads (a list page) and writes (a create), counting outcomes."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.counts: Counter[str] = Counter()
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(i,)) for i in range(CLIENTS)]

    def _request(self, n: int, i: int) -> None:
        if n % 2:
            body = json.dumps({
                "business_name": f"Rotation {i}-{n}", "abn": f"{i:02d}{n:09d}",
                "amount_cents": 500000, "term_months": 12,
            }).encode()  # fmt: skip
            request = urllib.request.Request(self.base + COLLECTION, body, method="POST")
            request.add_header("Content-Type", "application/json")
            kind, want = "write", 201
        else:
            request = urllib.request.Request(self.base + COLLECTION + "?limit=20")
            kind, want = "read", 200
        request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            status, kind = 0, f"{kind} ({exc})"
        with self.lock:
            if status == want:
                self.counts[kind] += 1
            else:
                self.counts["failed"] += 1
                self.failures.append(f"{kind}: {status}")

    def _client(self, i: int) -> None:
        n = 0
        while not self.stop.is_set():
            self._request(n, i)
            n += 1

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def _connected_users(db: Any, schema: str) -> set[str]:
    out = db.server.execute(
        f"SELECT DISTINCT USER FROM information_schema.PROCESSLIST WHERE DB = '{schema}'"
    )
    return {line.strip() for line in out.splitlines() if line.strip()}


def test_rotating_under_load_fails_no_request(moto: MotoServer) -> None:
    if shutil.which("gunicorn", path=str(tool_venv_bin("service", "python").parent)) is None:
        pytest.fail("the service tool venv has no gunicorn: make tools", pytrace=False)
    db, ident = database(), identity()
    work = workdir() / "rotation"
    work.mkdir()
    # The reference's users file (its schema, users and grants), with the account host this
    # machine's clients connect from: loopback stands in for the VPC.
    users = work / "users.json"
    document = json.loads(USERS_FILE.read_text())
    users.write_text(json.dumps({**document, "host": "127.0.0.1"}))
    schema = document["database"]
    db.server.execute(f"CREATE DATABASE `{schema}` CHARACTER SET utf8mb4")
    password = db.server.password
    admin_dsn = (
        f"mysql://{db.server.user}@127.0.0.1:{db.server.port}/{schema}"
        f"?ssl-mode=VERIFY_IDENTITY&ssl-ca={db.ca}"
    )
    client = _secrets(moto)
    # Terraform's empty secrets, one per logical user (the same list the roots get).
    resolved = load_spec(REFERENCE_SPEC).resolved
    assert resolved is not None
    for user in database_users(resolved):
        client.create_secret(Name=f"getprospa/dev/database/{user}")
    print(_dbkit(moto, users, admin_dsn, password, "apply"))

    service = work / "api"
    shutil.copytree(SERVICE, service)
    credentials = work / "credentials.json"
    kubelet = Kubelet(client, credentials)
    kubelet.sync()
    first = json.loads(credentials.read_text())
    assert {"host", "port", "dbname", "username", "password"} <= set(first), set(first)
    python = tool_venv_bin("service", "python")
    env = {
        "PATH": f"{python.parent}:/usr/bin:/bin",
        "PYTHONPATH": str(service / "src"),
        "APP_ENV": "dev",
        "APP_TIER": "production",
        "DATABASE_HOST": "127.0.0.1",
        "DATABASE_NAME": schema,
        "DATABASE_CREDENTIALS_FILE": str(credentials),
        "DATABASE_TLS_CA_FILE": str(db.ca),
        "SSL_CERT_FILE": str(db.ca),
        "AUTH_ISSUER": ident.issuer,
        "AUTH_AUDIENCE": ident.audience,
        "LOG_LEVEL": "warning",
        # Few pooled connections and overflow: new connections (which read the file) open
        # all through the run, as pods scale and connections recycle.
        "DATABASE_POOL_SIZE": "1",
        "DATABASE_MAX_OVERFLOW": "8",
        "DRAINING_FILE": str(work / "draining"),
        "TMPDIR": str(work),
    }
    # The schema as the migration hook makes it: as the migrator user.
    migrator = json.loads(client.get_secret_value(SecretId=SECRET + "-migrator")["SecretString"])
    migrate_env = {**env, "DATABASE_CREDENTIALS_FILE": str(work / "migrator.json")}
    (work / "migrator.json").write_text(json.dumps(migrator))
    subprocess.run([str(python), "-m", "api.entrypoint", "migrate"], env=migrate_env, check=True)

    port = free_port()
    log = work / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(python.parent / "gunicorn"), "--config", "python:api.gunicorn_conf",
             "--bind", f"127.0.0.1:{port}", "api.wsgi:app"],
            env={**env, "PORT": str(port)}, stdout=out, stderr=out, cwd=work,
        )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        kubelet.start()
        users_seen: set[str] = set()
        usernames = [first["username"]]
        with Load(base, ident.tokens["business_a"]) as load:
            time.sleep(2)
            for _ in range(ROTATIONS):
                _dbkit(moto, users, admin_dsn, password, "rotate", "--user", "api")
                usernames.append(
                    json.loads(client.get_secret_value(SecretId=SECRET)["SecretString"])["username"]
                )
                # Wider than the refresh: every pod reads the new secret before the next one.
                for _ in range(8):
                    time.sleep(REFRESH_SECONDS)
                    users_seen |= _connected_users(db, schema)
            time.sleep(2)
        steady = dict(load.counts)
        print(f"\nrotation under load: {ROTATIONS} rotations, secret users {usernames}, "
              f"connected as {sorted(users_seen)}, requests {steady}")  # fmt: skip
        assert not load.failures, load.failures[:10]
        assert steady.get("read", 0) > 100 and steady.get("write", 0) > 100, steady
        # Alternating users: the secret flips between two MySQL users, and both served.
        assert len(set(usernames)) == 2 and all(a != b for a, b in itertools.pairwise(usernames)), (
            usernames
        )
        assert set(usernames) <= users_seen, (usernames, users_seen)

        # The control: the refresh stops (a pod that never re-reads the secret) across two
        # rotations, so the user it still holds gets a new password. New connections fail.
        kubelet.running.clear()
        with Load(base, ident.tokens["business_a"]) as control:
            _dbkit(moto, users, admin_dsn, password, "rotate", "--user", "api")
            _dbkit(moto, users, admin_dsn, password, "rotate", "--user", "api")
            time.sleep(4)
        print(f"control without the refresh: requests {dict(control.counts)}")
        assert control.counts["failed"] > 0, (
            "with the stale file's password changed, new connections must fail: "
            f"{dict(control.counts)}"
        )
    finally:
        kubelet.stopped.set()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
