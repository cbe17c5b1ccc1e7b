"""The generated repository's own Terraform targets, run for real: `make infra-lint` and
`make infra-test` of a rendered reference, offline (the provider mirror, as
tests/support/terraform.py configures it), on an empty plugin cache.

They run several `terraform init` at once on one TF_PLUGIN_CACHE_DIR, which raced
(`failed to compute a checksum ... no such file or directory`). Here both targets run at
the same time (`make -j2`), with more parallel jobs than cores, from a clean tree and an empty cache,
as on a fresh clone. On the old targets this failed with `failed to create directory`
(and `make infra-lint` could not validate a module with aliased providers on its own).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REFERENCE_SPEC
from support.terraform import Terraform

from generator.engine.operations import new


def _clean(infra: Path) -> None:
    """A fresh clone: no .terraform folders; the committed lock files stay."""
    for path in infra.rglob(".terraform"):
        shutil.rmtree(path)


def _locks(infra: Path) -> dict[str, bytes]:
    return {str(p.relative_to(infra)): p.read_bytes() for p in infra.rglob(".terraform.lock.hcl")}


@pytest.mark.slow
def test_infra_lint_and_test_run_together_on_an_empty_cache(
    terraform: Terraform, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    new(REFERENCE_SPEC, repo)
    env = {
        # The harness's offline CLI config, but none of its cache settings: the repo's
        # own targets must be safe without them.
        k: v
        for k, v in terraform.env.items()
        if not k.startswith("TF_PLUGIN_CACHE")
    }
    committed = _locks(repo / "infra")
    assert len(committed) >= 3, "every root and module commits its provider lock file"
    for attempt in range(1):  # one run: ~3 min of the suite's 2 cores
        cache = tmp_path / f"cache{attempt}"
        _clean(repo / "infra")
        proc = subprocess.run(
            ["make", "-j2", "infra-lint", "infra-test", "INFRA_JOBS=6"],
            cwd=repo,
            env={**env, "TF_PLUGIN_CACHE_DIR": str(cache)},
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert proc.returncode == 0, (
            f"attempt {attempt + 1}:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
        )
        # Every module and the bootstrap validated and passed its own tests (the only run
        # of them: tests/test_terraform_modules.py relies on it).
        plain = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout)
        folders = [
            p for p in (repo / "infra" / "modules").iterdir() if p.is_dir() and p.name[0] != "."
        ]
        passed = re.findall(r"^Success! (\d+) passed, 0 failed\.$", plain, re.M)
        assert len(passed) == len(folders) + 1 and all(int(n) >= 1 for n in passed), plain[-4000:]
        assert (cache / "registry.terraform.io" / "hashicorp" / "aws").is_dir()
        # -lockfile=readonly: the targets install exactly the committed provider and
        # never rewrite a lock file (nor add one: every folder commits its own).
        assert _locks(repo / "infra") == committed
