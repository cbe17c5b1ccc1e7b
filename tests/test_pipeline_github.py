"""The GitHub Actions reader (tests/support/pipelines/github.py) that the pipeline rehearsal
uses: the reference's workflows as ordered make invocations, and the reader's own rules on
small hand-written workflows (order of needs, triggers, refusals)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REFERENCE_DIR, REFERENCE_SPEC
from support.pipelines import DELIVER, PULL_REQUEST, SCHEDULE
from support.pipelines.github import WorkflowError, read

from generator.engine.operations import new
from generator.spec import load_spec


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    resolved = load_spec(REFERENCE_SPEC).resolved
    assert resolved is not None
    return resolved


def test_the_reference_reads_as_the_promotion(spec: dict[str, Any]) -> None:
    steps = read(REFERENCE_DIR / "repo", spec)
    by_trigger = {
        t: [s for s in steps if s.trigger == t] for t in (PULL_REQUEST, DELIVER, SCHEDULE)
    }
    assert [s.targets() for s in by_trigger[PULL_REQUEST]] == [
        ["tools", "lint"],
        ["tools", "test"],
        ["tools", "build"],
        ["tools", "platform-check"],
        *[["tools", "plan", "plan-summary"]] * 3,
        ["plan-comment"],
    ]
    assert [s.environment for s in by_trigger[PULL_REQUEST] if "plan" in s.targets()] == [
        "dev",
        "staging",
        "prod",
    ]
    deliver = by_trigger[DELIVER]
    assert deliver[0].make == (("tools",), ("build", "publish", "bundle"))
    assert [(s.environment, s.approval) for s in deliver[1:]] == [
        ("dev", False),
        ("staging", False),
        ("prod", True),
    ]
    assert deliver[-1].make[-1] == ("bake", "ENV=prod")
    assert [s.make[-1] for s in by_trigger[SCHEDULE]] == [
        ("infra-drift", f"ENV={e}") for e in ("dev", "staging", "prod")
    ]
    for step in steps:
        assert all(line.startswith("uses: ") for line in step.other), step


def _write(tmp_path: Path, text: str) -> Path:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "w.yml").write_text(text)
    return tmp_path


def test_jobs_come_in_the_order_of_needs_not_of_the_file(
    tmp_path: Path, spec: dict[str, Any]
) -> None:
    repo = _write(
        tmp_path,
        """
on: {push: {branches: [main]}}
jobs:
  last: {needs: [middle], runs-on: x, steps: [{run: make bake ENV=prod}]}
  middle: {needs: first, runs-on: x, environment: prod, steps: [{run: "make execute ENV=prod STAGE=apply\\necho hi"}]}
  first: {runs-on: x, steps: [{uses: actions/checkout@abc}, {run: make build}]}
