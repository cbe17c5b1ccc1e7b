"""The generated repository's delivery targets, run for real with the AWS CLI against a
moto server: `make publish` of a static web app and `make bundle` write each object once
(a second, different upload of a commit is refused), `make deploy RELEASE=<sha>` reads the
digests from the release manifest and deploys the static app (S3 sync, CloudFront
invalidation, refused when its files changed after the release), `make execute` starts the
environment's executor, and `make bake` fails on its environment's alarms only.

cosign, syft, docker and helm cannot run here: tests/test_signing_chain.py proves the
signing chain with skopeo, and tests/validators/helm.py the deploy's refusals."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import REFERENCE_SPEC, git
from support.moto import MotoServer, moto_server
from support.tools import tool_venv_bin

from generator.engine.operations import new

pytestmark = pytest.mark.slow

ACCOUNT = "333333333333"  # the reference's artifacts account (its production account)
REGION = "ap-southeast-2"
BUCKET = f"getprospa-artifacts-{ACCOUNT}"
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log", ACCOUNT) as server:
        yield server


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("delivery") / "repo"
    new(REFERENCE_SPEC, root)
    return root


def _env(moto: MotoServer) -> dict[str, str]:
    aws = tool_venv_bin("awscli", "aws")
    return {
        "PATH": f"{aws.parent}:{Path(shutil.which('terraform') or 'terraform').parent}:/usr/bin:/bin",
        "TF_CLI_CONFIG_FILE": "/dev/null",
        "HOME": os.environ.get("HOME", "/root"),
        "AWS_ENDPOINT_URL": moto.endpoint,
        "AWS_CA_BUNDLE": str(moto.ca_bundle),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }


def _run(cmd: list[str], cwd: Path, moto: MotoServer) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=_env(moto), capture_output=True, text=True, timeout=300)


def _aws(moto: MotoServer, *args: str, region: str = REGION) -> str:
    proc = _run([str(tool_venv_bin("awscli", "aws")), "--region", region, *args], Path("/"), moto)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _recording_aws(tmp_path: Path) -> tuple[Path, Path]:
    """An AWS CLI that records each call's arguments (make AWS=<it>), then runs the real one."""
    calls, wrapper = tmp_path / "aws-calls", tmp_path / "aws"
    wrapper.write_text(
        f'#!/bin/bash\nprintf "%s\\n" "$*" >> {calls}\nexec {tool_venv_bin("awscli", "aws")} "$@"\n'
    )
    wrapper.chmod(0o755)
    return wrapper, calls


