"""Print what a generated repository holds: its units and a file count per folder.

    python scripts/summary.py REPO

`make run` calls it after rendering the reference into build/. A developer tool, not a
`platformgen` command: `platformgen new` already prints each unit with its
destination and file count, and git lists the files; the wheel does not ship it.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.console import Console  # noqa: E402
from generator.engine.operations import find_recorded_units  # noqa: E402


def summarise(repo: Path, console: Console) -> None:
    units = find_recorded_units(repo)
    files = [p for p in repo.rglob("*") if p.is_file() and ".git" not in p.relative_to(repo).parts]
    per_folder: Counter[str] = Counter()
    for path in files:
        parts = path.relative_to(repo).parts
        per_folder[parts[0] if len(parts) > 1 else "."] += 1
    size = sum(p.stat().st_size for p in files)
    console.line(
        f"\n{repo}: {len(files)} files, {size / 1024:.0f} KiB, {len(units)} render units\n"
    )
    console.table(
        ["unit", "destination", "template"],
        [[u.id, u.dest.as_posix(), u.commit] for u in sorted(units.values(), key=lambda u: u.id)],
    )
    console.line()
    console.table(["folder", "files"], [[k, str(v)] for k, v in sorted(per_folder.items())])


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python scripts/summary.py REPO  (a generated repository)", file=sys.stderr)
        return 2
    summarise(Path(argv[0]), Console(sys.stdout))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
