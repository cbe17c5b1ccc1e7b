"""The platform spec: load, validate (schema, semantics, policy) and resolve defaults."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks import Context, run_checks
from .diagnostics import Diagnostic, Position, has_errors, sort_key
from .resolve import resolve
from .schema_check import check_schema, load_schema
from .support import AsOfError
from .support import as_of as support_as_of
from .yamlpos import SpecLoadError, load_yaml_text, read_text

__all__ = ["Diagnostic", "SpecResult", "load_schema", "load_spec", "load_spec_text"]


@dataclass
class SpecResult:
    """What validation found. `resolved` is set only when there are no errors."""

    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    resolved: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def _load_error(file: str, exc: SpecLoadError) -> Diagnostic:
    return Diagnostic(
        file=file,
        line=exc.position.line,
        column=exc.position.column,
        severity="error",
        code=exc.code,
        path="",
        message=exc.message,
        fix=exc.fix,
    )


def load_spec_text(
    text: str, file: str = "platform.yaml", *, as_of: dt.date | None = None
) -> SpecResult:
    """Validate spec text. Never raises for bad input: every problem is a Diagnostic.

    `as_of` is the day support dates are judged on (default: PLATFORMGEN_AS_OF, else
    today; see support.py)."""
    result = SpecResult(file=file)
    try:
        day = support_as_of(as_of)
    except AsOfError as exc:
        result.diagnostics = [
            Diagnostic(
                file=file,
                line=1,
                column=1,
                severity="error",
                code="usage.as-of",
                path="",
                message=str(exc),
                fix="set PLATFORMGEN_AS_OF to a date such as 2026-11-30, or unset it (today)",
            )
        ]
        return result
    try:
        doc = load_yaml_text(text)
    except SpecLoadError as exc:
        result.diagnostics = [_load_error(file, exc)]
        return result
    if not isinstance(doc.data, dict):
        result.diagnostics = [
            Diagnostic(
                file=file,
                line=1,
                column=1,
                severity="error",
                code="schema.type",
                path="",
                message="the spec must be a mapping of fields (apiVersion:, project:, ...)",
                fix="start from examples/getprospa/platform.yaml",
            )
        ]
        return result
    if doc.data.get("apiVersion") != "platformgen/v1" and "apiVersion" in doc.data:
        position = doc.position(("apiVersion",))
        result.diagnostics = [
            Diagnostic(
                file=file,
                line=position.line,
                column=position.column,
                severity="error",
                code="schema.apiVersion",
                path="apiVersion",
                message=f"unknown spec version {doc.data['apiVersion']!r}",
                fix="this platformgen reads 'apiVersion: platformgen/v1'; upgrade platformgen for "
                "newer specs",
            )
        ]
        return result
    diagnostics = check_schema(doc, file)
    if not diagnostics:
        resolved = resolve(doc.data)
        diagnostics = run_checks(Context(doc=doc, resolved=resolved, file=file, as_of=day))
        if not has_errors(diagnostics):
            result.resolved = resolved
    result.diagnostics = sorted(diagnostics, key=sort_key)
    return result


def load_spec(
    path: Path, display: str | None = None, *, as_of: dt.date | None = None
) -> SpecResult:
    file = display or str(path)
    try:
        text = read_text(path)
    except SpecLoadError as exc:
        return SpecResult(file=file, diagnostics=[_load_error(file, exc)])
    return load_spec_text(text, file, as_of=as_of)


__all__ += ["Position"]
