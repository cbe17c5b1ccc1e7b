"""The database: one SQLAlchemy engine per process, tuned for RDS for MySQL 8.

- TLS with certificate and host name verification whenever a CA file is set
  (always outside development: RDS runs with require_secure_transport);
- no `pool_pre_ping` (a round trip per request): `pool_recycle` below MySQL's
  `wait_timeout` and NAT idle timeouts, and `read` runs an idempotent read once more
  on a fresh connection when its pooled connection turns out dead (a failover, a
  server restart); the disconnect invalidates the whole pool, so no other request
  meets another dead connection;
- connect, read and write timeouts, so no request waits forever;
- strict SQL mode and UTC on every connection, the same on MySQL 8 and MariaDB;
- with DATABASE_CREDENTIALS_FILE (the app's own database user's secret), credentials,
  and the host, port and schema the file names, read afresh for every new connection:
  a rotation or a cutover that rewrites the secret needs no restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from .config import Credentials, DatabaseSettings, read_credentials_file
from .definition import DEFINITION, Definition, Field

SESSION_SETUP = (
    "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
    "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'"
)
# Explicit, and the same on MySQL 8 and MariaDB: MySQL 8's default collation is
# utf8mb4_0900_ai_ci, which MariaDB lacks.
TABLE_OPTIONS = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}
ID_LENGTH = 26
T = TypeVar("T")


def url(settings: DatabaseSettings) -> sa.URL:
    return sa.URL.create(
        "mysql+pymysql",
        username=settings.username,
        password=settings.password,
        host=settings.host,
        port=settings.port,
        database=settings.name,
        query={"charset": "utf8mb4"},
    )


def connect_args(settings: DatabaseSettings) -> dict[str, object]:
    args: dict[str, object] = {
        "connect_timeout": settings.connect_timeout,
        "read_timeout": settings.read_timeout,
        "write_timeout": settings.write_timeout,
        "init_command": SESSION_SETUP,
    }
    if settings.tls_ca_file:
        args.update(ssl_ca=settings.tls_ca_file, ssl_verify_cert=True, ssl_verify_identity=True)
    return args


def _rotating_credentials(path: str, fallback: Credentials) -> Any:
    """A `do_connect` hook that puts the file's current credentials, and its host, port
    and schema when it names them, on each new connection.

    A rotation (alternating users) or a cutover (another database) rewrites the secret;
    the kubelet swaps the file atomically and every later connection follows it. If the
    file is unreadable for a moment (a bad secret value could land), the last good
    credentials are used and the problem is logged; open connections are never affected.
    """
    last = {"credentials": fallback}
    log = logging.getLogger(__name__)

    def on_connect(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        try:
            last["credentials"] = read_credentials_file(path)
        except ValueError as exc:
            log.warning("keeping the last good database credentials: %s", exc)
        now = last["credentials"]
        cparams["user"] = now.username
        # SQLAlchemy's MySQL dialects pass the password as `passwd` (PyMySQL accepts both).
        cparams["passwd" if "passwd" in cparams else "password"] = now.password
        if now.host:
            cparams["host"] = now.host
        if now.port:
            cparams["port"] = now.port
        if now.dbname:
            cparams["database" if "database" in cparams else "db"] = now.dbname

    return on_connect


def create_engine(settings: DatabaseSettings) -> sa.Engine:
    engine = sa.create_engine(
        url(settings),
        connect_args=connect_args(settings),
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        pool_recycle=settings.pool_recycle,
        pool_use_lifo=True,
    )
    if settings.credentials_file:
        hook = _rotating_credentials(
            settings.credentials_file,
            Credentials(
                settings.username, settings.password, settings.host, settings.port, settings.name
            ),
        )
        sa.event.listen(engine, "do_connect", hook)
    return engine


def read(engine: sa.Engine, work: Callable[[sa.Connection], T]) -> T:
    """Run an idempotent read; once more on a fresh connection if the pooled one was dead.

    Only a disconnect is retried (SQLAlchemy marks it `connection_invalidated` and
    empties the pool); a second failure, or any other error, reaches the caller, which
    answers 503 (errors.py).
    """
    try:
        with engine.connect() as conn:
            return work(conn)
    except sa.exc.DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        logging.getLogger(__name__).info("retrying a read on a fresh connection")
    with engine.connect() as conn:
        return work(conn)


def _id_column(name: str, **kwargs: object) -> sa.Column:
    # ASCII with a binary collation: 26 bytes per key and byte order, which is
    # creation order for these time-ordered ids.
    kind = sa.CHAR(ID_LENGTH).with_variant(
        mysql.CHAR(ID_LENGTH, charset="ascii", collation="ascii_bin"), "mysql", "mariadb"
    )
    return sa.Column(name, kind, **kwargs)


def _timestamp(name: str) -> sa.Column:
    return sa.Column(
        name, sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=False
    )


def _column(field: Field) -> sa.Column:
    kinds: dict[str, sa.types.TypeEngine] = {
        "string": sa.String(field.max_length),
        "integer": sa.BigInteger(),
        "boolean": sa.Boolean(),
        "date": sa.Date(),
    }
    return sa.Column(field.name, kinds[field.type], nullable=not field.required)


def build_metadata(definition: Definition) -> tuple[sa.MetaData, sa.Table, sa.Table]:
    metadata = sa.MetaData()
    resource = sa.Table(
        definition.table,
        metadata,
        _id_column("id", primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        *(_column(f) for f in definition.fields),
        sa.Column("version", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.Index(f"ix_{definition.table}_owner_id", "owner", "id"),
        sa.Index(f"ix_{definition.table}_status_id", "status", "id"),
        **TABLE_OPTIONS,
    )
    idempotency = sa.Table(
        "idempotency_keys",
        metadata,
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("request_hash", sa.CHAR(64), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        _id_column("resource_id", nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        _timestamp("created_at"),
        sa.UniqueConstraint("owner", "idempotency_key", name="uq_idempotency_keys_owner_key"),
        **TABLE_OPTIONS,
    )
    sa.Table(
        "schema_version",
        metadata,
        sa.Column("id", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("compatible_from", sa.Integer(), nullable=False),
        _timestamp("updated_at"),
        **TABLE_OPTIONS,
    )
    return metadata, resource, idempotency


METADATA, RESOURCES, IDEMPOTENCY_KEYS = build_metadata(DEFINITION)
SCHEMA_VERSION = METADATA.tables["schema_version"]
