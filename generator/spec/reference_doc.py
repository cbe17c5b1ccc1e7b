"""Generate docs/spec-reference.md from the JSON Schema, so the two never disagree.

python -m generator.spec.reference_doc > docs/spec-reference.md  (a test checks it is current)
"""

from __future__ import annotations

import sys
from typing import Any

from .schema_check import load_schema


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        target = schema["$defs"][node["$ref"].split("/")[-1]]
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _type(node: dict[str, Any]) -> str:
    if "const" in node:
        return f"`{node['const']}`"
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    kind = node.get("type", "")
    if kind == "array":
        items = node.get("items", {})
        inner = _type(items) if items else "any"
        return f"list of {inner}"
    if (
        kind == "object"
        and isinstance(node.get("additionalProperties"), dict)
        and not node.get("properties")
    ):
        return "map of name to " + (_type(node["additionalProperties"]) or "object")
    if isinstance(kind, list):
        return " or ".join(kind)
    return str(kind)


def _rows(schema: dict[str, Any], node: dict[str, Any], prefix: str, out: list[str]) -> None:
    required = set(node.get("required", []))
    for name, prop in node.get("properties", {}).items():
        prop = _resolve(schema, prop)
        path = f"{prefix}.{name}" if prefix else name
        need = "required" if name in required else "optional"
        description = str(prop.get("description", "")).replace("|", "\\|").replace("<", "&lt;")
        out.append(f"| `{path}` | {_type(prop)} | {need} | {description} |")
        if prop.get("properties"):
            _rows(schema, prop, path, out)
        extra = prop.get("additionalProperties")
        if isinstance(extra, dict):
            extra = _resolve(schema, extra)
            if extra.get("properties"):
                _rows(schema, extra, f"{path}.<name>", out)
        items = prop.get("items")
        if isinstance(items, dict):
            items = _resolve(schema, items)
            if items.get("properties"):
                _rows(schema, items, f"{path}[]", out)


def render() -> str:
    schema = load_schema()
    lines = [
        "# Spec reference (platformgen/v1)",
        "",
        "Generated from `schema/platform.v1.schema.json` by",
        "`python -m generator.spec.reference_doc`; do not edit by hand. The guide is",
        "[spec.md](spec.md).",
        "",
        "| field | type | | description |",
        "|---|---|---|---|",
    ]
    _rows(schema, schema, "", lines)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
