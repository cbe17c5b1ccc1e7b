"""Validators of the `pipelines` area: the GitHub Actions workflows (functions `github_*`).

On every spec of the matrix with GitHub among pipelines.providers, over all its workflow
files in one run of each tool: actionlint (with shellcheck on every `run:`), zizmor's
offline audits (no finding of medium severity or higher), check-jsonschema against
SchemaStore's GitHub workflow schema (vendored in check-jsonschema), and checkov's
github_actions framework (no failed check). Then the hardening the linters do not see as
rules of this project: every action pinned to the SHA of the one versions file, no job
with a permission it does not declare, concurrency everywhere, no `pull_request_target`, no
expression in a `run:`, a checkout that keeps no token, fork pull requests without an OIDC
job, the MySQL service at database.version, and the jobs the spec asks for (read through
tests/support/pipelines/github.py, the rehearsal's reader).

On the reference only (the scripts are the same bytes for every spec): the plan comment
target against a local stand-in for GitHub's REST API, with a real terraform plan.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import yaml
from conftest import ROOT
from support.pipelines import DELIVER, PULL_REQUEST, SCHEDULE
from support.pipelines.drift import drift_system
from support.pipelines.github import WORKFLOWS, read
from support.tools import CHECKOV_ARGS, CHECKOV_ENV, tool_venv_bin

from . import RenderedRepo, nonempty, require, validator

VERSIONS = ROOT / "templates" / "_shared" / "ci_versions.jinja"
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+)@(?P<sha>[0-9a-f]{40})$")


def _github(spec: dict[str, Any]) -> bool:
    return "github" in spec["pipelines"]["providers"]


def _github_delivers(spec: dict[str, Any]) -> bool:
    return _github(spec) and spec["pipelines"]["deliver"] == "github"


def _workflows(repo: RenderedRepo) -> list[Path]:
    return nonempty(sorted((repo.root / WORKFLOWS).glob("*.yml")), "GitHub workflows")


def _run(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env)


@validator("pipelines", when=_github)
def github_workflows_pass_actionlint_zizmor_and_the_schema(repo: RenderedRepo) -> None:
    files = [str(p.relative_to(repo.root)) for p in _workflows(repo)]
    shellcheck = require("shellcheck")
    proc = _run(
        [str(tool_venv_bin("ci-files", "actionlint")), "-shellcheck", shellcheck, *files],
        repo.root,
    )
    assert proc.returncode == 0, f"actionlint:\n{proc.stdout}{proc.stderr}"

    # zizmor: offline audits only (no GitHub API here), the auditor persona (the most
    # audits), JSON out; a finding of medium severity or higher fails.
    proc = _run(
        [str(tool_venv_bin("ci-files", "zizmor")), "--offline", "--persona=auditor", "--format=json", "--no-progress", *files],
        repo.root,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert proc.returncode in (0, 10, 11, 12, 13, 14), (
        f"zizmor failed to run:\n{proc.stderr[-3000:]}"
    )
    findings = json.loads(proc.stdout or "[]")
    serious = [f for f in findings if f["determinations"]["severity"] in ("Medium", "High")]
    assert not serious, (
        "zizmor: "
        + json.dumps(
            [(f["ident"], f["desc"], f["locations"][0]["symbolic"]["key"]) for f in serious],
            indent=1,
        )[:4000]
    )

    proc = _run(
        [str(tool_venv_bin("ci-files", "check-jsonschema")), "--builtin-schema", "vendor.github-workflows", *files],
        repo.root,
    )  # fmt: skip
    assert proc.returncode == 0, f"check-jsonschema:\n{proc.stdout}{proc.stderr}"


@validator("pipelines", when=_github)
def github_workflows_pass_checkov(repo: RenderedRepo) -> None:
    """checkov's github_actions framework: no failed check, and no skip in the files (a skip
    would need a written reason; there is none)."""
    _workflows(repo)
    with tempfile.TemporaryDirectory() as tmp:
        # Only the workflows: checkov walks the whole directory it is given.
        shutil.copytree(repo.root / WORKFLOWS, Path(tmp) / WORKFLOWS)
        proc = _run(
            [str(tool_venv_bin("checkov")), "-d", tmp, "--framework", "github_actions", "-o", "json",
             *(a for a in CHECKOV_ARGS if a != "--quiet")],
            repo.root,
            env={**CHECKOV_ENV, "PATH": "/usr/bin:/bin", "HOME": tmp},
        )  # fmt: skip
    assert proc.returncode == 0, f"checkov:\n{proc.stdout[-4000:]}{proc.stderr[-2000:]}"
    summary = json.loads(proc.stdout)["summary"]
    assert summary["failed"] == 0 and summary["passed"] > 0, summary
    assert summary["skipped"] == 0, f"checkov skips without a reason: {summary}"


def _pins() -> dict[str, tuple[str, str]]:
    """The versions file: action -> (sha, tag)."""
    found = re.findall(
        r'\("([\w.-]+/[\w.-]+)", "([0-9a-f]{40})", "(v[\w.]+)"\)', VERSIONS.read_text()
    )
    return {action: (sha, tag) for action, sha, tag in nonempty(found, "pinned actions")}


def _documents(repo: RenderedRepo) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in _workflows(repo):
        yield path.name, path.read_text(), yaml.safe_load(path.read_text())


@validator("pipelines", when=_github)
def github_workflows_are_hardened(repo: RenderedRepo) -> None:
    pins = _pins()
    for name, text, doc in _documents(repo):
        events = doc.get("on", doc.get(True))
        assert "pull_request_target" not in events, f"{name}: pull_request_target"
        assert doc.get("permissions") == {}, f"{name}: the workflow must grant nothing itself"
        for line in text.splitlines():
            uses = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)(?:\s+#\s*(\S+))?\s*$", line)
            if uses:
                pinned = PINNED.match(uses[1])
                assert pinned, f"{name}: {uses[1]} is not pinned to a full commit SHA"
                assert pins.get(pinned["action"]) == (pinned["sha"], uses[2]), (
                    f"{name}: {line.strip()} is not the versions file's pin "
                    f"{pins.get(pinned['action'])} (templates/_shared/ci_versions.jinja)"
                )
        for job_id, job in doc["jobs"].items():
            where = f"{name}:{job_id}"
            assert "permissions" in job, f"{where}: no permissions of its own"
            assert "concurrency" in doc or "concurrency" in job, f"{where}: no concurrency group"
            assert job.get("timeout-minutes"), f"{where}: no timeout"
            for step in job["steps"]:
                if "run" in step:
                    assert "${{" not in step["run"], (
                        f"{where}: an expression in run: {step['run']!r}"
                    )
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step.get("with", {}).get("persist-credentials") is False, (
                        f"{where}: the checkout keeps the token (persist-credentials)"
                    )
            oidc = job["permissions"].get("id-token") == "write"
            uses_aws = any("configure-aws-credentials" in s.get("uses", "") for s in job["steps"])
            assert oidc == uses_aws, (
                f"{where}: id-token: write exactly where AWS credentials are taken"
            )
            if name == "pull-request.yml" and (oidc or "pull-requests" in job["permissions"]):
                assert "github.event.pull_request.head.repo.full_name == github.repository" in str(
                    job.get("if", "")
                ), f"{where}: a fork's pull request must skip this job"


def _protected_plan(spec: dict[str, Any], env: str) -> bool:
    e = spec["environments"][env]
    replicas = "database" in spec and e.get("database", {}).get("readReplicas", 0) > 0
    return e["tier"] == "production" or replicas


@validator("pipelines", when=_github)
def github_jobs_follow_the_spec(repo: RenderedRepo) -> None:
    """The jobs the spec asks for, through the rehearsal's reader, and the role, account and
    GitHub environment each job's credentials come from (the trust of infra/bootstrap)."""
    spec, p = repo.spec, repo.spec["project"]["name"]
    steps = read(repo.root, spec)
    pr = [s for s in steps if s.trigger == PULL_REQUEST]
    assert [s.name for s in pr][:4] == ["lint", "test", "build", "platform-check"]
    assert [s.environment for s in pr if "plan" in s.targets()] == spec["promotion"]
    assert pr[-1].targets() == ["plan-comment"]
    delivers = [s for s in steps if s.trigger == DELIVER]
    drift = [s for s in steps if s.trigger == SCHEDULE]
    if spec["pipelines"]["deliver"] == "github":
        assert delivers[0].targets() == ["tools", "build", "publish", "bundle"]
        assert [s.environment for s in delivers[1:]] == spec["promotion"]
        for step in delivers[1:]:
            env = step.environment
            assert step.approval == spec["environments"][env]["approval"], step.source
            assert step.make[1:] == (
                ("execute", f"ENV={env}", "STAGE=apply"),
                ("execute", f"ENV={env}", "STAGE=deploy", "RELEASE=$GITHUB_SHA"),
                ("bake", f"ENV={env}"),
            ), step.source
    else:
        assert not delivers, "only the delivering system deploys"
    if drift_system(spec) == "github":
        assert [s.environment for s in drift] == spec["promotion"], "drift.yml: one job per env"
    else:
        assert not drift, f"drift.yml renders, but {drift_system(spec)} checks drift"

    docs = {name: doc for name, _, doc in _documents(repo)}
    for name, doc in docs.items():
        for job_id, job in doc["jobs"].items():
            creds = [
                s["with"] for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")
            ]
            env = next(
                (
                    a.split("=", 1)[1]
                    for s in job["steps"]
                    for a in s.get("run", "").split()
                    if a.startswith("ENV=")
                ),
                None,
            )
            if not creds:
                continue
            role = creds[0]["role-to-assume"]
            if job_id == "publish":
                assert role.endswith(f":role/{p}-publish") and "environment" not in job, job_id
                continue
            assert env is not None, f"{name}:{job_id}"
            account = spec["environments"][env]["account"]
            kind = "ci" if name == "deliver.yml" else "plan"
            assert role == f"arn:aws:iam::{account}:role/{p}-{env}-{kind}", (
                f"{name}:{job_id}: {role}"
            )
            assert creds[0]["allowed-account-ids"] == account
            gate = job.get("environment")
            if kind == "ci":
                assert gate == env, f"{name}:{job_id}: the CI role trusts only environment {env}"
            else:
                want = f"{env}-plan" if _protected_plan(spec, env) else None
                assert gate == want, (
                    f"{name}:{job_id}: environment {gate}, the plan role trusts {want}"
                )

    # The comment job finds each summary by its file name: download-artifact puts a lone
    # artifact's files straight into path (v5 and later), so all go into one folder.
    jobs = docs["pull-request.yml"]["jobs"]
    uploads = [
        s["with"]["path"]
        for j in jobs.values()
        for s in j["steps"]
        if "upload-artifact" in s.get("uses", "")
    ]
    assert uploads == [f"build/{e}/plan-summary-{e}.md" for e in spec["promotion"]], uploads
    download = next(
        s for s in jobs["plan-summary-comment"]["steps"] if "download-artifact" in s.get("uses", "")
    )
    assert download["with"] == {"pattern": "plan-*", "path": "build/plans", "merge-multiple": True}

    test = docs["pull-request.yml"]["jobs"]["test"]
    if "database" in spec:
        version = ".".join(str(spec["database"]["version"]).split(".")[:2])
        images = [s["image"] for s in test["services"].values()]
        # One server, for the services' tests: the database kit's tests run in platformgen.
        assert len(images) == 1 and all(
            re.match(rf"(?:docker\.io/library/)?mysql:{re.escape(version)}[.@]", i) for i in images
        ), images
        assert all(re.search(r"@sha256:[0-9a-f]{64}$", i) for i in images), images
        assert test["env"]["TEST_DATABASE_URL"].startswith("mysql+pymysql://")
        assert not [k for k in test["env"] if k.startswith("DBKIT")], test["env"]
    else:
        assert "services" not in test


