"""Build the database kit's wheel reproducibly, and write the lock generated repositories pin.

    python scripts/dbkit_dist.py build [--outdir build/dbkit-dist]
    python scripts/dbkit_dist.py lock   # build, then rewrite templates/database/database/requirements.lock

The kit (dbkit/, distribution platformgen-dbkit) reaches a generated repository as a wheel the
team hosts, pinned by version and sha256 in the rendered `database/requirements.lock`
(docs/adr/0018-database-kit-wheel.md). The wheel is built from the files git knows under
dbkit/ (tracked, or new and not ignored), copied into an empty folder, so caches, virtualenvs
and editor files never reach it, with hatchling's reproducible mode and a fixed
SOURCE_DATE_EPOCH: the same checkout gives the same bytes on every machine, and
tests/test_dbkit_dist.py proves the committed hash is a fresh build's.

The lock holds the wheel's hash and every run-time dependency's, resolved by pip (the
versions of constraints.txt, the ones platformgen's own tests run the kit with).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KIT = ROOT / "dbkit"
LOCK = ROOT / "templates" / "database" / "database" / "requirements.lock"
DISTRIBUTION = "platformgen-dbkit"
# hatchling's own default for reproducible builds (2020-02-02), set explicitly so a
# SOURCE_DATE_EPOCH in the caller's environment cannot change the wheel's bytes.
SOURCE_DATE_EPOCH = "1580601600"
LOCK_HEADER = """\
# The database kit and its run-time dependencies, every wheel's sha256: `make database-setup`
# installs exactly these (pip --require-hashes --no-deps --only-binary :all:). Written by
# platformgen (`make dbkit-lock`, scripts/dbkit_dist.py) from a reproducible build of the
# kit: do not edit; `platformgen update` brings the next version. The platformgen-dbkit wheel
# comes from your team's index (DBKIT_INDEX_URL, docs/adr/0018 in platformgen; database/README.md).
"""


def kit_files() -> list[Path]:
    """dbkit/'s files as git sees them: tracked or new, never ignored, never deleted."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "dbkit"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted({Path(p) for p in out.split("\0") if p and (ROOT / p).is_file()})


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(outdir: Path) -> Path:
    """Build the wheel into outdir (replacing an older build of it); return its path."""
    with tempfile.TemporaryDirectory(prefix="dbkit-build-") as tmp:
        src = Path(tmp) / "dbkit"
        for rel in kit_files():
            dest = Path(tmp) / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes((ROOT / rel).read_bytes())
        wheels = Path(tmp) / "out"
        env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
        subprocess.run(
            [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", wheels, src],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        (wheel,) = wheels.glob("*.whl")
        outdir.mkdir(parents=True, exist_ok=True)
        for old in outdir.glob("platformgen_dbkit-*.whl"):
            old.unlink()
        return Path(shutil.copy2(wheel, outdir / wheel.name))


def resolve(wheel: Path) -> dict[str, tuple[str, str]]:
    """name -> (version, sha256) of the wheel and its run-time dependencies, Linux, Python 3.11."""
    with tempfile.TemporaryDirectory(prefix="dbkit-lock-") as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(
            [
                sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed",
                "--only-binary", ":all:", "--python-version", "3.11", "--platform", "manylinux2014_x86_64",
                "--target", Path(tmp) / "t", "--report", report,
                "-c", ROOT / "constraints.txt", wheel,
            ],
            check=True,
        )  # fmt: skip
        installs = json.loads(report.read_text())["install"]
    pins = {}
    for item in installs:
        meta = item["metadata"]
        name = meta["name"].lower().replace("_", "-")
        if name == DISTRIBUTION:
            pins[name] = (meta["version"], sha256(wheel))
            continue
        hashes = item["download_info"].get("archive_info", {}).get("hashes", {})
        if "sha256" not in hashes:
            raise SystemExit(f"pip reported no sha256 for {name}: {item['download_info']}")
        pins[name] = (meta["version"], hashes["sha256"])
    return pins


def lock_text(pins: dict[str, tuple[str, str]]) -> str:
    lines = [LOCK_HEADER.rstrip("\n")]
    for name in sorted(pins):
        version, digest = pins[name]
        lines.append(f"{name}=={version} \\\n    --hash=sha256:{digest}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("build", "lock"))
    parser.add_argument("--outdir", type=Path, default=ROOT / "build" / "dbkit-dist")
    args = parser.parse_args(argv)
    wheel = build(args.outdir)
    print(
        f"{wheel.relative_to(ROOT) if wheel.is_relative_to(ROOT) else wheel}  sha256:{sha256(wheel)}"
    )
    if args.command == "lock":
        LOCK.write_text(lock_text(resolve(wheel)))
        print(f"wrote {LOCK.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
