"""Health, readiness, metrics, OpenAPI, logs, CORS and security headers."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import environ_for
from flask.testing import FlaskClient
from samples import COLLECTION, body

from api import create_app
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
