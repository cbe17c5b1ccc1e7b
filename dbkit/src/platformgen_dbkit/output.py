"""Terminal output: a table of findings and a progress bar (only on a terminal)."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Sequence
from typing import TextIO


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], out: TextIO = sys.stdout) -> None:
    """A plain-text table as wide as the terminal; long cells wrap inside their column."""
    room = max(shutil.get_terminal_size((160, 24)).columns, 80) - 3 * (len(headers) - 1)
    cols = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    while sum(cols) > room and max(cols) > 12:
        cols[cols.index(max(cols))] -= 1  # narrow the widest column until the table fits

    def wrap(text: str, w: int) -> list[str]:
        lines: list[str] = []
        for para in text.split("\n"):
            line = ""
            for word in para.split(" "):
                while len(word) > w:  # a word wider than its column is cut
                    if line:
                        lines.append(line)
                        line = ""
                    lines.append(word[:w])
                    word = word[w:]
                if line and len(line) + 1 + len(word) > w:
                    lines.append(line)
                    line = word
                else:
                    line = f"{line} {word}" if line else word
            lines.append(line)
        return lines or [""]

    def emit(cells: Sequence[str]) -> None:
        wrapped = [wrap(c, w) for c, w in zip(cells, cols, strict=True)]
        for i in range(max(len(w) for w in wrapped)):
            parts = [(w[i] if i < len(w) else "").ljust(cols[j]) for j, w in enumerate(wrapped)]
            out.write(" | ".join(parts).rstrip() + "\n")

    emit(headers)
    out.write("-+-".join("-" * w for w in cols) + "\n")
    for row in rows:
        emit(row)


class Progress:
    """rows done / estimated, rate and ETA on stderr, redrawn at most 5 times a second."""

    def __init__(self, total_rows: int, *, enabled: bool, out: TextIO = sys.stderr) -> None:
        self.total, self.enabled, self.out = max(total_rows, 1), enabled, out
        self.rows = self.chunks = 0
        self.started = time.monotonic()
        self._last = 0.0
        self._base = 0

    def advance(self, rows: int, chunks: int) -> None:
        self.rows += rows
        self.chunks += chunks
        if not self._last:
            self._base = self.rows  # rows resumed from a checkpoint do not count in the rate
        now = time.monotonic()
        if self.enabled and now - self._last >= 0.2:
            self._last = now
            self._draw(now)
        elif not self._last:
            self._last = 1e-9

    def _draw(self, now: float) -> None:
        share = min(self.rows / self.total, 1.0)
        bar = "#" * int(share * 30)
        rate = (self.rows - self._base) / max(now - self.started, 1e-6)
        eta = (self.total - self.rows) / rate if rate > 0 and self.rows < self.total else 0
        self.out.write(
            f"\r[{bar:<30}] {share:4.0%} {self.rows:,}/~{self.total:,} rows "
            f"{self.chunks:,} chunks {rate:,.0f} rows/s ETA {int(eta) // 60}:{int(eta) % 60:02d} "
        )
        self.out.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.out.write("\n")
            self.out.flush()
