"""Configuration validation, and migrations: one DDL per revision, schema equal to the model."""

from __future__ import annotations

import ast
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import KeyServer, environ_for

from api import migrate, schema
from api.config import ConfigError, Settings, load_settings
from api.db import METADATA, create_engine

VERSIONS = Path(migrate.__file__).parent / "migrations" / "versions"
BASE = {
    "APP_ENV": "prod",
    "APP_TIER": "production",
    "DATABASE_HOST": "db.internal",
    "DATABASE_NAME": "app",
    "DATABASE_USERNAME": "app",
    "DATABASE_PASSWORD": "Never-In-Repr-7c1e",
    "DATABASE_TLS_CA_FILE": __file__,
    "AUTH_ISSUER": "https://cognito-idp.ap-southeast-2.amazonaws.com/pool",
    "AUTH_AUDIENCE": "client-a,client-b",
}


def test_valid_production_settings() -> None:
    settings = load_settings(BASE)
    assert settings.auth.jwks_url == f"{BASE['AUTH_ISSUER']}/.well-known/jwks.json"
    assert settings.auth.audiences == ("client-a", "client-b")
    assert settings.database.pool_recycle < 28800
    assert BASE["DATABASE_PASSWORD"] not in repr(settings.database)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"APP_TIER": "prod", "PORT": "80", "CORS_ALLOWED_ORIGINS": "*"})
    text = str(caught.value)
    for name in (
        "APP_ENV",
        "APP_TIER",
        "PORT",
        "DATABASE_HOST",
        "DATABASE_USERNAME",
        "AUTH_ISSUER",
        "CORS_ALLOWED_ORIGINS",
    ):
        assert name in text, name


def test_tls_is_required_outside_development() -> None:
    without_ca = {k: v for k, v in BASE.items() if k != "DATABASE_TLS_CA_FILE"}
    with pytest.raises(ConfigError, match="DATABASE_TLS_CA_FILE is required"):
        load_settings(without_ca)
    with pytest.raises(ConfigError, match="must be an https URL"):
        load_settings({**BASE, "AUTH_ISSUER": "http://idp.example.com"})


def test_credentials_from_the_users_secret_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"username": "admin", "password": "s3cret", "engine": "mysql"}))
    env = {
        k: v
        for k, v in BASE.items()
        if not k.startswith("DATABASE_USERNAME") and k != "DATABASE_PASSWORD"
    }
    settings = load_settings({**env, "DATABASE_CREDENTIALS_FILE": str(secret)})
    assert (settings.database.username, settings.database.password) == ("admin", "s3cret")
    secret.write_text("{}")
    with pytest.raises(ConfigError, match="needs string keys username and password"):
        load_settings({**env, "DATABASE_CREDENTIALS_FILE": str(secret)})


def test_the_secret_files_host_port_and_schema_win_over_the_environment(tmp_path: Path) -> None:
    """The app's database user's secret names where to connect: a cutover moves the app by
    writing it. Without those keys the environment's DATABASE_HOST etc. apply."""
    secret = tmp_path / "credentials.json"
    env = {k: v for k, v in BASE.items() if k not in ("DATABASE_USERNAME", "DATABASE_PASSWORD")}
    env["DATABASE_CREDENTIALS_FILE"] = str(secret)
    secret.write_text(json.dumps({
        "engine": "mysql", "host": "rds.example.internal", "port": 3307, "dbname": "moved",
        "username": "api_a", "password": "s3cret",
    }))  # fmt: skip
    database = load_settings(env).database
    assert (database.host, database.port, database.name) == ("rds.example.internal", 3307, "moved")
    assert (database.username, database.password) == ("api_a", "s3cret")
    secret.write_text(json.dumps({"username": "api_b", "password": "s3cret", "port": "3308"}))
    database = load_settings(env).database
    assert (database.host, database.port, database.name) == ("db.internal", 3308, "app")
    for bad, message in (
        ({"host": "db;drop"}, "host must be a host name"),
        ({"port": 70000}, "port must be 1-65535"),
        ({"dbname": "a b"}, "dbname must be a schema name"),
    ):
        secret.write_text(json.dumps({"username": "u", "password": "p", **bad}))
        with pytest.raises(ConfigError, match=message):
            load_settings(env)


