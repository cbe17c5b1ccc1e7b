"""Renovate, run from the copy `make tools` installs (.tool-venvs/renovate, from the lock the
generated repositories carry: templates/repo/tools/renovate/package-lock.json).

`extract` runs Renovate's own managers (the config's custom regex managers, and the built-in
dockerfile manager) over rendered files. `unmatched_pins` lists every pin of a rendered
repository that no manager extracts, found independently of the config: a pin Renovate
cannot see never gets updated.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from support.tools import ROOT

RENOVATE_DIR = ROOT / ".tool-venvs" / "renovate"
EXTRACT_JS = Path(__file__).with_name("renovate_extract.js")


def renovate_bin(name: str = "renovate-config-validator") -> Path:
    path = RENOVATE_DIR / "node_modules" / ".bin" / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make tools` (part of `make test`)", pytrace=False)
    return path


def validate(config: Path) -> subprocess.CompletedProcess[str]:
    """renovate-config-validator --strict on one file (strict: a config needing migration fails)."""
    return subprocess.run(
        [str(renovate_bin()), "--strict", str(config)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=config.parent,
    )


def extract(config: Path, files: list[Path]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """{file: {manager: [deps]}} from Renovate's own extractors."""
    renovate_bin()
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node is missing: `make test` installs it (scripts/system-packages.txt)", pytrace=False
        )
    proc = subprocess.run(
        [node, str(EXTRACT_JS), str(RENOVATE_DIR), str(config), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _pins(root: Path) -> list[tuple[Path, str, str]]:
    """(file, what, value) of every pin, read without the Renovate config."""
    pins: list[tuple[Path, str, str]] = []
    tools = root / "delivery" / "tools.versions"
    for line in tools.read_text().splitlines():
        if m := re.match(r"^([A-Z][A-Z0-9_.]*VERSION[A-Z0-9_.]*)=(\S+)$", line):
            pins.append((tools, m.group(1), m.group(2)))
    for mk in sorted((root / "infra" / "addons").rglob("versions.mk")):
        text = mk.read_text()
        for m in re.finditer(r"^([A-Z][A-Z0-9_]*_CHART_VERSION) := (\S+)$", text, re.M):
            pins.append((mk, m.group(1), m.group(2)))
        # An OCI chart's digest is an image digest: Renovate moves it with the version.
        for m in re.finditer(r"^([A-Z][A-Z0-9_]*)_CHART := oci://", text, re.M):
            digest = re.search(
                rf"^{m.group(1)}_CHART_DIGEST := (sha256:[0-9a-f]{{64}})$", text, re.M
            )
            assert digest, f"{mk}: {m.group(1)} is an OCI chart without a digest"
            pins.append((mk, f"{m.group(1)}_CHART_DIGEST", digest.group(1)))
    compose = root / "compose.yaml"
    if compose.exists():
        for m in re.finditer(r"^\s*image: .*@(sha256:[0-9a-f]{64})", compose.read_text(), re.M):
            pins.append((compose, "image", m.group(1)))
    for dockerfile in sorted(root.rglob("Dockerfile")):
        for m in re.finditer(
            r"^ARG ([A-Z0-9_]+_IMAGE)=\S+@(sha256:[0-9a-f]{64})$", dockerfile.read_text(), re.M
        ):
            pins.append((dockerfile, m.group(1), m.group(2)))
    return pins


def unmatched_pins(root: Path, config: Path) -> tuple[list[str], int]:
    """The pins no manager of `config` extracts (with file and name), and how many pins there are."""
    pins = _pins(root)
    files = sorted({path for path, _, _ in pins})
    found = extract(config, files)
    missing = []
    for path, what, value in pins:
        deps = [dep for deps in found.get(str(path), {}).values() for dep in deps]
        values = {dep.get("currentValue") for dep in deps} | {
            dep.get("currentDigest") for dep in deps
        }
        if value not in values:
            missing.append(f"{path.relative_to(root)}: {what} {value}")
    return missing, len(pins)
