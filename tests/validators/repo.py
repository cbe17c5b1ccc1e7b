"""Validators of the `repo` area: the generated repository's root files."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import yaml
from conftest import ROOT, run_cli

from generator.engine.templates import DEFAULT_TEMPLATE_URL, current_ref

from . import RenderedRepo, nonempty, require, validator


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
    # platformgen from the hashed lock (ADR 0017), at the version the answers files record.
    assert ".platformgen/.venv/bin/platformgen check ." in dry.stdout, dry.stdout
    assert f"platformgen-{current_ref().removeprefix('v')}-py3-none-any.whl" in dry.stdout
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


ADR_CITE = re.compile(r"\bADR (\d{4})\b")
MD_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@validator("repo")
def every_citation_resolves_inside_the_repo(repo: RenderedRepo) -> None:
    """A reader of the generated repo can follow every reference it makes: each `ADR NNNN`
    is one of its own ADRs, each `docs/contracts.md` exists, and each relative Markdown
    link points at a file of the repo (platformgen's own docs are not in it)."""
    adrs = {p.name[:4] for p in repo.root.rglob("docs/adr/[0-9][0-9][0-9][0-9]-*.md")}
    files = [p for p in repo.root.rglob("*") if p.is_file() and ".git" not in p.parts]
    problems = []
    for path in files:
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        rel = path.relative_to(repo.root)
        for number in ADR_CITE.findall(text):
            if number not in adrs:
                problems.append(f"{rel}: cites ADR {number}, which this repo does not carry")
        if "docs/contracts.md" in text and not (repo.root / "docs" / "contracts.md").is_file():
            problems.append(f"{rel}: cites docs/contracts.md, which was not rendered")
        if path.suffix == ".md":
            for target in MD_LINK.findall(text):
                if "://" in target or target.startswith("mailto:"):
                    continue
                if not (path.parent / target).exists():
                    problems.append(f"{rel}: links to {target}, which does not exist")
    assert nonempty(files, "files") and not problems, "\n".join(problems)


def _ignored(gitignore: str, paths: list[str], workdir: Path) -> set[str]:
    """Which of `paths` git would ignore under this .gitignore (git check-ignore, in a
    scratch repository: the rendered tree is not one)."""
    git = require("git")
    (workdir / ".gitignore").write_text(gitignore)
    subprocess.run([git, "init", "-q", str(workdir)], check=True)
    proc = subprocess.run(
        [git, "-C", str(workdir), "check-ignore", "--no-index", *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return set(proc.stdout.split())


@validator(
    "repo",
    when=lambda spec: "migration" in spec and spec["migration"]["source"]["tls"] != "required",
)
def digitalocean_ca_is_committed_not_ignored(repo: RenderedRepo) -> None:
    """The generated .gitignore ignores *.pem (keys), but DigitalOcean's CA must be committed:
    DMS verifies the source with it and `make plan` stops while it is missing."""
    ca = repo.spec["migration"]["source"]["caCertificate"]
    with tempfile.TemporaryDirectory() as scratch:
        ignored = _ignored(
            (repo.root / ".gitignore").read_text(),
            [ca, "private-key.pem", "x/other.pem"],
            Path(scratch),
        )
    assert ca not in ignored, f"{ca} (the CA DMS verifies DigitalOcean with) is git-ignored"
    assert ignored == {"private-key.pem", "x/other.pem"}, (
        f"other .pem files must stay ignored: {ignored}"
    )


@validator("repo")
def every_make_target_has_one_recipe(repo: RenderedRepo) -> None:
    """No two included makefiles define one target: GNU make then keeps only the last recipe
    (with a warning nobody reads), so one area's target silently runs another's."""
    require("make")
    proc = subprocess.run(
        ["make", "-pRrnq", "help"], cwd=repo.root, capture_output=True, text=True, check=False
    )
    clashes = [
        line
        for line in proc.stderr.splitlines()
        if "overriding recipe" in line or "ignoring old recipe" in line
    ]
    assert not clashes, "targets defined twice:\n" + "\n".join(clashes)
