"""Fixtures: a fresh database on TEST_DATABASE_URL, migrated to head; signed tokens; a JWKS server.

TEST_DATABASE_URL names a MySQL server (MySQL 8 in CI; MariaDB works too) where
the tests may create and drop databases: mysql+pymysql://USER:PASSWORD@HOST:PORT/
Set TEST_DATABASE_TLS_CA_FILE as well to test over verified TLS.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient

from api import create_app, migrate
from api.config import Settings, load_settings

AUDIENCE = "test-client"
KID = "test-key"


class KeyServer:
    """Serves a JWKS on a loopback port, like a Cognito user pool's /.well-known/jwks.json."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        body = json.dumps({"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS256"}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}/issuer"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(
        self,
        subject: str = "customer-1",
        *,
        groups: list[str] | None = None,
        expires_in: int = 300,
        key: Any = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "sub": subject,
            "iss": self.issuer,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + expires_in,
            **claims,
        }
        if groups is not None:
            payload["cognito:groups"] = groups
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": KID})


class DatabaseGate:
    """A TCP relay on loopback in front of the database, which a test can cut: the
    database then goes away for the app (open connections die, new ones are refused
    during the handshake) until `restore`. TLS passes through untouched."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(self.upstream)
            self.pairs.append((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def drop_connections(self) -> None:
        """Close every open connection (a failover, a NAT timeout); new ones still work."""
        for pair in self.pairs:
            for end in pair:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
        self.pairs.clear()

    def cut(self) -> None:
        self.up = False
        self.drop_connections()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def database_gate(settings: Settings) -> Iterator[DatabaseGate]:
    gate = DatabaseGate(settings.database.host, settings.database.port)
    yield gate
    gate.close()


@pytest.fixture(scope="session")
def keys() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.server.shutdown()


@pytest.fixture(scope="session")
def server_url() -> sa.URL:
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        pytest.fail("set TEST_DATABASE_URL=mysql+pymysql://USER:PASSWORD@HOST:PORT/", pytrace=False)
    return sa.make_url(raw)


def environ_for(url: sa.URL, database: str, issuer: str, **extra: str) -> dict[str, str]:
    env = {
        "APP_ENV": "test",
        "APP_TIER": "development",
        "DATABASE_HOST": url.host or "127.0.0.1",
        "DATABASE_PORT": str(url.port or 3306),
        "DATABASE_NAME": database,
        "DATABASE_USERNAME": url.username or "",
        "DATABASE_PASSWORD": url.password or "",
        "AUTH_ISSUER": issuer,
        "AUTH_AUDIENCE": AUDIENCE,
        "CORS_ALLOWED_ORIGINS": "https://app.example.com",
        "LOG_LEVEL": "warning",
        "DRAINING_FILE": os.path.join(os.environ.get("TMPDIR", "/tmp"), f"draining-{database}"),  # noqa: S108, PTH118
    }
    ca = os.environ.get("TEST_DATABASE_TLS_CA_FILE")
    if ca:
        env["DATABASE_TLS_CA_FILE"] = ca
    return {**env, **extra}


@pytest.fixture(scope="session")
def make_database(server_url: sa.URL) -> Iterator[Callable[[], str]]:
    """Creates empty databases named test_<random>; drops them all at the end."""
    ca = os.environ.get("TEST_DATABASE_TLS_CA_FILE")
    tls = {"ssl_ca": ca, "ssl_verify_cert": True, "ssl_verify_identity": True} if ca else {}
    admin = sa.create_engine(server_url.set(database=""), poolclass=sa.NullPool, connect_args=tls)
    created: list[str] = []

    def make() -> str:
        name = f"test_{secrets.token_hex(6)}"
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        created.append(name)
        return name

    yield make
    with admin.begin() as conn:
        for name in created:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
    admin.dispose()


@pytest.fixture(scope="session")
def settings(server_url: sa.URL, make_database: Callable[[], str], keys: KeyServer) -> Settings:
    """Settings for a database migrated to head by the real `migrate` code."""
    settings = load_settings(environ_for(server_url, make_database(), keys.issuer))
    migrate.upgrade(settings)
    return settings


@pytest.fixture(scope="session")
def app(settings: Settings) -> Flask:
    return create_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(keys: KeyServer) -> Callable[..., dict[str, str]]:
    """Headers with a valid bearer token: auth("alice"), auth("bob", groups=["staff"])."""

    def headers(subject: str = "customer-1", **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys.token(subject, **kwargs)}"}

    return headers
