"""Terminal output: progress and tables on a terminal, plain lines in CI and pipes."""

from __future__ import annotations

import os
import sys
from typing import TextIO

_COLORS = {"red": "31", "yellow": "33", "green": "32", "bold": "1", "dim": "2"}


class Console:
    def __init__(self, stream: TextIO | None = None, *, color: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        interactive = self.stream.isatty() and not os.environ.get("CI")
        self.interactive = interactive
        self.color = interactive and not os.environ.get("NO_COLOR") if color is None else color
        self._progress_open = False

    def paint(self, text: str, style: str) -> str:
        return f"\033[{_COLORS[style]}m{text}\033[0m" if self.color else text

    def _end_progress(self) -> None:
        if self._progress_open:
            self.stream.write("\r\033[K")
            self._progress_open = False

    def progress(self, message: str) -> None:
        """A transient line on a terminal; a plain line elsewhere."""
        if self.interactive:
            self._end_progress()
            self.stream.write(self.paint(f"... {message}", "dim"))
            self.stream.flush()
            self._progress_open = True
        else:
            print(f"platformgen: {message}", file=self.stream)

    def line(self, text: str = "") -> None:
        self._end_progress()
        print(text, file=self.stream)

    def error(self, text: str) -> None:
        self.line(self.paint(text, "red"))

    def warn(self, text: str) -> None:
        self.line(self.paint(text, "yellow"))

    def ok(self, text: str) -> None:
        self.line(self.paint(text, "green"))

    def table(self, headers: list[str], rows: list[list[str]]) -> None:
        self._end_progress()
        widths = [len(h) for h in headers]
        for row in rows:
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        self.line(self.paint(fmt.format(*headers).rstrip(), "bold"))
        for row in rows:
            self.line(fmt.format(*row).rstrip())
