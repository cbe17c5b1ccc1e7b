"""Read a rendered repository's GitHub Actions workflows as Steps (one per job).

`read(repo, spec)` returns every job of every workflow under .github/workflows/, each
workflow's jobs in a topological order of `needs` (jobs without an order between them keep
their order in the file), workflows in the order pull request, deliver, schedule. A job's
`run:` lines become its make invocations; its other lines (`uses:` steps, and any shell
line that is not make) are kept in `other`, so a check can refuse what it does not allow.

A job's environment is the spec environment its make invocations name (ENV=...). A job
needs an approval when it runs in the GitHub environment of a spec environment with
`approval`: GitHub holds it until one of that environment's required reviewers approves
(the reviewers are set on the repository, docs/runbooks/promotion.md). The `<env>-plan`
environment of a protected plan role is not an approval of a deploy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from . import DELIVER, PULL_REQUEST, SCHEDULE, Step, make_invocations

WORKFLOWS = Path(".github") / "workflows"
_ORDER = {PULL_REQUEST: 0, DELIVER: 1, SCHEDULE: 2}


class WorkflowError(ValueError):
    """A workflow the reader cannot order or classify; the message names the file and job."""


def _events(document: dict[Any, Any]) -> dict[str, Any]:
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    events = document.get("on", document.get(True))
    if isinstance(events, str):
        return {events: None}
    if isinstance(events, list):
        return dict.fromkeys(events)
    return dict(events or {})


def _trigger(path: Path, document: dict[Any, Any], spec: dict[str, Any]) -> str:
    events = _events(document)
    if "pull_request_target" in events:
        raise WorkflowError(f"{path}: pull_request_target runs fork code with the base's secrets")
    if "pull_request" in events:
        return PULL_REQUEST
    if "push" in events:
        branches = (events["push"] or {}).get("branches", [])
        if branches != [spec["pipelines"]["branch"]]:
            raise WorkflowError(
                f"{path}: push runs on {branches}, not the deploy branch "
                f"{spec['pipelines']['branch']!r}"
            )
        return DELIVER
    if "schedule" in events:
        return SCHEDULE
    raise WorkflowError(f"{path}: no pull_request, push or schedule trigger: {sorted(events)}")


def _needs(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def topological(path: Path, jobs: dict[str, dict[str, Any]]) -> list[str]:
    """Job ids so that each comes after every job it needs; file order breaks ties."""
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(jobs):
        ready = [
            name
            for name, job in jobs.items()
            if name not in done and all(n in done for n in _needs(job))
        ]
        if not ready:
            stuck = sorted(set(jobs) - done)
            unknown = {n for j in stuck for n in _needs(jobs[j])} - set(jobs)
            why = f"needs unknown jobs {sorted(unknown)}" if unknown else "a cycle of needs"
            raise WorkflowError(f"{path}: jobs {stuck} cannot run: {why}")
        order.append(ready[0])
        done.add(ready[0])
    return order


def _environment(job: dict[str, Any]) -> str | None:
    env = job.get("environment")
    return env.get("name") if isinstance(env, dict) else env


def read_workflow(path: Path, repo: Path, spec: dict[str, Any]) -> list[Step]:
    document = yaml.safe_load(path.read_text())
    trigger = _trigger(path.relative_to(repo), document, spec)
    jobs: dict[str, dict[str, Any]] = document["jobs"]
    steps = []
    for job_id in topological(path.relative_to(repo), jobs):
        job = jobs[job_id]
        runs: list[str] = []
        uses: list[str] = []
        for step in job.get("steps", []):
            if "run" in step:
                runs.append(step["run"])
            if "uses" in step:
                uses.append(f"uses: {step['uses']}")
        make, other = make_invocations(runs)
        named = {arg.split("=", 1)[1] for argv in make for arg in argv if arg.startswith("ENV=")}
        if len(named) > 1:
            raise WorkflowError(f"{path.relative_to(repo)}:{job_id} names several ENV: {named}")
        gate = _environment(job)
        approval = bool(
            gate in spec["environments"] and spec["environments"][gate].get("approval", False)
        )
        steps.append(
            Step(
                system="github",
                source=f"{path.relative_to(repo)}:{job_id}",
                trigger=trigger,
                name=job_id,
                make=make,
                environment=next(iter(named), None),
                approval=approval,
                other=(*uses, *other),
            )
        )
    return steps


def read(repo: Path, spec: dict[str, Any]) -> list[Step]:
    """Every job of every rendered workflow, as Steps (see the module's docstring)."""
    workflows = sorted((repo / WORKFLOWS).glob("*.yml")) + sorted((repo / WORKFLOWS).glob("*.yaml"))
    read_all = [read_workflow(path, repo, spec) for path in workflows]
    read_all.sort(key=lambda steps: _ORDER[steps[0].trigger] if steps else 3)
    return [step for steps in read_all for step in steps]
