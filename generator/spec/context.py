"""What a semantic or policy check sees, and the registry of checks.

A check is a function of a `Context` that yields `Diagnostic`s; `@check` registers it.
Checks live in three modules: `checks.py` (rules about the spec itself),
`name_checks.py` (the names in `naming.py`) and `area_rules.py` (what one template
area needs from the spec, cross-checked against that area's templates).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import support
from .diagnostics import Diagnostic, Severity, dotted
from .yamlpos import LoadedYaml, SpecPath


@dataclass
class Context:
    doc: LoadedYaml
    resolved: dict[str, Any]
    file: str
    as_of: dt.date = field(default_factory=support.as_of)
    """The day dated support tables are read for (support.as_of)."""

    @property
    def raw(self) -> dict[str, Any]:
        data: dict[str, Any] = self.doc.data
        return data

    def raw_app_index(self, name: str) -> int:
        for i, app in enumerate(self.raw["apps"]):
            if app["name"] == name:
                return i
        return 0

    def line(self, path: SpecPath, *, key: bool = False) -> int:
        return self.doc.position(path, key=key).line

    def written(self, path: SpecPath, *, key: bool = False) -> bool:
        return path in (self.doc.keys if key else self.doc.values)

    def finding(
        self,
        severity: Severity,
        code: str,
        path: SpecPath,
        message: str,
        fix: str,
        *,
        key: bool = False,
    ) -> Diagnostic:
        position = self.doc.position(path, key=key)
        written = self.written(path, key=key)
        suffix = "" if written or not path else " (a default: set it explicitly to change it)"
        return Diagnostic(
            file=self.file,
            line=position.line,
            column=position.column,
            severity=severity,
            code=code,
            path=dotted(path),
            message=message + suffix,
            fix=fix,
        )


Check = Callable[[Context], Iterator[Diagnostic]]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    CHECKS.append(fn)
    return fn
