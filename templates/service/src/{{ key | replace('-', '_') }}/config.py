"""Settings from the environment (12-factor), validated once at start.

Every problem is collected and reported together, each naming the variable and
the fix, so a misconfigured pod fails its first start with one clear message.
The variables are the contract with the Helm chart (docs: README.md, and
docs/contracts.md at the repository root).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .definition import DEFINITION

TIERS = ("development", "staging", "production")
_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")
_LOG_LEVELS = ("debug", "info", "warning", "error")
# What a credentials file may name: a DNS host name or an IPv4 address, a schema name.
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_DBNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class ConfigError(Exception):
    """One or more settings are missing or invalid."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class DatabaseSettings:
    host: str
    port: int
    name: str
    username: str
    password: str = field(repr=False)
    tls_ca_file: str | None
    # The mounted database user's secret, re-read for every new connection: a rotation
    # (alternating users) or a cutover (another host) rewrites it and the kubelet
    # refreshes the file.
    credentials_file: str | None
    pool_size: int
    max_overflow: int
    pool_timeout: float
    pool_recycle: int
    connect_timeout: int
    read_timeout: int
    write_timeout: int


@dataclass(frozen=True)
class AuthSettings:
    jwks_url: str | None
    issuer: str | None
    audiences: tuple[str, ...]
    tenant_claim: str
    groups_claim: str
    staff_group: str
    jwks_timeout: float
    leeway: int
    dev_mode: bool


@dataclass(frozen=True)
class Settings:
    env: str
    tier: str
    port: int
    log_level: str
    max_request_bytes: int
    cors_allowed_origins: tuple[str, ...]
    database: DatabaseSettings
    auth: AuthSettings
    draining_file: str
    internet_facing: bool = True
    trusted_proxy_hops: int = 2


class _Reader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def text(self, name: str, default: str | None = None, *, required: bool = False) -> str:
        value = self.environ.get(name, "").strip()
        if value:
            return value
        if required and default is None:
            self.problems.append(f"{name} is required")
        return default or ""

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.environ.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{name} must be a whole number, got {raw!r}")
            return default
        if not low <= value <= high:
            self.problems.append(f"{name} must be between {low} and {high}, got {value}")
        return value

    def flag(self, name: str) -> bool:
        raw = self.environ.get(name, "").strip().lower()
        if raw in ("", "0", "false", "no", "off"):
            return False
        if raw in ("1", "true", "yes", "on"):
            return True
        self.problems.append(f"{name} must be true or false, got {raw!r}")
        return False

    def https_url(self, name: str, value: str, *, allow_http: bool) -> None:
        parts = urlsplit(value)
        schemes = ("https", "http") if allow_http else ("https",)
        if parts.scheme not in schemes or not parts.netloc:
            wanted = "an http(s)" if allow_http else "an https"
            self.problems.append(f"{name} must be {wanted} URL, got {value!r}")


@dataclass(frozen=True)
class Credentials:
    """Where and as whom to connect: the JSON of the app's database user's secret,
    {"engine", "host", "port", "dbname", "username", "password"} (dbkit users apply writes
    it). host, port and dbname are optional (None: the environment's DATABASE_HOST,
    DATABASE_PORT, DATABASE_NAME), so a cutover moves the app by writing the secret."""

    username: str
    password: str = field(repr=False)
    host: str | None = None
    port: int | None = None
    dbname: str | None = None