class _FakeGitHub(BaseHTTPRequestHandler):
    """Issue comments of one pull request, as GitHub's REST API serves them (paged)."""

    comments: list[dict[str, Any]]
    calls: list[str]

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") != "Bearer test-token":
            self._reply(401, {"message": "Bad credentials"})
            return False
        return True

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if not self._authorised() or url.path != "/repos/org/repo/issues/7/comments":
            return (
                None
                if self.headers.get("Authorization") != "Bearer test-token"
                else self._reply(404, {})
            )
        query = parse_qs(url.query)
        size, page = int(query["per_page"][0]), int(query["page"][0])
        self.calls.append(f"GET page {page}")
        self._reply(200, self.comments[(page - 1) * size : page * size])

    def _body(self) -> str:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))["body"]

    def do_POST(self) -> None:
        if self._authorised():
            comment = {
                "id": 1000 + len(self.comments),
                "user": {"login": "github-actions[bot]"},
                "body": self._body(),
            }
            self.comments.append(comment)
            self.calls.append("POST")
            self._reply(201, comment)

    def do_PATCH(self) -> None:
        if self._authorised():
            wanted = int(self.path.rsplit("/", 1)[1])
            comment = next(c for c in self.comments if c["id"] == wanted)
            comment["body"] = self._body()
            self.calls.append(f"PATCH {wanted}")
            self._reply(200, comment)


