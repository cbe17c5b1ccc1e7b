"""The pipeline rehearsal's checks: a rendered repository's CI steps against its Makefile and spec.

tests/test_pipeline_rehearsal.py runs them on every spec of the matrix, and proves each on
a fixture of Steps that breaks one rule at a time. Each check returns a list of problems
(empty when the steps are right), each naming the system, the file or job, and the rule,
so one failing spec reports everything wrong with it at once.

The rules are docs/contracts.md's "Delivery" and the pipelines plan of issue 13:
- every invoked target exists in the generated Makefile (make's own database, `make -pRrq`),
  is documented (`make help`), and `make -n` accepts the invocation as written;
- pull requests, on every system: lint, test, build, platform-check, and one
  `plan ENV=<e>` per environment in a step of that environment (not on CodePipeline: see
  NO_PULL_REQUEST_PLANS); nothing publishes, deploys or changes an environment;
- deliver, only on the system `pipelines.deliver` names: build, publish, bundle, then per
  environment in `promotion` order: execute STAGE=apply, execute STAGE=deploy, bake, with
  an approval before the environment's first step exactly where `environments.<e>.approval`
  (set-up and check targets, such as tools or lint, may come between; no other build,
  publish or deploy may);
- schedule, on the drift system (the delivering one, or the repository's host when
  CodePipeline delivers: it cannot assume the plan roles): `infra-drift ENV=<e>` once per
  environment, and no other system schedules anything;
- no other shell line of any step runs a deploying tool (terraform, helm, kubectl, aws,
  cosign, docker, podman, ...): nothing deploys any other way.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .pipelines import DELIVER, PULL_REQUEST, SCHEDULE, TRIGGERS, Step
from .pipelines.drift import drift_system

SYSTEMS = ("github", "bitbucket", "codepipeline")
# What every pull request runs, besides one plan per environment.
PULL_REQUEST_TARGETS = ("lint", "test", "build", "platform-check")
# Targets that publish, deploy or change an environment: the delivering system's deliver
# steps only. A target is also deploying when it matches DEPLOYING_PATTERN (the parts'
# own deploy and publish targets, e.g. helm-api-deploy, web-web-publish).
DEPLOYING_TARGETS = frozenset(
    {"publish", "bundle", "execute", "bake", "apply", "deploy", "addons", "platform-render",
     "platform-update", "executor-tools"}
)  # fmt: skip
DEPLOYING_PATTERN = re.compile(
    r"^(infra-(apply|addons|bootstrap|backup|artifacts|init|outputs|addon-charts)"
    r"|.*-(deploy|publish|namespace|migrate|apply))$"
)
# A shell line that calls one of these is doing a make target's work outside make.
TOOLS = ("terraform", "helm", "kubectl", "aws", "cosign", "syft", "docker", "podman",
         "skopeo", "eksctl", "crane", "oras")  # fmt: skip
TOOL_CALL = re.compile(rf"(^|[;&|(`]|\$\()\s*(sudo\s+)?({'|'.join(TOOLS)})(\s|$)")


def load_reader(system: str, package: str = "support.pipelines") -> ModuleType | None:
    """The reader module of `system`, or None when it does not exist (yet)."""
    name = f"{package}.{system}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def read_all(
    repo: Path, spec: dict[str, Any], package: str = "support.pipelines"
) -> tuple[dict[str, list[Step]], list[str]]:
    """Every provider's steps, and a problem for each provider without a reader."""
    steps: dict[str, list[Step]] = {}
    problems: list[str] = []
    for system in spec["pipelines"]["providers"]:
        reader = load_reader(system, package)
        if reader is None:
            problems.append(
                f"{system}: pipelines.providers lists it, but it has no reader "
                f"(tests/support/pipelines/{system}.py with read(repo, spec) -> list[Step])"
            )
            continue
        steps[system] = list(reader.read(repo, spec))
        if not steps[system]:
            problems.append(f"{system}: the reader found no steps in the rendered files")
    return steps, problems


# --- what make says ---------------------------------------------------------------------------


def make_env() -> dict[str, str]:
    """The caller's environment without make's own: a pytest run from `make test` must not
    hand its jobserver or flags to the generated repository's make."""
    return {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}


