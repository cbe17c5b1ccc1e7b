"""Bearer JWT authentication against a JWKS URL (Amazon Cognito-compatible).

A token is accepted when its RS256 signature verifies with a key of the JWKS,
it has not expired, its issuer is AUTH_ISSUER, and its audience is one of
AUTH_AUDIENCE. For Amazon Cognito (an issuer on cognito-idp.<region>.amazonaws.com,
or any token with a `token_use` claim) only access tokens are accepted
(`token_use` = access; an ID token gets a 401 saying so), and the audience is their
`client_id` claim; for other identity providers it is the `aud` claim.

The caller's tenant is the AUTH_TENANT_CLAIM claim (default `sub`); staff are
callers whose AUTH_GROUPS_CLAIM (default `cognito:groups`) lists AUTH_STAFF_GROUP.

Development mode (AUTH_DEV_MODE=true, refused by config outside the development
tier and whenever the app is internet-facing) accepts `Bearer dev:<subject>` and `Bearer dev:<subject>:staff` instead.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt

from .config import AuthSettings
from .errors import Problem

ALGORITHMS = ["RS256"]
JWKS_MAX_AGE_SECONDS = 300
JWKS_MIN_REFRESH_SECONDS = 30
JWKS_MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class Caller:
    tenant: str
    staff: bool


def _unauthorized(detail: str, error: str = "invalid_token") -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": f'Bearer error="{error}"'})


def _is_cognito(issuer: str | None) -> bool:
    host = urlsplit(issuer or "").hostname or ""
    return host.startswith("cognito-idp.") and host.endswith(".amazonaws.com")


class KeySet:
    """The JWKS, cached; refetched when stale or when a token names an unknown key,
    at most once per JWKS_MIN_REFRESH_SECONDS so forged key ids cannot flood the IdP."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self._keys: dict[str, Any] = {}
        self._fetched = 0.0
        self._lock = threading.Lock()

    def _fetch(self) -> None:
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})  # noqa: S310 - https enforced by config
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            body = response.read(JWKS_MAX_BYTES + 1)
        if len(body) > JWKS_MAX_BYTES:
            raise ValueError("JWKS document too large")
        keys = jwt.PyJWKSet.from_dict(json.loads(body))
        self._keys = {k.key_id: k for k in keys.keys if k.key_id}
        self._fetched = time.monotonic()

    def key(self, kid: str) -> Any:
        with self._lock:
            age = time.monotonic() - self._fetched
            stale = kid not in self._keys or age > JWKS_MAX_AGE_SECONDS
            may_refresh = not self._keys or age > JWKS_MIN_REFRESH_SECONDS
            if stale and may_refresh:
                try:
                    self._fetch()
                except (OSError, ValueError, jwt.PyJWKSetError) as exc:
                    if not self._keys:
                        raise Problem(
                            503,
                            "cannot reach the identity provider's keys; retry shortly",
                            headers={"Retry-After": "5"},
                        ) from exc
            found = self._keys.get(kid)
        if found is None:
            raise _unauthorized("the token is signed with an unknown key")
        return found.key


class VerifiedTokens:
    """Tokens that already passed verification, until they expire: mobile clients send
    the same token with every request, and an RS256 check is the costliest step of a
    small request. Bounded; the oldest entries go first."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[float, Caller]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> Caller | None:
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return None
            if entry[0] <= time.time():
                del self._entries[token]
                return None
            self._entries.move_to_end(token)
            return entry[1]

    def put(self, token: str, expires: float, caller: Caller) -> None:
        with self._lock:
            self._entries[token] = (expires, caller)
            self._entries.move_to_end(token)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


class Authenticator:
    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self.keys = KeySet(settings.jwks_url, settings.jwks_timeout) if settings.jwks_url else None
        self.verified = VerifiedTokens()

    def authenticate(self, header: str | None) -> Caller:
        if not header:
            raise _unauthorized("a bearer token is required", "invalid_request")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("use the Authorization: Bearer <token> scheme", "invalid_request")
        if self.settings.dev_mode and token.startswith("dev:"):
            _, subject, *role = token.split(":", 2)
            if not subject:
                raise _unauthorized("dev tokens look like dev:<subject>[:staff]")
            return Caller(tenant=subject, staff=role == ["staff"])
        cached = self.verified.get(token)
        if cached is not None:
            return cached
        return self._verify(token)

    def _verify(self, token: str) -> Caller:
        settings = self.settings
        if self.keys is None:
            raise _unauthorized("token verification is not configured")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise _unauthorized("the token is malformed") from exc
        kid = header.get("kid")
        if header.get("alg") not in ALGORITHMS or not isinstance(kid, str):
            raise _unauthorized("the token must be RS256-signed and name its key (kid)")
        key = self.keys.key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                issuer=settings.issuer,
                leeway=settings.leeway,
                options={"require": ["exp", "iat", "iss"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _unauthorized("the token has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise _unauthorized(f"the token is not valid: {exc}") from exc
        token_use = claims.get("token_use")
        if token_use is not None or _is_cognito(settings.issuer):
            # Cognito: only access tokens authorize API calls, and their audience is
            # client_id (AWS, "Verifying a JSON web token"). An ID token says who the
            # user is, for the app itself; accepting it here would let any client of
            # the user pool that holds one call the API.
            if token_use != "access":  # noqa: S105 - a claim value, not a password
                raise _unauthorized(
                    "send the Cognito access token, not the ID token "
                    f"(token_use must be access, got {token_use!r})"
                )
            audience = claims.get("client_id")
        else:
            audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(isinstance(a, str) and a in settings.audiences for a in audiences):
            raise _unauthorized("the token is not meant for this API (audience)")
        tenant = claims.get(settings.tenant_claim)
        if not isinstance(tenant, str) or not tenant or len(tenant) > 255:
            raise _unauthorized(f"the token has no usable {settings.tenant_claim} claim")
        groups = claims.get(settings.groups_claim, [])
        staff = isinstance(groups, list) and settings.staff_group in groups
        caller = Caller(tenant=tenant, staff=staff)
        # Without leeway: a cached token stops working exactly when it expires.
        self.verified.put(token, float(claims["exp"]), caller)
        return caller