@validator("pipelines", only=("getprospa",))
def github_plan_comment_is_one_comment_edited_in_place(repo: RenderedRepo) -> None:
    """make plan-summary on a real saved plan (terraform's built-in provider, offline) and on
    a missing one, then make plan-comment twice against a local stand-in for GitHub's API:
    one comment, found again past the first page of comments and edited; a person's comment
    that quotes the marker is left alone."""
    terraform, make = require("terraform"), require("make")
    envs = repo.spec["promotion"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "repo"
        shutil.copytree(repo.root, work, symlinks=True)
        root = Path(tmp) / "tf"
        root.mkdir()
        (root / "main.tf").write_text('resource "terraform_data" "example" {\n  input = "one"\n}\n')
        env = {
            **os.environ,
            "CHECKPOINT_DISABLE": "1",
            "TF_CLI_CONFIG_FILE": "/dev/null",
            "TF_IN_AUTOMATION": "1",
        }
        for argv in (
            ["init", "-input=false"],
            ["plan", "-input=false", f"-out={work}/build/{envs[0]}/infra.tfplan"],
        ):
            (work / "build" / envs[0]).mkdir(parents=True, exist_ok=True)
            proc = _run([terraform, f"-chdir={root}", *argv], work, env)
            assert proc.returncode == 0, proc.stdout + proc.stderr
        plans = work / "build" / "plans"
        for name in envs[:2]:  # the first has a plan, the second none (a failed plan)
            proc = _run(
                [make, "plan-summary", f"ENV={name}", f"TERRAFORM_ENV_DIR={root}"], work, env
            )
            assert proc.returncode == 0, proc.stdout + proc.stderr
            # download-artifact with merge-multiple: every summary in one folder
            plans.mkdir(exist_ok=True)
            shutil.move(work / "build" / name / f"plan-summary-{name}.md", plans)
        marker = "<!-- platformgen: terraform plans -->"
        person = {"id": 1, "user": {"login": "someone"}, "body": f"{marker}\nquoted by a person"}
        chatter = [
            {"id": 2 + i, "user": {"login": "github-actions[bot]"}, "body": "other"}
            for i in range(120)
        ]
        handler = type("H", (_FakeGitHub,), {"comments": [person, *chatter], "calls": []})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        api = {
            **env,
            "GITHUB_API_URL": f"http://127.0.0.1:{server.server_address[1]}",
            "GITHUB_TOKEN": "test-token",
            "GITHUB_REPOSITORY": "org/repo",
            "PR_NUMBER": "7",
        }
        try:
            first = _run([make, "plan-comment"], work, api)
            assert first.returncode == 0, first.stdout + first.stderr
            ours = [c for c in handler.comments if c["body"].startswith(marker) and c["id"] != 1]
            assert len(ours) == 1 and handler.calls[-1] == "POST", handler.calls
            body = ours[0]["body"]
            assert f"<b>{envs[0]}</b>: Plan: 1 to add, 0 to change, 0 to destroy." in body, body
            assert "terraform_data.example will be created" in body
            assert f"<b>{envs[1]}</b>: **failed**" in body
            for name in envs[2:]:
                assert f"**{name}**: no plan" in body
            summary = plans / f"plan-summary-{envs[1]}.md"
            summary.write_text(summary.read_text().replace("**failed**", "No changes."))
            second = _run([make, "plan-comment"], work, api)
            assert second.returncode == 0, second.stdout + second.stderr
            assert handler.calls[-1] == f"PATCH {ours[0]['id']}", handler.calls
            assert "GET page 2" in handler.calls, "the previous comment is past the first page"
            ours = [c for c in handler.comments if c["body"].startswith(marker) and c["id"] != 1]
            assert len(ours) == 1 and f"<b>{envs[1]}</b>: No changes." in ours[0]["body"]
            assert handler.comments[0] == person, "a person's comment was edited"
            bad = _run([make, "plan-comment"], work, {**api, "GITHUB_TOKEN": "wrong"})
            assert bad.returncode != 0 and "Bad credentials" in bad.stdout + bad.stderr
        finally:
            server.shutdown()
