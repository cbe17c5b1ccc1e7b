"""Validators of the developer loop of a generated repository (repo area): compose.yaml,
`make up`/`make down`, the `make test` that starts its own database, `make tools`, tools
run through $(HELM)/$(TERRAFORM)/$(KUBECTL), platformgen from a hashed lock, Renovate and
pre-commit. tests/test_local_stack.py runs the generated `make test` for real.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import yaml
from support.renovate import unmatched_pins, validate
from support.tools import tool_venv_bin

from . import RenderedRepo, nonempty, require, validator

REFERENCE = "getprospa"
TOOLS = ("helm", "terraform", "kubectl")


def _has_database(spec: dict) -> bool:
    return "database" in spec


def _no_database(spec: dict) -> bool:
    return "database" not in spec


def _make(
    repo: RenderedRepo, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TEST_DATABASE", "DBKIT_TEST", "MAKE"))
    }
    return subprocess.run(
        [require("make"), *args],
        cwd=repo.root,
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=300,
    )


def _targets(repo: RenderedRepo) -> set[str]:
    """Every target the generated Makefile defines, as make itself reads them."""
    proc = _make(repo, "-pRrq", ":")
    return {m.group(1) for m in re.finditer(r"^([A-Za-z0-9_.%/-]+):(?!=)", proc.stdout, re.M)}


def _makefiles(root: Path) -> list[Path]:
    return sorted(
        p
        for p in [*root.rglob("Makefile"), *root.rglob("*.mk")]
        if not any(part in {".venv", "node_modules", ".terraform"} for part in p.parts)
    )


def _recipe_lines(path: Path) -> list[tuple[int, str]]:
    """The recipe lines of a makefile (tab-led, with their continuation lines)."""
    out, continued = [], False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("\t") or continued:
            out.append((number, line))
            continued = line.rstrip().endswith("\\")
        else:
            continued = False
    return out


# A tool in command position: at the start of a recipe line (after @ and -), or after
# a shell separator, a pipe, a subshell or `then`/`do`.
BARE_TOOL = re.compile(
    rf"(?:^[\t ]*[@-]*|[;&|(`][\t ]*|\b(?:then|do|else)[\t ]+)({'|'.join(TOOLS)})(?=[\t ]|$)"
)


def bare_tool_calls(root: Path) -> list[str]:
    """Recipe lines that run helm, terraform or kubectl by name instead of $(HELM) etc."""
    found = []
    for path in _makefiles(root):
        for number, line in _recipe_lines(path):
            if BARE_TOOL.search(line):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


@validator("repo")
def recipes_run_tools_through_variables(repo: RenderedRepo) -> None:
    """Every recipe runs $(HELM), $(TERRAFORM), $(KUBECTL): a shim or a pinned copy can be swapped in."""
    assert not bare_tool_calls(repo.root), "\n".join(bare_tool_calls(repo.root))
    dry = _make(repo, "-n", "lint", "test-targets", "HELM=/shim/helm", "TERRAFORM=/shim/terraform")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    for tool in ("helm", "terraform"):
        if any(re.search(rf"\b{tool} (lint|template|validate|test|fmt)\b", line) for line in lines):
            assert any(f"/shim/{tool}" in line for line in lines), (
                f"make lint test ignores {tool.upper()}="
            )


@validator("repo")
def make_tools_installs_pinned_verified_terraform_and_helm(repo: RenderedRepo) -> None:
    dry = _make(repo, "-n", "tools")
    assert dry.returncode == 0, dry.stderr
    assert "bash delivery/install-tools.sh terraform helm" in dry.stdout, dry.stdout
    assert f"TOOLS_BIN_DIR={repo.root}/.tools/bin" in dry.stdout, dry.stdout
    # The targets that need a tool name its pinned version when it is missing.
    pins = dict(
        line.split("=", 1)
        for line in (repo.root / "delivery/tools.versions").read_text().splitlines()
        if re.match(r"^[A-Z]", line)
    )
    proc = _make(repo, "tool-helm", "HELM=/nonexistent/helm")
    assert proc.returncode != 0 and f"helm {pins['HELM_VERSION']} is required" in proc.stderr, (
        proc.stderr
    )
    assert "make tools" in proc.stderr, proc.stderr
    proc = _make(repo, "tool-terraform", "TERRAFORM=/nonexistent/terraform")
    assert (
        proc.returncode != 0 and f"terraform {pins['TERRAFORM_VERSION']} is required" in proc.stderr
    )


@validator("repo")
def platformgen_installs_from_a_hashed_lock_only(repo: RenderedRepo) -> None:
    """No `pipx run`, no unpinned install: platformgen comes from .platformgen/requirements.lock."""
    offenders = []
    for path in repo.root.rglob("*"):
        if not path.is_file() or ".git" in path.parts:
            continue
        text = path.read_text(errors="replace")
        if "pipx" in text:
            offenders.append(f"{path.relative_to(repo.root)}: names pipx")
        if path.name in {"Makefile", "Dockerfile"} or path.suffix in {
            ".mk",
            ".sh",
            ".yml",
            ".yaml",
        }:
            # One command per logical line (comments dropped, backslash continuations joined).
            code = "\n".join(
                line for line in text.splitlines() if not line.lstrip().startswith("#")
            )
            for command in re.findall(r"pip3? install[^\n]*", re.sub(r"\\\n\s*", " ", code)):
                if "--require-hashes" not in command:
                    offenders.append(f"{path.relative_to(repo.root)}: {command}")
    assert not offenders, "unpinned installs:\n" + "\n".join(offenders)
    dry = _make(repo, "-n", "platform-validate")
    assert "--require-hashes --no-deps" in dry.stdout and "--only-binary :all:" in dry.stdout, (
        dry.stdout
    )
    missing = _make(repo, "platform-validate")
    assert (
        missing.returncode == 2 and "make platformgen-lock PLATFORMGEN_WHEEL_URL=" in missing.stderr
    )
    bad = _make(
        repo, "platformgen-lock", "PLATFORMGEN_WHEEL_URL=http://example.com/platformgen.whl"
    )
    assert bad.returncode == 2 and "https:// URL of platformgen-" in bad.stderr, bad.stderr
    assert not (repo.root / ".platformgen/requirements.in").exists()


@validator("repo", when=_has_database)
def compose_file_is_valid_pinned_and_private(repo: RenderedRepo) -> None:
    compose = repo.root / "compose.yaml"
    proc = subprocess.run(
        [
            str(tool_venv_bin("ci-files", "check-jsonschema")),
            "--builtin-schema",
            "vendor.compose-spec",
            str(compose),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = yaml.safe_load(compose.read_text())
    minor = ".".join(str(repo.spec["database"]["version"]).split(".")[:2])
    db = data["services"]["db"]
    assert re.fullmatch(
        rf"\$\{{MYSQL_IMAGE:-docker\.io/library/mysql:{re.escape(minor)}@sha256:[0-9a-f]{{64}}\}}",
        db["image"],
    ), db["image"]
    assert "mysqladmin ping" in " ".join(db["healthcheck"]["test"])
    assert db["environment"]["MYSQL_DATABASE"] == repo.spec["database"]["name"]
    for name, service in data["services"].items():
        # Every image is built here from this repository, or pinned by digest.
        image = re.sub(r"^\$\{[A-Z][A-Z0-9_]*:-(.*)\}$", r"\1", service["image"])
        built = any(
            "build" in s and s["image"] == service["image"] for s in data["services"].values()
        )
        assert built or re.search(r"@sha256:[0-9a-f]{64}$", image), (
            f"{name}: {image} is not pinned by digest"
        )
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
        for key, value in service.get("environment", {}).items():
            if "PASSWORD" in key:
                assert str(value).startswith("${"), f"{name}: {key} is written into compose.yaml"
    apis = [a for a in repo.spec["apps"] if a["kind"] == "api" and a.get("database")]
    for app in apis:
        migrate, serve = data["services"][f"{app['name']}-migrate"], data["services"][app["name"]]
        assert migrate["build"]["context"] == f"services/{app['name']}"
        assert (
            migrate["command"] == ["migrate"]
            and migrate["depends_on"]["db"]["condition"] == "service_healthy"
        )
        assert serve["environment"]["DATABASE_HOST"] == "db"
        assert serve["environment"]["DATABASE_NAME"] == repo.spec["database"]["name"]
        assert (
            serve["depends_on"][f"{app['name']}-migrate"]["condition"]
            == "service_completed_successfully"
        )
        assert serve["read_only"] is True and serve["cap_drop"] == ["ALL"]


@validator("repo", when=_has_database)
def make_test_starts_a_database_only_when_none_is_named(repo: RenderedRepo) -> None:
    own = _make(repo, "-n", "test")
    assert own.returncode == 0, own.stderr
    assert re.search(
        r"^bash local/compose.sh test \S*make --no-print-directory test-targets$", own.stdout, re.M
    ), own.stdout
    named = _make(
        repo, "-n", "test", env={"TEST_DATABASE_URL": "mysql+pymysql://u:p@127.0.0.1:3306/"}
    )
    assert named.returncode == 0 and "compose.sh" not in named.stdout, named.stdout
    for target in (
        "up",
        "down",
        "test",
        "test-targets",
        "tools",
        "renovate-check",
        "platformgen-lock",
    ):
        assert target in _targets(repo), f"make {target} is missing"
    # The database kit's tests run in platformgen (tests/test_dbkit_kit.py): make test creates
    # no databases for them and sets no DSN for them.
    assert not (repo.root / "local" / "initdb").exists()
    for path in ("local/compose.sh", "compose.yaml", "Makefile", "local/platform.mk"):
        text = (repo.root / path).read_text()
        assert "DBKIT_TEST" not in text and "dbkit_source" not in text, (
            f"{path} still serves dbkit's tests"
        )
    check = subprocess.run(
        [require("shellcheck"), "-x", "local/compose.sh"],
        cwd=repo.root,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout


@validator("repo", when=_no_database)
def without_a_database_make_test_starts_nothing(repo: RenderedRepo) -> None:
    assert not (repo.root / "compose.yaml").exists() and not (repo.root / "local").exists()
    dry = _make(repo, "-n", "test")
    assert dry.returncode == 0 and "compose" not in dry.stdout, dry.stdout


@validator("repo", only=(REFERENCE,))
def renovate_config_passes_renovates_own_validator(repo: RenderedRepo) -> None:
    """renovate.json is the same bytes for every spec (a static template file): checked once."""
    proc = validate(repo.root / "renovate.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Config validated successfully" in proc.stdout + proc.stderr


@validator("repo")
def renovate_sees_every_pin(repo: RenderedRepo) -> None:
    missing, count = unmatched_pins(repo.root, repo.root / "renovate.json")
    assert count > 10, f"only {count} pins found: the pin scanner is broken"
    assert not missing, "Renovate's managers extract none of:\n" + "\n".join(missing)


@validator("repo")
def pre_commit_hooks_are_local_make_targets(repo: RenderedRepo) -> None:
    config = yaml.safe_load((repo.root / ".pre-commit-config.yaml").read_text())
    targets = _targets(repo)
    hooks = nonempty([h for r in config["repos"] for h in r["hooks"]], "pre-commit hooks")
    assert all(r["repo"] == "local" for r in config["repos"]), "a hook repository is not local"
    for hook in hooks:
        assert hook["language"] == "system" and hook["pass_filenames"] is False, hook
        words = hook["entry"].split()
        assert words[0] == "make" and len(words) == 2, (
            f"{hook['id']}: {hook['entry']} is not one make target"
        )
        assert words[1] in targets, f"{hook['id']}: make {words[1]} does not exist"
    linted = {h["entry"].split()[1] for h in hooks}
    dry = _make(repo, "-n", "lint")
    for app in repo.spec["apps"]:
        if app.get("hosting") == "container":
            assert f"helm-{app['name']}-lint" in linted
    assert dry.returncode == 0, dry.stderr
