"""Every app of every spec is served by something the render produces.

A container app gets a Helm chart and, in every environment root, an entry the workloads
module turns into its role, registry and (when public) target group. A static web app is
public and, in every environment root, an entry the cdn module turns into its bucket and
CloudFront behaviour (the plans in tests/validators/names.py show those resources exist).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import RenderedRepo, validator


def unserved_apps(root: Path, spec: dict[str, Any]) -> list[str]:
    """What is missing for each app of `spec` in the repository at `root` ([] if nothing)."""
    problems = []
    for app in spec["apps"]:
        name = app["name"]
        container = app["hosting"] == "container"
        if container and not (root / "deploy" / "helm" / name / "Chart.yaml").is_file():
            problems.append(f"{name}: a container app without a chart")
        if not container and not app["public"]:
            problems.append(f"{name}: a private static app, which nothing serves")
        for env in spec["environments"]:
            tfvars = root / "infra" / "envs" / env / "platform.auto.tfvars.json"
            apps = json.loads(tfvars.read_text())["apps"]
            entry = apps.get(name)
            if entry is None:
                problems.append(f"{name}: not in {env}'s Terraform root")
            elif entry["hosting"] != app["hosting"] or entry["public"] != app["public"]:
                problems.append(f"{name}: {env}'s Terraform root has {entry}")
    return problems


@validator("terraform-env")
def every_app_is_served(repo: RenderedRepo) -> None:
    assert not unserved_apps(repo.root, repo.spec), unserved_apps(repo.root, repo.spec)
