"""What an unexpected exception becomes: one line on stderr and a log file to attach to a bug.

Modelled on pre-commit's error_handler: the user sees what failed and where the
details are; the log has everything a maintainer needs to reproduce it
(platformgen, Python and git versions, the platform, the command line and the
traceback). Expected problems never come here: a bad spec or an operation that
cannot run is an error with a fix (exit 1).
"""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
import traceback
from pathlib import Path

from . import __version__

ISSUES_URL = "https://github.com/platformgen/platformgen/issues"


def log_path() -> Path:
    """$PLATFORMGEN_LOG, else platformgen.log in the user's cache folder (XDG)."""
    explicit = os.environ.get("PLATFORMGEN_LOG")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "platformgen" / "platformgen.log"


def _git_version() -> str:
    try:
        proc = subprocess.run(
            ["git", "--version"], capture_output=True, text=True, check=False, timeout=10
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unavailable ({type(exc).__name__})"
    return proc.stdout.strip() or proc.stderr.strip()


def _templates() -> str:
    try:
        from .engine.templates import current_ref

        return current_ref()
    except Exception as exc:  # the report must not fail on a second problem
        return f"unknown ({type(exc).__name__}: {exc})"


def report_text(exc: BaseException, argv: list[str]) -> str:
    formatted = "".join(traceback.format_exception(exc))
    versions = "\n".join(
        (
            f"platformgen: {__version__} (templates {_templates()})",
            f"python: {sys.version.replace(chr(10), ' ')}",
            f"executable: {sys.executable}",
            f"platform: {platform.platform()}",
            f"git: {_git_version()}",
            f"command line: {shlex.join(['platformgen', *argv])}",
            f"working folder: {Path.cwd()}",
        )
    )
    return (
        "### version information\n\n"
        f"```\n{versions}\n```\n\n"
        "### error information\n\n"
        f"```\n{type(exc).__name__}: {exc}\n```\n\n"
        f"```\n{formatted}```\n"
    )


def write_report(exc: BaseException, argv: list[str]) -> str:
    """Write the log and return the one line to show the user."""
    text = report_text(exc, argv)
    detail = " ".join(str(exc).split())
    detail = detail if len(detail) <= 200 else detail[:197] + "..."
    summary = f"platformgen: unexpected error: {type(exc).__name__}: {detail}"
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError:
        # No writable log: the details go to stderr rather than nowhere.
        sys.stderr.write(text)
        return f"{summary} (this is a bug: please report it at {ISSUES_URL} with the details above)"
    return f"{summary} (this is a bug: please report it at {ISSUES_URL} with the log {path})"
