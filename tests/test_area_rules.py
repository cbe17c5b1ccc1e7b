"""generator/spec/area_rules.py against the templates each rule knows about.

Each rule states a fact about an area's templates; these tests read the templates (or
render them) and fail when the fact and the templates disagree.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import REFERENCE_DIR, REFERENCE_SPEC, ROOT
from support.tools import tool_venv_bin
from validators.names import env_root_plan

from generator.engine.operations import new
from generator.spec import area_rules, load_spec_text

SERVICE = ROOT / "templates" / "service"
PACKAGE = SERVICE / "src" / "{{ key | replace('-', '_') }}"
DATABASE_MODULE = ROOT / "templates" / "terraform" / "infra" / "modules" / "database" / "main.tf"


def test_service_when_is_areas_yml() -> None:
    areas = yaml.safe_load((ROOT / "templates" / "areas.yml").read_text())
    service = next(a for a in areas if a["name"] == "service")
    assert service["when"] == area_rules.SERVICE_WHEN
    for kind in ("api", "web", "worker"):
        for database in (True, False):
            app = {"kind": kind, "database": database}
            assert area_rules.renders_service(app) == (kind == "api" and database)


def test_service_columns_are_the_first_migrations() -> None:
    migration = next((PACKAGE / "migrations" / "versions").glob("0001_*"))
    fixed = re.findall(r'sa\.Column\("([a-z_]+)"', migration.read_text())
    assert tuple(sorted(fixed)) == tuple(sorted(area_rules.SERVICE_COLUMNS))


def test_service_auth_settings_are_what_config_requires() -> None:
    config = (PACKAGE / "config.py").read_text()
    required = re.search(r"for name, value in \(\((.*?)\)\):", config)
    assert required, "config.py no longer lists the required AUTH settings: update area_rules"
    assert tuple(re.findall(r'"([A-Z_]+)"', required[1])) == area_rules.SERVICE_AUTH_SETTINGS
    assert f'reader.flag("{area_rules.SERVICE_AUTH_DEV_MODE}")' in config


def test_service_import_names_are_its_installed_packages() -> None:
    """.tool-venvs/service holds exactly the service's locked packages (a test keeps
    tools/service.txt equal to the locks); its top-level modules are what an app's
    package must not shadow."""
    python = tool_venv_bin("service", "python")
    script = (
        "import importlib.metadata as m, json\n"
        "out = set()\n"
        "for d in m.distributions():\n"
        "    for f in d.files or []:\n"
        "        top = f.parts[0]\n"
        "        if top.endswith(('.dist-info', '.data', '.pth')) or top in ('..', '__pycache__'):\n"
        "            continue\n"
        "        out.add(top.removesuffix('.py').split('.')[0])\n"
        "print(json.dumps(sorted(out)))\n"
    )
    found = json.loads(
        subprocess.run([python, "-c", script], capture_output=True, text=True, check=True).stdout
    )
    importable = {n for n in found if n.isidentifier() and not n.startswith("_")}
    assert importable == set(area_rules.SERVICE_IMPORT_NAMES)


def test_service_test_modules_are_its_tests_folder() -> None:
    stems = {p.name.split(".")[0] for p in (SERVICE / "tests").iterdir() if ".py" in p.name}
    assert not (SERVICE / "tests" / "__init__.py").exists()
    assert {"tests", *stems} == set(area_rules.SERVICE_TEST_MODULES)


@pytest.mark.parametrize(
    ("name", "kind", "why"),
    [
        ("email", "api", "standard library"),
        ("json", "worker", "standard library"),
        ("flask", "api", "depends on"),
        ("jwt", "api", "depends on"),
        ("pytest", "api", "depends on"),
        ("samples", "api", "tests"),
        ("class", "api", "keyword"),
        ("match", "worker", "keyword"),
    ],
)
def test_app_names_that_shadow_a_module_are_refused(name: str, kind: str, why: str) -> None:
    text = REFERENCE_SPEC.read_text().replace(
        "  - name: api\n    kind: api", f"  - name: {name}\n    kind: {kind}"
    )
    result = load_spec_text(text)
    found = [d for d in result.errors if d.code == "semantic.name"]
    assert len(found) == 1 and why in found[0].message, result.errors
    assert text.splitlines()[found[0].line - 1].strip() == f"- name: {name}"


def test_web_apps_may_take_module_names() -> None:
    """A static web app has no Python package."""
    text = REFERENCE_SPEC.read_text().replace("  - name: web\n", "  - name: email\n")
    assert load_spec_text(text).ok


def test_managed_database_parameters_are_the_modules() -> None:
    text = DATABASE_MODULE.read_text()
    block = re.search(r"enforced_parameters = \{(.*?)\}", text, re.S)
    assert block
    enforced = set(re.findall(r"^\s*([a-z_]+)\s*=", block[1], re.M))
    last = set(re.findall(r"\{ ([a-z_]+) = \"[^\"]+\" \},\n  \)", text))
    assert enforced | last == set(area_rules.MANAGED_DB_PARAMETERS)


def test_database_parameter_table_is_the_modules() -> None:
    """The spec check reads the table modules/database applies parameters by, and the
    table knows every parameter the platform itself sets."""
    text = DATABASE_MODULE.read_text()
    table = area_rules.MYSQL_PARAMETER_TABLE.removeprefix(
        "templates/terraform/infra/modules/database/"
    )
    assert f'file("${{path.module}}/{table}")' in text
    types = area_rules.mysql_parameter_types()
    assert set(area_rules.MANAGED_DB_PARAMETERS) <= set(types)
    assert set(types.values()) == {"dynamic", "static"}


def test_unknown_database_parameters_are_warned_about() -> None:
    text = REFERENCE_SPEC.read_text().replace(
        "    long_query_time: 1\n", "    long_query_time: 1\n    innodb_frobnicate: 2\n"
    )
    result = load_spec_text(text)
    assert result.ok
    found = [d for d in result.diagnostics if d.code == "semantic.database-parameter-apply"]
    assert [d.path for d in found] == ["database.parameters.innodb_frobnicate"]
    assert text.splitlines()[found[0].line - 1].strip().startswith("innodb_frobnicate:")
    assert "pending-reboot" in found[0].message and "mysql-parameters.json" in found[0].fix


def test_mysql_upgrade_runbook_is_rendered() -> None:
    runbook = REFERENCE_DIR / "repo" / area_rules.MYSQL_UPGRADE_RUNBOOK
    assert "Blue/Green" in runbook.read_text()
    finding = next(
        d
        for d in load_spec_text(REFERENCE_SPEC.read_text()).diagnostics
        if d.code == "policy.mysql-80-support"
    )
    assert area_rules.MYSQL_UPGRADE_RUNBOOK in finding.fix


def _files_containing(root: Path, needle: str) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.parts and needle in p.read_text(errors="ignore")
    }


def test_only_public_apps_and_services_use_their_path(tmp_path: Path) -> None:
    """routes_path: the terraform-env area routes public apps' paths; the service area
    serves an api's resource under its path; nothing else reads a path (the README and
    the architecture page only show it)."""
    spec = tmp_path / "platform.yaml"
    spec.write_text(
        "apiVersion: platformgen/v1\n"
        "project: {name: paths, organisation: org, domain: paths.example.com, region: eu-west-1}\n"
        "environments:\n  dev: {account: '123456789012', vpcCidr: 10.0.0.0/16}\n"
        "apps:\n"
        "  - {name: admin, kind: web, hosting: container, public: false, path: /zzignored}\n"
        "  - {name: backend, kind: api, path: /zzserved,"
        " environments: {dev: {env: {AUTH_DEV_MODE: 'true'}}}}\n"
        "  - {name: web, kind: web, path: /zzpublic}\n"
        "database: {version: '8.4'}\n"
    )
    result = load_spec_text(spec.read_text())
    assert [d.path for d in result.warnings if d.code == "semantic.path-ignored"] == [
        "apps[0].path"
    ]
    repo = tmp_path / "repo"
    new(spec, repo)
    # Data, not use: the answers files and tfvars carry every app's resolved settings.
    data = {p for p in _files_containing(repo, "/zz") if ".copier-answers." in p}
    data |= {"infra/envs/dev/platform.auto.tfvars.json", "platform.yaml"}
    documentation = {"README.md", "docs/architecture.md", "docs/architecture.svg"}
    assert _files_containing(repo, "/zzignored") - data - documentation == set()
    served = _files_containing(repo, "/zzserved")
    assert any(p.endswith("/service.json") for p in served), served
    # Terraform's own evaluation: only the public app's path reaches the plan.
    plan = json.dumps(
        env_root_plan(repo / "infra" / "envs" / "dev", "123456789012", "eu-west-1", None)
    )
    assert "/zzpublic" in plan and "/zzignored" not in plan and "/zzserved" not in plan


def test_github_bake_limit_is_the_deliver_workflows_timeout(tmp_path: Path) -> None:
    """GITHUB_EXECUTOR_MINUTES is the executors' build timeouts plus the margin deliver.yml
    adds, and the longest bake the rule allows renders a job of exactly GitHub's limit."""
    executors = (
        ROOT / "templates" / "terraform" / "infra" / "modules" / "executors" / "variables.tf"
    ).read_text()
    defaults = {
        name: int(value)
        for name, value in re.findall(
            r'variable "(\w+_timeout_minutes)" \{.*?default\s*=\s*(\d+)', executors, re.DOTALL
        )
    }
    assert defaults == {"apply_timeout_minutes": 120, "deploy_timeout_minutes": 30}
    assert sum(defaults.values()) + 20 == area_rules.GITHUB_EXECUTOR_MINUTES
    text = (
        "apiVersion: platformgen/v1\n"
        "project: {name: bake, organisation: org, domain: bake.example.com, region: eu-west-1}\n"
        "environments:\n"
        f"  dev: {{account: '123456789012', vpcCidr: 10.0.0.0/16, bakeMinutes: {area_rules.GITHUB_BAKE_MAX}}}\n"
        "  prod: {account: '223456789012', vpcCidr: 10.1.0.0/16}\n"
        "apps:\n  - {name: worker, kind: worker}\n"
        "pipelines: {providers: [github]}\n"
    )
    assert load_spec_text(text).ok
    over = text.replace(
        f"bakeMinutes: {area_rules.GITHUB_BAKE_MAX}",
        f"bakeMinutes: {area_rules.GITHUB_BAKE_MAX + 1}",
    )
    assert [d.code for d in load_spec_text(over).errors] == ["area.github-bake-too-long"]
    elsewhere = over.replace(
        "providers: [github]", "providers: [github, codepipeline], deliver: codepipeline"
    )
    assert "area.github-bake-too-long" not in [d.code for d in load_spec_text(elsewhere).errors]
    spec = tmp_path / "platform.yaml"
    spec.write_text(text)
    new(spec, tmp_path / "repo")
    deliver = yaml.safe_load(
        (tmp_path / "repo" / ".github" / "workflows" / "deliver.yml").read_text()
    )
    assert deliver["jobs"]["deploy-dev"]["timeout-minutes"] == area_rules.GITHUB_JOB_MINUTES
    assert deliver["jobs"]["deploy-prod"]["timeout-minutes"] == area_rules.GITHUB_EXECUTOR_MINUTES
