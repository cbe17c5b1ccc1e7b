"""One rule says which CI system runs the daily drift check (templates/_shared/delivery.jinja,
drift_system), and everything that depends on it agrees, for every pipelines shape:

- the drift.yml file name (copier file-name condition) imports the same macro: drift.yml
  renders exactly when the rule says github (the Bitbucket template's `drift` custom pipeline
  calls the macro in its body);
- the rule names a listed system that can assume the plan roles (github or bitbucket, never
  codepipeline): the delivering one when it can, else the repository's host when listed;
- the spec check semantic.no-drift-check warns exactly when the rule names none.
The rendered files of the matrix (large: codepipeline delivers, Bitbucket hosts) are checked
by tests/validators/pipelines*.py and the rehearsal (tests/test_pipeline_rehearsal.py).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml
from support.pipelines.drift import ROOT, _environment, drift_system

from generator.spec import load_spec_text

WORKFLOWS = ROOT / "templates" / "pipelines" / ".github" / "workflows"
BASE = """\
apiVersion: platformgen/v1
project: {name: shipit, organisation: org, domain: shipit.example.com, region: eu-west-1}
environments:
  dev: {account: "111111111111", vpcCidr: 10.1.0.0/16}
apps: [{name: worker, kind: worker}]
"""
SYSTEMS = ("github", "bitbucket", "codepipeline")


def _shapes() -> list[dict[str, object]]:
    shapes = []
    for n in (1, 2, 3):
        for providers in itertools.permutations(SYSTEMS, n):
            for deliver in (None, *providers):
                for host in (None, "github", "bitbucket"):
                    pipelines: dict[str, object] = {"providers": list(providers)}
                    if deliver:
                        pipelines["deliver"] = deliver
                    if host:
                        pipelines["repositoryHost"] = host
                    shapes.append(pipelines)
    return shapes


SHAPES = _shapes()


def _drift_file_name() -> str:
    (name,) = [p.name for p in WORKFLOWS.iterdir() if "drift.yml" in p.name]
    return name.removesuffix(".jinja")


@pytest.mark.parametrize(
    "pipelines", SHAPES, ids=lambda p: yaml.safe_dump(p, default_flow_style=True).strip()
)
def test_one_drift_system_for_every_shape(pipelines: dict[str, object]) -> None:
    providers = pipelines["providers"]
    assert isinstance(providers, list)
    system = drift_system({"pipelines": pipelines})
    hosts = [p for p in ("github", "bitbucket") if p in providers]
    deliver = pipelines.get("deliver", providers[0])
    if deliver in hosts:
        assert system == deliver
    elif not hosts:
        assert system is None
    else:
        assert system in hosts
        if pipelines.get("repositoryHost") in hosts:
            assert system == pipelines["repositoryHost"]

    name = _environment().from_string(_drift_file_name()).render(spec={"pipelines": pipelines})
    assert name == ("drift.yml" if system == "github" else ""), name

    result = load_spec_text(BASE + yaml.safe_dump({"pipelines": pipelines}), "platform.yaml")
    codes = {d.code for d in result.diagnostics}
    assert ("semantic.no-drift-check" in codes) == (system is None), codes
    if result.resolved is not None:
        assert drift_system(result.resolved) == system, "the resolver's defaults change nothing"


def test_the_shapes_cover_codepipeline_delivering_to_each_host() -> None:
    seen = {
        (drift_system({"pipelines": p}), p.get("repositoryHost"))
        for p in SHAPES
        if p.get("deliver") == "codepipeline"
    }
    assert {("github", "github"), ("bitbucket", "bitbucket"), (None, "github")} <= seen


def test_the_file_name_fits_a_file_system() -> None:
    assert len(_drift_file_name().encode()) + len(".jinja") <= 255
    assert Path(WORKFLOWS / (_drift_file_name() + ".jinja")).exists()