def test_publish_and_bundle_write_each_commit_once_and_deploy_reads_the_release(
    repo: Path, moto: MotoServer, tmp_path: Path
) -> None:
    sha = git(repo, "rev-parse", "HEAD").strip()
    wrapper, calls = _recording_aws(tmp_path)
    _aws(moto, "s3api", "create-bucket", "--bucket", BUCKET,
         "--create-bucket-configuration", f"LocationConstraint={REGION}")  # fmt: skip
    dist = repo / "web" / "web" / "dist"
    dist.mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>getprospa</title>\n")
    (dist / "assets").mkdir()
    (dist / "assets" / "app.js").write_text("console.log('v1')\n")

    # The static app's build goes up once; the same files again are accepted, other files
    # for the same commit are refused.
    publish = _run(["make", f"AWS={wrapper}", "web-web-publish"], repo, moto)
    assert publish.returncode == 0, publish.stderr
    static = json.loads((repo / "build" / "delivery" / "static-web.json").read_text())
    assert static["source"] == f"s3://{BUCKET}/static/web/{sha}/"
    listed = _aws(moto, "s3", "ls", "--recursive", f"s3://{BUCKET}/static/web/{sha}/")
    assert "assets/app.js" in listed and "index.html" in listed
    again = _run(["make", f"AWS={wrapper}", "web-web-publish"], repo, moto)
    assert again.returncode == 0 and "published before with the same files" in again.stdout
    (dist / "assets" / "app.js").write_text("console.log('v2')\n")
    other = _run(["make", f"AWS={wrapper}", "web-web-publish"], repo, moto)
    assert other.returncode != 0 and "a commit is published once" in other.stderr, other.stderr
    (dist / "assets" / "app.js").write_text("console.log('v1')\n")

    # What delivery/publish-image.sh writes after cosign signed the pushed digest.
    image = {"repository": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/getprospa/api"}
    image |= {"digest": DIGEST, "tag": sha}
    (repo / "build" / "delivery" / "image-api.json").write_text(json.dumps(image))
    record = _run(["make", f"AWS={wrapper}", "delivery-record"], repo, moto)
    assert record.returncode == 0, record.stderr
    release = json.loads((repo / "build" / "release.json").read_text())
    assert release["commit"] == sha and release["images"]["api"]["digest"] == DIGEST
    assert release["static"]["web"]["sha256"] == static["sha256"]

    bundle = _run(["make", f"AWS={wrapper}", "bundle"], repo, moto)
    assert bundle.returncode == 0, bundle.stderr
    out = repo / "build" / "fetched.zip"
    _aws(moto, "s3", "cp", f"s3://{BUCKET}/source/{sha}.zip", str(out))
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
    assert {"Makefile", "platform.yaml", "delivery/platform.mk"} <= names
    assert not any(n.startswith("build/") for n in names), "the bundle is the commit only"
    again = _run(["make", f"AWS={wrapper}", "bundle"], repo, moto)
    assert again.returncode == 0 and "exists with the same content" in again.stdout, again.stderr
    changed = dict(
        release, images={"api": dict(release["images"]["api"], digest="sha256:" + "cd" * 32)}
    )
    (repo / "build" / "release.json").write_text(json.dumps(changed))
    refused = _run(["make", f"AWS={wrapper}", "bundle"], repo, moto)
    assert refused.returncode != 0 and "a commit is released once" in refused.stderr, (
        refused.stdout + refused.stderr
    )

    # The app-deploy executor's make deploy RELEASE=<sha>: the manifest is fetched and the
    # digest taken from it; the run then stops at the first tool missing here (helm).
    deploy = _run(["make", f"AWS={wrapper}", "deploy", "ENV=dev", f"RELEASE={sha}"], repo, moto)
    assert json.loads((repo / "build" / "releases" / f"{sha}.json").read_text()) == release
    assert "make deploy:" not in deploy.stderr and "helm 4 is required" in deploy.stderr, (
        deploy.stderr
    )
    missing = _run(
        ["make", f"AWS={wrapper}", "deploy", "ENV=dev", f"RELEASE={'f' * 40}"], repo, moto
    )
    assert missing.returncode != 0 and "helm" not in missing.stderr, missing.stderr

    # The static app's deploy: the release's files, checked against their tree digest, to
    # the bucket and distribution the environment root's static_sites output names (read
    # by terraform from a state file holding that output).
    site_bucket = "getprospa-dev-web-111111111111"
    _aws(moto, "s3api", "create-bucket", "--bucket", site_bucket,
         "--create-bucket-configuration", f"LocationConstraint={REGION}")  # fmt: skip
    (repo / "build" / "stale.js").write_text("console.log('v0')\n")
    _aws(moto, "s3", "cp", str(repo / "build" / "stale.js"), f"s3://{site_bucket}/stale.js")
    assert "stale.js" in _aws(moto, "s3", "ls", f"s3://{site_bucket}/")
    origin = f"{site_bucket}.s3.{REGION}.amazonaws.com"
    created = _aws(moto, "cloudfront", "create-distribution", "--origin-domain-name", origin)
    distribution = json.loads(created)["Distribution"]["Id"]
    state = repo.parent / "dev-state"
    state.mkdir()
    site = {"bucket": site_bucket, "path": "/", "distributionId": distribution}
    site_type = ["object", {"bucket": "string", "path": "string", "distributionId": "string"}]
    (state / "terraform.tfstate").write_text(json.dumps({
        "version": 4, "terraform_version": "1.11.4", "serial": 1,
        "lineage": "00000000-0000-0000-0000-000000000000", "resources": [],
        "outputs": {"static_sites": {"value": {"web": site}, "type": ["object", {"web": site_type}]}},
    }))  # fmt: skip
    web = ["make", "web-web-deploy", "ENV=dev", f"RELEASE={sha}", f"TERRAFORM_ENV_DIR={state}"]
    deployed = _run(web, repo, moto)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    keys = _aws(moto, "s3", "ls", "--recursive", f"s3://{site_bucket}/")
    assert "index.html" in keys and "assets/app.js" in keys and "stale.js" not in keys, keys
    invalidations = json.loads(_aws(moto, "cloudfront", "list-invalidations",
                                    "--distribution-id", distribution))  # fmt: skip
    assert len(invalidations["InvalidationList"]["Items"]) == 1, invalidations
    # Files changed in the artifact bucket after the release was recorded are refused.
    (repo / "build" / "evil.js").write_text("console.log('evil')\n")
    _aws(moto, "s3", "cp", str(repo / "build" / "evil.js"),
         f"s3://{BUCKET}/static/web/{sha}/assets/app.js")  # fmt: skip
    tampered = _run(web, repo, moto)
    assert tampered.returncode != 0 and "the release recorded" in tampered.stderr, (
        tampered.stdout + tampered.stderr
    )
    # The artifacts bucket is in the artifacts region, which need not be the caller's (an
    # environment in another region, a CI runner's default): every call on it names it.
    on_bucket = [c for c in calls.read_text().splitlines() if BUCKET in c]
    assert on_bucket and all(f"--region {REGION} " in c for c in on_bucket), on_bucket


def test_bake_fails_on_its_environments_alarms_only(repo: Path, moto: MotoServer) -> None:
    def alarm(name: str, region: str = REGION, state: str = "ALARM") -> None:
        _aws(moto, "cloudwatch", "put-metric-alarm", "--alarm-name", name,
             "--namespace", "AWS/ApplicationELB", "--metric-name", "HTTPCode_ELB_5XX_Count",
             "--statistic", "Sum", "--period", "60", "--evaluation-periods", "1",
             "--threshold", "1", "--comparison-operator", "GreaterThanOrEqualToThreshold",
             region=region)  # fmt: skip
        _aws(moto, "cloudwatch", "set-alarm-state", "--alarm-name", name,
             "--state-value", state, "--state-reason", "test", region=region)  # fmt: skip

    alarm("getprospa-dev-alb-5xx", state="OK")
    alarm("getprospa-staging-alb-5xx")  # another environment's alarm does not stop dev
    quiet = _run(["make", "bake", "ENV=dev", "BAKE_MINUTES_dev=0"], repo, moto)
    assert quiet.returncode == 0 and "no alarm" in quiet.stdout, quiet.stdout + quiet.stderr
    # dev bakes 15 minutes; an alarm in ALARM ends it at the first check.
    alarm("getprospa-dev-cdn-waf-blocked", region="us-east-1")
    edge = _run(["make", "bake", "ENV=dev"], repo, moto)
    assert edge.returncode != 0, edge.stdout
    assert "getprospa-dev-cdn-waf-blocked (us-east-1)" in edge.stderr, edge.stderr
    alarm("getprospa-dev-cdn-waf-blocked", region="us-east-1", state="OK")
    alarm("getprospa-dev-alb-5xx")
    firing = _run(["make", "bake", "ENV=dev"], repo, moto)
    assert firing.returncode != 0 and f"getprospa-dev-alb-5xx ({REGION})" in firing.stderr
    assert "staging" not in firing.stderr


def test_execute_starts_the_environments_executor_on_the_bundle(
    repo: Path, moto: MotoServer, tmp_path: Path
) -> None:
    """moto's CodeBuild ends every build SUCCEEDED at once, with no log stream: this shows
    the call and the exit status (moto records neither the source nor the variable
    overrides, and writes no log: the streaming is not exercised here). The AWS CLI is
    wrapped to record the start-build call: the commit goes as SOURCE_COMMIT, and no
    source override is sent (the CI role refuses every one; the project has no source)."""
    sha = git(repo, "rev-parse", "HEAD").strip()
    role = json.loads(_aws(moto, "iam", "create-role", "--role-name", "getprospa-dev-app-deploy",
                           "--assume-role-policy-document", "{}"))["Role"]["Arn"]  # fmt: skip
    # moto's CreateProject wants a source location even for NO_SOURCE (AWS does not).
    buildspec = (repo / "infra/modules/executors/buildspecs/deploy.yml").read_text()
    _aws(moto, "codebuild", "create-project", "--name", "getprospa-dev-deploy",
         "--source", json.dumps({"type": "NO_SOURCE", "buildspec": buildspec, "location": "-"}),
         "--artifacts", "type=NO_ARTIFACTS", "--service-role", role,
         "--environment", "type=LINUX_CONTAINER,image=aws/codebuild/standard:7.0,"
         "computeType=BUILD_GENERAL1_SMALL")  # fmt: skip
    wrapper, calls = _recording_aws(tmp_path)
    ran = _run(["make", "execute", "ENV=dev", "STAGE=deploy", f"IMAGE_DIGEST={DIGEST}",
                f"AWS={wrapper}"], repo, moto)  # fmt: skip
    assert ran.returncode == 0 and "getprospa-dev-deploy: " in ran.stdout, ran.stdout + ran.stderr
    (start,) = [c for c in calls.read_text().splitlines() if c.startswith("codebuild start-build")]
    assert f"name=SOURCE_COMMIT,value={sha},type=PLAINTEXT" in start, start
    assert f"name=RELEASE,value={sha},type=PLAINTEXT" in start, start
    assert f"name=IMAGE_DIGEST,value={DIGEST},type=PLAINTEXT" in start, start
    assert "--source" not in start, f"no source override may be sent: {start}"
    build_id = ran.stdout.split("started ", 1)[1].split()[0]
    build = json.loads(_aws(moto, "codebuild", "batch-get-builds", "--ids", build_id))["builds"][0]
    assert build["projectName"] == "getprospa-dev-deploy" and build["buildStatus"] == "SUCCEEDED"
    # Refused before any call: an unknown stage, a tag where a digest goes, a short RELEASE.
    for args, expected in (
        (["STAGE=plan"], "set STAGE to apply"),
        (["STAGE=deploy", f"IMAGE_DIGEST={sha}"], "IMAGE_DIGEST is not a digest"),
        (["STAGE=deploy", "RELEASE=main"], "is not a full git commit SHA"),
    ):
        proc = _run(["make", "execute", "ENV=dev", *args], repo, moto)
        assert proc.returncode == 2 and expected in proc.stderr, (args, proc.stderr)
        assert "started" not in proc.stdout


def test_database_run_starts_the_platform_executor_with_the_kits_arguments(
    repo: Path, moto: MotoServer, tmp_path: Path
) -> None:
    """`make database-run` (and the convenience targets, outside CodeBuild) start the
    platform executor's project, <name>-apply, with DBKIT_ARGS: its buildspec then runs only
    the database kit. Refused before any call: no arguments, or arguments CodeBuild's
    override syntax would split (a comma)."""
    sha = git(repo, "rev-parse", "HEAD").strip()
    role = json.loads(_aws(moto, "iam", "create-role", "--role-name", "getprospa-dev-platform",
                           "--assume-role-policy-document", "{}"))["Role"]["Arn"]  # fmt: skip
    buildspec = (repo / "infra/modules/executors/buildspecs/apply.yml").read_text()
    _aws(moto, "codebuild", "create-project", "--name", "getprospa-dev-apply",
         "--source", json.dumps({"type": "NO_SOURCE", "buildspec": buildspec, "location": "-"}),
         "--artifacts", "type=NO_ARTIFACTS", "--service-role", role,
         "--environment", "type=LINUX_CONTAINER,image=aws/codebuild/standard:7.0,"
         "computeType=BUILD_GENERAL1_SMALL")  # fmt: skip
    wrapper, calls = _recording_aws(tmp_path)
    for target, args in (
        (["database-run", "DBKIT_ARGS=lag --json"], "lag --json"),
        (["database-rotate", "DATABASE_USER=api"],
         "users rotate --users database/users.json --env dev --user api"),
    ):  # fmt: skip
        ran = _run(["make", *target, "ENV=dev", f"AWS={wrapper}"], repo, moto)
        assert ran.returncode == 0 and "getprospa-dev-apply: " in ran.stdout, ran.stderr
        start = [c for c in calls.read_text().splitlines() if c.startswith("codebuild start")][-1]
        assert "--project-name getprospa-dev-apply " in start, start
        assert f"name=SOURCE_COMMIT,value={sha},type=PLAINTEXT" in start, start
        assert f"name=DBKIT_ARGS,value={args},type=PLAINTEXT" in start, start
    for target, expected in (
        (["database-run"], "set DBKIT_ARGS"),
        (["database-run", "DBKIT_ARGS=lag,--json"], "no commas or line breaks"),
        (["database-rotate"], "set DATABASE_USER"),
    ):
        proc = _run(["make", *target, "ENV=dev", f"AWS={wrapper}"], repo, moto)
        assert proc.returncode == 2 and expected in proc.stderr, (target, proc.stderr)
    # In the executor (CODEBUILD_BUILD_ID set) the same target runs the kit, not the executor.
    dry = subprocess.run(["make", "-n", "database-users-plan", "ENV=dev"], cwd=repo,
                         env={**_env(moto), "CODEBUILD_BUILD_ID": "b:1"},
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert "database-kit-env" in dry.stdout and "database-run" not in dry.stdout, dry.stdout


def test_the_executors_buildspec_fetches_the_bundle_from_the_artifacts_region(
    repo: Path, moto: MotoServer, tmp_path: Path
) -> None:
    """The executors take no CodeBuild source (an S3 source must be in the build's region):
    each buildspec's pre_build fetches source/$SOURCE_COMMIT.zip from the artifacts bucket,
    in its own region, into a fresh BUNDLE_DIR, and the build phase runs there. Run here
    as CodeBuild runs them (bash, a phase fails at its first failing command), against a
    bucket in another region than the build's; a SOURCE_COMMIT that is no full SHA is
    refused before anything is fetched."""
    sha = git(repo, "rev-parse", "HEAD").strip()
    bucket, region = "getprospa-artifacts-xregion", "eu-west-1"
    _aws(moto, "s3api", "create-bucket", "--bucket", bucket,
         "--create-bucket-configuration", f"LocationConstraint={region}", region=region)  # fmt: skip
    bundle = tmp_path / "bundle.zip"
    git(repo, "archive", "--format=zip", "--output", str(bundle), "HEAD")
    _aws(moto, "s3", "cp", str(bundle), f"s3://{bucket}/source/{sha}.zip", region=region)
    for stage in ("apply", "deploy"):
        spec = yaml.safe_load(
            (repo / f"infra/modules/executors/buildspecs/{stage}.yml").read_text()
        )
        assert spec["env"]["shell"] == "bash"
        commands = spec["phases"]["pre_build"]["commands"]
        # The fetch, up to the unzip; the tools the bundle pins install after it
        # (tests/test_executor_tools.py proves that part against a loopback mirror).
        unzip = next(i for i, c in enumerate(commands) if c.startswith("unzip "))
        pre_build = commands[: unzip + 1]
        assert any("executor-tools" in c for c in commands[unzip + 1 :]), commands
        cd = spec["phases"]["build"]["commands"][0]
        bundle_dir = tmp_path / f"bundle-{stage}"
        bundle_dir.mkdir()
        (bundle_dir / "stale").write_text("from an earlier build\n")
        script = "set -e\n" + "\n".join([*pre_build, cd, "pwd", "ls"]) + "\n"

        def phase(
            commit: str, script: str = script, bundle_dir: Path = bundle_dir
        ) -> subprocess.CompletedProcess[str]:
            env = {**_env(moto), "AWS_DEFAULT_REGION": REGION, "ARTIFACTS_BUCKET": bucket,
                   "ARTIFACTS_REGION": region, "BUNDLE_DIR": str(bundle_dir), "SOURCE_COMMIT": commit}  # fmt: skip
            return subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=120)  # fmt: skip

        ran = phase(sha)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        listed = ran.stdout.splitlines()
        assert listed[0] == str(bundle_dir), "the build phase runs in the unzipped bundle"
        assert {"Makefile", "platform.yaml", "delivery"} <= set(listed[1:]), listed
        assert "stale" not in listed, "the bundle is unzipped into a fresh directory"
        for bad in ("main", sha[:12], f"{sha}/../x", ""):
            refused = phase(bad)
            assert refused.returncode != 0 and "is not a full git commit SHA" in refused.stderr
            assert bundle_dir.exists() and "Makefile" in {p.name for p in bundle_dir.iterdir()}, (
                "nothing is fetched (nor the last bundle removed) before the commit is checked"
            )
        missing = phase("0" * 40)
        assert missing.returncode != 0, "a commit without a bundle fails the build"


def test_publish_names_the_signing_tools_it_needs(repo: Path, moto: MotoServer) -> None:
    """cosign and syft run in the generated CI only: without them make publish stops before
    it pushes anything, naming the pinned version and where to get it."""
    proc = _run(["make", "publish"], repo, moto)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "cosign v2.6.2 is required and not installed" in proc.stderr, proc.stderr
    assert "sigstore/cosign/releases/tag/v2.6.2" in proc.stderr
    assert "login" not in proc.stdout and "push" not in proc.stdout
