"""The example resource: validation, representation and storage.

Rules:
- a caller sees and changes only resources it owns; staff see every resource;
- fields can be edited, and the resource deleted, only in the initial status;
- status changes follow the workflow, each by the owner or by staff;
- every change needs the current version (If-Match), so no update is lost;
- ids are time-ordered (ULID), so cursor pagination is a primary key range scan.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from .auth import Caller
from .db import RESOURCES
from .definition import DEFINITION, Field
from .errors import Problem

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_PATTERN = "^[0-9A-HJKMNP-TV-Z]{26}$"
MAX_PAGE = 100
DEFAULT_PAGE = 20
FIELDS = {f.name: f for f in DEFINITION.fields}


_last_id = 0
_id_lock = threading.Lock()


def new_id() -> str:
    """A ULID: 48 bits of milliseconds, then 80 random bits, in Crockford base32.

    Monotonic within the process (ULID's monotonic mode): an id made in the same
    millisecond as the previous one, or after the clock stepped back, is the previous
    one plus one, so a client's resources list in the order it created them.
    """
    global _last_id
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    with _id_lock:
        if value <= _last_id:
            value = _last_id + 1
        _last_id = value
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


_ID_CHARS = frozenset(CROCKFORD)


def is_id(value: str) -> bool:
    return len(value) == 26 and _ID_CHARS.issuperset(value)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _timestamp(value: dt.datetime) -> str:
    return value.replace(tzinfo=dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def represent(row: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"id": row["id"], "owner": row["owner"], "status": row["status"]}
    for field in DEFINITION.fields:
        value = row[field.name]
        if field.type == "date" and value is not None:
            value = value.isoformat()
        elif field.type == "boolean" and value is not None:
            value = bool(value)
        body[field.name] = value
    body["version"] = row["version"]
    body["created_at"] = _timestamp(row["created_at"])
    body["updated_at"] = _timestamp(row["updated_at"])
    return body


def etag(version: int) -> str:
    return f'"{version}"'


# --- validation -------------------------------------------------------------------------------


def _check_value(field: Field, value: Any, errors: list[dict[str, str]]) -> Any:
    def bad(message: str) -> None:
        errors.append({"field": field.name, "message": message})

    if value is None:
        if field.required:
            bad("is required and cannot be null")
        return None
    if field.type == "string":
        if not isinstance(value, str):
            bad("must be a string")
        elif not field.min_length <= len(value) <= field.max_length:
            bad(f"must be {field.min_length}-{field.max_length} characters long")
        elif any("\ud800" <= c <= "\udfff" for c in value):
            bad("must be valid Unicode (no lone surrogates)")
        return value
    if field.type == "integer":
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON Schema counts 3.0 as an integer
        if isinstance(value, bool) or not isinstance(value, int):
            bad("must be an integer")
        elif not field.minimum <= value <= field.maximum:
            bad(f"must be between {field.minimum} and {field.maximum}")
        return value
    if field.type == "boolean":
        if not isinstance(value, bool):
            bad("must be true or false")
        return value
    # date
    if not isinstance(value, str):
        bad("must be a date like 2024-01-31")
        return None
    try:
        parsed = dt.date.fromisoformat(value)
    except ValueError:
        bad("must be a date like 2024-01-31")
        return None
    if len(value) != 10 or parsed.year < 1000:
        bad("must be a date like 2024-01-31")
    return parsed


def validate(body: Any, *, partial: bool) -> dict[str, Any]:
    """Checked values of a create (partial=False) or a merge-patch (partial=True) body."""
    if not isinstance(body, dict):
        raise Problem(422, "the request body must be a JSON object")
    errors: list[dict[str, str]] = []
    allowed = set(FIELDS) | ({"status"} if partial else set())
    for name in sorted(set(body) - allowed):
        errors.append({"field": name, "message": "is not a field you can set"})
    values: dict[str, Any] = {}
    for name, field in FIELDS.items():
        if name in body:
            values[name] = _check_value(field, body[name], errors)
        elif field.required and not partial:
            errors.append({"field": name, "message": "is required"})
    if partial and "status" in body:
        status = body["status"]
        if not isinstance(status, str) or status not in DEFINITION.statuses:
            errors.append(
                {"field": "status", "message": f"must be one of {', '.join(DEFINITION.statuses)}"}
            )
        else:
            values["status"] = status
    if errors:
        raise Problem(422, "the request body is not valid", errors=errors)
    return values


# --- storage ----------------------------------------------------------------------------------


def _visible(caller: Caller) -> sa.ColumnElement[bool]:
    return sa.true() if caller.staff else RESOURCES.c.owner == caller.tenant


# Built once: SQLAlchemy then finds the compiled SQL in its cache without rebuilding the
# statement for every request.
_BY_ID = sa.select(RESOURCES).where(RESOURCES.c.id == sa.bindparam("id"))
_BY_ID_OWNED = _BY_ID.where(RESOURCES.c.owner == sa.bindparam("owner"))


def fetch(conn: sa.Connection, caller: Caller, resource_id: str) -> Mapping[str, Any]:
    """The resource, or 404: another tenant's resource is indistinguishable from none."""
    if not is_id(resource_id):
        raise Problem(404, "no such resource")
    if caller.staff:
        result = conn.execute(_BY_ID, {"id": resource_id})
    else:
        result = conn.execute(_BY_ID_OWNED, {"id": resource_id, "owner": caller.tenant})
    row = result.mappings().first()
    if row is None:
        raise Problem(404, "no such resource")
    return row


def list_page(
    conn: sa.Connection, caller: Caller, *, limit: int, cursor: str | None, status: str | None
) -> tuple[list[Mapping[str, Any]], str | None]:
    query = sa.select(RESOURCES).where(_visible(caller))
    if status is not None:
        query = query.where(RESOURCES.c.status == status)
    if cursor is not None:
        query = query.where(RESOURCES.c.id > cursor)
    rows = list(conn.execute(query.order_by(RESOURCES.c.id).limit(limit + 1)).mappings())
    following = rows[limit - 1]["id"] if len(rows) > limit else None
    return rows[:limit], following


def insert(conn: sa.Connection, caller: Caller, values: dict[str, Any]) -> Mapping[str, Any]:
    stamp = now()
    row = {
        **{f.name: None for f in DEFINITION.fields},
        **values,
        "id": new_id(),
        "owner": caller.tenant,
        "status": DEFINITION.initial_status,
        "version": 1,
        "created_at": stamp,
        "updated_at": stamp,
    }
    conn.execute(sa.insert(RESOURCES).values(row))
    return row


def _transition_allowed(caller: Caller, row: Mapping[str, Any], target: str) -> None:
    for step in DEFINITION.transitions:
        if step.source == row["status"] and step.target == target:
            if step.by == "staff" and not caller.staff:
                raise Problem(403, f"only staff can move a resource to {target}")
            if step.by == "owner" and row["owner"] != caller.tenant:
                raise Problem(403, f"only the owner can move a resource to {target}")
            return
    raise Problem(409, f"cannot move from {row['status']} to {target}")


def update(
    conn: sa.Connection,
    caller: Caller,
    row: Mapping[str, Any],
    values: dict[str, Any],
    expected_version: int,
) -> Mapping[str, Any]:
    if row["version"] != expected_version:
        raise Problem(412, "the resource changed since you read it; fetch it and retry")
    target = values.pop("status", row["status"])
    if values:
        if row["owner"] != caller.tenant:
            raise Problem(403, "only the owner can edit the resource")
        if row["status"] != DEFINITION.initial_status:
            raise Problem(
                409, f"fields can only change while the status is {DEFINITION.initial_status}"
            )
    if target != row["status"]:
        _transition_allowed(caller, row, target)
    changes = {**values, "status": target, "version": row["version"] + 1, "updated_at": now()}
    result = conn.execute(
        sa.update(RESOURCES)
        .where(RESOURCES.c.id == row["id"], RESOURCES.c.version == expected_version)
        .values(changes)
    )
    if result.rowcount != 1:
        raise Problem(412, "the resource changed since you read it; fetch it and retry")
    return {**row, **changes}


def delete(
    conn: sa.Connection, caller: Caller, row: Mapping[str, Any], expected_version: int
) -> None:
    if row["owner"] != caller.tenant:
        raise Problem(403, "only the owner can delete the resource")
    if row["status"] != DEFINITION.initial_status:
        raise Problem(409, f"only a resource in status {DEFINITION.initial_status} can be deleted")
    result = conn.execute(
        sa.delete(RESOURCES).where(
            RESOURCES.c.id == row["id"], RESOURCES.c.version == expected_version
        )
    )
    if result.rowcount != 1:
        raise Problem(412, "the resource changed since you read it; fetch it and retry")