def read_credentials_file(path: str) -> Credentials:
    """The credentials in `path`. Raises ValueError with a readable reason."""
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"DATABASE_CREDENTIALS_FILE {path}: cannot read JSON ({exc})") from None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) and data.get(k) for k in ("username", "password")
    ):
        raise ValueError(
            f"DATABASE_CREDENTIALS_FILE {path}: needs string keys username and password "
            "(the JSON of the app's database user's secret)"
        )
    host, port, dbname = data.get("host"), data.get("port"), data.get("dbname")
    if host is not None and not (isinstance(host, str) and _HOST.fullmatch(host)):
        raise ValueError(f"DATABASE_CREDENTIALS_FILE {path}: host must be a host name")
    if isinstance(port, str) and port.isdigit():
        port = int(port)  # AWS's rotation functions write the port as a string or a number
    if port is not None and not (
        isinstance(port, int) and not isinstance(port, bool) and 1 <= port <= 65535
    ):
        raise ValueError(f"DATABASE_CREDENTIALS_FILE {path}: port must be 1-65535")
    if dbname is not None and not (isinstance(dbname, str) and _DBNAME.fullmatch(dbname)):
        raise ValueError(f"DATABASE_CREDENTIALS_FILE {path}: dbname must be a schema name")
    return Credentials(data["username"], data["password"], host or None, port, dbname or None)


