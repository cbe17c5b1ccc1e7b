"""Idempotency-Key on POST: a retried create gets the first response, not a duplicate.

Mobile clients retry when a response is lost. The key, a hash of the request
body and the first response are stored in the same transaction as the created
resource, so both exist or neither does. A concurrent duplicate loses on the
unique key (owner, key) and then replays the winner's response. The same key
with a different body is refused (422). Keys expire after KEY_TTL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from .db import IDEMPOTENCY_KEYS as KEYS
from .errors import Problem
from .resource import now

KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
KEY_TTL = dt.timedelta(hours=24)


def parse_key(header: str | None) -> str | None:
    if header is None:
        return None
    if not KEY.match(header):
        raise Problem(400, "Idempotency-Key must be 1-128 letters, digits or _ . : -")
    return header


def request_hash(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def find(conn: sa.Connection, owner: str, key: str) -> Mapping[str, Any] | None:
    return (
        conn.execute(
            sa.select(KEYS).where(
                KEYS.c.owner == owner,
                KEYS.c.idempotency_key == key,
                KEYS.c.created_at > now() - KEY_TTL,
            )
        )
        .mappings()
        .first()
    )


def check_same_request(stored: Mapping[str, Any], digest: str) -> None:
    if stored["request_hash"] != digest:
        raise Problem(422, "this Idempotency-Key was used with a different request body")


def record(
    conn: sa.Connection,
    owner: str,
    key: str,
    digest: str,
    status: int,
    resource_id: str,
    body: dict[str, Any],
) -> None:
    # Expired keys of this owner go first; the unique index on (owner, key) finds them.
    conn.execute(sa.delete(KEYS).where(KEYS.c.owner == owner, KEYS.c.created_at <= now() - KEY_TTL))
    conn.execute(
        sa.insert(KEYS).values(
            owner=owner,
            idempotency_key=key,
            request_hash=digest,
            status_code=status,
            resource_id=resource_id,
            response_body=json.dumps(body),
            created_at=now(),
        )
    )
