"""Read a rendered bitbucket-pipelines.yml as ordered Steps (see __init__.py).

Bitbucket runs the items of a pipeline in order: a `step`, a `parallel` group (its steps
listed in file order), or a `stage` (its steps in order, sharing the stage's `deployment` and
`trigger`). A step is approved by a person when it or its stage has `trigger: manual`.
Sections read:
  pipelines.pull-requests."**"            PULL_REQUEST
  pipelines.branches.<pipelines.branch>   DELIVER
  pipelines.custom.drift                  SCHEDULE (run by a schedule set in Bitbucket)
Anything else under `pipelines` is an error here, so a renamed or added section cannot go
unread by the rehearsal.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from . import DELIVER, PULL_REQUEST, SCHEDULE, Step, make_invocations

FILE = "bitbucket-pipelines.yml"
_ENV_ARG = re.compile(r"^ENV=(.+)$")


class BitbucketReadError(ValueError):
    """The file does not have the shape this reader (and the rehearsal) relies on."""


def load(repo: Path) -> dict[str, Any]:
    """The parsed file; {} when the repository renders no Bitbucket Pipelines."""
    path = repo / FILE
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict) or not isinstance(data.get("pipelines"), dict):
        raise BitbucketReadError(f"{FILE}: no `pipelines` mapping")
    return data


def read(repo: Path, spec: dict[str, Any]) -> list[Step]:
    """Every step of every pipeline of the rendered file, in the order Bitbucket runs them."""
    return [
        _step(body, trigger, where, stage) for trigger, where, body, stage in raw_steps(repo, spec)
    ]


def deployments(repo: Path, spec: dict[str, Any]) -> list[tuple[Step, str | None, bool]]:
    """Each step (as read()) with the deployment environment it runs in (its own or its
    stage's) and whether it has `oidc: true`."""
    return [
        (
            _step(body, trigger, where, stage),
            body.get("deployment", stage.get("deployment")),
            body.get("oidc") is True,
        )
        for trigger, where, body, stage in raw_steps(repo, spec)
    ]


def raw_steps(
    repo: Path, spec: dict[str, Any]
) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(trigger, where, step mapping, enclosing stage mapping or {}) in run order."""
    data = load(repo)
    if not data:
        return []
    branch = spec["pipelines"].get("branch", "main")
    sections: list[tuple[str, str, Any]] = []
    for key, value in data["pipelines"].items():
        if key == "pull-requests":
            _only(value, {"**"}, "pipelines.pull-requests")
            sections.append((PULL_REQUEST, "pipelines.pull-requests.'**'", value["**"]))
        elif key == "branches":
            _only(value, {branch}, "pipelines.branches")
            sections.append((DELIVER, f"pipelines.branches.{branch}", value[branch]))
        elif key == "custom":
            _only(value, {"drift"}, "pipelines.custom")
            sections.append((SCHEDULE, "pipelines.custom.drift", value["drift"]))
        else:
            raise BitbucketReadError(f"{FILE}: unexpected section pipelines.{key}")
    out: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
    for trigger, where, items in sections:
        if not isinstance(items, list) or not items:
            raise BitbucketReadError(f"{FILE}: {where} is not a list of items")
        for index, item in enumerate(items):
            out.extend(_item(item, trigger, f"{where}[{index}]", {}))
    return out


def _only(mapping: Any, keys: set[str], where: str) -> None:
    if not isinstance(mapping, dict) or set(mapping) != keys:
        found = sorted(mapping) if isinstance(mapping, dict) else mapping
        raise BitbucketReadError(f"{FILE}: {where} has {found}, expected exactly {sorted(keys)}")


def _item(
    item: Any, trigger: str, where: str, stage: dict[str, Any]
) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    if not isinstance(item, dict) or len(item) != 1:
        raise BitbucketReadError(f"{FILE}: {where} is not one step, parallel or stage")
    ((kind, body),) = item.items()
    if kind == "step":
        if not isinstance(body, dict):
            raise BitbucketReadError(f"{FILE}: {where} is not a step mapping")
        return [(trigger, where, body, stage)]
    if kind == "parallel" and not stage:
        members = body.get("steps") if isinstance(body, dict) else body
        if not isinstance(members, list):
            raise BitbucketReadError(f"{FILE}: {where}.parallel has no steps")
        return [
            s
            for i, m in enumerate(members)
            for s in _item(m, trigger, f"{where}.parallel[{i}]", stage)
        ]
    if kind == "stage" and not stage and isinstance(body, dict):
        return [
            s
            for i, m in enumerate(body.get("steps", []))
            for s in _item(m, trigger, f"{where}.stage[{i}]", body)
        ]
    raise BitbucketReadError(f"{FILE}: {where}: unexpected item {kind!r}")


def _step(body: dict[str, Any], trigger: str, where: str, stage: dict[str, Any]) -> Step:
    script = body.get("script")
    if not isinstance(script, list) or not script:
        raise BitbucketReadError(f"{FILE}: {where} is a step without a script")
    after = body.get("after-script", [])
    lines = [line for line in [*script, *after] if isinstance(line, str)]
    if len(lines) != len(script) + len(after):
        raise BitbucketReadError(f"{FILE}: {where} runs a pipe: every step runs make targets")
    make, other = make_invocations(lines)
    envs = {m[1] for argv in make for arg in argv if (m := _ENV_ARG.match(arg))}
    if len(envs) > 1:
        raise BitbucketReadError(f"{FILE}: {where} names several environments: {sorted(envs)}")
    name = str(body.get("name", where))
    return Step(
        system="bitbucket",
        source=f"{FILE}: {where} ({name})",
        trigger=trigger,
        name=name,
        make=make,
        environment=next(iter(envs), None),
        # A manual stage waits before its first step, so a person approves every step of it.
        approval=stage.get("trigger") == "manual" or body.get("trigger") == "manual",
        other=other,
    )
