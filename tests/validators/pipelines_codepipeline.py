"""AWS CodePipeline (pipelines.providers lists codepipeline): the buildspecs the pipelines
run and the promotion the release pipeline drives.

- Every rendered buildspec (pipelines/codebuild/*.yml, and the executors' buildspecs of
  infra/modules/executors) validates against the buildspec 0.2 JSON Schema written from
  AWS's reference (tests/data/schemas/codebuild-buildspec-0.2.schema.json, which cites it),
  with check-jsonschema.
- The pipelines' commands are make targets only; each build project's buildspec exists.
- The release pipeline (where CodePipeline delivers) runs publish, then each environment in
  spec.promotion order, with a manual approval exactly where environments.<env>.approval;
  the checks pipeline runs on pull requests only. Read from a mocked plan of
  infra/artifacts (tests/support/pipelines/codepipeline.py), so a module that builds the
  stages wrongly fails here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from support.pipelines import DELIVER, PULL_REQUEST, codepipeline
from support.tools import tool_venv_bin

from . import RenderedRepo, nonempty, validator

SCHEMA = (
    Path(__file__).resolve().parents[1] / "data" / "schemas" / "codebuild-buildspec-0.2.schema.json"
)


def _codepipeline(spec: dict[str, Any]) -> bool:
    return "codepipeline" in spec["pipelines"]["providers"]


def _delivers(spec: dict[str, Any]) -> bool:
    return spec["pipelines"]["deliver"] == "codepipeline"


def check_buildspecs(files: list[Path]) -> None:
    """check-jsonschema with the buildspec schema on `files`; fails with its findings."""
    proc = subprocess.run(
        [
            str(tool_venv_bin("ci-files", "check-jsonschema")),
            "--schemafile",
            str(SCHEMA),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, (
        f"buildspecs do not match {SCHEMA.name}:\n{proc.stdout}{proc.stderr}"
    )


@validator("pipelines", when=_codepipeline)
def codepipeline_buildspecs_match_the_buildspec_schema(repo: RenderedRepo) -> None:
    files = nonempty(sorted((repo.root / "pipelines" / "codebuild").glob("*.yml")), "buildspecs")
    check_buildspecs(files)


@validator("terraform")
def executor_buildspecs_match_the_buildspec_schema(repo: RenderedRepo) -> None:
    buildspecs = repo.root / "infra" / "modules" / "executors" / "buildspecs"
    check_buildspecs(nonempty(sorted(buildspecs.glob("*.yml")), "executor buildspecs"))


@validator("pipelines", when=_codepipeline)
def codepipeline_runs_make_targets_in_promotion_order(repo: RenderedRepo) -> None:
    spec = repo.spec
    steps = codepipeline.read(repo.root, spec)
    for step in steps:
        assert not step.other, f"{step.source}: only make targets may run, not {step.other}"
        assert step.make, f"{step.source}: runs no make target"
    checks = [s for s in steps if s.trigger == PULL_REQUEST]
    assert [s.targets() for s in checks] == [["tools", "lint", "test", "build", "platform-check"]]
    # Without delivering there is no release pipeline: both lists are empty.
    release = [s for s in steps if s.trigger == DELIVER]
    expected: list[tuple[str | None, tuple[tuple[str, ...], ...], bool]] = []
    if _delivers(spec):
        expected.append((None, (("build", "publish", "bundle"),), False))
        for env in spec["promotion"]:
            expected += [
                (
                    env,
                    (("execute", f"ENV={env}", "STAGE=apply"),),
                    spec["environments"][env]["approval"],
                ),
                (
                    env,
                    (
                        (
                            "execute",
                            f"ENV={env}",
                            "STAGE=deploy",
                            "RELEASE=#{SourceVariables.CommitId}",
                        ),
                    ),
                    False,
                ),
                (env, (("bake", f"ENV={env}"),), False),
            ]
    got = [
        (s.environment, tuple(a for a in s.make if a[0] != "tools"), s.approval) for s in release
    ]
    assert got == expected, "the release pipeline does not promote as the spec says"