def test_a_switched_secret_moves_new_connections(
    tmp_path: Path, server_url: sa.URL, make_database: Callable[[], str], keys: KeyServer
) -> None:
    """A cutover writes the app's secret with the target's host and schema: every new
    connection follows the file, whatever the environment's DATABASE_HOST says."""
    first, second = make_database(), make_database()
    secret = tmp_path / "credentials.json"
    env = environ_for(server_url, first, keys.issuer, DATABASE_CREDENTIALS_FILE=str(secret))
    login = {"username": env.pop("DATABASE_USERNAME"), "password": env.pop("DATABASE_PASSWORD")}
    secret.write_text(json.dumps({**login, "host": server_url.host, "dbname": first}))
    env["DATABASE_HOST"] = "unreachable.invalid"  # only the file's host can work
    engine = create_engine(load_settings(env).database)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT DATABASE()")).scalar_one() == first
        secret.write_text(json.dumps({**login, "host": server_url.host, "dbname": second}))
        engine.dispose()  # new connections from here on, as after the source killed them
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT DATABASE()")).scalar_one() == second
    finally:
        engine.dispose()


def test_a_rotated_password_in_the_secret_file_reaches_new_connections(
    tmp_path: Path, server_url: sa.URL, make_database: Callable[[], str], keys: KeyServer
) -> None:
    """A rotation changes the password; the kubelet refreshes the mounted secret file."""
    database = make_database()
    user = f"rot_{secrets.token_hex(4)}"
    tls = os.environ.get("TEST_DATABASE_TLS_CA_FILE")
    admin = sa.create_engine(
        server_url.set(database=""),
        poolclass=sa.NullPool,
        connect_args={"ssl_ca": tls, "ssl_verify_cert": True} if tls else {},
    )
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'first-pass-1'"))
        conn.execute(sa.text(f"GRANT SELECT ON `{database}`.* TO '{user}'@'%'"))
    secret = tmp_path / "credentials.json"
    secret.write_text(json.dumps({"username": user, "password": "first-pass-1"}))
    env = environ_for(server_url, database, keys.issuer, DATABASE_CREDENTIALS_FILE=str(secret))
    del env["DATABASE_USERNAME"], env["DATABASE_PASSWORD"]
    engine = create_engine(load_settings(env).database)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT CURRENT_USER()")).scalar_one().startswith(user)
        with admin.begin() as conn:
            conn.execute(sa.text(f"ALTER USER '{user}'@'%' IDENTIFIED BY 'second-pass-2'"))
        secret.write_text(json.dumps({"username": user, "password": "second-pass-2"}))
        engine.dispose()  # new connections from here on, as after pool_recycle
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
        secret.write_text("not json")  # a bad value: the last good credentials stay in use
        engine.dispose()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'%'"))
        admin.dispose()


def test_one_ddl_statement_per_revision() -> None:
    """MySQL commits DDL implicitly: a revision with two DDL statements can fail half-way."""
    for path in sorted(VERSIONS.glob("*.py")):
        tree = ast.parse(path.read_text())
        upgrade = next(
            n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"
        )
        calls = [
            n
            for n in ast.walk(upgrade)
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and isinstance(n.func.value, ast.Name)
            and n.func.value.id == "op"
        ]
        assert len(calls) == 1, f"{path.name} runs {len(calls)} operations; split it"


def test_migrated_schema_matches_the_model(settings: Settings) -> None:
    engine = create_engine(settings.database)
    try:
        with engine.connect() as conn:
            assert migrate.current(conn) == migrate.head()
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), METADATA
            )
    finally:
        engine.dispose()
    assert diff == [], f"the migrations and db.py disagree: {diff}"


def test_migrate_is_idempotent(settings: Settings) -> None:
    assert migrate.upgrade(settings) == migrate.head()


def test_revisions_are_numbered_schema_versions_and_the_code_needs_one_of_them() -> None:
    """Readiness compares numbers (schema.py): each revision's id is one more than the one
    it revises, and the code never needs a schema its own migrations do not produce."""
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    for script in scripts.walk_revisions():
        assert script.revision.isdigit(), f"revision {script.revision} is not a number"
        if script.down_revision is not None:
            assert int(script.revision) == int(str(script.down_revision)) + 1, script.revision
    assert 1 <= schema.REQUIRED_SCHEMA_VERSION <= int(migrate.head())


def test_migrate_records_the_schema_version(settings: Settings) -> None:
    engine = create_engine(settings.database)
    try:
        with engine.connect() as conn:
            recorded = schema.read(conn)
    finally:
        engine.dispose()
    assert recorded == schema.Recorded(version=int(migrate.head()), compatible_from=1)
    assert schema.problem(recorded) is None


def test_strict_sql_mode_and_utc(settings: Settings) -> None:
    engine = create_engine(settings.database)
    try:
        with engine.connect() as conn:
            mode = conn.execute(sa.text("SELECT @@SESSION.sql_mode")).scalar_one()
            zone = conn.execute(sa.text("SELECT @@SESSION.time_zone")).scalar_one()
    finally:
        engine.dispose()
    assert "STRICT_TRANS_TABLES" in mode and zone == "+00:00"
