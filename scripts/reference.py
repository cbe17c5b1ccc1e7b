"""Re-render the committed reference output (`make reference`).

    python scripts/reference.py examples/getprospa

Renders EXAMPLE/platform.yaml with the templates in this checkout and replaces
EXAMPLE/repo/ with the result (without the .git folder `new` creates). The
reference test (`test_reference_output_is_up_to_date` in tests/test_rendered.py)
fails until this has been run after a template change. A developer tool: the
wheel does not ship it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.engine.operations import new  # noqa: E402


def render_reference(example: Path, out: Path) -> None:
    """Render `example`/platform.yaml into `out` (which must not exist), without .git."""
    new(example / "platform.yaml", out)
    shutil.rmtree(out / ".git")


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (Path(argv[0]) / "platform.yaml").is_file():
        print(
            "usage: python scripts/reference.py EXAMPLE_DIR  (a folder holding platform.yaml)",
            file=sys.stderr,
        )
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
