"""DSNs and connections: one place that parses, validates and opens them.

A DSN looks like `mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?ssl-mode=...&ssl-ca=...]`.
Keep passwords out of the command line: leave them out of the DSN and set
DBKIT_SOURCE_PASSWORD / DBKIT_TARGET_PASSWORD, or pass the whole DSN in
DBKIT_SOURCE_DSN / DBKIT_TARGET_DSN.

Every session is set up the same way on both servers, so values render identically:
time_zone '+00:00' (TIMESTAMP columns render as UTC, whatever each server's default),
utf8mb4, autocommit, and a read-only transaction mode where the server has one.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pymysql
import pymysql.err

from .errors import DbkitError, ServerGone

SSL_MODES = ("DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY")
# Client error codes that mean the server is not there (any more).
_GONE = {2003, 2006, 2013, 2055, 1053, 1927, 4031}
_NO_TLS = 2026  # CR_SSL_CONNECTION_ERROR: TLS wanted, the server offers none
_DSN_HELP = "mysql://USER@HOST:PORT/DATABASE (password in DBKIT_<ROLE>_PASSWORD)"


@dataclass(frozen=True)
class DSN:
    role: str  # "source" or "target": named in every message
    user: str
    password: str
    host: str
    port: int
    database: str
    ssl_mode: str
    ssl_ca: str | None

    @property
    def label(self) -> str:
        """Where, without the password: safe for logs and reports."""
        return f"{self.role} {self.host}:{self.port}/{self.database}"

    def public(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "database": self.database, "user": self.user}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_dsn(text: str | None, role: str) -> DSN:
    """Parse and validate a DSN; every problem names the role and the fix."""
    env_dsn = f"DBKIT_{role.upper()}_DSN"
    text = text or os.environ.get(env_dsn, "")
    if not text:
        raise DbkitError(f"no {role} DSN given", f"pass --{role} {_DSN_HELP}, or set {env_dsn}")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise DbkitError(f"{role} DSN is malformed: {exc}", f"use {_DSN_HELP}") from None
    if parts.scheme not in ("mysql", "mariadb"):
        raise DbkitError(
            f"{role} DSN must start with mysql://, not {parts.scheme or 'nothing'}://",
            f"use {_DSN_HELP}",
        )
    if not parts.hostname:
        raise DbkitError(f"{role} DSN has no host", f"use {_DSN_HELP}")
    if not parts.username:
        raise DbkitError(f"{role} DSN has no user", f"use {_DSN_HELP}")
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise DbkitError(f"{role} DSN names no database (schema)", f"use {_DSN_HELP}")
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = set(query) - {"ssl-mode", "ssl-ca"}
    if unknown:
        raise DbkitError(
            f"{role} DSN has unknown options: {', '.join(sorted(unknown))}",
            "the options are ssl-mode and ssl-ca",
        )
    # Secure by default: anything beyond loopback verifies the certificate and host name;
    # loopback uses TLS when the server offers it (MySQL 8's caching_sha2_password needs
    # TLS, or an RSA exchange, to send the password).
    default_mode = "PREFERRED" if _is_loopback(parts.hostname) else "VERIFY_IDENTITY"
    mode = query.get("ssl-mode", default_mode).upper()
    if mode not in SSL_MODES:
        raise DbkitError(f"{role} DSN has ssl-mode={mode}", f"use one of {', '.join(SSL_MODES)}")
    ca = query.get("ssl-ca") or None
    if ca is not None and not os.path.isfile(ca):
        raise DbkitError(f"{role} DSN: ssl-ca file {ca} does not exist", "give the CA bundle path")
    password = unquote(parts.password) if parts.password is not None else None
    if password is None:
        password = os.environ.get(f"DBKIT_{role.upper()}_PASSWORD", "")
    return DSN(
        role=role,
        user=unquote(parts.username),
        password=password,
        host=parts.hostname,
        port=port or 3306,
        database=database,
        ssl_mode=mode,
        ssl_ca=ca,
    )


def _ssl_context(dsn: DSN) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=dsn.ssl_ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if dsn.ssl_mode == "REQUIRED":
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif dsn.ssl_mode == "VERIFY_CA":
        ctx.check_hostname = False
    return ctx


def is_gone(exc: BaseException) -> bool:
    if isinstance(exc, pymysql.err.OperationalError | pymysql.err.InterfaceError):
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        return code in _GONE or isinstance(exc, pymysql.err.InterfaceError) or code == 0
    return isinstance(exc, OSError)


class Connection:
    """One session on one server, set up identically on both sides."""

    def __init__(self, dsn: DSN, *, read_timeout: float = 600.0) -> None:
        self.dsn = dsn
        self._read_timeout = read_timeout
        self._conn: pymysql.connections.Connection | None = None
        self.connect()

    def _open(self) -> pymysql.connections.Connection:
        dsn = self.dsn
        tls: dict[str, Any] = {"ssl_disabled": True}  # DISABLED
        if dsn.ssl_mode != "DISABLED":
            # PREFERRED is PyMySQL's default (TLS when the server offers it); the other modes
            # pass a context, and PyMySQL then refuses a server without TLS (error 2026).
            tls = {} if dsn.ssl_mode == "PREFERRED" else {"ssl": _ssl_context(dsn)}
        return pymysql.connect(
            host=dsn.host,
            port=dsn.port,
            user=dsn.user,
            password=dsn.password,
            database=dsn.database,
            charset="utf8mb4",
            autocommit=True,
            connect_timeout=10,
            read_timeout=self._read_timeout,
            write_timeout=60,
            **tls,
        )

    def connect(self) -> None:
        dsn = self.dsn
        try:
            self._conn = self._open()
        except pymysql.err.OperationalError as exc:
            code = exc.args[0] if exc.args else 0
            if code == _NO_TLS:
                raise DbkitError(
                    f"{dsn.label}: the server offers no TLS, and ssl-mode={dsn.ssl_mode} requires it",
                    "enable TLS on the server, or use ssl-mode=PREFERRED on a trusted network",
                ) from None
            if code in (1044, 1045):
                raise DbkitError(
                    f"{dsn.label}: access denied for user {dsn.user!r}",
                    f"check the user and the password (DBKIT_{dsn.role.upper()}_PASSWORD)",
                ) from None
            if code == 1049:
                raise DbkitError(
                    f"{dsn.label}: database {dsn.database!r} does not exist",
                    "fix the database name in the DSN",
                ) from None
            raise ServerGone(
                f"{dsn.label}: cannot connect: {exc.args[-1]}",
                "check the host, the port, the network path and that the server is running",
            ) from None
        except (OSError, ssl.SSLError) as exc:
            raise ServerGone(
                f"{dsn.label}: cannot connect: {exc}",
                "check the host, the port, TLS settings (ssl-mode, ssl-ca) and the network path",
            ) from None
        with self._conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")
            cur.execute("SET NAMES utf8mb4")
            # PyMySQL goes on in plain text when the server offers no TLS: refuse that here.
            cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            found = cur.fetchone()
        self.tls = bool(found and found[1])
        if dsn.ssl_mode in ("REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY") and not self.tls:
            self.close()
            raise DbkitError(
                f"{dsn.label}: the server offers no TLS, and ssl-mode={dsn.ssl_mode} requires it",
                "enable TLS on the server (require_secure_transport), or use ssl-mode=PREFERRED on a trusted network",
            )
        self.version = str(self.value("SELECT VERSION()"))
        self.flavor = "mariadb" if "mariadb" in self.version.lower() else "mysql"

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self._conn.close()
            self._conn = None

    def rows(self, sql: str, args: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        if self._conn is None:
            self.connect()  # after a failed reconnect: raises ServerGone while the server is away
        try:
            assert self._conn is not None
            with self._conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        except pymysql.err.MySQLError as exc:
            if is_gone(exc):
                raise ServerGone(
                    f"{self.dsn.label} went away: {exc.args[-1]}",
                    "check that the server is up, then run the same command again",
                ) from None
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
            raise DbkitError(
                f"{self.dsn.label}: the server refused a query: {exc.args[-1]} (error {code})",
                "check the user's privileges (SELECT on every table) and the server version "
                "(MySQL 8.0.17+ or MariaDB 10.7+)",
            ) from None
        except OSError as exc:
            raise ServerGone(f"{self.dsn.label} went away: {exc}", "run the command again") from None

    def row(self, sql: str, args: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
        result = self.rows(sql, args)
        return result[0] if result else None

    def value(self, sql: str, args: Sequence[Any] | None = None) -> Any:
        result = self.row(sql, args)
        return result[0] if result else None

    def variable(self, name: str) -> str | None:
        """A global server variable, or None where this server has no such variable."""
        found = self.row("SHOW GLOBAL VARIABLES LIKE %s", (name,))
        return None if found is None else str(found[1])

    def status(self, name: str) -> int:
        found = self.row("SHOW GLOBAL STATUS LIKE %s", (name,))
        return int(found[1]) if found else 0


def connect(dsn: DSN) -> Connection:
    return Connection(dsn)


@contextmanager
def session(dsn: DSN) -> Iterator[Connection]:
    conn = Connection(dsn)
    try:
        yield conn
    finally:
        conn.close()


def with_retries(fn: Callable[[Connection], Any], conn: Connection, retries: int, what: str) -> Any:
    """Run fn(conn); when the server went away, reconnect with backoff and try again."""
    delay = 1.0
    for attempt in range(retries + 1):
        try:
            return fn(conn)
        except ServerGone as exc:
            if attempt == retries:
                raise ServerGone(f"{exc.message} (during {what}; gave up after {retries} retries)", exc.fix) from None
            time.sleep(delay)
            delay *= 2
            conn.close()
            try:
                conn.connect()
            except ServerGone:
                continue
    raise AssertionError("unreachable")
