"""Bitbucket Pipelines: the reader (tests/support/pipelines/bitbucket.py) on the reference and
on a repository Bitbucket delivers (tests/specs/small.yaml); the structural validator
(tests/validators/pipelines_bitbucket.py) shown to fail on each kind of broken file; and the
make targets the steps rely on, run for real: `make ci-assume-role` writes the step's OIDC
token and an AWS profile that the next make run's AWS CLI uses to assume the role (against a
moto server's STS), and `make ci-wait-ports` waits for the service containers' ports."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REFERENCE_DIR, REFERENCE_SPEC, SPECS
from support.moto import MotoServer, moto_server
from support.pipelines import DELIVER, PULL_REQUEST, SCHEDULE, bitbucket
from support.requirements import normalise, read_pins
from support.tools import tool_venv_bin
from validators import RenderedRepo
from validators.pipelines_bitbucket import bitbucket_steps_follow_the_spec

from generator.engine.operations import new
from generator.spec import area_rules, load_spec, load_spec_text

ROOT = Path(__file__).resolve().parents[1]
SMALL = SPECS / "small.yaml"
ROLE = "arn:aws:iam::123456789012:role/tiny-dev-plan"


def _spec(path: Path) -> dict[str, Any]:
    resolved = load_spec(path).resolved
    assert resolved is not None
    return resolved


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bitbucket") / "repo"
    new(SMALL, root)
    return root


def test_reader_on_the_reference() -> None:
    """GitHub delivers the reference: Bitbucket runs the pull-request checks and plans only,
    the protected prod plan last, by a person, in the prod-plan deployment environment."""
    steps = bitbucket.read(REFERENCE_DIR / "repo", _spec(REFERENCE_SPEC))
    assert {s.trigger for s in steps} == {PULL_REQUEST}
    assert [s.name for s in steps] == [
        "Lint", "Test", "Build", "Platform check", "Plan dev", "Plan staging", "Plan prod",
    ]  # fmt: skip
    plans = {s.environment: s for s in steps if "plan" in s.targets()}
    assert [plans[e].approval for e in ("dev", "staging", "prod")] == [False, False, True]
    assert plans["prod"].make[-1] == ("plan", "ENV=prod")
    assert all(not s.other for s in steps)


def test_reader_on_a_delivering_repository(small: Path) -> None:
    steps = bitbucket.read(small, _spec(SMALL))
    deliver = [s for s in steps if s.trigger == DELIVER]
    assert [s.name for s in deliver] == [
        "Lint", "Test", "Build, publish, bundle", "Apply dev", "Deploy dev", "Bake dev",
    ]  # fmt: skip
    assert deliver[2].targets() == ["tools", "ci-assume-role", "build", "publish", "bundle"]
    assert deliver[4].make[-1] == (
        "execute",
        "ENV=dev",
        "STAGE=deploy",
        "RELEASE=$BITBUCKET_COMMIT",
    )
    assert [s.environment for s in deliver[3:]] == ["dev"] * 3
    assert not any(s.approval for s in steps)
    assert [s.targets()[-1] for s in steps if s.trigger == SCHEDULE] == ["infra-drift"]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "pipelines:\n  default: [{step: {script: [make lint]}}]\n",
            "unexpected section pipelines.default",
        ),
        (
            "pipelines:\n  branches: {develop: [{step: {script: [make lint]}}]}\n",
            "pipelines.branches has",
        ),
        (
            "pipelines:\n  pull-requests:\n    '**': [{step: {script: [{pipe: atlassian/x:1.0}]}}]\n",
            "runs a pipe",
        ),
        ("pipelines:\n  pull-requests:\n    '**': [{step: {name: x}}]\n", "without a script"),
        (
            "pipelines:\n  pull-requests:\n    '**': [{step: {script: ['make plan ENV=a', 'make plan ENV=b']}}]\n",
            "several environments",
        ),
    ],
)
def test_reader_refuses_what_it_cannot_read(tmp_path: Path, text: str, error: str) -> None:
    (tmp_path / bitbucket.FILE).write_text(text)
    with pytest.raises(bitbucket.BitbucketReadError, match=error):
        bitbucket.read(tmp_path, {"pipelines": {"branch": "main"}})


def _stage(data: dict[str, Any]) -> dict[str, Any]:
    return next(i["stage"] for i in data["pipelines"]["branches"]["main"] if "stage" in i)


def _pr_plan(data: dict[str, Any]) -> dict[str, Any]:
    members = data["pipelines"]["pull-requests"]["**"][0]["parallel"]["steps"]
    return next(m["step"] for m in members if m["step"]["name"] == "Plan dev")


BREAKAGES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "deploys from another deployment environment": (
        lambda d: _stage(d).update(deployment="staging"),
        "trusts only",
    ),
    "an approval the spec does not ask for": (
        lambda d: _stage(d).update(trigger="manual"),
        "approval True, spec says False",
    ),
    "an inline script line": (
        lambda d: _stage(d)["steps"][1]["step"]["script"].append("aws sts get-caller-identity"),
        "every line must be a make run",
    ),
    "the wrong publisher": (
        lambda d: _stage(d)["steps"][0]["step"]["script"].__setitem__(
            1, "make ci-assume-role ROLE_ARN=arn:aws:iam::123456789012:role/tiny-dev-ci"
        ),
        "Build, publish, bundle",
    ),
    "a plan step without oidc": (lambda d: _pr_plan(d).pop("oidc"), "oidc: False"),
    "a plan under another role": (
        lambda d: _pr_plan(d)["script"].__setitem__(
            1, "make ci-assume-role ENV=dev ROLE_ARN=arn:aws:iam::123456789012:role/tiny-dev-ci"
        ),
        "Plan dev",
    ),
    "a missing bake": (lambda d: _stage(d)["steps"].pop(), "deliver runs"),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_the_structural_validator_fails_on_a_broken_file(
    small: Path, tmp_path: Path, breakage: str
) -> None:
    mutate, message = BREAKAGES[breakage]
    repo = RenderedRepo("small", SMALL, tmp_path, _spec(SMALL))
    data = yaml.safe_load((small / bitbucket.FILE).read_text())
    (tmp_path / bitbucket.FILE).write_text(yaml.safe_dump(data, sort_keys=False))
    bitbucket_steps_follow_the_spec(repo)  # the unbroken file passes
    mutate(data)
    (tmp_path / bitbucket.FILE).write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(AssertionError, match=message):
        bitbucket_steps_follow_the_spec(repo)


# --- the make targets the steps run ---------------------------------------------------------


@pytest.fixture
def ci_repo(small: Path, tmp_path: Path) -> Path:
    """A copy of the small repository (make ci-assume-role writes build/ci/)."""
    root = tmp_path / "repo"
    shutil.copytree(small, root, symlinks=True)
    return root


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log", "123456789012") as server:
        yield server


def _make(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "HOME": str(root.parent)}
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=root,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ci_assume_role_needs_the_oidc_token(ci_repo: Path) -> None:
    proc = _make(ci_repo, "ci-assume-role", "ENV=dev", f"ROLE_ARN={ROLE}")
    assert proc.returncode != 0 and "BITBUCKET_STEP_OIDC_TOKEN" in proc.stderr
    assert not (ci_repo / "build" / "ci" / "aws").exists()
    proc = _make(
        ci_repo,
        "ci-assume-role",
        "ENV=dev",
        "ROLE_ARN=tiny-dev-plan",
        BITBUCKET_STEP_OIDC_TOKEN="t",
    )
    assert proc.returncode != 0 and "is not an IAM role ARN" in proc.stderr


def test_later_make_runs_assume_the_role_with_the_token(ci_repo: Path, moto: MotoServer) -> None:
    """The AWS CLI of a later make run (no AWS variable set) calls
    AssumeRoleWithWebIdentity with the token file and the role of the profile."""
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ7cmVwb30ifQ.c2ln"
    proc = _make(
        ci_repo, "ci-assume-role", "ENV=dev", f"ROLE_ARN={ROLE}",
        BITBUCKET_STEP_OIDC_TOKEN=token, BITBUCKET_BUILD_NUMBER="42",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    aws_dir = ci_repo / "build" / "ci" / "aws"
    assert (aws_dir / "token").read_text() == token
    assert oct((aws_dir / "token").stat().st_mode & 0o777) == "0o600"
    config = (aws_dir / "config").read_text()
    assert f"role_arn = {ROLE}\n" in config and "region = eu-west-1\n" in config
    assert "role_session_name = bitbucket-42\n" in config
    aws = tool_venv_bin("awscli", "aws")
    proc = _make(
        ci_repo,
        "--eval",
        "whoami: ; $(AWS) sts get-caller-identity --query Arn --output text",
        "whoami",
        PATH=f"{aws.parent}:/usr/bin:/bin",
        AWS_ENDPOINT_URL=moto.endpoint,
        AWS_CA_BUNDLE=str(moto.ca_bundle),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith(":assumed-role/tiny-dev-plan/bitbucket-42"), proc.stdout


def test_ci_wait_ports(ci_repo: Path) -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        proc = _make(ci_repo, "ci-wait-ports", f"PORTS={port}")
        assert proc.returncode == 0, proc.stderr
    proc = _make(ci_repo, "ci-wait-ports", f"PORTS={port}", WAIT_SECONDS="2")
    assert proc.returncode != 0 and f"127.0.0.1:{port}" in proc.stderr


@pytest.mark.slow
def test_ci_tools_installs_the_hash_checked_aws_cli(ci_repo: Path) -> None:
    """The AWS CLI half of `make tools`, from PyPI (the other half, install-tools.sh,
    downloads from GitHub and HashiCorp, which this machine cannot reach; its verification
    has its own tests). A lock whose hash does not match the wheel installs nothing."""
    lock = ci_repo / "delivery" / "ci-requirements.lock"
    good = lock.read_text()
    first = good.index("--hash=sha256:") + len("--hash=sha256:")
    lock.write_text(good[:first] + ("0" if good[first] != "0" else "1") + good[first + 1 :])
    env = {
        **os.environ,
        "CI_DIR": str(ci_repo / "build" / "ci"),
        "TOOLS_BIN_DIR": str(ci_repo / "bin"),
    }
    run = ["bash", "delivery/ci.sh", "tools"]
    proc = subprocess.run(run, cwd=ci_repo, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and "hash" in proc.stderr.lower(), proc.stderr[-2000:]
    assert not (ci_repo / "bin" / "aws").exists()
    shutil.rmtree(ci_repo / "build" / "ci")
    lock.write_text(good)
    proc = subprocess.run(run, cwd=ci_repo, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("aws-cli/1.45.11 "), proc.stdout


TWO_ENVIRONMENTS = """\
apiVersion: platformgen/v1
project: {name: twostep, organisation: example-org, domain: twostep.example.com, region: eu-west-1}
environments:
  dev: {account: "123456789012", vpcCidr: 10.0.0.0/16, bakeMinutes: BAKE}
  prod: {account: "123456789013", vpcCidr: 10.1.0.0/16}
