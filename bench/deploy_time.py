"""Deploy-time figures this machine can measure, quoted in the generated docs/deploy-time.md.

On the reference's rendered repository (examples/getprospa/repo, copied to a scratch folder):
- the source bundle: `git archive --format=zip HEAD` (what `make bundle` uploads), time and size;
- the api image: the service's own `make build` with podman on the local Debian bases, a cold
  build (--no-cache: the Python packages downloaded and installed), then a rebuild after a
  one-line source change (what CI pays per commit with a warm layer cache), and its size;
- the api chart rendered for each environment with helm-python-sdk, Helm's own Go library
  (what `helm upgrade` renders before it talks to the cluster);
- a Terraform environment root (prod): offline `terraform init`, then a `terraform plan` of
  the whole root against mocked providers (the planning work of `make plan`, without the
  AWS API calls a real plan's refresh makes).

Prints JSON (with the date and the machine) and writes bench/results/deploy_time.json.
Figures are reported, never asserted: this is a shared 2-core machine.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

REFERENCE = ROOT / "examples" / "getprospa"
RESULTS = ROOT / "bench" / "results" / "deploy_time.json"
APP = "api"


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, round(time.perf_counter() - started, 2)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "os": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gb": round(memory / 2**30, 1),
    }


def bundle(repo: Path, work: Path) -> dict[str, Any]:
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "bench"], cwd=repo, check=True)
    target = work / "source.zip"
    _, seconds = timed(
        lambda: subprocess.run(
            ["git", "archive", "--format=zip", "-o", str(target), "HEAD"], cwd=repo, check=True
        )
    )
    return {"git_archive_s": seconds, "zip_mb": round(target.stat().st_size / 1e6, 2)}


def image(repo: Path) -> dict[str, Any]:
    if shutil.which("podman") is None:
        return {"skipped": "podman is not installed"}
    from support.service_stack import (
        BUILDER_IMAGE,
        PREFIX,
        RUNTIME_IMAGE,
        base_images,
        podman,
        podman_env,
        run,
        tls,
    )

    _, bases_s = timed(base_images)
    service = repo / "services" / APP
    certs = service / "certs"
    certs.mkdir(exist_ok=True)
    shutil.copy(tls()[0], certs / "rds-ca-bundle.pem")
    name = f"localhost/{PREFIX}-bench-deploy-{APP}"
    bundle = "/etc/ssl/certs/ca-certificates.crt"  # pip in the builder trusts the host's CAs

    def build(tag: str, *flags: str) -> float:
        """The service's own `make build`, with podman and the local Debian bases."""
        command = [
            "make",
            "build",
            "CONTAINER=podman",
            f"IMAGE={name}",
            f"TAG={tag}",
            f"BUILDER_IMAGE={BUILDER_IMAGE}",
            f"RUNTIME_IMAGE={RUNTIME_IMAGE}",
            f"BUILD_FLAGS=--format docker --layers -v {bundle}:{bundle}:ro {' '.join(flags)}",
        ]
        proc, seconds = timed(lambda: run(command, cwd=service, env=podman_env(), timeout=900))
        if proc.returncode != 0:
            raise RuntimeError(f"make build failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
        return seconds

    try:
        # No layer cache: every step runs, the Python packages are downloaded and installed.
        cold = build("cold", "--no-cache")
        with (service / "src" / APP / "app.py").open("a") as source:
            source.write("\n# a source change: only the service's own layers rebuild\n")
        rebuild = build("rebuild")
        size = int(podman("image", "inspect", f"{name}:rebuild", "--format", "{{.Size}}").stdout)
        return {
            "bases_ready_s": bases_s,
            "cold_build_s": cold,
            "rebuild_after_change_s": rebuild,
            "size_mb": round(size / 1e6, 1),
        }
    finally:
        podman("rmi", "-f", f"{name}:cold", f"{name}:rebuild", check=False)
        podman("image", "prune", "-f", check=False)


def chart(repo: Path, spec: dict[str, Any]) -> dict[str, Any]:
    from support.helm import env_values, load_chart, render

    chart_dir = repo / "deploy" / "helm" / APP
    app = next(a for a in spec["apps"] if a["name"] == APP)
    loaded, load_s = timed(lambda: load_chart(chart_dir))
    renders = {}
    for env in spec["promotion"]:
        values = env_values(chart_dir, spec, app, env)
        result, seconds = timed(lambda: render(loaded, APP, env, values))  # noqa: B023
        renders[env] = {"render_s": seconds, "manifests": len(result.manifests)}
    return {"load_s": load_s, "per_environment": renders}


def terraform(repo: Path, spec: dict[str, Any], work: Path) -> dict[str, Any]:
    from support.terraform import Terraform
    from validators.names import env_root_plan

    env = spec["promotion"][-1]
    infra = work / "infra"
    shutil.copytree(repo / "infra", infra)
    root = infra / "envs" / env
    tf = Terraform(work / "tf")
    init, init_s = timed(lambda: tf.init(root))
    if not init.ok:
        raise RuntimeError(init.describe())
    environment = spec["environments"][env]
    plan, plan_s = timed(
        lambda: env_root_plan(
            root,
            environment["account"],
            environment["region"],
            spec.get("backup", {}).get("region"),
        )
    )
    return {
        "root": f"infra/envs/{env}",
        "init_offline_s": init_s,
        "mocked_plan_s": plan_s,
        "resources_planned": len(plan["resource_changes"]),
    }


def main() -> int:
    from generator.spec import load_spec

    loaded = load_spec(REFERENCE / "platform.yaml")
    if loaded.resolved is None:
        raise SystemExit(f"the reference spec does not validate: {loaded.diagnostics}")
    spec = loaded.resolved
    with tempfile.TemporaryDirectory(prefix="platformgen-bench-deploy-") as tmp:
        work = Path(tmp)
        repo = work / "repo"
        shutil.copytree(REFERENCE / "repo", repo)
        results: dict[str, Any] = {
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "reference": "examples/getprospa/repo",
            "source_bundle": bundle(repo, work),
            "chart": chart(repo, spec),
            "terraform": terraform(repo, spec, work),
            "image": image(repo),
        }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
