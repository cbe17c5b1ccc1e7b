"""Bearer JWT: refused without a valid token; a tenant never sees another tenant's data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from conftest import KeyServer, environ_for
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient
from samples import COLLECTION, body

from api import create_app
from api.config import ConfigError, Settings, load_settings

Auth = Callable[..., dict[str, str]]


def test_missing_token_is_401(client: FlaskClient) -> None:
    response = client.get(COLLECTION)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.post(COLLECTION, json=body()).status_code == 401


def test_wrong_scheme_is_401(client: FlaskClient) -> None:
    assert (
        client.get(COLLECTION, headers={"Authorization": "Basic dXNlcjpwdw=="}).status_code == 401
    )


def test_another_tenants_resource_is_404(client: FlaskClient, auth: Auth) -> None:
    created = client.post(COLLECTION, json=body(), headers=auth("business-a")).get_json()
    url = f"{COLLECTION}/{created['id']}"
    assert client.get(url, headers=auth("business-a")).status_code == 200
    other = client.get(url, headers=auth("business-b"))
    assert other.status_code == 404, (
        "another business's resource must be indistinguishable from none"
    )
    patch = client.patch(url, json={}, headers={**auth("business-b"), "If-Match": '"1"'})
    assert patch.status_code == 404
    listed = client.get(COLLECTION, query_string={"limit": 100}, headers=auth("business-b"))
    assert created["id"] not in {i["id"] for i in listed.get_json()["items"]}
    staff = client.get(url, headers=auth("reviewer", groups=["staff"]))
    assert staff.status_code == 200, "staff see every resource"
    not_staff = client.get(url, headers=auth("someone", groups=["customers"]))
    assert not_staff.status_code == 404


def test_bad_signature_is_401(client: FlaskClient, keys: KeyServer) -> None:
    forged = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = keys.token("business-a", key=forged)
    response = client.get(COLLECTION, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_expired_token_is_401(client: FlaskClient, keys: KeyServer) -> None:
    token = keys.token("business-a", expires_in=-120)
    response = client.get(COLLECTION, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in response.get_json()["detail"]


@pytest.mark.parametrize(
    "claims",
    [{"iss": "https://attacker.example.com"}, {"aud": "another-client"}, {"sub": ""}],
    ids=["issuer", "audience", "subject"],
)
def test_wrong_claims_are_401(client: FlaskClient, keys: KeyServer, claims: dict) -> None:
    token = keys.token(**{"subject": "business-a", **claims})
    response = client.get(COLLECTION, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_alg_none_and_garbage_are_401(client: FlaskClient) -> None:
    unsigned = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhIn0."
    for token in (unsigned, "not-a-jwt", "a.b.c"):
        response = client.get(COLLECTION, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token


def test_cognito_access_token_uses_client_id(client: FlaskClient, keys: KeyServer) -> None:
    """Cognito access tokens carry client_id and token_use, and no aud."""
    from conftest import AUDIENCE

    token = keys.token("business-c", aud=None, client_id=AUDIENCE, token_use="access")
    response = client.get(COLLECTION, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_an_id_token_is_refused_with_a_clear_401(client: FlaskClient, keys: KeyServer) -> None:
    """Cognito ID tokens carry aud and token_use=id: only access tokens call the API."""
    for token_use in ("id", "refresh", ""):
        token = keys.token("business-c", token_use=token_use)
        response = client.get(COLLECTION, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token_use
        assert "access token" in response.get_json()["detail"]
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_dev_mode_only_in_development_and_never_internet_facing(
    settings: Settings, keys: KeyServer, server_url: sa.URL
) -> None:
    url = server_url
    for tier in ("staging", "production"):
        env = environ_for(url, "x", keys.issuer, APP_TIER=tier, AUTH_DEV_MODE="true")
        with pytest.raises(ConfigError, match="AUTH_DEV_MODE is only allowed"):
            load_settings(env)
    # Internet-facing (the chart sets APP_INTERNET_FACING from `public`; unset counts as
    # internet-facing): refused even in development.
    for facing in ({"APP_INTERNET_FACING": "true"}, {}):
        env = environ_for(url, "x", keys.issuer, AUTH_DEV_MODE="true", **facing)
        with pytest.raises(ConfigError, match="internet-facing"):
            load_settings(env)
    dev = load_settings(
        environ_for(
            url,
            settings.database.name,
            keys.issuer,
            AUTH_DEV_MODE="true",
            APP_INTERNET_FACING="false",
        )
    )
    client = create_app(dev).test_client()
    assert (
        client.get(COLLECTION, headers={"Authorization": "Bearer dev:someone"}).status_code == 200
    )
    prod_like = create_app(settings).test_client()
    assert (
        prod_like.get(COLLECTION, headers={"Authorization": "Bearer dev:someone"}).status_code
        == 401
    )
