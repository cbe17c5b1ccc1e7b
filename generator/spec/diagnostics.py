"""Findings about a spec: every one names the file, line and column, what is wrong and the fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and column in the spec file."""

    line: int
    column: int


@dataclass(frozen=True)
class Diagnostic:
    """One finding. `code` is stable and machine-readable, e.g. `policy.prod-multi-az`."""

    file: str
    line: int
    column: int
    severity: Severity
    code: str
    path: str
    message: str
    fix: str

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        at = f" (at {self.path})" if self.path else ""
        return f"{where}: {self.severity}: {self.message}{at} [{self.code}]\n    fix: {self.fix}"

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple[int, int, str, str]:
    return (d.line, d.column, d.code, d.message)


def dotted(path: tuple[str | int, ...]) -> str:
    """Render a spec path the way a reader finds it: apps[0].env.LOG_LEVEL."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