@dataclass(frozen=True)
class MakeFacts:
    """What the generated repository's make knows: its targets, and those `make help` lists."""

    root: Path
    targets: frozenset[str]
    documented: frozenset[str]
    _dry_runs: dict[tuple[str, ...], subprocess.CompletedProcess[str]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(cls, root: Path) -> MakeFacts:
        database = _make(root, "-pRrq")
        targets: set[str] = set()
        skip = False
        for line in database.stdout.splitlines():
            if line.startswith("# Not a target:"):
                skip = True
                continue
            match = re.match(r"^([A-Za-z0-9_.%/+-]+)::?(\s|$)", line)
            if match and not skip:
                targets.add(match.group(1))
            skip = False
        assert "help" in targets, f"make -pRrq listed no help target:\n{database.stderr[-2000:]}"
        helped = _make(root, "help")
        assert helped.returncode == 0, helped.stderr
        documented = {line.split()[0] for line in helped.stdout.splitlines() if line.strip()}
        return cls(root, frozenset(targets), frozenset(documented))

    def dry_run(self, argv: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        """`make -n argv`, once per invocation."""
        if argv not in self._dry_runs:
            self._dry_runs[argv] = _make(self.root, "-n", *argv)
        return self._dry_runs[argv]


def _make(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=make_env(),
        timeout=120,
    )


# --- the checks -------------------------------------------------------------------------------


def variables(argv: tuple[str, ...]) -> dict[str, str]:
    return dict(arg.split("=", 1) for arg in argv if "=" in arg and not arg.startswith("-"))


def units(step: Step) -> list[str]:
    """Each target the step runs, as `target` or `target ENV=<e> STAGE=<s>` (the variables
    that say where and what), in order."""
    out = []
    for argv in step.make:
        where = variables(argv)
        suffix = "".join(f" {k}={where[k]}" for k in ("ENV", "STAGE") if k in where)
        out += [t + suffix for t in argv if "=" not in t and not t.startswith("-")]
    return out


def _where(step: Step) -> str:
    return f"{step.system}: {step.source} ({step.name})"


def check_targets(steps: Iterable[Step], make: MakeFacts) -> list[str]:
    """Every invocation names targets the Makefile has and documents, and make accepts it."""
    problems = []
    seen: set[tuple[str, ...]] = set()
    for step in steps:
        for argv in step.make:
            options = [a for a in argv if a.startswith("-")]
            if options:
                problems.append(f"{_where(step)}: `make {shlex.join(argv)}` passes make options")
            for target in (a for a in argv if "=" not in a and not a.startswith("-")):
                if target not in make.targets:
                    problems.append(
                        f"{_where(step)}: `make {target}`: the Makefile has no such target"
                    )
                elif target not in make.documented:
                    problems.append(
                        f"{_where(step)}: `make {target}` has no `## help` line (make help)"
                    )
            if argv in seen or options:
                continue
            seen.add(argv)
            dry = make.dry_run(argv)
            if dry.returncode != 0:
                problems.append(
                    f"{_where(step)}: `make -n {shlex.join(argv)}` fails: {dry.stderr.strip()[-500:]}"
                )
    return problems


def check_triggers(steps: Iterable[Step]) -> list[str]:
    return [
        f"{_where(s)}: unknown trigger {s.trigger!r}" for s in steps if s.trigger not in TRIGGERS
    ]


def deploying(target: str) -> bool:
    return target in DEPLOYING_TARGETS or bool(DEPLOYING_PATTERN.match(target))


# Systems whose pull-request checks cannot plan, and why: the plan roles trust only GitHub's
# and Bitbucket's OIDC tokens (and a plan CodeBuild project in the environment's own
# account), never the artifacts account where CodePipeline's checks run (infra ADR 0011).
# Such a system must run no plan at all; the plans of that spec come from its other systems.
NO_PULL_REQUEST_PLANS = {"codepipeline": "the plan roles do not trust the artifacts account"}


def check_pull_request(system: str, steps: list[Step], spec: dict[str, Any]) -> list[str]:
    """lint, test, build, platform-check and one plan per environment; nothing deploys."""
    problems = []
    pr = [s for s in steps if s.trigger == PULL_REQUEST]
    ran = [u for s in pr for u in units(s)]
    for target in PULL_REQUEST_TARGETS:
        if target not in ran:
            problems.append(f"{system}: pull requests never run `make {target}`")
    expected_plans = 0 if system in NO_PULL_REQUEST_PLANS else 1
    for env in spec["environments"]:
        plans = [
            s for s in pr for argv in s.make if "plan" in argv and variables(argv).get("ENV") == env
        ]
        if len(plans) != expected_plans:
            problems.append(
                f"{system}: pull requests run `make plan ENV={env}` {len(plans)} times "
                f"({'once is right' if expected_plans else NO_PULL_REQUEST_PLANS[system]})"
            )
        for step in plans:
            if step.environment != env:
                problems.append(
                    f"{_where(step)}: plans {env} but is a step of environment {step.environment!r}"
                )
    for step in pr:
        for argv in step.make:
            if "plan" in argv and variables(argv).get("ENV") not in spec["environments"]:
                problems.append(f"{_where(step)}: `make {shlex.join(argv)}` names no environment")
    for step in (s for s in steps if s.trigger in (PULL_REQUEST, SCHEDULE)):
        for target in step.targets():
            if deploying(target):
                problems.append(
                    f"{_where(step)}: `make {target}` on {step.trigger}: only the deliver "
                    "steps of the delivering system publish or deploy"
                )
    return problems


def expected_delivery(spec: dict[str, Any]) -> list[str]:
    out = ["build", "publish", "bundle"]
    for env in spec["promotion"]:
        out += [
            f"execute ENV={env} STAGE=apply",
            f"execute ENV={env} STAGE=deploy",
            f"bake ENV={env}",
        ]
    return out


def check_deliver(system: str, steps: list[Step], spec: dict[str, Any]) -> list[str]:
    """The delivering system runs the promotion exactly, with approvals where configured;
    every other system delivers nothing."""
    deliver = [s for s in steps if s.trigger == DELIVER]
    if system != spec["pipelines"]["deliver"]:
        return [
            f"{_where(s)}: runs on merges, but {spec['pipelines']['deliver']} delivers "
            "(pipelines.deliver): this system only checks pull requests"
            for s in deliver
        ]
    problems = []
    # The build and everything that publishes or deploys, in order; set-up (tools,
    # credentials) and checks (lint, test) may come between.
    ran = [
        u for s in deliver for u in units(s) if u.split()[0] == "build" or deploying(u.split()[0])
    ]
    want = expected_delivery(spec)
    if ran != want:
        problems.append(
            f"{system}: merges to {spec['pipelines']['branch']} run, in order,\n    "
            + "\n    ".join(ran or ["(nothing)"])
            + "\n  instead of\n    "
            + "\n    ".join(want)
        )
    for step in deliver:
        envs = {variables(argv).get("ENV") for argv in step.make} - {None}
        if len(envs) > 1 or (envs and step.environment not in envs):
            problems.append(
                f"{_where(step)}: a step of environment {step.environment!r} runs make for {sorted(envs)}"
            )
    for env in spec["promotion"]:
        own = [s for s in deliver if s.environment == env]
        if not own:
            continue  # reported above: the order lacks its steps
        wanted = bool(spec["environments"][env].get("approval"))
        if own[0].approval != wanted:
            problems.append(
                f"{_where(own[0])}: {env} "
                + ("needs an approval before it (environments.{0}.approval is true)" if wanted
                   else "must not wait for an approval (environments.{0}.approval is false)").format(env)
            )  # fmt: skip
        if not wanted and any(s.approval for s in own):
            problems.append(f"{system}: a step of {env} waits for an approval it does not have")
    for step in deliver:
        if step.approval and step.environment not in spec["environments"]:
            problems.append(f"{_where(step)}: an approval outside any environment's steps")
    return problems


def check_drift(system: str, steps: list[Step], spec: dict[str, Any]) -> list[str]:
    """The drift system (templates/_shared/delivery.jinja, drift_system: the delivering
    system, or the repository's host when CodePipeline delivers) looks for drift in every
    environment, on a schedule; no other system schedules anything."""
    scheduled = [u for s in steps if s.trigger == SCHEDULE for u in units(s)]
    if system != drift_system(spec):
        return [f"{system}: it schedules {scheduled}, but the drift check runs on "
                f"{drift_system(spec)}"] if scheduled else []  # fmt: skip
    return [
        f"{system}: the schedule runs `make infra-drift ENV={env}` "
        f"{scheduled.count(f'infra-drift ENV={env}')} times (once is right)"
        for env in spec["environments"]
        if scheduled.count(f"infra-drift ENV={env}") != 1
    ]


def check_other_lines(steps: Iterable[Step]) -> list[str]:
    """Lines that are not make may set up (checkout, credentials, artifacts) but never run
    the tools the make targets wrap."""
    return [
        f"{_where(s)}: `{line}` runs a deploy tool outside make: make a target of it"
        for s in steps
        for line in s.other
        if TOOL_CALL.search(line)
    ]


def check_all(steps: dict[str, list[Step]], spec: dict[str, Any], make: MakeFacts) -> list[str]:
    problems = []
    for system, own in steps.items():
        problems += check_triggers(own)
        problems += check_targets(own, make)
        problems += check_pull_request(system, own, spec)
        problems += check_deliver(system, own, spec)
        problems += check_drift(system, own, spec)
        problems += check_other_lines(own)
    deliverer = spec["pipelines"]["deliver"]
    if deliverer in steps and not any(s.trigger == DELIVER for s in steps[deliverer]):
        problems.append(f"{deliverer}: pipelines.deliver names it, but it has no deliver steps")
    return problems
