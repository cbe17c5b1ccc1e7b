"""Errors the engine reports to the user: each says what went wrong and what to do."""

from __future__ import annotations


class EngineError(Exception):
    """A problem that stops an operation before anything is written."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def format(self) -> str:
        return f"error: {self.message}" + (f"\n    fix: {self.fix}" if self.fix else "")
