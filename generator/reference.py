"""Re-render the committed reference output: python -m generator.reference examples/getprospa

Renders EXAMPLE/platform.yaml with the templates in this checkout and replaces
EXAMPLE/repo/ with the result (without the .git folder `new` creates). The
reference test fails until this has been run after a template change.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from .engine.operations import new


def render_reference(example: Path, out: Path) -> None:
    """Render `example`/platform.yaml into `out` (which must not exist), without .git."""
    new(example / "platform.yaml", out)
    shutil.rmtree(out / ".git")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m generator.reference EXAMPLE_DIR", file=sys.stderr)
        return 2
    # The reference records the stable template URL, whatever this machine overrides.
    os.environ.pop("PLATFORMGEN_TEMPLATE_URL", None)
    example = Path(argv[0])
    target = example / "repo"
    with tempfile.TemporaryDirectory(prefix="platformgen-reference-", dir=example) as tmp:
        fresh = Path(tmp) / "repo"
        render_reference(example, fresh)
        old = Path(tmp) / "old"
        if target.exists():
            target.rename(old)
        fresh.rename(target)
    count = sum(1 for p in target.rglob("*") if p.is_file())
    print(f"{target}: {count} files re-rendered")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
