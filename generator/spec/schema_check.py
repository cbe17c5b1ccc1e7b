"""JSON Schema validation of the spec, with findings a person can act on."""

from __future__ import annotations

import difflib
import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from ..paths import schema_path
from .diagnostics import Diagnostic, dotted
from .yamlpos import LoadedYaml

_TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping (key: value lines)",
    "array": "a list (- item lines)",
    "null": "nothing",
}


@cache
def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_path().read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema())


def _python_type(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"the number {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _description(schema: dict[str, Any] | bool) -> str:
    if isinstance(schema, dict):
        if "description" in schema:
            return str(schema["description"])
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = load_schema()["$defs"].get(ref.removeprefix("#/$defs/"), {})
            return str(target.get("description", ""))
    return ""


def _first_sentence(text: str) -> str:
    sentence = text.split(". ")[0].rstrip(".")
    return sentence


def _translate(error: ValidationError, doc: LoadedYaml, file: str) -> Diagnostic:
    path = tuple(error.absolute_path)
    where = dotted(path) or "the top level"
    validator = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    key_position = False
    message: str
    fix: str
    value = error.instance

    if "propertyNames" in error.relative_schema_path:
        # jsonschema reports a bad mapping key as an error of the parent, with the key as
        # the instance; point at the key itself.
        offending = str(error.instance)
        path = (*path, offending)
        key_position = True
        message = f"the name {offending!r} is not allowed in {where}"
        fix = _description(schema) or field_description(path[:-1])
    elif validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else "?"
        props = schema.get("properties", {})
        key_position = bool(path)
        message = f"{where} is missing the required field '{missing}'"
        hint = _first_sentence(_description(props.get(missing, {})))
        fix = f"add '{missing}:' under {where}" + (f" ({hint})" if hint else "")
    elif validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extras = [k for k in value if k not in allowed] if isinstance(value, dict) else []
        unknown = extras[0] if extras else "?"
        path = (*path, unknown)
        key_position = True
        message = f"unknown field '{unknown}' in {where}"
        close = difflib.get_close_matches(unknown, allowed, n=1, cutoff=0.6)
        if close:
            fix = f"did you mean '{close[0]}'? Fields allowed here: {', '.join(allowed)}"
        else:
            fix = f"remove it; fields allowed here: {', '.join(allowed)}"
    elif validator == "type":
        expected = error.validator_value
        expected_list = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in expected_list)
        message = f"{where} must be {wanted}, not {_python_type(value)}"
        written = _written(doc, path, value)
        if written is not None:
            message += f" (YAML reads the unquoted {written} as {_yaml_kind(value)})"
        if "string" in expected_list and written:
            fix = f'quote the value so YAML keeps it as text: "{written}"'
        else:
            fix = _first_sentence(_description(schema)) or f"write {wanted} here"
    elif validator in {"enum", "const"}:
        options = error.validator_value if validator == "enum" else [error.validator_value]
        shown = ", ".join(json.dumps(o) for o in options)
        written = _written(doc, path, value)
        if written is not None:
            message = (
                f"{where} is {_short(value)} (YAML reads the unquoted {written} as "
                f"{_yaml_kind(value)}), which is not one of the allowed values"
            )
        else:
            message = f"{where} is {_short(value)}, which is not one of the allowed values"
        if written is not None and written in options:
            fix = f'quote the value so YAML keeps it as text: "{written}"'
        else:
            probe = written if written is not None else str(value)
            close = difflib.get_close_matches(probe, [str(o) for o in options], n=1, cutoff=0.5)
            fix = (f"did you mean {close[0]!r}? " if close else "") + f"use one of: {shown}"
    elif validator == "pattern":
        message = f"{where} is {_short(value)}, which is not valid here"
        fix = (
            _description(schema)
            or field_description(path)
            or f"use a value matching {error.validator_value}"
        )
    elif validator in {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}:
        bound = error.validator_value
        side = "at least" if "inimum" in validator else "at most"
        message = f"{where} is {value}, but must be {side} {bound}"
        fix = f"set a value {side} {bound}" + (
            f" ({_first_sentence(_description(schema))})" if _description(schema) else ""
        )
    elif validator in {"minItems", "maxItems", "minProperties", "maxProperties"}:
        bound = error.validator_value
        side = "at least" if validator.startswith("min") else "at most"
        unit = "entries"
        message = f"{where} must have {side} {bound} {unit}"
        fix = _first_sentence(_description(schema)) or f"give it {side} {bound} {unit}"
    elif validator in {"minLength", "maxLength"}:
        bound = error.validator_value
        side = "at least" if validator == "minLength" else "at most"
        message = f"{where} must be {side} {bound} characters long"
        fix = f"shorten or lengthen it to {side} {bound} characters"
    elif validator == "uniqueItems":
        message = f"{where} lists the same entry more than once"
        fix = "remove the repeated entries"
    else:
        message = f"{where}: {error.message}"
        fix = _first_sentence(_description(schema)) or "see schema/platform.v1.schema.json"

    position = doc.position(path, key=key_position)
    return Diagnostic(
        file=file,
        line=position.line,
        column=position.column,
        severity="error",
        code="schema.name"
        if "propertyNames" in error.relative_schema_path
        else f"schema.{validator}",
        path=dotted(path),
        message=message,
        fix=fix,
    )


def _resolve(node: Any) -> dict[str, Any]:
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target = load_schema()["$defs"][node["$ref"].removeprefix("#/$defs/")]
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node if isinstance(node, dict) else {}


def field_description(path: tuple[Any, ...]) -> str:
    """The schema description of the field at a spec path ('' when there is none)."""
    node = _resolve(load_schema())
    description = ""
    for part in path:
        if isinstance(part, int):
            node = _resolve(node.get("items", {}))
        elif part in node.get("properties", {}):
            node = _resolve(node["properties"][part])
        else:
            node = _resolve(node.get("additionalProperties", {}))
        description = str(node.get("description", description))
    return description


def _written(doc: LoadedYaml, path: tuple[Any, ...], value: Any) -> str | None:
    """The characters the user wrote for a scalar YAML read as a non-string, else None.

    `version: 1.30` is read as 1.3, `0123` as 83, `yes` as true, `1:30` as 90, `~` as
    null: a fix must quote what was written, not what YAML made of it.
    """
    if isinstance(value, (str, list, dict)):
        return None
    text = doc.source(path)
    if text is None or text[:1] in ("!", "&", "*", '"', "'", "|", ">"):
        return None
    return text.strip() or None


def _yaml_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def check_schema(doc: LoadedYaml, file: str) -> list[Diagnostic]:
    """Every schema violation in the document, each translated into a Diagnostic."""
    diagnostics = [_translate(e, doc, file) for e in _validator().iter_errors(doc.data)]
    # One finding per place and kind is enough; jsonschema can repeat itself through $ref.
    unique: dict[tuple[int, int, str, str], Diagnostic] = {}
    for d in diagnostics:
        unique.setdefault((d.line, d.column, d.code, d.message), d)
    return list(unique.values())
