"""Read AWS CodePipeline's rendered definition as ordered make invocations.

CodePipeline is Terraform (infra/artifacts calls modules/pipeline when
pipelines.providers lists codepipeline), so its stages are what Terraform would create:
the reader plans infra/artifacts with a mocked AWS provider (`terraform test`, offline)
and takes each pipeline's stages and actions from the plan, in order. Each CodeBuild
action's commands come from the buildspec its build project names
(pipelines/codebuild/<name>.yml, every phase in CodeBuild's order), with the variables
the action passes (ENV, RELEASE) written in. A manual approval action is not a step: it
marks the next action of its stage (`Step.approval`).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from generator.spec.naming import artifacts_account

from ..terraform import Terraform
from . import DELIVER, PULL_REQUEST, Step, make_invocations

SYSTEM = "codepipeline"
PHASES = ("install", "pre_build", "build", "post_build")
TRIGGERS = {"checks": PULL_REQUEST, "release": DELIVER}
_VARIABLE = re.compile(r"\$\{?([A-Z_][A-Z0-9_]*)\}?")


def mocked_plan(repo: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """The plan of infra/artifacts of `repo` (Terraform's JSON), with a mocked AWS provider."""
    work = Path(tempfile.mkdtemp(prefix="platformgen-codepipeline-"))
    try:
        infra = work / "infra"
        shutil.copytree(repo / "infra", infra, ignore=shutil.ignore_patterns(".terraform"))
        root = infra / "artifacts"
        (root / "tests").mkdir(exist_ok=True)
        (root / "tests" / "codepipeline.tftest.hcl").write_text(
            'mock_provider "aws" {\n  source = "../modules/.mocks"\n'
            f'  mock_data "aws_caller_identity" {{\n    defaults = {{ account_id = "{artifacts_account(spec)}" }}\n  }}\n'
            f'  mock_data "aws_region" {{\n    defaults = {{ name = "{spec["project"]["region"]}" }}\n  }}\n'
            '}\nrun "codepipeline" {\n  command = plan\n}\n'
        )
        tf = Terraform(work / "terraform-config")
        init = tf.init(root)
        assert init.ok, init.describe()
        result = tf.run(
            ["test", "-verbose", "-json", "-no-color", "-filter=tests/codepipeline.tftest.hcl"],
            root,
        )
        assert result.ok, result.describe()[-4000:]
        for line in result.stdout.splitlines():
            message = json.loads(line)
            if message.get("type") == "test_plan":
                return dict(message["test_plan"])
        raise AssertionError("terraform test printed no plan of infra/artifacts")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _resources(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Each planned resource: type, name and its values after the plan."""
    return [
        {"type": c["type"], "name": c["name"], "values": c["change"].get("after") or {}}
        for c in plan["resource_changes"]
    ]


def buildspec_lines(repo: Path, buildspec: str) -> list[str]:
    """The commands of a buildspec, every phase in CodeBuild's order (finally after commands)."""
    document = yaml.safe_load((repo / buildspec).read_text())
    lines: list[str] = []
    for phase in PHASES:
        block = document.get("phases", {}).get(phase) or {}
        lines.extend(block.get("commands", []))
        lines.extend(block.get("finally", []))
    return lines


def _substitute(argv: tuple[str, ...], variables: dict[str, str]) -> tuple[str, ...]:
    return tuple(_VARIABLE.sub(lambda m: variables.get(m[1], m[0]), arg) for arg in argv)


def read(repo: Path, spec: dict[str, Any], plan: dict[str, Any] | None = None) -> list[Step]:
    """Every CodeBuild action of every rendered pipeline, in the order CodePipeline runs them
    (checks first, then release; stage by stage, action by run order)."""
    if "codepipeline" not in spec["pipelines"]["providers"]:
        return []
    planned = _resources(plan or mocked_plan(repo, spec))
    projects = {
        r["values"]["name"]: r["values"]["source"][0]["buildspec"]
        for r in planned
        if r["type"] == "aws_codebuild_project"
    }
    pipelines = {r["name"]: r["values"] for r in planned if r["type"] == "aws_codepipeline"}
    steps: list[Step] = []
    for key in ("checks", "release"):
        if key not in pipelines:
            continue
        pipeline = pipelines[key]
        for stage in pipeline["stage"]:
            approval = False
            for action in sorted(stage["action"], key=lambda a: a.get("run_order") or 1):
                if action["provider"] == "Manual":
                    approval = True
                    continue
                if action["provider"] != "CodeBuild":
                    continue
                configuration = action["configuration"]
                variables = {
                    v["name"]: v["value"]
                    for v in json.loads(configuration.get("EnvironmentVariables", "[]"))
                }
                buildspec = projects[configuration["ProjectName"]]
                make, other = make_invocations(buildspec_lines(repo, buildspec))
                steps.append(
                    Step(
                        system=SYSTEM,
                        source=f"{pipeline['name']} {stage['name']}/{action['name']} ({buildspec})",
                        trigger=TRIGGERS[key],
                        name=f"{stage['name']}/{action['name']}",
                        make=tuple(_substitute(argv, variables) for argv in make),
                        environment=variables.get("ENV"),
                        approval=approval,
                        other=other,
                    )
                )
                approval = False
    return steps
