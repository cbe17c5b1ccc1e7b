"""The pipeline rehearsal: every rendered CI definition, read as the make invocations each of
its steps runs, checked against the generated Makefile and the spec; then the pull-request
stage's non-deploy invocations of the reference run for real.

Each CI system has one reader, tests/support/pipelines/<system>.py, returning list[Step]
(the Step model is in tests/support/pipelines/__init__.py). A system that
`pipelines.providers` lists without a reader fails here. The checks
(tests/support/rehearsal.py), on every spec of the matrix (examples/getprospa and
tests/specs/*.yaml):
- every invoked target exists in the generated Makefile (make's own database, `make -pRrq`),
  has a `## help` line, and `make -n` accepts the invocation as written;
- pull requests: lint, test, build, platform-check, and one `plan ENV=<e>` per environment;
  nothing publishes or deploys;
- merges (the system `pipelines.deliver` names, and no other): build, publish, bundle, then per
  environment in `promotion` order execute STAGE=apply, execute STAGE=deploy and bake, with an
  approval before the environment exactly where `environments.<e>.approval`;
- the drift system's schedule (the delivering system, or the repository's host when
  CodePipeline delivers: templates/_shared/delivery.jinja, drift_system):
  `infra-drift ENV=<e>` once per environment, and no schedule on any other system;
- no shell line outside make runs terraform, helm, kubectl, aws, cosign, docker, ...
Each rule is shown to fail on a fixture of Steps broken in one way (a renamed target, in the
pipeline or in the Makefile; a swapped promotion; a missing or extra approval; ...), and a
broken stage (a spec platformgen refuses) fails the run's make.

The real run (test_pull_request_stage_runs_for_real_on_the_reference) runs the reference's
`make lint`, `make test`, `make build` and `make platform-check` (the pull-request steps'
invocations once readers exist) in a copy of the rendered reference, exactly as CI calls them,
with stand-ins for what this machine lacks (HELM=, PLATFORMGEN= and CONTAINER= on the command
line, the rest in the environment, all variables the generated Makefiles read):
- helm: no helm binary can be installed here. tests/support/helm_shim.py, over
  helm-python-sdk (Helm 4's own Go library), does `helm lint` and `helm template`; it is HELM=
  and also first on PATH as `helm`, for targets that call it by name.
- PLATFORMGEN: the platformgen of this checkout (.venv/bin/platformgen), not a released one.
- MySQL 8: MariaDB 10.11 (tests/support/mariadb.py; no MySQL 8 server is packaged): the api's
  TEST_DATABASE_URL over TLS verified against a test CA. The database kit's tests are not the
  generated repo's (they run in tests/test_dbkit_kit.py): its make test needs no other server,
  and the rehearsal proves that by giving it none.
- docker: podman (CONTAINER=podman) building on local debootstrap images instead of the
  Dockerfile's registry bases (BUILDER_IMAGE, RUNTIME_IMAGE); the RDS CA bundle that
  `make build` downloads from AWS is the test CA (no AWS is reachable).
- terraform: the machine's terraform, offline, with the provider from the local mirror, on an
  empty plugin cache with six parallel inits (INFRA_JOBS=6) on two cores, as on a fresh clone.
- the web app's source: a stand-in package.json (no dependencies) whose build writes dist/.
This run is the only one of those targets in the suite: tests/test_infra_make.py (infra-lint
and infra-test on an empty cache), the api's lint and tests and its image build and container
checks (tests/validators/service.py) ran the same targets on the reference before; their
checks are made here on this run's output, and they keep running on the other specs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import MATRIX
from support.helm_shim import install as install_helm_shim
from support.pipelines import DELIVER, PULL_REQUEST, SCHEDULE, Step
from support.pipelines.drift import drift_system
from support.rehearsal import MakeFacts, check_all, make_env, read_all
from validators import RenderedRepo

REFERENCE = "getprospa"
# The pull-request invocations that need no cloud account: the ones run for real.
RUNNABLE = frozenset({"lint", "test", "build", "platform-check"})
STANDARD_RUN = (("lint",), ("test",), ("build",), ("platform-check",))
Rendered = Callable[[str], RenderedRepo]


# --- every spec of the matrix -----------------------------------------------------------------


@pytest.mark.parametrize("name", list(MATRIX))
def test_every_pipeline_runs_the_promotion_through_make(name: str, rendered: Rendered) -> None:
    repo = rendered(name)
    steps, problems = read_all(repo.root, repo.spec)
    problems += check_all(steps, repo.spec, MakeFacts.of(repo.root))
    for system, own in steps.items():
        counts = {
            t: sum(1 for s in own if s.trigger == t) for t in (PULL_REQUEST, DELIVER, SCHEDULE)
        }
        print(f"{name}/{system}: {counts} steps, {sum(len(s.make) for s in own)} make invocations")
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


# --- the checks, each shown to fail -----------------------------------------------------------


def _fixture(spec: dict[str, Any], systems: tuple[str, ...]) -> dict[str, list[Step]]:
    """Right steps for `spec`: what a correct reader returns for each of `systems`."""
    out: dict[str, list[Step]] = {}
    for system in systems:
        src = f"{system}-fixture"
        steps = [
            Step(system, src, PULL_REQUEST, "checks",
                 make=(("lint",), ("test",), ("build",), ("platform-check",)),
                 other=("git fetch --depth 1 origin",)),
            *(Step(system, src, PULL_REQUEST, f"plan {e}", make=(("plan", f"ENV={e}"),),
                   environment=e) for e in spec["environments"]),
        ]  # fmt: skip
        if system == spec["pipelines"]["deliver"]:
            # Checks may run again before the build (set-up and checks are not promotion).
            steps.append(
                Step(system, src, DELIVER, "build",
                     make=(("lint",), ("test",), ("build", "publish", "bundle")))
            )  # fmt: skip
            for e in spec["promotion"]:
                steps.append(
                    Step(system, src, DELIVER, f"promote {e}", environment=e,
                         approval=bool(spec["environments"][e]["approval"]),
                         make=(("execute", f"ENV={e}", "STAGE=apply"),
                               ("execute", f"ENV={e}", "STAGE=deploy", "RELEASE=$COMMIT"),
                               ("bake", f"ENV={e}")))
                )  # fmt: skip
        if system == drift_system(spec):
            steps += [
                Step(system, src, SCHEDULE, f"drift {e}", make=(("infra-drift", f"ENV={e}"),),
                     environment=e)
                for e in spec["environments"]
            ]  # fmt: skip
        out[system] = steps
    return out


def _edit(steps: list[Step], name: str, **changes: Any) -> None:
    i = next(i for i, s in enumerate(steps) if s.name == name)
    steps[i] = dataclasses.replace(steps[i], **changes)


def _drop(steps: list[Step], name: str) -> None:
    steps[:] = [s for s in steps if s.name != name]


def _swap(steps: list[Step], a: str, b: str) -> None:
    i, j = (next(i for i, s in enumerate(steps) if s.name == n) for n in (a, b))
    steps[i], steps[j] = steps[j], steps[i]


# (what breaks, how, a phrase of the problem it must cause). The reference's spec:
# dev, staging, prod in that order, an approval for prod only; github delivers.
BREAKAGES: list[tuple[str, Callable[[dict[str, list[Step]]], None], str]] = [
    ("renamed target in a pipeline",
     lambda s: _edit(s["github"], "checks", make=(("lint",), ("test",), ("build",), ("platform-chek",))),
     "`make platform-chek`: the Makefile has no such target"),
    ("target without help",
     lambda s: _edit(s["bitbucket"], "checks", make=(("lint",), ("test",), ("build",), ("platform-check",), ("require-env",))),
     "`make require-env` has no `## help` line"),
    ("make options",
     lambda s: _edit(s["github"], "checks", make=(("-k", "lint"), ("test",), ("build",), ("platform-check",))),
     "passes make options"),
    ("a check missing",
     lambda s: _edit(s["bitbucket"], "checks", make=(("lint",), ("build",), ("platform-check",))),
     "bitbucket: pull requests never run `make test`"),
    ("a plan missing", lambda s: _drop(s["github"], "plan staging"),
     "run `make plan ENV=staging` 0 times"),
    ("a plan in another environment's step",
     lambda s: _edit(s["github"], "plan dev", environment="prod"),
     "plans dev but is a step of environment 'prod'"),
    ("a deploy on pull requests",
     lambda s: _edit(s["bitbucket"], "plan dev", make=(("plan", "ENV=dev"), ("deploy", "ENV=dev"))),
     "`make deploy` on pull_request"),
    ("swapped promotion", lambda s: _swap(s["github"], "promote staging", "promote prod"),
     "instead of"),
    ("a stage dropped",
     lambda s: _edit(s["github"], "promote staging", make=(("execute", "ENV=staging", "STAGE=apply"), ("bake", "ENV=staging"))),
     "instead of"),
    ("no build before the promotion", lambda s: _drop(s["github"], "build"), "instead of"),
    ("a deploy outside the promotion",
     lambda s: _edit(s["github"], "build", make=(("build", "publish", "bundle"), ("deploy", "ENV=prod"))),
     "instead of"),
    ("missing approval", lambda s: _edit(s["github"], "promote prod", approval=False),
     "prod needs an approval before it"),
    ("approval where none is configured",
     lambda s: _edit(s["github"], "promote dev", approval=True),
     "dev must not wait for an approval"),
    ("a step running another environment",
     lambda s: _edit(s["github"], "promote dev", environment="staging"),
     "a step of environment 'staging' runs make for ['dev']"),
    ("the other system delivers",
     lambda s: s["bitbucket"].append(Step("bitbucket", "x", DELIVER, "deploy", make=(("build", "publish", "bundle"),))),
     "this system only checks pull requests"),
    ("drift missing", lambda s: _drop(s["github"], "drift prod"),
     "runs `make infra-drift ENV=prod` 0 times"),
    ("drift on a system that does not run it",
     lambda s: s["bitbucket"].append(Step("bitbucket", "x", SCHEDULE, "drift", make=(("infra-drift", "ENV=dev"),), environment="dev")),
     "bitbucket: it schedules ['infra-drift ENV=dev'], but the drift check runs on github"),
    ("a tool outside make",
     lambda s: _edit(s["github"], "promote dev", other=("terraform -chdir=infra/envs/dev apply",)),
     "runs a deploy tool outside make"),
    ("a tool after a pipe",
     lambda s: _edit(s["bitbucket"], "checks", other=("echo x | helm upgrade api .",)),
     "runs a deploy tool outside make"),
    ("an unknown trigger", lambda s: _edit(s["github"], "checks", trigger="push"),
     "unknown trigger 'push'"),
]  # fmt: skip


@pytest.fixture(scope="module")
def reference(rendered: Rendered) -> tuple[RenderedRepo, dict[str, Any], MakeFacts]:
    repo = rendered(REFERENCE)
    spec = {**repo.spec, "pipelines": {**repo.spec["pipelines"], "deliver": "github"}}
    assert [e for e in spec["promotion"] if spec["environments"][e]["approval"]] == ["prod"]
    assert spec["promotion"] == ["dev", "staging", "prod"]
    return repo, spec, MakeFacts.of(repo.root)


def test_the_fixture_passes(reference: tuple[RenderedRepo, dict[str, Any], MakeFacts]) -> None:
    _, spec, make = reference
    assert check_all(_fixture(spec, ("github", "bitbucket")), spec, make) == []


@pytest.mark.parametrize(
    ("change", "expected"), [b[1:] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES]
)
def test_each_rule_fails_when_broken(
    reference: tuple[RenderedRepo, dict[str, Any], MakeFacts],
    change: Callable[[dict[str, list[Step]]], None],
    expected: str,
) -> None:
    _, spec, make = reference
    steps = _fixture(spec, ("github", "bitbucket"))
    change(steps)
    problems = check_all(steps, spec, make)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("host", ["github", "bitbucket"])
def test_when_codepipeline_delivers_the_repository_host_checks_drift(
    reference: tuple[RenderedRepo, dict[str, Any], MakeFacts], host: str
) -> None:
    """CodePipeline cannot assume the plan roles: the host's system runs the schedule, and
    the other listed system (the one the old rule chose, or none) does not."""
    _, spec, make = reference
    pipelines = {**spec["pipelines"], "deliver": "codepipeline", "repositoryHost": host}
    spec = {**spec, "pipelines": pipelines}
    other = "bitbucket" if host == "github" else "github"
    steps = _fixture(spec, ("github", "bitbucket"))
    assert [s.environment for s in steps[host] if s.trigger == SCHEDULE] == spec["promotion"]
    assert check_all(steps, spec, make) == []
    steps[other] += [
        dataclasses.replace(s, system=other) for s in steps[host] if s.trigger == SCHEDULE
    ]
    steps[host] = [s for s in steps[host] if s.trigger != SCHEDULE]
    problems = check_all(steps, spec, make)
    assert (
        f"{host}: the schedule runs `make infra-drift ENV=prod` 0 times (once is right)" in problems
    )
    assert any(p.startswith(f"{other}: it schedules") for p in problems), problems


def test_a_target_renamed_in_the_makefile_fails(
    reference: tuple[RenderedRepo, dict[str, Any], MakeFacts], tmp_path: Path
) -> None:
    """The pipelines still call `make platform-check`; the Makefile renamed it."""
    repo, spec, _ = reference
    copy = tmp_path / "repo"
    shutil.copytree(repo.root, copy, symlinks=True)
    makefile = copy / "Makefile"
    text = makefile.read_text()
    renamed = re.sub(r"\bplatform-check\b", "platform-verify", text)
    assert renamed != text
    makefile.write_text(renamed)
    problems = check_all(_fixture(spec, ("github",)), spec, MakeFacts.of(copy))
    assert any("`make platform-check`: the Makefile has no such target" in p for p in problems)


def test_a_provider_without_a_reader_fails(
    reference: tuple[RenderedRepo, dict[str, Any], MakeFacts],
) -> None:
    repo, spec, _ = reference
    lonely = {**spec, "pipelines": {**spec["pipelines"], "providers": ["nosuch"]}}
    _, problems = read_all(repo.root, lonely)
    assert problems == [
        "nosuch: pipelines.providers lists it, but it has no reader "
        "(tests/support/pipelines/nosuch.py with read(repo, spec) -> list[Step])"
    ]


# --- the real run -----------------------------------------------------------------------------

TEST_BIN = Path(sys.executable).parent
WEB_PACKAGE = {
    "name": "web-stand-in",
    "version": "0.0.0",
    "private": True,
    "scripts": {
        "build": "node -e \"const fs=require('fs');fs.mkdirSync('dist',{recursive:true});"
        "fs.writeFileSync('dist/index.html','<!doctype html><title>stand-in</title>')\""
    },
}
WEB_LOCK = {
    "name": "web-stand-in",
    "version": "0.0.0",
    "lockfileVersion": 3,
    "requires": True,
    "packages": {"": {"name": "web-stand-in", "version": "0.0.0"}},
}


# Where the test databases are: each CI system names its own service containers; the
# rehearsal replaces them with its MariaDB servers.
SERVICE_ADDRESSES = frozenset({"TEST_DATABASE_URL"})


def runnable_invocations(repo: RenderedRepo) -> tuple[list[tuple[str, ...]], str]:
    """The pull-request steps' invocations that need no cloud account, in order, once each
    (from every reader present), or the standard ones while no reader exists."""
    steps, _ = read_all(repo.root, repo.spec)
    found: list[tuple[str, ...]] = []
    for system in repo.spec["pipelines"]["providers"]:
        for step in steps.get(system, []):
            if step.trigger != PULL_REQUEST:
                continue
            for argv in step.make:
                # A CI system's own service addresses (Bitbucket passes its MySQL services'
                # on the command line) give way to the rehearsal's servers, in the environment.
                argv = tuple(a for a in argv if a.split("=", 1)[0] not in SERVICE_ADDRESSES)
                targets = {a for a in argv if "=" not in a}
                if targets and targets <= RUNNABLE and argv not in found:
                    found.append(argv)
    if not found:
        return list(STANDARD_RUN), "no pipeline reader yet: the standard lint, test, build"
    return found, f"the pull-request steps of {', '.join(steps)}"


def _stand_ins(work: Path, repo: RenderedRepo) -> None:
    """What a team adds or CI downloads, put in place in the copy: the web apps' source,
    and the RDS CA bundle (the test CA: `make build` would download AWS's)."""
    from support.service_stack import tls

    for unit in repo.units_of("web"):
        folder = work / unit.dest
        (folder / "package.json").write_text(json.dumps(WEB_PACKAGE, indent=2) + "\n")
        (folder / "package-lock.json").write_text(json.dumps(WEB_LOCK, indent=2) + "\n")
    for unit in repo.units_of("service"):
        certs = work / unit.dest / "certs"
        certs.mkdir(exist_ok=True)
        shutil.copy(tls()[0], certs / "rds-ca-bundle.pem")


def _run_make(
    work: Path, argv: tuple[str, ...], helm: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`make <argv>` as CI runs it, with the tools swapped in on the command line (which
    overrides however a Makefile sets them); servers, images and caches come in `env`."""
    swaps = (f"HELM={helm}", f"PLATFORMGEN={TEST_BIN / 'platformgen'}", "CONTAINER=podman")
    return subprocess.run(
        ["make", *argv, *swaps], cwd=work, env=env, capture_output=True, text=True, timeout=2400
    )


def test_a_broken_stage_fails_the_run(rendered: Rendered, tmp_path: Path) -> None:
    """The run's make fails when the stage is broken: a spec the local platformgen refuses
    stops `make lint` at its first prerequisite (platform-validate), and the run reports it."""
    work = tmp_path / "repo"
    shutil.copytree(rendered(REFERENCE).root, work, symlinks=True)
    spec = work / "platform.yaml"
    spec.write_text(spec.read_text() + "unknownField: 1\n")
    helm = install_helm_shim(tmp_path / "bin")
    proc = _run_make(work, ("lint",), helm, make_env())
    assert proc.returncode != 0
    assert "unknownField" in proc.stdout + proc.stderr, proc.stdout[-2000:] + proc.stderr[-2000:]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _locks(infra: Path) -> dict[str, bytes]:
    return {str(p.relative_to(infra)): p.read_bytes() for p in infra.rglob(".terraform.lock.hcl")}


@pytest.mark.slow
@pytest.mark.first
def test_pull_request_stage_runs_for_real_on_the_reference(
    rendered: Rendered, terraform: Any, tmp_path: Path
) -> None:
    from support.service_stack import (
        BUILDER_IMAGE,
        RUNTIME_IMAGE,
        base_images,
        database,
        podman,
        podman_env,
    )
    from validators.service import check_container, check_image

    for tool in ("make", "podman", "npm", "git"):
        assert shutil.which(tool), f"{tool} is missing: `make test` installs it"
    repo = rendered(REFERENCE)
    work = tmp_path / "repo"
    shutil.copytree(repo.root, work, symlinks=True)
    invocations, source = runnable_invocations(repo)
    print(f"rehearsal: running {[' '.join(a) for a in invocations]} ({source})")
    assert {"lint", "test", "build"} <= {t for a in invocations for t in a}, invocations
    _stand_ins(work, repo)
    committed_locks = _locks(work / "infra")
    cache = tmp_path / "plugin-cache"  # empty, as on a fresh clone
    helm = install_helm_shim(tmp_path / "bin")
    tag = f"rehearsal-{os.getpid()}"
    timings: dict[str, float] = {}
    cpu_times: dict[str, float] = {}
    outputs: dict[str, str] = {}
    started = time.monotonic()
    base_images()
    db = database()
    env = {
        **make_env(),
        **{k: v for k, v in terraform.env.items() if not k.startswith("TF_PLUGIN_CACHE")},
        "TF_PLUGIN_CACHE_DIR": str(cache),
        "INFRA_JOBS": "6",
        "PATH": os.pathsep.join([str(helm.parent), str(TEST_BIN), os.environ["PATH"]]),
        "TEST_DATABASE_URL": db.url,
        "TEST_DATABASE_TLS_CA_FILE": str(db.ca),
        "CONTAINERS_CONF": podman_env()["CONTAINERS_CONF"],
        "BUILDER_IMAGE": BUILDER_IMAGE,
        "RUNTIME_IMAGE": RUNTIME_IMAGE,
        # pip in the builder stage trusts the host's CA bundle (mounted, not copied).
        "BUILD_FLAGS": "--format docker --layers -v "
        "/etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro",
        "TAG": tag,
    }
    # The tools swapped in on the command line, which overrides however a Makefile sets
    # them; the rest (servers, base images, caches) in the environment.
    for argv in invocations:
        label = " ".join(argv)
        begin, cpu = time.monotonic(), _children_cpu()
        proc = _run_make(work, argv, helm, env)
        timings[label] = time.monotonic() - begin
        cpu_times[label] = _children_cpu() - cpu
        outputs[label] = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
        assert proc.returncode == 0, (
            f"make {label} failed ({proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-4000:]}"
        )
    timings["total"] = time.monotonic() - started
    cpu_times["total"] = sum(cpu_times.values())
    # Wall time depends on what else runs (pytest -n shares two cores); CPU time (user +
    # system of make and everything it ran) is the rehearsal's own cost.
    print(
        "rehearsal times (wall / CPU): "
        + ", ".join(f"{k} {v:.0f} s / {cpu_times.get(k, 0):.0f} s" for k, v in timings.items())
    )
    images = {
        u.key: f"localhost/{repo.spec['project']['name']}/{u.key}:{tag}"
        for u in repo.units_of("service")
    }
    try:
        _check_run(work, repo, outputs, committed_locks, cache)
        # The api's image, built by `make build` above: what tests/validators/service.py
        # checks of the images it builds (size, user, labels; the running container).
        for key, image in images.items():
            check_image(key, image)
            check_container(REFERENCE, key, image)
    finally:
        for image in images.values():
            podman("rmi", "-f", image, check=False)


def _check_run(
    work: Path,
    repo: RenderedRepo,
    outputs: dict[str, str],
    committed_locks: dict[str, bytes],
    cache: Path,
) -> None:
    """What the run must have done beyond exiting 0."""

    def of(target: str) -> str:
        return "\n".join(out for label, out in outputs.items() if target in label.split())

    lint, test = of("lint"), of("test")
    # helm lint ran (through the shim) for every chart and environment.
    for unit in repo.units_of("helm"):
        for env in repo.spec["promotion"]:
            assert f"helm lint {unit.key} ({env})" in lint, f"no helm lint of {unit.key} in {env}"
    charts = len(repo.units_of("helm")) * len(repo.spec["promotion"])
    assert lint.count("1 chart(s) linted, 0 chart(s) failed") == charts, lint[-3000:]
    # Every module and the bootstrap passed its own terraform tests (the only run of them:
    # tests/test_terraform_modules.py relies on it), on what was an empty plugin cache.
    modules = [p for p in (work / "infra" / "modules").iterdir() if p.is_dir() and p.name[0] != "."]
    passed = re.findall(r"^Success! (\d+) passed, 0 failed\.$", test, re.M)
    assert len(passed) == len(modules) + 1 and all(int(n) >= 1 for n in passed), test[-4000:]
    assert (cache / "registry.terraform.io" / "hashicorp" / "aws").is_dir()
    # -lockfile=readonly: exactly the committed providers; no lock file rewritten or added.
    assert _locks(work / "infra") == committed_locks
    # Each service's suite ran and passed; nothing of the database kit's ran (platformgen tests it).
    summaries = re.findall(r"^=+ (.*? in [\d.]+s.*?) =+$", test, re.M)
    suites = [s for s in summaries if " passed" in s]
    assert len(suites) == len(repo.units_of("service")), summaries
    assert "dbkit" not in test and "database/.venv" not in test, test[-3000:]
    assert not [s for s in suites if "failed" in s or "error" in s], suites
    for unit in repo.units_of("web"):
        assert (work / unit.dest / "dist" / "index.html").is_file(), f"{unit.key}: no dist/"


def test_the_helm_shim_lints_renders_and_refuses_the_rest(
    rendered: Rendered, tmp_path: Path
) -> None:
    """The shim fails where helm fails (a value the chart's schema refuses, a template error),
    and refuses what it does not implement instead of ignoring it."""
    repo = rendered(REFERENCE)
    helm = str(install_helm_shim(tmp_path / "bin"))
    chart = repo.root / "deploy" / "helm" / "api"
    values = [
        "-f",
        str(chart / "values-dev.yaml"),
        "-f",
        str(chart / "ci" / "platform-values.yaml"),
    ]

    def shim(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([helm, *args], capture_output=True, text=True, timeout=120)

    good = shim("lint", "--strict", str(chart), "--namespace", "api", *values)
    assert good.returncode == 0 and "1 chart(s) linted, 0 chart(s) failed" in good.stdout
    rendered_text = shim("template", "api", str(chart), "--namespace", "api", *values)
    assert rendered_text.returncode == 0 and "# Source: api/templates/" in rendered_text.stdout
    assert "kind: Deployment" in rendered_text.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("replicaCount: many\n")
    refused = shim("lint", "--strict", str(chart), "--namespace", "api", *values, "-f", str(bad))
    assert refused.returncode == 1 and "replicaCount" in refused.stdout, refused.stdout
    no_platform = shim("template", "api", str(chart), "-f", str(chart / "values-dev.yaml"))
    assert no_platform.returncode == 1 and "missing properties" in no_platform.stderr
    assert shim("upgrade", "--install", "api", str(chart)).returncode == 2
    assert shim("lint", str(chart), "--set", "a=b").returncode == 2
    assert shim("version", "--template", "{{ .Version }}").stdout.startswith("v4.")
