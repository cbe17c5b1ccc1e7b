"""Write the spec's reference pages from the code they describe, so they never disagree.

    python scripts/spec_docs.py          # rewrite docs/spec-reference.md and docs/names.md
    python scripts/spec_docs.py --check  # exit 1 when one is stale (the tests check it too)

docs/spec-reference.md comes from the JSON Schema (schema/platform.v1.schema.json),
docs/names.md from the naming table (generator/spec/naming.py). `make docs` runs this
and scripts/terraform_docs.py. A developer tool: the wheel does not ship it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.spec.naming import RULES, NameRule  # noqa: E402
from generator.spec.schema_check import load_schema  # noqa: E402

SPEC_REFERENCE = ROOT / "docs" / "spec-reference.md"
NAMES = ROOT / "docs" / "names.md"
HOW = "`scripts/spec_docs.py`\n(`make docs`); do not edit by hand"


# --- docs/spec-reference.md: every field of the schema --------------------------------


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


def spec_reference() -> str:
    schema = load_schema()
    lines = [
        "# Spec reference (platformgen/v1)",
        "",
        f"Generated from `schema/platform.v1.schema.json` by {HOW}. The guide is",
        "[spec.md](spec.md).",
        "",
        "| field | type | | description |",
        "|---|---|---|---|",
    ]
    _rows(schema, schema, "", lines)
    return "\n".join(lines) + "\n"


# --- docs/names.md: the naming table --------------------------------------------------

# Longest value each template variable can take in a schema-valid spec.
_LONGEST = {"project": 22, "env": 10, "app": 24, "package": 24, "account": 12, "replica": 1}
_SPEC_FIELD_LABEL = {
    "project": "project.name",
    "env": "environment name",
    "app": "app name",
    "package": "app name",
}


def binding_limits() -> list[tuple[NameRule, str, int]]:
    """Rules whose limit a schema-valid spec can exceed: (rule, fields, longest total)."""
    out = []
    for rule in RULES:
        variables = re.findall(r"{(\w+)}", rule.template)
        if rule.transform or not variables or any(v not in _LONGEST for v in variables):
            continue
        fixed = len(re.sub(r"{\w+}", "", rule.template))
        budget = rule.kind.allowed - fixed - sum(_LONGEST[v] for v in variables if v == "account")
        spec_vars = [v for v in variables if v in _SPEC_FIELD_LABEL]
        if sum(_LONGEST[v] for v in spec_vars) > budget:
            fields = " + ".join(_SPEC_FIELD_LABEL[v] for v in spec_vars)
            out.append((rule, fields, budget))
    return out


def names_reference() -> str:
    lines = [
        "# Generated names",
        "",
        f"Generated from the naming table in `generator/spec/naming.py` by {HOW}.",
        "`platformgen validate` refuses a spec that would produce a name its service refuses",
        "(`semantic.name-too-long`, `semantic.name-invalid`) or the same name twice",
        "(`semantic.name-collision`), on the line of the field to change.",
        "",
        "## Limits a spec can reach",
        "",
        "| name | built as | the fields together may have |",
        "|---|---|---|",
    ]
    for rule, fields, budget in binding_limits():
        lines.append(f"| {rule.what} | `{rule.template}` | {fields}: {budget} characters |")
    lines += [
        "",
        "## Every name",
        "",
        "`{env}` is the environment's name, `{domain}` its domain, `{account}` its AWS",
        "account. Not rendered yet: names the pipelines and DMS migration areas will use;",
        "they are checked (and reserved) already.",
        "",
        "| name | built as | service rule | where it renders |",
        "|---|---|---|---|",
    ]
    for rule in RULES:
        where = ", ".join(f"`{r}`" for r in rule.resources) or "-"
        if not rule.rendered:
            where = "not rendered yet"
        limit = f"[{rule.kind.label}]({rule.kind.source}), at most {rule.kind.max_length}"
        lines.append(f"| {rule.what} | `{rule.template}` | {limit} | {where} |")
    return "\n".join(lines) + "\n"


def pages() -> dict[Path, str]:
    """Each generated page and the text it must hold."""
    return {SPEC_REFERENCE: spec_reference(), NAMES: names_reference()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/spec_docs.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a page is stale")
    args = parser.parse_args(argv)
    stale = [
        path
        for path, text in pages().items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run `make docs`", file=sys.stderr)
        return 1 if stale else 0
    for path, text in pages().items():
        if path in stale:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
