"""The CodePipeline reader (tests/support/pipelines/codepipeline.py): the stages of a
mocked plan of infra/artifacts, in order, with the commands of each action's buildspec.

On the reference (GitHub delivers there) CodePipeline only checks pull requests; the
release pipelines of the matrix are read by the pipelines validators
(tests/validators/pipelines_codepipeline.py). The second test feeds a small plan to show
how actions, approvals and the variables an action passes become steps.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import REFERENCE_DIR
from support.pipelines import DELIVER, PULL_REQUEST, codepipeline

from generator.spec import load_spec

REPO = REFERENCE_DIR / "repo"


def test_the_reference_checks_pull_requests_with_make_targets() -> None:
    spec = load_spec(REPO / "platform.yaml").resolved
    assert spec is not None
    steps = codepipeline.read(REPO, spec)
    assert [(s.trigger, s.name, s.targets(), s.other) for s in steps] == [
        (
            PULL_REQUEST,
            "Check/Check",
            ["tools", "lint", "test", "build", "platform-check"],
            (),
        ),
    ]


def _build(project: str, buildspec: str) -> dict[str, object]:
    return {
        "type": "aws_codebuild_project",
        "name": "this",
        "change": {"after": {"name": project, "source": [{"buildspec": buildspec}]}},
    }


def _action(
    name: str, provider: str, run_order: int, configuration: dict[str, str]
) -> dict[str, object]:
    return {
        "name": name,
        "provider": provider,
        "run_order": run_order,
        "configuration": configuration,
    }


def test_actions_run_in_order_and_an_approval_marks_the_next(tmp_path: Path) -> None:
    codebuild = tmp_path / "pipelines" / "codebuild"
    codebuild.mkdir(parents=True)
    (codebuild / "apply.yml").write_text(
        'version: 0.2\nphases:\n  build:\n    commands:\n      - make execute ENV="$ENV" STAGE=apply\n'
    )
    (codebuild / "bake.yml").write_text(
        "version: 0.2\nphases:\n  install:\n    commands: [make tools]\n"
        '  build:\n    commands:\n      - make bake ENV="${ENV}"\n      - echo done\n'
    )
    variables = json.dumps([{"name": "ENV", "value": "prod", "type": "PLAINTEXT"}])
    stage = {
        "name": "Promote-prod",
        # Listed out of run order: the reader orders them.
        "action": [
            _action(
                "Bake",
                "CodeBuild",
                3,
                {"ProjectName": "p-release-bake", "EnvironmentVariables": variables},
            ),
            _action("Approve", "Manual", 1, {}),
            _action(
                "Apply",
                "CodeBuild",
                2,
                {"ProjectName": "p-release-apply", "EnvironmentVariables": variables},
            ),
        ],
    }
    plan = {
        "resource_changes": [
            _build("p-release-apply", "pipelines/codebuild/apply.yml"),
            _build("p-release-bake", "pipelines/codebuild/bake.yml"),
            {
                "type": "aws_codepipeline",
                "name": "release",
                "change": {"after": {"name": "p-release", "stage": [stage]}},
            },
        ]
    }
    spec = {"pipelines": {"providers": ["codepipeline"]}}
    steps = codepipeline.read(tmp_path, spec, plan)
    assert [(s.trigger, s.name, s.environment, s.approval, s.make, s.other) for s in steps] == [
        (
            DELIVER,
            "Promote-prod/Apply",
            "prod",
            True,
            (("execute", "ENV=prod", "STAGE=apply"),),
            (),
        ),
        (
            DELIVER,
            "Promote-prod/Bake",
            "prod",
            False,
            (("tools",), ("bake", "ENV=prod")),
            ("echo done",),
        ),
    ]