""",
    )
    steps = read(repo, spec)
    assert [s.name for s in steps] == ["first", "middle", "last"]
    assert steps[0].other == ("uses: actions/checkout@abc",)
    assert steps[1].trigger == DELIVER and steps[1].approval and steps[1].environment == "prod"
    assert steps[1].other == ("echo hi",)
    assert not steps[2].approval, "approval belongs to the job in the GitHub environment"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("on: pull_request_target\njobs: {a: {steps: []}}", "pull_request_target"),
        ("on: {push: {branches: [dev]}}\njobs: {a: {steps: []}}", "not the deploy branch"),
        (
            "on: {pull_request: {}}\njobs: {a: {needs: b, steps: []}, b: {needs: a, steps: []}}",
            "cycle",
        ),
        ("on: {pull_request: {}}\njobs: {a: {needs: c, steps: []}}", "unknown jobs"),
        ("on: workflow_dispatch\njobs: {a: {steps: []}}", "no pull_request, push or schedule"),
        (
            "on: {pull_request: {}}\njobs: {a: {steps: [{run: make plan ENV=dev}, {run: make plan ENV=prod}]}}",
            "several ENV",
        ),
    ],
)
def test_what_the_reader_refuses(
    tmp_path: Path, spec: dict[str, Any], text: str, message: str
) -> None:
    with pytest.raises(WorkflowError, match=message):
        read(_write(tmp_path, text), spec)


def test_environment_names_never_collide_with_job_names(tmp_path: Path) -> None:
    """Environments named like the fixed jobs (publish, comment, summary) get jobs of their
    own: every job id of every workflow is unique (YAML would silently keep the last)."""
    from support.tools import tool_venv_bin

    spec = tmp_path / "platform.yaml"
    spec.write_text(
        "apiVersion: platformgen/v1\n"
        "project: {name: jobs, organisation: org, domain: jobs.example.com, region: eu-west-1}\n"
        "environments:\n"
        "  publish: {tier: development, account: '123456789012', vpcCidr: 10.0.0.0/16}\n"
        "  comment: {tier: staging, account: '223456789012', vpcCidr: 10.1.0.0/16}\n"
        "  summary: {tier: production, account: '323456789012', vpcCidr: 10.2.0.0/16}\n"
        "apps:\n  - {name: worker, kind: worker}\n"
        "pipelines: {providers: [github]}\n"
    )
    repo = tmp_path / "repo"
    new(spec, repo)
    for path in sorted((repo / ".github" / "workflows").glob("*.yml")):
        ids = re.findall(r"^  ([a-z0-9-]+):$", path.read_text().split("\njobs:\n", 1)[1], re.M)
        assert len(ids) == len(set(ids)), f"{path.name}: {ids}"
    proc = subprocess.run(
        [str(tool_venv_bin("ci-files", "actionlint")), "-shellcheck="],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    resolved = load_spec(spec).resolved
    assert resolved is not None
    deliver = [s for s in read(repo, resolved) if s.trigger == DELIVER]
    assert [s.environment for s in deliver] == [None, "publish", "comment", "summary"]


def test_github_checks_drift_when_codepipeline_delivers_from_github(tmp_path: Path) -> None:
    """CodePipeline cannot assume the plan roles, so GitHub, the repository's host, runs the
    daily drift check (and nothing else but the pull-request checks); the protected plan of
    production is reached only from its prod-plan environment. Before, drift.yml rendered
    only when GitHub delivered: nothing checked drift."""
    spec = tmp_path / "platform.yaml"
    spec.write_text(
        "apiVersion: platformgen/v1\n"
        "project: {name: jobs, organisation: org, domain: jobs.example.com, region: eu-west-1}\n"
        "environments:\n"
        "  dev: {tier: development, account: '123456789012', vpcCidr: 10.0.0.0/16}\n"
        "  prod: {tier: production, account: '323456789012', vpcCidr: 10.2.0.0/16}\n"
        "apps:\n  - {name: worker, kind: worker}\n"
        "pipelines: {providers: [codepipeline, github], repositoryHost: github}\n"
    )
    repo = tmp_path / "repo"
    new(spec, repo)
    resolved = load_spec(spec).resolved
    assert resolved is not None and resolved["pipelines"]["deliver"] == "codepipeline"
    workflows = sorted(p.name for p in (repo / ".github" / "workflows").glob("*.yml"))
    assert workflows == ["drift.yml", "pull-request.yml"]
    steps = read(repo, resolved)
    assert not [s for s in steps if s.trigger == DELIVER]
    drift = [s for s in steps if s.trigger == SCHEDULE]
    assert [(s.environment, s.make[-1]) for s in drift] == [
        ("dev", ("infra-drift", "ENV=dev")),
        ("prod", ("infra-drift", "ENV=prod")),
    ]
    text = (repo / ".github" / "workflows" / "drift.yml").read_text()
    jobs = yaml.safe_load(text)["jobs"]
    assert {j: job.get("environment") for j, job in jobs.items()} == {
        "drift-dev": None,
        "drift-prod": "prod-plan",
    }
    assert "role/jobs-prod-plan" in text and "-ci" not in text and "publish" not in text
    assert "GitHub runs it because codepipeline, which delivers, cannot" in text


@pytest.mark.parametrize(
    ("version", "image"),
    [
        ("8.0", "docker.io/library/mysql:8.0@sha256:e161b1be"),
        ("8.0.42", "docker.io/library/mysql:8.0@sha256:e161b1be"),  # an older spec's full version
        ("8.4", "docker.io/library/mysql:8.4@sha256:85b9bf2e"),
    ],
)
def test_the_mysql_service_image_follows_the_database_version(version: str, image: str) -> None:
    """Every version the schema admits has an image pinned by digest in the versions file."""
    import jinja2
    from conftest import ROOT

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ROOT)), undefined=jinja2.StrictUndefined
    )
    template = env.from_string(
        '{% from "templates/_shared/ci_versions.jinja" import mysql_image %}{{ mysql_image(v) }}'
    )
    rendered = template.render(v=version)
    assert rendered.startswith(image) and re.fullmatch(
        r"docker\.io/library/mysql:[\d.]+@sha256:[0-9a-f]{64}", rendered
    )


def test_every_major_minor_the_schema_admits_has_an_image() -> None:
    import json

    import jinja2
    from conftest import ROOT

    schema = json.loads((ROOT / "schema" / "platform.v1.schema.json").read_text())
    pattern = schema["properties"]["database"]["properties"]["version"]["pattern"]
    admitted = [
        f"{a}.{b}" for a in range(5, 12) for b in range(10) if re.match(pattern, f"{a}.{b}")
    ]
    assert admitted, pattern
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ROOT)), undefined=jinja2.StrictUndefined
    )
    template = env.from_string(
        '{% from "templates/_shared/ci_versions.jinja" import mysql_image %}{{ mysql_image(v) }}'
    )
    for version in admitted:
        assert template.render(v=version).startswith(
            f"docker.io/library/mysql:{version}@sha256:"
        ), version
