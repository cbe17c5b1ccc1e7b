"""Validators of the `repo` area: the generated repository's root files."""

from __future__ import annotations

import subprocess

import yaml
from conftest import ROOT, run_cli

from generator.engine.templates import DEFAULT_TEMPLATE_URL, current_ref

from . import RenderedRepo, require, validator


@validator("repo")
def answers_files_record_version_and_stable_source(repo: RenderedRepo) -> None:
    assert repo.units, "no units rendered"
    for unit in repo.units:
        path = repo.root / unit.dest / f".copier-answers.{unit.area}.yml"
        data = yaml.safe_load(path.read_text())
        assert data["_commit"] == current_ref(), path
        assert data["_src_path"] == DEFAULT_TEMPLATE_URL, path
        assert data["area"] == unit.area and data["key"] == unit.key, path


@validator("repo")
def readme_lists_every_environment_and_app(repo: RenderedRepo) -> None:
    readme = (repo.root / "README.md").read_text()
    for name, env in repo.spec["environments"].items():
        assert f"| {name} | {env['tier']} | `{env['account']}` |" in readme
    for app in repo.spec["apps"]:
        assert f"| {app['name']} | {app['kind']}" in readme
    order = [readme.index(f"| {name} | ") for name in repo.spec["promotion"]]
    assert order == sorted(order), "environments are not listed in promotion order"


@validator("repo")
def editor_schema_is_the_platform_schema(repo: RenderedRepo) -> None:
    copy = repo.root / ".platformgen" / "platform.v1.schema.json"
    assert copy.read_bytes() == (ROOT / "schema" / "platform.v1.schema.json").read_bytes()


@validator("repo")
def makefile_targets_run(repo: RenderedRepo) -> None:
    make = require("make")
    out = subprocess.run([make, "help"], cwd=repo.root, capture_output=True, text=True, check=True)
    for target in ("platform-check", "platform-render", "platform-update", "platform-validate"):
        assert target in out.stdout
    dry = subprocess.run(
        [make, "-n", "platform-check"], cwd=repo.root, capture_output=True, text=True, check=True
    )
    assert f"platformgen=={current_ref().removeprefix('v')} platformgen check ." in dry.stdout
    for verb in ("lint", "test", "build", "plan", "apply", "deploy"):
        assert f"{verb} " in out.stdout, f"make help does not list {verb}"
    first_env = repo.spec["promotion"][0]
    ok = subprocess.run(
        [make, "-n", "plan", f"ENV={first_env}"], cwd=repo.root, capture_output=True
    )
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run(
        [make, "plan", "ENV=nowhere"], cwd=repo.root, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "set ENV to one of" in refused.stderr


@validator("repo")
def check_finds_no_drift(repo: RenderedRepo) -> None:
    proc = run_cli("check", repo.root)
    assert proc.returncode == 0, proc.stderr