def _credentials(reader: _Reader) -> Credentials:
    """From DATABASE_CREDENTIALS_FILE (the database user's secret) or the environment."""
    path = reader.text("DATABASE_CREDENTIALS_FILE")
    if path:
        try:
            return read_credentials_file(path)
        except ValueError as exc:
            reader.problems.append(str(exc))
            return Credentials("", "")
    username = reader.text("DATABASE_USERNAME", required=True)
    password = reader.text("DATABASE_PASSWORD", required=True)
    return Credentials(username, password)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise ConfigError listing every problem."""
    reader = _Reader(os.environ if environ is None else environ)
    env = reader.text("APP_ENV", required=True)
    # Unset means production: the strict rules apply unless someone asks otherwise.
    tier = reader.text("APP_TIER", "production")
    if tier not in TIERS:
        reader.problems.append(f"APP_TIER must be one of {', '.join(TIERS)}, got {tier!r}")
    development = tier == "development"
    port = reader.integer("PORT", DEFINITION.port, 1024, 65535)
    log_level = reader.text("LOG_LEVEL", "info").lower()
    if log_level not in _LOG_LEVELS:
        reader.problems.append(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}")

    credentials = _credentials(reader)
    tls_ca_file = reader.text("DATABASE_TLS_CA_FILE") or None
    if tls_ca_file and not Path(tls_ca_file).is_file():
        reader.problems.append(f"DATABASE_TLS_CA_FILE {tls_ca_file} does not exist")
    if not tls_ca_file and not development:
        reader.problems.append(
            "DATABASE_TLS_CA_FILE is required outside development: RDS requires TLS "
            "(the image ships the RDS CA bundle; see README.md)"
        )
    database = DatabaseSettings(
        # The credentials file's host, port and schema win over the environment's.
        host=credentials.host or reader.text("DATABASE_HOST", required=True),
        port=credentials.port or reader.integer("DATABASE_PORT", 3306, 1, 65535),
        name=credentials.dbname or reader.text("DATABASE_NAME", required=True),
        username=credentials.username,
        password=credentials.password,
        tls_ca_file=tls_ca_file,
        credentials_file=reader.text("DATABASE_CREDENTIALS_FILE") or None,
        pool_size=reader.integer("DATABASE_POOL_SIZE", 5, 1, 100),
        max_overflow=reader.integer("DATABASE_MAX_OVERFLOW", 2, 0, 100),
        pool_timeout=reader.integer("DATABASE_POOL_TIMEOUT_SECONDS", 5, 1, 60),
        # Below MySQL's wait_timeout (28800 s on RDS) and below the idle timeouts of
        # NAT gateways and proxies (350 s), so a pooled connection is never stale.
        pool_recycle=reader.integer("DATABASE_POOL_RECYCLE_SECONDS", 280, 30, 3600),
        connect_timeout=reader.integer("DATABASE_CONNECT_TIMEOUT_SECONDS", 5, 1, 60),
        read_timeout=reader.integer("DATABASE_READ_TIMEOUT_SECONDS", 15, 1, 300),
        write_timeout=reader.integer("DATABASE_WRITE_TIMEOUT_SECONDS", 15, 1, 300),
    )

    issuer = reader.text("AUTH_ISSUER") or None
    jwks_url = reader.text("AUTH_JWKS_URL") or (
        f"{issuer.rstrip('/')}/.well-known/jwks.json" if issuer else None
    )
    audiences = tuple(a.strip() for a in reader.text("AUTH_AUDIENCE").split(",") if a.strip())
    # The chart sets APP_INTERNET_FACING from the app's `public` in platform.yaml; unset
    # counts as internet-facing, so the strict rules hold unless someone says otherwise.
    internet_facing = (
        reader.flag("APP_INTERNET_FACING") if reader.text("APP_INTERNET_FACING") else True
    )
    dev_mode = reader.flag("AUTH_DEV_MODE")
    if dev_mode and not development:
        reader.problems.append(
            f"AUTH_DEV_MODE is only allowed when APP_TIER is development (it is {tier})"
        )
    elif dev_mode and internet_facing:
        reader.problems.append(
            "AUTH_DEV_MODE is refused: this app is internet-facing (APP_INTERNET_FACING is "
            "true or unset); dev tokens would let anyone in. Use real tokens, or run it "
            "privately with APP_INTERNET_FACING=false (make run does)"
        )
    if not dev_mode:
        for name, value in (("AUTH_ISSUER", issuer), ("AUTH_AUDIENCE", audiences)):
            if not value:
                reader.problems.append(f"{name} is required (or AUTH_DEV_MODE=true in development)")
    if issuer:
        reader.https_url("AUTH_ISSUER", issuer, allow_http=development)
    if jwks_url:
        reader.https_url("AUTH_JWKS_URL", jwks_url, allow_http=development)
    auth = AuthSettings(
        jwks_url=jwks_url,
        issuer=issuer,
        audiences=audiences,
        tenant_claim=reader.text("AUTH_TENANT_CLAIM", "sub"),
        groups_claim=reader.text("AUTH_GROUPS_CLAIM", "cognito:groups"),
        staff_group=reader.text("AUTH_STAFF_GROUP", "staff"),
        jwks_timeout=reader.integer("AUTH_JWKS_TIMEOUT_SECONDS", 3, 1, 30),
        leeway=reader.integer("AUTH_CLOCK_SKEW_SECONDS", 30, 0, 300),
        dev_mode=dev_mode,
    )

    origins = tuple(
        o.strip().rstrip("/") for o in reader.text("CORS_ALLOWED_ORIGINS").split(",") if o.strip()
    )
    for origin in origins:
        if not _ORIGIN.match(origin):
            reader.problems.append(
                f"CORS_ALLOWED_ORIGINS: {origin!r} is not an origin like https://app.example.com "
                "(no wildcards, paths or upper case)"
            )
        elif origin.startswith("http://") and not development:
            reader.problems.append(
                f"CORS_ALLOWED_ORIGINS: {origin} must use https outside development"
            )

    settings = Settings(
        env=env,
        tier=tier,
        port=port,
        log_level=log_level,
        max_request_bytes=reader.integer("MAX_REQUEST_BYTES", 64 * 1024, 1024, 10 * 1024 * 1024),
        cors_allowed_origins=origins,
        database=database,
        auth=auth,
        draining_file=reader.text("DRAINING_FILE", "/tmp/draining"),  # noqa: S108 - /tmp is the pod's emptyDir
        internet_facing=internet_facing,
        # Internet-facing: CloudFront appends the viewer's address to X-Forwarded-For and
        # the ALB appends CloudFront's, so the client is the second hop from the right.
        trusted_proxy_hops=reader.integer("TRUSTED_PROXY_HOPS", 2 if internet_facing else 0, 0, 5),
    )
    if reader.problems:
        raise ConfigError(reader.problems)
    return settings
