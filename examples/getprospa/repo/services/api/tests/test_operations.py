"""Health, readiness, metrics, OpenAPI, logs, CORS and security headers."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import DatabaseGate, environ_for
from flask.testing import FlaskClient
from samples import COLLECTION, body

from api import create_app, migrate, schema
from api.config import Settings, load_settings
from api.definition import DEFINITION
from api.logs import JsonFormatter

Auth = Callable[..., dict[str, str]]


def test_liveness_and_readiness(client: FlaskClient) -> None:
    assert client.get(DEFINITION.liveness_path).status_code == 200
    ready = client.get(DEFINITION.readiness_path)
    assert ready.status_code == 200, ready.get_json()


def test_readiness_is_503_while_draining(client: FlaskClient, settings: Settings) -> None:
    flag = Path(settings.draining_file)
    flag.touch()
    try:
        assert client.get(DEFINITION.readiness_path).status_code == 503
        assert client.get(DEFINITION.liveness_path).status_code == 200
    finally:
        flag.unlink()


def test_readiness_is_503_before_migrations(server_url, make_database, keys) -> None:
    fresh = load_settings(environ_for(server_url, make_database(), keys.issuer))
    response = create_app(fresh).test_client().get(DEFINITION.readiness_path)
    assert response.status_code == 503
    assert response.get_json()["status"] == "migrations pending"


EXPAND = '''"""Add {table}.note: an expand step (nullable, nothing reads it yet).

Revision ID: {revision}
Revises: {previous}
"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{previous}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("{table}", sa.Column("note", sa.String(200), nullable=True))


def downgrade() -> None:
    op.drop_column("{table}", "note")
