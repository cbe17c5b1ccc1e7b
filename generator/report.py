"""Machine-readable results of `validate`, `check` and `diff`: one JSON shape, and SARIF.

Every `--format json` prints one `Report` (its JSON Schema is in docs/cli.md):
who produced it, whether the command succeeded and its exit code, and a flat
list of findings, each with where it is (file, line, column; or the render
unit), a stable code, the message and the fix. `--format sarif` prints the same
findings as a SARIF 2.1.0 log, which GitHub code scanning shows on the spec's
lines in a pull request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from . import __version__
from .spec import Diagnostic

Severity = Literal["error", "warning", "note"]
TOOL = "platformgen"
INFORMATION_URI = "https://github.com/platformgen/platformgen"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: str | None = None
    unit: str | None = None
    fix: str | None = None

    @classmethod
    def from_diagnostic(cls, d: Diagnostic) -> Finding:
        return cls(
            severity=d.severity,
            code=d.code,
            message=d.message,
            file=d.file,
            line=d.line if d.line > 0 else None,
            column=d.column if d.column > 0 else None,
            path=d.path or None,
            fix=d.fix or None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "code": self.code,
            "path": self.path,
            "unit": self.unit,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass
class Report:
    command: str
    target: str
    exit_code: int
    findings: list[Finding] = field(default_factory=list)
    templates: str | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    files_checked: int | None = None

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def to_json(self) -> dict[str, Any]:
        summary: dict[str, int] = {
            "errors": self.count("error"),
            "warnings": self.count("warning"),
            "notes": self.count("note"),
            "changes": len(self.changes),
        }
        if self.files_checked is not None:
            summary["filesChecked"] = self.files_checked
        return {
            "tool": TOOL,
            "version": __version__,
            "command": self.command,
            "ok": self.exit_code == 0,
            "exitCode": self.exit_code,
            "target": self.target,
            "templates": self.templates,
            "summary": summary,
            "findings": [f.to_json() for f in self.findings],
            "changes": self.changes,
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False)


_SARIF_LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def _artifact(file: str) -> dict[str, str]:
    """A SARIF artifactLocation: relative to the working folder (the repository root in CI)."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            return {"uri": path.as_uri()}
    return {"uri": quote(path.as_posix()), "uriBaseId": "%SRCROOT%"}


def to_sarif(report: Report) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log with one run."""
    codes = sorted({f.code for f in report.findings})
    rules = [{"id": code, "name": code} for code in codes]
    results = []
    for f in report.findings:
        text = (
            f.message + (f" (at {f.path})" if f.path else "") + (f" Fix: {f.fix}" if f.fix else "")
        )
        result: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": codes.index(f.code),
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": text},
        }
        if f.file:
            location: dict[str, Any] = {"artifactLocation": _artifact(f.file)}
            if f.line:
                location["region"] = {
                    "startLine": f.line,
                    **({"startColumn": f.column} if f.column else {}),
                }
            result["locations"] = [{"physicalLocation": location}]
        properties = {k: v for k, v in (("path", f.path), ("fix", f.fix), ("unit", f.unit)) if v}
        if properties:
            result["properties"] = properties
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL,
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "invocations": [{"executionSuccessful": True, "exitCode": report.exit_code}],
                "results": results,
            }
        ],
    }
