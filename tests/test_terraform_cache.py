"""The shared Terraform plugin cache under concurrent first use, by separate processes.

`make test` once failed on a fresh clone with `failed to compute a checksum ...
linux_amd64: no such file or directory`: a worker saw the provider's version folder that
another worker was still filling and ran `init` unlocked. These tests race real
`terraform init` processes on an empty cache: some start together, the others start the
moment the provider's folder appears in the cache (the window of that failure). Every
init must succeed and the cache must end complete.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.terraform import PROVIDER, PROVIDER_VERSION, Terraform

ROOT = Path(__file__).resolve().parents[1]
MAIN_TF = """\
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}
"""

# One racer: wait for its trigger, then `rounds` inits of a root without a lock file (as
# every fresh copy of a module is), and print each outcome as JSON.
RACER = textwrap.dedent(
    """
    import json, shutil, sys, time
    from pathlib import Path
    from support.terraform import Terraform

    root, cache, config, trigger = map(Path, sys.argv[1:5])
    rounds = int(sys.argv[5])
    tf = Terraform(config, cache_dir=cache)
    deadline = time.monotonic() + 120
    while not trigger.exists() and time.monotonic() < deadline:
        time.sleep(0.002)
    outcomes = []
    for _ in range(rounds):
        shutil.rmtree(root / ".terraform", ignore_errors=True)
        (root / ".terraform.lock.hcl").unlink(missing_ok=True)
        result = tf.init(root)
        outcomes.append({"ok": result.ok, "output": (result.stdout + result.stderr)[-1500:]})
    print(json.dumps(outcomes))
    """
)


def race(
    tmp_path: Path, cache: Path, together: int, on_folder: int, rounds: int = 1
) -> list[dict[str, object]]:
    """`together` racers start at once, `on_folder` more when the version folder appears."""
    start = tmp_path / "start"
    version_folder = cache / PROVIDER / PROVIDER_VERSION
    racers = []
    for index in range(together + on_folder):
        root = tmp_path / f"root{index}"
        root.mkdir()
        (root / "main.tf").write_text(MAIN_TF)
        trigger = start if index < together else version_folder
        racers.append(
            subprocess.Popen(
                [sys.executable, "-c", RACER, str(root), str(cache), str(tmp_path / f"c{index}"),
                 str(trigger), str(rounds)],
                env={**os.environ, "PYTHONPATH": str(ROOT / "tests")},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )  # fmt: skip
    start.touch()
    outcomes: list[dict[str, object]] = []
    for proc in racers:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-3000:]
        outcomes.extend(json.loads(out.strip().splitlines()[-1]))
    return outcomes


@pytest.mark.slow
def test_concurrent_first_inits_on_an_empty_cache_all_succeed(
    terraform: Terraform, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    outcomes = race(tmp_path, cache, together=3, on_folder=3, rounds=8)
    failed = [o["output"] for o in outcomes if not o["ok"]]
    assert not failed, "\n---\n".join(map(str, failed))
    platform = cache / PROVIDER / PROVIDER_VERSION / terraform.platform
    mirrored = terraform.mirror / PROVIDER / PROVIDER_VERSION / terraform.platform
    assert sorted((p.name, p.stat().st_size) for p in platform.iterdir()) == sorted(
        (p.name, p.stat().st_size) for p in mirrored.iterdir()
    )


@pytest.mark.slow
def test_a_half_filled_cache_is_refilled(terraform: Terraform, tmp_path: Path) -> None:
    """A fill killed midway leaves a folder without the provider: the next init repairs it."""
    cache = tmp_path / "cache"
    platform = cache / PROVIDER / PROVIDER_VERSION / terraform.platform
    platform.mkdir(parents=True)
    (platform / "LICENSE.txt").write_text("partial")
    outcomes = race(tmp_path, cache, together=2, on_folder=0)
    assert all(o["ok"] for o in outcomes), outcomes
    binary = [p for p in platform.iterdir() if p.name.startswith("terraform-provider-aws")]
    assert binary and os.access(binary[0], os.X_OK)
