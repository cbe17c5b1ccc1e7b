"""bitbucket-pipelines.yml (pipelines area), on every spec of the matrix that lists Bitbucket:
Bitbucket's own schema (check-jsonschema's vendor.bitbucket-pipelines), checkov's
bitbucket_pipelines framework with no failed check (each skip with a written reason),
yamllint, and the steps against the spec: the plan, publisher and CI roles of roles.tf and
the artifacts module, the deployment environments they trust, promotion order and approvals.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from support.pipelines import DELIVER, PULL_REQUEST, SCHEDULE, Step
from support.pipelines import bitbucket as reader
from support.pipelines.drift import drift_system
from support.tools import CHECKOV_ARGS, CHECKOV_ENV, tool_venv_bin

from . import RenderedRepo, nonempty, validator

FILE = "bitbucket-pipelines.yml"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
SKIP_COMMENT = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(:?)(.*)")
# yamllint's default rules. The longest line a spec can make is a role-assuming script line
# (a 22-character project, 10-character environment names): about 135 characters.
YAMLLINT_CONFIG = "{extends: default, rules: {line-length: {max: 140}}}"


def _lists_bitbucket(spec: dict[str, Any]) -> bool:
    return "bitbucket" in spec["pipelines"]["providers"]


def _file(repo: RenderedRepo) -> Path:
    path = repo.root / FILE
    assert path.is_file(), f"{FILE} is not rendered though pipelines.providers lists bitbucket"
    return path


@validator("pipelines", when=lambda spec: not _lists_bitbucket(spec))
def no_bitbucket_pipelines_unless_listed(repo: RenderedRepo) -> None:
    """A spec without bitbucket in pipelines.providers gets no bitbucket-pipelines.yml."""
    assert not (repo.root / FILE).exists(), (
        f"{FILE} is rendered, but pipelines.providers has no bitbucket"
    )


@validator("pipelines", when=_lists_bitbucket)
def bitbucket_pipelines_match_bitbuckets_schema(repo: RenderedRepo) -> None:
    proc = subprocess.run(
        [
            str(tool_venv_bin("ci-files", "check-jsonschema")),
            "--builtin-schema",
            "vendor.bitbucket-pipelines",
            str(_file(repo)),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, f"{FILE} fails Bitbucket's schema:\n{proc.stdout}{proc.stderr}"


@validator("pipelines", when=_lists_bitbucket)
def bitbucket_pipelines_pass_yamllint(repo: RenderedRepo) -> None:
    proc = subprocess.run(
        [
            str(tool_venv_bin("ci-files", "yamllint")),
            "--strict",
            "-d",
            YAMLLINT_CONFIG,
            str(_file(repo)),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, f"yamllint {FILE}:\n{proc.stdout}{proc.stderr}"


@validator("pipelines", when=_lists_bitbucket)
def bitbucket_pipelines_checkov_finds_nothing(repo: RenderedRepo) -> None:
    path = _file(repo)
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = SKIP_COMMENT.search(line)
        if match:
            assert match[2] == ":" and len(match[3].strip()) >= 20, (
                f"{FILE}:{number}: checkov skip {match[1]} needs a written reason"
            )
    proc = subprocess.run(
        [
            str(tool_venv_bin("checkov")),
            "-f",
            str(path),
            "--framework",
            "bitbucket_pipelines",
            "-o",
            "json",
            *(a for a in CHECKOV_ARGS if a != "--quiet"),
        ],
        capture_output=True,
        text=True,
        env={**CHECKOV_ENV, "PATH": "/usr/bin:/bin", "HOME": str(path.parent)},
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(
            f"checkov gave no JSON (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
        ) from None
    reports = report if isinstance(report, list) else [report]
    ran = [r for r in reports if r.get("check_type") == "bitbucket_pipelines"]
    assert ran, f"checkov ran no bitbucket_pipelines check on {FILE}: {proc.stdout[:500]}"
    results = [r["results"] for r in ran]
    failed = [
        f"{c['check_id']} {c['resource']}" for res in results for c in res.get("failed_checks", [])
    ]
    assert not failed, f"checkov bitbucket_pipelines failed: {failed}"
    passed = sum(len(res.get("passed_checks", [])) for res in results)
    assert passed > 0, "checkov passed no check: it did not read the file"


@validator("pipelines", when=_lists_bitbucket)
def bitbucket_images_are_pinned_by_digest(repo: RenderedRepo) -> None:
    data = yaml.safe_load(_file(repo).read_text())
    image = data["image"]["name"] if isinstance(data["image"], dict) else data["image"]
    assert DIGEST.search(image), f"{FILE}: the step image {image!r} is not pinned by digest"
    services = data.get("definitions", {}).get("services", {})
    for name, service in services.items():
        assert DIGEST.search(service["image"]), f"{FILE}: service {name} is not pinned by digest"
    assert not any("image" in body for _, _, body, _ in reader.raw_steps(repo.root, repo.spec)), (
        f"{FILE}: a step overrides the pinned step image"
    )
    if "database" in repo.spec:
        version = ".".join(str(repo.spec["database"]["version"]).split(".")[:2])
        tags = {s["image"].split("@")[0] for s in services.values()}
        assert tags and all(
            t.removeprefix("docker.io/library/").startswith(f"mysql:{version}") for t in tags
        ), f"{FILE}: the test databases {sorted(tags)} are not MySQL {version} (database.version)"
        # One server, for the services' tests: the database kit's tests run in platformgen.
        assert len(services) == 1, f"{FILE}: services {sorted(services)}: make test needs one MySQL"
        assert "DBKIT_TEST" not in _file(repo).read_text()


def _protected(spec: dict[str, Any], env: str) -> bool:
    e = spec["environments"][env]
    replicas = "database" in spec and e.get("database", {}).get("readReplicas", 0) > 0
    return e["tier"] == "production" or replicas


def _role(step: Step) -> str | None:
    roles = [
        a.split("=", 1)[1]
        for argv in step.make
        if argv[0] == "ci-assume-role"
        for a in argv
        if a.startswith("ROLE_ARN=")
    ]
    assert len(roles) <= 1, f"{step.source}: assumes several roles"
    return roles[0] if roles else None


@validator("pipelines", when=_lists_bitbucket)
def bitbucket_steps_follow_the_spec(repo: RenderedRepo) -> None:
    """Each step runs only make targets, under the role and in the deployment environment the
    bootstrap's trust policies name, in promotion order, with approvals where the spec says."""
    spec, p = repo.spec, repo.spec["project"]["name"]
    envs = [e for e in spec["promotion"] if e in spec["environments"]]
    account = {e: spec["environments"][e]["account"] for e in envs}
    read = reader.deployments(repo.root, spec)
    for step, _deployment, oidc in read:
        assert not step.other, f"{step.source}: runs {step.other!r}; every line must be a make run"
        role = _role(step)
        assert oidc == (role is not None), f"{step.source}: oidc: {oidc} but assumes {role}"
    by = {
        t: [(s, d) for s, d, _ in read if s.trigger == t] for t in (PULL_REQUEST, DELIVER, SCHEDULE)
    }

    pr_targets = [t for s, _ in by[PULL_REQUEST] for t in s.targets()]
    for target in ("lint", "test", "build", "platform-check"):
        assert target in pr_targets, f"{FILE}: the pull-request pipeline does not run make {target}"
    plans = [(s, d) for s, d in by[PULL_REQUEST] if "plan" in s.targets()]
    assert sorted(s.environment for s, _ in plans) == sorted(envs), (
        f"{FILE}: not one plan per environment"
    )
    for step, deployment in plans:
        env = step.environment
        assert _role(step) == f"arn:aws:iam::{account[env]}:role/{p}-{env}-plan", step.source
        protected = _protected(spec, env)
        assert deployment == (f"{env}-plan" if protected else None), (
            f"{step.source}: runs in deployment {deployment}; the {env} plan role trusts "
            + (f"only the {env}-plan deployment environment" if protected else "every step")
        )
        assert step.approval == protected, f"{step.source}: a protected plan is run by a person"

    delivers = spec["pipelines"].get("deliver") == "bitbucket"
    if not delivers:
        assert not by[DELIVER], f"{FILE}: Bitbucket does not deliver, yet deploys"
    deliver = by[DELIVER] if delivers else []
    publish = [(s, d) for s, d in deliver if "publish" in s.targets()]
    assert len(publish) == (1 if delivers else 0), f"{FILE}: publishes {len(publish)} times"
    for step, deployment in publish:
        assert step.targets()[-3:] == ["build", "publish", "bundle"], step.source
        artifacts = spec.get("artifacts", {}).get("account")
        assert _role(step) == f"arn:aws:iam::{artifacts}:role/{p}-publish", step.source
        assert deployment == envs[0], (
            f"{step.source}: the publisher trusts only {envs[0]}'s deployment environment"
        )
    order = []
    for step, deployment in deliver:
        for argv in step.make:
            if argv[0] in ("execute", "bake"):
                env = step.environment
                stage = next((a for a in argv if a.startswith("STAGE=")), "bake")
                order.append((env, stage.removeprefix("STAGE=")))
                assert _role(step) == f"arn:aws:iam::{account[env]}:role/{p}-{env}-ci", step.source
                assert deployment == env, (
                    f"{step.source}: the {env} CI role trusts only the {env} deployment"
                )
                approval = spec["environments"][env]["approval"]
                assert step.approval == approval, (
                    f"{step.source}: approval {step.approval}, spec says {approval}"
                )
                if stage == "STAGE=deploy":
                    assert "RELEASE=$BITBUCKET_COMMIT" in argv, (
                        f"{step.source}: deploys no pinned release"
                    )
    expected = [(e, s) for e in envs for s in ("apply", "deploy", "bake")] if delivers else []
    assert order == expected, f"{FILE}: deliver runs {order}, promotion order is {expected}"
    if delivers:
        first = next(i for i, (s, _) in enumerate(deliver) if "publish" in s.targets())
        before = {t for s, _ in deliver[:first] for t in s.targets()}
        assert {"lint", "test"} <= before, (
            f"{FILE}: the merge commit is not linted and tested before publishing"
        )
    # The drift check runs here when Bitbucket delivers, or when CodePipeline delivers and
    # Bitbucket is the repository's host (templates/_shared/delivery.jinja, drift_system).
    if drift_system(spec) == "bitbucket":
        drift = nonempty(
            [(s, d) for s, d in by[SCHEDULE] if "infra-drift" in s.targets()], "drift step"
        )
        assert [s.environment for s, _ in drift] == envs, f"{FILE}: drift does not cover {envs}"
        for step, deployment in drift:
            env = step.environment
            assert _role(step) == f"arn:aws:iam::{account[env]}:role/{p}-{env}-plan", step.source
            assert deployment == (f"{env}-plan" if _protected(spec, env) else None), step.source
    else:
        assert not by[SCHEDULE], f"{FILE}: a schedule, but {drift_system(spec)} checks drift"
