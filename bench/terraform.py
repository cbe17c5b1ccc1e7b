"""Terraform validation benchmark: the whole check of the reference's infra/, timed by step.

Steps, as CI runs them: fmt -check; init (offline, shared plugin cache) of every root and
module; validate of each; every module's `terraform test`; checkov on infra/. Roots and
modules run WORKERS at a time. Measured warm (the plugin cache filled by one untimed
init), plus the same init without the shared cache for comparison (copying the
provider into each root). Prints JSON and writes bench/results/terraform.json; the
target (under 5 minutes warm) is reported, never asserted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.scripts import load_script  # noqa: E402
from support.terraform import Terraform, modules_of, roots_of  # noqa: E402
from support.tools import CHECKOV_ARGS, CHECKOV_ENV  # noqa: E402

render_reference = load_script("reference").render_reference

RESULTS = ROOT / "bench" / "results" / "terraform.json"
TARGET_SECONDS = 300
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))


def timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args)
    return result, round(time.perf_counter() - start, 2)


def parallel(fn, items: list[Path]) -> list:  # type: ignore[no-untyped-def,type-arg]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(fn, items))


def must(results: list) -> None:  # type: ignore[type-arg]
    failed = [r.describe() for r in results if not r.ok]
    if failed:
        raise SystemExit("\n\n".join(failed))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="platformgen-bench-tf-") as tmp:
        work = Path(tmp)
        repo = work / "repo"
        render_reference(ROOT / "examples" / "getprospa", repo)
        infra = repo / "infra"
        tf = Terraform(work / "config")
        roots, modules = roots_of(infra), modules_of(infra)
        dirs = roots + modules

        # Warm the plugin cache once (not timed), as a developer machine or CI cache is.
        must([tf.init(modules[0])])
        for d in dirs:
            shutil.rmtree(d / ".terraform", ignore_errors=True)

        steps: dict[str, float] = {}
        result, steps["fmt"] = timed(tf.run, ["fmt", "-check", "-recursive"], infra)
        must([result])
        results, steps["init"] = timed(parallel, tf.init, dirs)
        must(results)
        validate = lambda d: tf.run(["validate", "-no-color"], d)  # noqa: E731
        shim = infra / "modules" / "cdn" / "zz_validate_providers.tf"
        shim.write_text('provider "aws" {\n  alias = "us_east_1"\n}\n')
        results, steps["validate"] = timed(parallel, validate, dirs)
        shim.unlink()
        must(results)
        test = lambda d: tf.run(["test", "-no-color"], d)  # noqa: E731
        results, steps["test"] = timed(parallel, test, modules)
        must(results)
        checkov = ROOT / ".tool-venvs" / "checkov" / "bin" / "checkov"
        proc, steps["checkov"] = timed(
            lambda: subprocess.run(
                [str(checkov), "-d", str(infra), "--framework", "terraform", *CHECKOV_ARGS],
                capture_output=True,
                env={**os.environ, **CHECKOV_ENV},
            )
        )
        steps["total"] = round(sum(steps.values()), 2)

        # The same init without a shared cache: each root gets its own provider copy.
        cold = Terraform(work / "config-nocache", cache_dir=work / "unused-cache")
        cold.env.pop("TF_PLUGIN_CACHE_DIR")
        sample = roots[:2]
        for d in sample:
            shutil.rmtree(d / ".terraform", ignore_errors=True)
        results, no_cache = timed(parallel, cold.init, sample)
        must(results)
        provider = Path("providers/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64")
        linked_without_cache = all((d / ".terraform" / provider).is_symlink() for d in sample)
        linked_with_cache = (modules[0] / ".terraform" / provider).is_symlink()

    report = {
        "benchmark": "terraform validation of the reference (examples/getprospa)",
        "machine": {"cpus": os.cpu_count(), "workers": WORKERS},
        "roots": len(roots),
        "modules": len(modules),
        "seconds": steps,
        "checkov_exit": proc.returncode,
        "target_seconds": TARGET_SECONDS,
        "within_target": steps["total"] < TARGET_SECONDS,
        "init_without_shared_cache": {
            "roots": len(sample),
            "seconds": no_cache,
            "seconds_with_cache_same_roots": round(steps["init"] * len(sample) / len(dirs), 2),
            "provider_linked_not_copied": {
                "with_shared_cache": linked_with_cache,
                "without_cache_from_the_unpacked_mirror": linked_without_cache,
            },
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
