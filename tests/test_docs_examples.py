"""Every YAML example of the spec in the docs is valid against the schema.

The guides (README.md, docs/*.md, templates/README.md) show specs in ```yaml blocks of
three kinds, each checked as such:

- a whole spec (it has apiVersion and no placeholders): validated like `platformgen
  validate`, semantics and policy included;
- a fragment (one section, e.g. `resource:`): validated against that section's schema;
- a shape (placeholders: `{name, organisation}`, `{...}`): every field it names must
  exist in the schema at that place, and its top level lists every top-level section.

ADRs are records and may show other YAML (Helm values); they are not checked. A block in a
guide that shows another file says so on its first line (`# .github/workflows/x.yml ...`)
and is left to that file's own tools.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from conftest import ROOT
from jsonschema import Draft202012Validator

from generator.spec import load_schema, load_spec_text

DOCS = [ROOT / "README.md", ROOT / "templates" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```ya?ml\n(.*?)^```", re.S | re.M)
PLACEHOLDER = "..."
# A first line naming the file a block shows: `# .github/workflows/platform.yml (...)`.
OTHER_FILE = re.compile(r"^#\s+(\S+\.ya?ml)\b")


def _shows_another_file(block: str) -> bool:
    named = OTHER_FILE.match(block)
    return bool(named) and named[1].rsplit("/", 1)[-1] != "platform.yaml"


def _blocks() -> list[tuple[str, int, str]]:
    out = []
    for doc in DOCS:
        text = doc.read_text()
        for match in BLOCK.finditer(text):
            if _shows_another_file(match[1]):
                continue
            line = text.count("\n", 0, match.start()) + 1
            out.append((doc.relative_to(ROOT).as_posix(), line, match[1]))
    return out


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        target = load_schema()["$defs"][node["$ref"].split("/")[-1]]
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _is_shape(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_is_shape(v) for v in value.values()) or PLACEHOLDER in value
    if isinstance(value, list):
        return any(_is_shape(v) for v in value)
    return False


def _unknown_fields(value: Any, node: dict[str, Any], where: str) -> list[str]:
    node = _resolve(node)
    out: list[str] = []
    if isinstance(value, list):
        for item in value:
            out += _unknown_fields(item, node.get("items", {}), where + "[]")
        return out
    if not isinstance(value, dict):
        return out
    for key, child in value.items():
        if key == PLACEHOLDER:
            continue
        properties = node.get("properties", {})
        if key in properties:
            out += _unknown_fields(child, properties[key], f"{where}.{key}".lstrip("."))
        elif isinstance(node.get("additionalProperties"), dict):
            out += _unknown_fields(child, node["additionalProperties"], f"{where}.<{key}>")
        else:
            out.append(f"{where}.{key}".lstrip("."))
    return out


def _sections(schema: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Every schema node that is the value of a property named `key`."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, child in node.get("properties", {}).items():
                if name == key:
                    found.append(_resolve(child))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(schema)
    return found


@pytest.mark.parametrize(("doc", "line", "block"), _blocks(), ids=lambda v: str(v)[:30])
def test_spec_examples_in_the_docs_are_valid(doc: str, line: int, block: str) -> None:
    data = yaml.safe_load(block)
    if data is None:
        return  # only comments, e.g. the editor's schema line
    schema = load_schema()
    assert isinstance(data, dict), f"{doc}:{line}: not a mapping"
    if _is_shape(data):
        unknown = _unknown_fields(data, schema, "")
        assert not unknown, f"{doc}:{line}: fields the schema does not have: {unknown}"
        if "apiVersion" in data:
            missing = set(schema["properties"]) - set(data)
            assert not missing, f"{doc}:{line}: the shape leaves out {sorted(missing)}"
        return
    if "apiVersion" in data:
        result = load_spec_text(block, f"{doc}:{line}")
        assert result.ok, "\n".join(d.format() for d in result.errors)
        return
    for key, value in data.items():
        candidates = _sections(schema, key)
        assert candidates, f"{doc}:{line}: '{key}' is no field of the spec"
        errors = [
            [
                e.message
                for e in Draft202012Validator({**c, "$defs": schema["$defs"]}).iter_errors(value)
            ]
            for c in candidates
        ]
        assert any(not e for e in errors), f"{doc}:{line}: {key}: {errors}"


def test_the_docs_have_spec_examples() -> None:
    assert any(doc == "docs/spec.md" for doc, _, _ in _blocks())


def test_only_blocks_naming_another_file_are_left_out() -> None:
    assert _shows_another_file("# .github/workflows/platform.yml (a job)\nsteps: []\n")
    assert not _shows_another_file("# platform.yaml\napiVersion: platformgen/v1\n")
    assert not _shows_another_file("# the database section\ndatabase: {}\n")


def test_a_wrong_field_in_an_example_is_caught() -> None:
    shape = yaml.safe_load("apiVersion: platformgen/v1\ndatabase: {engine: mysql, windows}\n")
    assert _unknown_fields(shape, load_schema(), "") == ["database.windows"]
