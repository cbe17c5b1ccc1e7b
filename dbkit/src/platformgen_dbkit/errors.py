"""Errors that end a command with a clear message and a fix."""

from __future__ import annotations

# Exit codes shared by every command (docs/runbooks/database-migration.md).
EXIT_OK = 0
EXIT_WARNINGS = 1  # preflight: warnings; verify: differences found
EXIT_BLOCKERS = 2  # preflight: blockers
EXIT_REFUSED = 2  # a precondition does not hold (schema copy: the target is not empty; cutover)
EXIT_ERROR = 3  # the command could not finish: bad input, a bad path, a server went away, a crash
EXIT_INTERRUPTED = 130  # interrupted (Ctrl-C / SIGINT), after a clean stop


class DbkitError(Exception):
    """A problem the user can fix: what went wrong, and how to fix it."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.fix}" if self.fix else self.message


class ServerGone(DbkitError):
    """A server stopped answering (connection refused, lost or timed out)."""


class Interrupted(DbkitError):
    """The user interrupted the command (Ctrl-C); it stopped cleanly (exit 130)."""
