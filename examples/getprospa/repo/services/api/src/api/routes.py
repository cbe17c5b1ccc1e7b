"""The resource's HTTP API: list, create, read, update (merge patch) and delete.

Served under <path>/v1/<resource> and, with the same handlers, under the unversioned
<path>/<resource>, which mobile apps already in the field call.
"""

from __future__ import annotations

import json
import re
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, g, request, url_for

from . import idempotency, resource
from .auth import Authenticator, Caller
from .db import read
from .definition import DEFINITION
from .errors import Problem

_IF_MATCH = re.compile(r'^"([0-9]{1,10})"$')
JSON_TYPES = ("application/json",)
PATCH_TYPES = ("application/json", "application/merge-patch+json")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _body(allowed: tuple[str, ...]) -> Any:
    if request.mimetype not in allowed:
        raise Problem(415, f"send the body as {' or '.join(allowed)}")
    raw = request.get_data(cache=False)
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, f"the body is not valid JSON: {exc}") from None


def _if_match(current_version: int) -> int:
    header = request.headers.get("If-Match")
    if header is None:
        raise Problem(428, "send If-Match with the ETag you read, so no update is lost")
    if header.strip() == "*":
        return current_version
    match = _IF_MATCH.match(header.strip())
    if not match:
        raise Problem(412, "If-Match does not name the current version")
    return int(match.group(1))


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)


def _engine() -> sa.Engine:
    engine: sa.Engine = current_app.extensions["database"]
    return engine


def _caller() -> Caller:
    caller: Caller = g.caller
    return caller


def _location(resource_id: str) -> str:
    """The new resource's URL under the prefix the client called (versioned or not)."""
    return url_for(f"{request.blueprint}.get_resource", resource_id=resource_id)


def create_blueprint(authenticator: Authenticator) -> Blueprint:
    bp = Blueprint("resource", __name__)
    collection = f"/{DEFINITION.resource}"

    @bp.before_request
    def _authenticate() -> None:
        if request.method != "OPTIONS":
            g.caller = authenticator.authenticate(request.headers.get("Authorization"))

    @bp.get(collection)
    def list_resources() -> Response:
        args = request.args
        try:
            limit = int(args.get("limit", resource.DEFAULT_PAGE))
        except ValueError:
            raise Problem(400, "limit must be a whole number") from None
        if not 1 <= limit <= resource.MAX_PAGE:
            raise Problem(400, f"limit must be between 1 and {resource.MAX_PAGE}")
        cursor = args.get("cursor")
        if cursor is not None and not resource.is_id(cursor):
            raise Problem(400, "cursor must be the next_cursor of a previous page")
        status = args.get("status")
        if status is not None and status not in DEFINITION.statuses:
            raise Problem(400, f"status must be one of {', '.join(DEFINITION.statuses)}")
        caller = _caller()
        rows, following = read(
            _engine(),
            lambda conn: resource.list_page(
                conn, caller, limit=limit, cursor=cursor, status=status
            ),
        )
        return _json({"items": [resource.represent(r) for r in rows], "next_cursor": following})

    @bp.post(collection)
    def create_resource() -> Response:
        caller = _caller()
        key = idempotency.parse_key(request.headers.get("Idempotency-Key"))
        body = _body(JSON_TYPES)
        digest = idempotency.request_hash(body) if key else ""
        if key:
            stored = read(_engine(), lambda conn: idempotency.find(conn, caller.tenant, key))
            if stored is not None:
                return _replay(stored, digest)
        values = resource.validate(body, partial=False)
        try:
            with _engine().begin() as conn:
                row = resource.insert(conn, caller, values)
                representation = resource.represent(row)
                if key:
                    idempotency.record(
                        conn, caller.tenant, key, digest, 201, row["id"], representation
                    )
        except sa.exc.IntegrityError:
            if not key:
                raise
            with _engine().connect() as conn:
                stored = idempotency.find(conn, caller.tenant, key)
            if stored is None:
                raise Problem(409, "this Idempotency-Key is in use by another request") from None
            return _replay(stored, digest)
        return _json(
            representation,
            201,
            {"Location": _location(row["id"]), "ETag": resource.etag(row["version"])},
        )

    def _replay(stored: Any, digest: str) -> Response:
        idempotency.check_same_request(stored, digest)
        body = json.loads(stored["response_body"])
        return _json(
            body,
            stored["status_code"],
            {
                "Location": _location(stored["resource_id"]),
                "ETag": resource.etag(body["version"]),
                "Idempotent-Replayed": "true",
            },
        )

    @bp.get(f"{collection}/<resource_id>")
    def get_resource(resource_id: str) -> Response:
        caller = _caller()
        row = read(_engine(), lambda conn: resource.fetch(conn, caller, resource_id))
        return _json(resource.represent(row), headers={"ETag": resource.etag(row["version"])})

    @bp.patch(f"{collection}/<resource_id>")
    def update_resource(resource_id: str) -> Response:
        caller = _caller()
        with _engine().begin() as conn:
            row = resource.fetch(conn, caller, resource_id)
            expected = _if_match(row["version"])
            values = resource.validate(_body(PATCH_TYPES), partial=True)
            updated = resource.update(conn, caller, row, values, expected)
        return _json(
            resource.represent(updated), headers={"ETag": resource.etag(updated["version"])}
        )

    @bp.delete(f"{collection}/<resource_id>")
    def delete_resource(resource_id: str) -> Response:
        caller = _caller()
        with _engine().begin() as conn:
            row = resource.fetch(conn, caller, resource_id)
            resource.delete(conn, caller, row, _if_match(row["version"]))
        return Response(status=204)

    return bp


def register(app: Flask, authenticator: Authenticator) -> None:
    blueprint = create_blueprint(authenticator)
    app.register_blueprint(blueprint, url_prefix=DEFINITION.api_prefix)
    app.register_blueprint(
        blueprint, url_prefix=DEFINITION.path_prefix or None, name="resource_unversioned"
    )
