"""Read pip requirement files written with hashes (`uv pip compile --generate-hashes`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)$")
HASH = re.compile(r"^--hash=sha256:([0-9a-f]{64})$")


@dataclass(frozen=True)
class Pin:
    version: str
    hashes: frozenset[str]


def normalise(name: str) -> str:
    """PEP 503: Flask, flask and FLASK are one project; so are typing_extensions and -extensions."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, Pin]:
    """Project -> exact version and sha256 hashes; a line of any other form is an error.

    Every requirement must be `name==version` with at least one hash, as pip's
    hash-checking mode (--require-hashes) demands; options, URLs, `-r` includes and
    environment markers are refused, so the file is exactly the set that gets installed.
    """
    pins: dict[str, Pin] = {}
    logical = path.read_text().replace("\\\n", " ")
    for number, line in enumerate(logical.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        match = REQUIREMENT.match(words[0])
        if not match:
            raise ValueError(f"{path}:{number}: not an exact pin: {line.strip()[:80]}")
        hashes = [HASH.match(w) for w in words[1:]]
        if not hashes or not all(hashes):
            raise ValueError(f"{path}:{number}: {match[1]} needs --hash=sha256:... entries only")
        name = normalise(match[1])
        if name in pins:
            raise ValueError(f"{path}:{number}: {match[1]} is pinned twice")
        pins[name] = Pin(match[2], frozenset(h[1] for h in hashes if h))
    return pins