'''


def _newer_build(root: Path, *, contract: bool = False) -> Path:
    """This build plus one migration, with code that needs it: the next release. With
    `contract`, the migration declares that code needing an older schema breaks on it."""
    package = Path(migrate.__file__).parent
    copy = root / package.name
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    previous = migrate.head()
    revision = f"{int(previous) + 1:04d}"
    text = EXPAND.format(table=DEFINITION.table, revision=revision, previous=previous)
    if contract:
        text += f"\n\nbreaks_code_below = {int(revision)}\n"
    (copy / "migrations" / "versions" / f"{revision}_add_note.py").write_text(text)
    code = copy / "schema.py"
    required = f"REQUIRED_SCHEMA_VERSION = {schema.REQUIRED_SCHEMA_VERSION}"
    assert required in code.read_text()
    code.write_text(
        code.read_text().replace(required, f"REQUIRED_SCHEMA_VERSION = {int(revision)}")
    )
    return root


def _run_build(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run this interpreter with the build in `root` first on the import path."""
    return subprocess.run(  # noqa: S603 - this interpreter, this package
        [sys.executable, *args],
        env={**os.environ, **env, "PYTHONPATH": str(root)},
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_old_build_stays_ready_and_serves_after_a_newer_build_expands_the_schema(
    tmp_path: Path, server_url, make_database, keys, auth: Auth
) -> None:
    """The Helm hook migrates before the rollout: old pods keep serving, and old pods
    started again (a rollback) become ready on the newer schema."""
    env = environ_for(server_url, make_database(), keys.issuer)
    old_settings = load_settings(env)
    migrate.upgrade(old_settings)
    running = create_app(old_settings).test_client()
    assert running.get(DEFINITION.readiness_path).status_code == 200

    newer = _newer_build(tmp_path / "newer")
    package = Path(migrate.__file__).parent.name
    migrated = _run_build(newer, env, "-m", f"{package}.entrypoint", "migrate")
    assert migrated.returncode == 0, migrated.stderr + migrated.stdout
    probe = (
        f"from {package} import create_app; from {package}.definition import DEFINITION; "
        "print(create_app().test_client().get(DEFINITION.readiness_path).status_code)"
    )
    new_ready = _run_build(newer, env, "-c", probe)
    assert new_ready.stdout.strip().splitlines()[-1] == "200", new_ready.stderr

    restarted = create_app(load_settings(env)).test_client()
    for client in (running, restarted):
        ready = client.get(DEFINITION.readiness_path)
        assert ready.status_code == 200, ready.get_json()
        created = client.post(COLLECTION, json=body(), headers=auth())
        assert created.status_code == 201, created.get_json()
        read = client.get(created.headers["Location"], headers=auth())
        assert read.status_code == 200, read.get_json()
        assert client.get(COLLECTION, headers=auth()).status_code == 200
    # The rollback's migrate hook (the older build) leaves the newer schema alone.
    assert migrate.upgrade(old_settings) == f"{int(migrate.head()) + 1:04d}"


def test_a_newer_build_is_not_ready_until_its_migration_ran(
    tmp_path: Path, server_url, make_database, keys
) -> None:
    env = environ_for(server_url, make_database(), keys.issuer)
    migrate.upgrade(load_settings(env))
    package = Path(migrate.__file__).parent.name
    probe = (
        f"from {package} import create_app; from {package}.definition import DEFINITION; "
        "r = create_app().test_client().get(DEFINITION.readiness_path); "
        "print(r.status_code, r.get_json()['status'])"
    )
    result = _run_build(_newer_build(tmp_path / "newer"), env, "-c", probe)
    assert result.stdout.strip().splitlines()[-1] == "503 migrations pending", result.stderr


def test_a_contract_step_makes_older_code_unready(
    tmp_path: Path, server_url, make_database, keys
) -> None:
    env = environ_for(server_url, make_database(), keys.issuer)
    migrate.upgrade(load_settings(env))
    package = Path(migrate.__file__).parent.name
    newer = _newer_build(tmp_path / "newer", contract=True)
    migrated = _run_build(newer, env, "-m", f"{package}.entrypoint", "migrate")
    assert migrated.returncode == 0, migrated.stderr + migrated.stdout
    ready = create_app(load_settings(env)).test_client().get(DEFINITION.readiness_path)
    assert ready.status_code == 503
    assert ready.get_json()["status"] == "schema incompatible"


def test_a_contract_step_makes_code_that_needs_less_incompatible() -> None:
    ahead = schema.Recorded(version=9, compatible_from=1)
    assert schema.problem(ahead, required=5) is None
    contracted = schema.Recorded(version=9, compatible_from=7)
    problem = schema.problem(contracted, required=5)
    assert problem is not None and problem[0] == "schema incompatible"
    assert schema.problem(contracted, required=7) is None
    assert schema.problem(schema.Recorded(4, 1), required=5)[0] == "migrations pending"


def test_a_ready_pod_stays_ready_when_the_database_goes_away(
    settings: Settings, database_gate: DatabaseGate, auth: Auth
) -> None:
    """A failover or an outage shows as 503s and alarms, never as deregistered targets."""
    relayed = dataclasses.replace(
        settings, database=dataclasses.replace(settings.database, port=database_gate.port)
    )
    client = create_app(relayed).test_client()
    assert client.get(DEFINITION.readiness_path).status_code == 200
    created = client.post(COLLECTION, json=body(), headers=auth())
    assert created.status_code == 201
    location = created.headers["Location"]

    database_gate.cut()
    ready = client.get(DEFINITION.readiness_path)
    assert ready.status_code == 200, ready.get_json()
    failed = client.get(location, headers=auth())
    assert failed.status_code == 503
    assert failed.mimetype == "application/problem+json"
    assert failed.headers["Retry-After"] == "2"
    assert client.get(DEFINITION.readiness_path).status_code == 200
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'status="503"' in metrics and "http_requests_total" in metrics

    database_gate.restore()
    again = client.get(location, headers=auth())
    assert again.status_code == 200, again.get_json()


def test_a_read_on_a_dropped_connection_is_retried_once(
    settings: Settings, database_gate: DatabaseGate, auth: Auth
) -> None:
    """No pre-ping: a pooled connection the server or a failover closed is found dead on
    use, and an idempotent read runs once more on a fresh connection."""
    relayed = dataclasses.replace(
        settings, database=dataclasses.replace(settings.database, port=database_gate.port)
    )
    client = create_app(relayed).test_client()
    created = client.post(COLLECTION, json=body(), headers=auth())
    database_gate.drop_connections()
    read = client.get(created.headers["Location"], headers=auth())
    assert read.status_code == 200, read.get_json()
    database_gate.drop_connections()
    assert client.get(COLLECTION, headers=auth()).status_code == 200


def test_readiness_is_503_without_database(server_url, keys) -> None:
    unreachable = load_settings(
        environ_for(
            server_url,
            "nowhere",
            keys.issuer,
            DATABASE_PORT="1",
            DATABASE_CONNECT_TIMEOUT_SECONDS="1",
        )
    )
    response = create_app(unreachable).test_client().get(DEFINITION.readiness_path)
    assert response.status_code == 503


def test_metrics(client: FlaskClient, auth: Auth) -> None:
    client.get(COLLECTION, headers=auth())
    text = client.get("/metrics").get_data(as_text=True)
    sample = 'http_requests_total{method="GET",route="' + COLLECTION + '",status="200"}'
    assert sample in text
    assert "http_request_duration_seconds_bucket" in text
    assert "db_pool_connections_in_use" in text


def test_openapi_document(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert COLLECTION in document["paths"]
    assert COLLECTION + "/{id}" in document["paths"]


def test_security_headers_and_request_id(client: FlaskClient) -> None:
    response = client.get(DEFINITION.liveness_path, headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Request-ID"] == "abc-123"
    generated = client.get(DEFINITION.liveness_path, headers={"X-Request-ID": "bad id!"})
    assert (
        generated.headers["X-Request-ID"] != "bad id!"
        and len(generated.headers["X-Request-ID"]) == 32
    )


def test_cors_allow_list(client: FlaskClient, auth: Auth) -> None:
    allowed = client.options(
        COLLECTION,
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Idempotency-Key" in allowed.headers["Access-Control-Allow-Headers"]
    denied = client.get(COLLECTION, headers={**auth(), "Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in denied.headers


def test_errors_never_leak_a_stack_trace(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/boom-for-test")
    def boom() -> str:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom-for-test")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_json_log_lines_carry_the_request_id(app, auth: Auth) -> None:
    formatter = JsonFormatter()
    with app.test_request_context(DEFINITION.liveness_path, headers={"X-Request-ID": "req-42"}):
        app.preprocess_request()
        record = logging.LogRecord("access", logging.INFO, __file__, 1, "request", None, None)
        record.status = 200
        line = json.loads(formatter.format(record))
    assert line["request_id"] == "req-42"
    assert line["message"] == "request" and line["status"] == 200 and line["level"] == "info"


def test_post_then_list_round_trip(client: FlaskClient, auth: Auth) -> None:
    who = auth("round-trip")
    assert client.post(COLLECTION, json=body(), headers=who).status_code == 201
    assert len(client.get(COLLECTION, headers=who).get_json()["items"]) >= 1


def test_the_unversioned_paths_are_an_alias_of_v1(client: FlaskClient, auth: Auth) -> None:
    """Mobile apps in the field call the unversioned paths: same handlers, same data."""
    legacy = DEFINITION.unversioned_collection_path
    assert f"{DEFINITION.path_prefix}/v1/{DEFINITION.resource}" == COLLECTION
    who = auth("alias-user")
    created = client.post(legacy, json=body(), headers=who)
    assert created.status_code == 201, created.get_json()
    assert created.headers["Location"].startswith(f"{legacy}/")
    resource_id = created.get_json()["id"]
    for base in (COLLECTION, legacy):
        read = client.get(f"{base}/{resource_id}", headers=who)
        assert read.status_code == 200 and read.get_json() == created.get_json()
    versioned = client.post(COLLECTION, json=body(), headers=who)
    assert versioned.headers["Location"].startswith(f"{COLLECTION}/")
    paths = client.get("/openapi.json").get_json()["paths"]
    assert paths[legacy]["get"]["deprecated"] is True
    assert "deprecated" not in paths[COLLECTION]["get"]


def test_the_client_address_is_the_hop_the_trusted_proxies_added(settings: Settings) -> None:
    """Behind CloudFront and the ALB (two trusted hops), the left-most X-Forwarded-For
    entry is whatever the client wrote; the client is the second entry from the right."""
    client = create_app(dataclasses.replace(settings, trusted_proxy_hops=2)).test_client()
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    access = logging.getLogger("access")
    access.addHandler(handler)
    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.INFO)
    try:
        forwarded = "6.6.6.6, 203.0.113.7, 130.176.0.1"  # spoofed, viewer, CloudFront edge
        client.get(DEFINITION.liveness_path, headers={"X-Forwarded-For": forwarded})
    finally:
        access.removeHandler(handler)
        logging.getLogger().setLevel(level)
    assert records[-1].__dict__["_fields"]["remote_addr"] == "203.0.113.7"


@pytest.mark.parametrize("path", ["/metrics", "/openapi.json"])
def test_operational_endpoints_need_no_token(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_database_outage_is_503_not_500(server_url, keys, auth: Auth) -> None:
    down = load_settings(
        environ_for(
            server_url,
            "nowhere",
            keys.issuer,
            DATABASE_PORT="1",
            DATABASE_CONNECT_TIMEOUT_SECONDS="1",
        )
    )
    response = create_app(down).test_client().get(COLLECTION, headers=auth())
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