apps:
  - {name: api, kind: api}
database: {version: "8.4"}
backup: {account: "123456789014"}
pipelines:
  providers: [bitbucket]
  bitbucket:
    workspaceUuid: "{5a1c9e3d-2b4f-4c6a-8d7e-1f0a9b8c7d6e}"
    repositoryUuid: "{9e8d7c6b-5a4f-4e3d-b2c1-0a9f8e7d6c5b}"
    deployEnvironments:
      dev: "{1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e}"
      prod: "{1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5f}"
    planEnvironments:
      prod: "{2b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5f}"
"""


def test_promotion_order_and_approvals_are_the_specs(tmp_path: Path) -> None:
    """Two environments, prod approved by a person: its stage is manual, dev's is not; its
    plan and drift run in prod-plan. Swapping the stages or dropping the approval fails."""
    spec_path = tmp_path / "platform.yaml"
    spec_path.write_text(TWO_ENVIRONMENTS.replace("BAKE", str(area_rules.BITBUCKET_BAKE_MAX)))
    root = tmp_path / "repo"
    new(spec_path, root)
    spec = _spec(spec_path)
    repo = RenderedRepo("two", spec_path, root, spec)
    bitbucket_steps_follow_the_spec(repo)
    deliver = [s for s in bitbucket.read(root, spec) if s.trigger == DELIVER and s.environment]
    assert [(s.environment, s.approval) for s in deliver] == [("dev", False)] * 3 + [
        ("prod", True)
    ] * 3
    where = {s.name: d for s, d, _ in bitbucket.deployments(root, spec)}
    assert where["Plan prod"] == where["Drift prod"] == "prod-plan" and where["Plan dev"] is None

    data = yaml.safe_load((root / bitbucket.FILE).read_text())
    items = data["pipelines"]["branches"]["main"]
    stages = [i for i in items if "stage" in i]
    swapped = [i for i in items if "stage" not in i] + stages[::-1]
    for broken, message in [
        (swapped, "promotion order|trusts only"),
        (None, "approval False, spec says True"),
    ]:
        copy = yaml.safe_load(yaml.safe_dump(data))
        if broken is None:
            next(
                i["stage"]
                for i in copy["pipelines"]["branches"]["main"]
                if i.get("stage", {}).get("deployment") == "prod"
            ).pop("trigger")
        else:
            copy["pipelines"]["branches"]["main"] = broken
        (root / bitbucket.FILE).write_text(yaml.safe_dump(copy, sort_keys=False))
        with pytest.raises(AssertionError, match=message):
            bitbucket_steps_follow_the_spec(repo)


def test_bitbucket_checks_drift_when_codepipeline_delivers_from_bitbucket(tmp_path: Path) -> None:
    """CodePipeline delivers from a Bitbucket repository (GitHub also listed, as in
    tests/specs/large.yaml): CodePipeline cannot assume the plan roles, so Bitbucket, the
    host, runs the `drift` custom pipeline under the plan roles (prod's in prod-plan), and
    nothing else on a schedule; GitHub renders no drift.yml. Without the custom pipeline the
    validator fails (before, it rendered only when Bitbucket delivered)."""
    spec_path = tmp_path / "platform.yaml"
    spec_path.write_text(
        TWO_ENVIRONMENTS.replace("BAKE", "30")
        .replace("providers: [bitbucket]", "providers: [codepipeline, github, bitbucket]")
        .replace("  bitbucket:\n", "  repositoryHost: bitbucket\n  bitbucket:\n", 1)
    )
    root = tmp_path / "repo"
    new(spec_path, root)
    spec = _spec(spec_path)
    assert spec["pipelines"]["deliver"] == "codepipeline"
    repo = RenderedRepo("codepipeline-bitbucket", spec_path, root, spec)
    bitbucket_steps_follow_the_spec(repo)
    steps = bitbucket.read(root, spec)
    assert not [s for s in steps if s.trigger == DELIVER]
    assert [(s.environment, s.make[-1]) for s in steps if s.trigger == SCHEDULE] == [
        ("dev", ("infra-drift", "ENV=dev")),
        ("prod", ("infra-drift", "ENV=prod")),
    ]
    where = {s.name: d for s, d, _ in bitbucket.deployments(root, spec)}
    assert where["Drift prod"] == "prod-plan" and where["Drift dev"] is None
    assert not (root / ".github" / "workflows" / "drift.yml").exists()

    data = yaml.safe_load((root / bitbucket.FILE).read_text())
    del data["pipelines"]["custom"]
    (root / bitbucket.FILE).write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(pytest.fail.Exception, match="no drift step"):
        bitbucket_steps_follow_the_spec(repo)


def test_the_ci_aws_cli_lock_is_the_tested_aws_cli() -> None:
    """delivery/ci-requirements.lock pins exactly, with hashes, the AWS CLI version set that
    platformgen's own delivery tests run (tools/awscli.txt), and ci.sh installs it in
    hash-checking mode, wheels only."""
    delivery = ROOT / "templates" / "repo" / "delivery"
    pins = read_pins(delivery / "ci-requirements.lock")
    tested = {
        normalise(name): version
        for name, version in (
            line.split("==") for line in (ROOT / "tools" / "awscli.txt").read_text().splitlines()
            if line and not line.startswith("#")
        )
    }  # fmt: skip
    assert {name: pin.version for name, pin in pins.items()} == tested
    script = (delivery / "ci.sh").read_text()
    (install,) = re.findall(r"pip\" install(?:[^\n\\]|\\\n)*", script)
    assert (
        "--require-hashes" in install
        and "--only-binary :all:" in install
        and "--no-deps" in install
    )


def test_step_times_are_the_executors_and_the_bake_rule(tmp_path: Path) -> None:
    """The apply and deploy steps outlast the executors' build timeouts (modules/executors)
    by the step's setup, the longest bake the rule admits fills a step to Bitbucket's limit,
    and one minute more is refused."""
    executors = (
        ROOT / "templates" / "terraform" / "infra" / "modules" / "executors" / "variables.tf"
    ).read_text()
    timeouts = {
        name: int(value)
        for name, value in re.findall(
            r'variable "(\w+)_timeout_minutes" \{.*?default\s*=\s*(\d+)', executors, re.DOTALL
        )
    }
    assert set(timeouts) == {"apply", "deploy"}
    spec_path = tmp_path / "platform.yaml"
    spec_path.write_text(TWO_ENVIRONMENTS.replace("BAKE", str(area_rules.BITBUCKET_BAKE_MAX)))
    new(spec_path, tmp_path / "repo")
    steps = {
        body["name"]: body
        for _, _, body, _ in bitbucket.raw_steps(tmp_path / "repo", _spec(spec_path))
    }
    setup = area_rules.BITBUCKET_STEP_SETUP_MINUTES
    for env in ("dev", "prod"):
        assert steps[f"Apply {env}"]["max-time"] == timeouts["apply"] + setup
        assert steps[f"Deploy {env}"]["max-time"] == timeouts["deploy"] + setup
    assert steps["Bake dev"]["max-time"] == area_rules.BITBUCKET_STEP_MAX_MINUTES
    over = TWO_ENVIRONMENTS.replace("BAKE", str(area_rules.BITBUCKET_BAKE_MAX + 1))
    assert [d.code for d in load_spec_text(over).errors] == ["area.bitbucket-bake-too-long"]
