"""The OpenAPI 3.1 document, built from the same definition the code validates against."""

from __future__ import annotations

from typing import Any

from .definition import DEFINITION, Field
from .resource import DEFAULT_PAGE, ID_PATTERN, MAX_PAGE

JSON = "application/json"
PROBLEM = "application/problem+json"
DATE_PATTERN = "^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}$"


def _field_schema(field: Field) -> dict[str, Any]:
    schema: dict[str, Any]
    if field.type == "string":
        schema = {"type": "string", "minLength": field.min_length, "maxLength": field.max_length}
    elif field.type == "integer":
        schema = {"type": "integer", "minimum": field.minimum, "maximum": field.maximum}
    elif field.type == "boolean":
        schema = {"type": "boolean"}
    else:
        schema = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
    if not field.required:
        schema["type"] = [schema["type"], "null"]
    return schema


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _ok(description: str, schema: str, headers: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if headers:
        out["headers"] = {h: {"$ref": f"#/components/headers/{h}"} for h in headers}
    return out


def document() -> dict[str, Any]:
    d = DEFINITION
    name = "".join(part.capitalize() for part in d.resource.split("-"))
    fields = {f.name: _field_schema(f) for f in d.fields}
    status = {"type": "string", "enum": list(d.statuses)}
    common = {
        "400": _problem("The request is malformed"),
        "401": _problem("No valid bearer token"),
        "503": _problem("A dependency is unavailable; retry later"),
    }
    with_body = {
        "413": _problem("The body is too large"),
        "415": _problem("The body is not JSON"),
        "422": _problem("The body is not valid"),
    }
    item_path = f"{d.collection_path}/{{id}}"
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": f"{d.project} {d.app}",
            "version": "1.0.0",
            "description": d.description or f"The {d.app} API",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            d.collection_path: {
                "get": {
                    "operationId": "list",
                    "summary": f"List {d.resource}, oldest first, one page at a time",
                    "parameters": [
                        {"$ref": "#/components/parameters/Limit"},
                        {"$ref": "#/components/parameters/Cursor"},
                        {"$ref": "#/components/parameters/Status"},
                    ],
                    "responses": {"200": _ok("One page", f"{name}Page"), **common},
                },
                "post": {
                    "operationId": "create",
                    "summary": f"Create one of {d.resource}",
                    "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            JSON: {"schema": {"$ref": f"#/components/schemas/{name}Create"}}
                        },
                    },
                    "responses": {
                        "201": _ok("Created", name, ["ETag", "Location", "Idempotent-Replayed"]),
                        "409": _problem("The Idempotency-Key is in use by another request"),
                        **common,
                        **with_body,
                    },
                },
            },
            item_path: {
                "parameters": [{"$ref": "#/components/parameters/Id"}],
                "get": {
                    "operationId": "get",
                    "summary": "Read one",
                    "responses": {
                        "200": _ok("The resource", name, ["ETag"]),
                        "404": _problem("No such resource (or not yours)"),
                        **common,
                    },
                },
                "patch": {
                    "operationId": "update",
                    "summary": "Change fields (in the initial status) or the status (JSON merge patch)",
                    "parameters": [{"$ref": "#/components/parameters/IfMatch"}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            media: {"schema": {"$ref": f"#/components/schemas/{name}Patch"}}
                            for media in (JSON, "application/merge-patch+json")
                        },
                    },
                    "responses": {
                        "200": _ok("Updated", name, ["ETag"]),
                        "403": _problem("Not allowed for this caller"),
                        "404": _problem("No such resource (or not yours)"),
                        "409": _problem("Not allowed in the current status"),
                        "412": _problem("If-Match does not match the current version"),
                        "428": _problem("If-Match is required"),
                        **common,
                        **with_body,
                    },
                },
                "delete": {
                    "operationId": "delete",
                    "summary": "Delete (only in the initial status)",
                    "parameters": [{"$ref": "#/components/parameters/IfMatch"}],
                    "responses": {
                        "204": {"description": "Deleted"},
                        "403": _problem("Not allowed for this caller"),
                        "404": _problem("No such resource (or not yours)"),
                        "409": _problem("Not allowed in the current status"),
                        "412": _problem("If-Match does not match the current version"),
                        "428": _problem("If-Match is required"),
                        **common,
                    },
                },
            },
            d.liveness_path: {
                "get": {
                    "operationId": "livez",
                    "summary": "Liveness: the process runs",
                    "security": [],
                    "responses": {"200": _ok("Alive", "Health")},
                }
            },
            d.readiness_path: {
                "get": {
                    "operationId": "readyz",
                    "summary": "Readiness: database reachable and migrations at head",
                    "security": [],
                    "responses": {
                        "200": _ok("Ready", "Health"),
                        "503": _ok("Not ready", "Health"),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
            "parameters": {
                "Id": {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": ID_PATTERN},
                },
                "IfMatch": {
                    "name": "If-Match",
                    "in": "header",
                    "required": True,
                    "description": "The ETag of the version you read",
                    "schema": {"type": "string", "pattern": '^"[0-9]{1,10}"$'},
                },
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "A unique key per intended create; a retry with the same key and "
                    "body gets the first response again instead of a duplicate",
                    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,128}$"},
                },
                "Limit": {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_PAGE,
                        "default": DEFAULT_PAGE,
                    },
                },
                "Cursor": {
                    "name": "cursor",
                    "in": "query",
                    "description": "next_cursor of the previous page",
                    "schema": {"type": "string", "pattern": ID_PATTERN},
                },
                "Status": {"name": "status", "in": "query", "schema": status},
            },
            "headers": {
                "ETag": {"schema": {"type": "string"}, "description": "The version, for If-Match"},
                "Location": {"schema": {"type": "string"}},
                "Idempotent-Replayed": {
                    "schema": {"type": "string", "enum": ["true"]},
                    "description": "Present when this is the stored response of an earlier request",
                },
            },
            "schemas": {
                name: {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [
                        "id",
                        "owner",
                        "status",
                        *fields,
                        "version",
                        "created_at",
                        "updated_at",
                    ],
                    "properties": {
                        "id": {"type": "string", "pattern": ID_PATTERN},
                        "owner": {"type": "string"},
                        "status": status,
                        **fields,
                        "version": {"type": "integer", "minimum": 1},
                        "created_at": {"type": "string", "format": "date-time"},
                        "updated_at": {"type": "string", "format": "date-time"},
                    },
                },
                f"{name}Create": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [f.name for f in d.fields if f.required],
                    "properties": fields,
                },
                f"{name}Patch": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {**fields, "status": status},
                },
                f"{name}Page": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["items", "next_cursor"],
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {"$ref": f"#/components/schemas/{name}"},
                        },
                        "next_cursor": {"type": ["string", "null"], "pattern": ID_PATTERN},
                    },
                },
                "Health": {
                    "type": "object",
                    "required": ["status"],
                    "properties": {"status": {"type": "string"}},
                },
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "instance": {"type": "string"},
                        "request_id": {"type": "string"},
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["field", "message"],
                                "properties": {
                                    "field": {"type": "string"},
                                    "message": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
    }
    return _with_unversioned_alias(document)


def _with_unversioned_alias(document: dict[str, Any]) -> dict[str, Any]:
    """The unversioned paths: the same operations, marked deprecated, with their own ids."""
    d = DEFINITION
    paths = document["paths"]
    for versioned, alias in (
        (d.collection_path, d.unversioned_collection_path),
        (f"{d.collection_path}/{{id}}", f"{d.unversioned_collection_path}/{{id}}"),
    ):
        item: dict[str, Any] = {}
        for key, operation in paths[versioned].items():
            if isinstance(operation, dict) and "operationId" in operation:
                operation = {
                    **operation,
                    "operationId": f"{operation['operationId']}Unversioned",
                    "deprecated": True,
                    "description": f"An alias of {versioned}, for clients released before "
                    f"the API had a version; use {versioned}.",
                }
            item[key] = operation
        paths[alias] = item
    return document
