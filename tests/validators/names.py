"""The naming table (generator/spec/naming.py) against the names the templates render.

The templates build names in HCL and Helm; validation predicts them in Python. These
validators prove the two agree, for every spec of the matrix:

- Terraform: `terraform test -verbose -json` plans every environment root, and the
  bootstrap once per environment, with a mock provider that has the environment's
  account, region and zones. The plan is Terraform's own evaluation of every name
  expression. Every name attribute in it must be a name the table predicts for that
  root, and every name the table predicts must be in it.
- The same mocked plans show what each environment gets: its interface VPC endpoints
  exactly when the spec's `interfaceEndpoints` is on (all seven services), none otherwise,
  and the S3 gateway endpoint always.
- infra/artifacts is planned once, in the artifacts account and the project's region.
- The backend file of each environment, and infra/artifacts', names the table's state bucket.
- Helm: every object, namespace, release and label value of every chart, rendered for
  every environment, is one the table predicts.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from generator.spec.naming import RULES, GeneratedName, artifacts_account, generated_names

from . import RenderedRepo, validator
from .helm import charts
from .terraform import toolchain

# Attributes that carry a name in a plan (nested blocks with dots). A resource type with
# one of these set to a known string must be in the table.
NAME_ATTRIBUTES = (
    "name",
    "name_prefix",
    "bucket",
    "identifier",
    "final_snapshot_identifier",
    "node_group_name",
    "alarm_name",
    "domain_name",
    "db_name",
    "username",
    "url",
    "namespace",
    "service_account",
    "visibility_config.metric_name",
    "rule.visibility_config.metric_name",
    "rule.name",
    "vpc_origin_endpoint_config.name",
    "replication_instance_id",
    "replication_subnet_group_id",
    "endpoint_id",
    "replication_task_id",
    "resource_identifier",
    "certificate_id",
)
# Attributes above that hold a reference to something named elsewhere, not a new name.
NOT_NAMES = {
    ("aws_cloudwatch_metric_alarm", "namespace"),  # the metric's namespace, e.g. AWS/RDS
    ("aws_guardduty_detector_feature", "name"),  # a protection plan, e.g. S3_DATA_EVENTS
    ("aws_dms_replication_instance", "replication_subnet_group_id"),  # the group, named there
}

_EPHEMERAL = re.compile(
    r'\nephemeral "aws_secretsmanager_random_password" "database_master" \{.*?\n\}\n', re.S
)


def _values(node: Any, path: list[str]) -> Iterable[str]:
    if isinstance(node, list):
        for item in node:
            yield from _values(item, path)
        return
    if not path:
        if isinstance(node, str):
            yield node
        return
    if isinstance(node, dict):
        yield from _values(node.get(path[0]), path[1:])


def plan_names(plan: dict[str, Any]) -> dict[str, set[str]]:
    """'type.attribute' -> the names a plan's resources carry there."""
    out: dict[str, set[str]] = defaultdict(set)
    for change in plan["resource_changes"]:
        after = change["change"].get("after") or {}
        for attribute in NAME_ATTRIBUTES:
            if (change["type"], attribute) in NOT_NAMES:
                continue
            for value in _values(after, attribute.split(".")):
                out[f"{change['type']}.{attribute}"].add(value)
    return dict(out)


def table_names(names: Iterable[GeneratedName]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for name in names:
        for resource in name.rule.resources:
            if ":" not in resource:
                out[resource].add(name.value)
    return dict(out)


def compare(where: str, rendered: dict[str, set[str]], predicted: dict[str, set[str]]) -> list[str]:
    problems = []
    for key in sorted(rendered.keys() | predicted.keys()):
        extra = sorted(rendered.get(key, set()) - predicted.get(key, set()))
        missing = sorted(predicted.get(key, set()) - rendered.get(key, set()))
        if extra:
            problems.append(f"{where}: {key} renders {extra}, which naming.py does not predict")
        if missing:
            problems.append(f"{where}: naming.py predicts {key} {missing}, which is not rendered")
    return problems


INTERFACE_ENDPOINTS = {
    "ecr.api",
    "ecr.dkr",
    "sts",
    "secretsmanager",
    "logs",
    "kms",
    "eks-auth",
    "codebuild",
}


def endpoint_problems(env: str, wanted: bool, plan: dict[str, Any]) -> list[str]:
    """The environment plans every interface endpoint when `wanted`, none otherwise."""
    endpoints = [c for c in plan["resource_changes"] if c["type"] == "aws_vpc_endpoint"]
    interface = {
        str(c["index"])
        for c in endpoints
        if c["change"]["after"]["vpc_endpoint_type"] == "Interface"
    }
    gateway = [
        c
        for c in endpoints
        if c["change"]["after"]["vpc_endpoint_type"] == "Gateway"
        and str(c["change"]["after"]["service_name"]).endswith(".s3")
    ]
    problems = []
    if interface != (INTERFACE_ENDPOINTS if wanted else set()):
        problems.append(
            f"envs/{env}: interfaceEndpoints is {wanted}, the plan has interface endpoints "
            f"{sorted(interface)}"
        )
    if len(gateway) != 1:
        problems.append(f"envs/{env}: the plan has {len(gateway)} S3 gateway endpoints, not 1")
    return problems


def _mock_providers(account: str, region: str, dr_region: str) -> str:
    zones = ", ".join(f'"{region}{z}"' for z in "abc")
    blocks = []
    for alias, provider_region in (("", region), ("us_east_1", "us-east-1"), ("dr", dr_region)):
        blocks.append(
            'mock_provider "aws" {\n'
            + (f'  alias  = "{alias}"\n' if alias else "")
            + '  source = "../../modules/.mocks"\n'
            + f'  mock_data "aws_caller_identity" {{\n    defaults = {{ account_id = "{account}" }}\n  }}\n'
            + f'  mock_data "aws_region" {{\n    defaults = {{ name = "{provider_region}" }}\n  }}\n'
            + f'  mock_data "aws_availability_zones" {{\n    defaults = {{ names = [{zones}] }}\n  }}\n'
            + "}\n"
        )
    return "".join(blocks)


def _plans(result_stdout: str) -> dict[str, dict[str, Any]]:
    plans = {}
    for line in result_stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "test_plan":
            plans[message["@testrun"]] = message["test_plan"]
    return plans


def _run_test(root: Path, test_file: str) -> dict[str, dict[str, Any]]:
    tf = toolchain()
    (root / "tests").mkdir(exist_ok=True)
    (root / "tests" / "names.tftest.hcl").write_text(test_file)
    init = tf.init(root)
    assert init.ok, init.describe()
    # Only this file: the bootstrap has its own tests (tests/bootstrap.tftest.hcl).
    result = tf.run(
        ["test", "-verbose", "-json", "-no-color", "-filter=tests/names.tftest.hcl"], root
    )
    assert result.ok, result.describe()[-4000:]
    return _plans(result.stdout)


def env_root_plan(root: Path, account: str, region: str, dr_region: str | None) -> dict[str, Any]:
    """A mocked plan of one environment root.

    Mock providers have no ephemeral resources, and the one ephemeral resource (the
    replicas' master password) names nothing: the copy drops it and passes a literal
    password instead."""
    main = root / "main.tf"
    text, count = _EPHEMERAL.subn("\n", main.read_text())
    assert count == 1, "main.tf no longer has the ephemeral master password: update this test"
    main.write_text(text)
    # DigitalOcean's CA is the customer's file (spec migration.source.caCertificate), not
    # rendered: the migration's target environment gets a stand-in PEM.
    (root / "zz_names_override.tf").write_text(
        'module "database" {\n  master_password = "names-test-password"\n}\n'
        'locals {\n  migration_ca_pem = "-----BEGIN CERTIFICATE-----\\nMIIB\\n'
        '-----END CERTIFICATE-----\\n"\n}\n'
    )
    test = (
        _mock_providers(account, region, dr_region or region)
        + 'run "names" {\n  command = plan\n}\n'
    )
    return _run_test(root, test)["names"]


def _per_environment_plans(root: Path, spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A root applied once per environment (-var environment=<env>): the bootstrap, and
    infra/backup in the backup account."""
    test = 'mock_provider "aws" {\n  source = "../modules/.mocks"\n}\n' + "".join(
        f'run "{env}" {{\n  command = plan\n  variables {{\n    environment = "{env}"\n  }}\n}}\n'
        for env in spec["environments"]
    )
    return _run_test(root, test)


def artifacts_plan(root: Path, account: str, region: str) -> dict[str, Any]:
    """A mocked plan of infra/artifacts, in the artifacts account and the project's region."""
    test = (
        'mock_provider "aws" {\n  source = "../modules/.mocks"\n'
        f'  mock_data "aws_caller_identity" {{\n    defaults = {{ account_id = "{account}" }}\n  }}\n'
        f'  mock_data "aws_region" {{\n    defaults = {{ name = "{region}" }}\n  }}\n'
        "}\n"
        'run "names" {\n  command = plan\n}\n'
    )
    return _run_test(root, test)["names"]


def _infra_copy(repo: RenderedRepo) -> Path:
    target = Path(tempfile.mkdtemp(prefix=f"platformgen-names-{repo.name}-")) / "infra"
    shutil.copytree(repo.root / "infra", target)
    return target


@validator("terraform-env")
def terraform_names_are_the_naming_tables(repo: RenderedRepo) -> None:
    names = generated_names(repo.spec, rendered_only=True)
    infra = _infra_copy(repo)
    problems: list[str] = []
    try:
        envs = repo.spec["environments"]
        with ThreadPoolExecutor(max_workers=2) as pool:
            bootstrap = pool.submit(_per_environment_plans, infra / "bootstrap", repo.spec)
            has_backup_root = (infra / "backup").is_dir()
            backup = (
                pool.submit(_per_environment_plans, infra / "backup", repo.spec)
                if has_backup_root
                else None
            )
            plans = dict(
                zip(
                    envs,
                    pool.map(
                        lambda env: env_root_plan(
                            infra / "envs" / env,
                            envs[env]["account"],
                            envs[env]["region"],
                            repo.spec.get("backup", {}).get("region"),
                        ),
                        envs,
                    ),
                    strict=True,
                )
            )
            artifacts = artifacts_plan(
                infra / "artifacts",
                artifacts_account(repo.spec),
                repo.spec["project"]["region"],
            )
            bootstrap_plans = bootstrap.result()
            backup_plans = backup.result() if backup is not None else {}
        for env, plan in plans.items():
            predicted = [
                n
                for n in names
                if n.env in (env, None) and n.rule.root not in ("bootstrap", "backup", "artifacts")
            ]
            problems += compare(f"envs/{env}", plan_names(plan), table_names(predicted))
            problems += endpoint_problems(env, envs[env]["interfaceEndpoints"], plan)
        for env, plan in bootstrap_plans.items():
            predicted = [n for n in names if n.env == env and n.rule.root == "bootstrap"]
            problems += compare(f"bootstrap ({env})", plan_names(plan), table_names(predicted))
        predicted = [n for n in names if n.rule.root == "artifacts"]
        problems += compare("artifacts", plan_names(artifacts), table_names(predicted))
        # infra/backup is rendered exactly when the table predicts backup-account names.
        expected_backup = any(n.rule.root == "backup" for n in names)
        assert has_backup_root == expected_backup, (has_backup_root, expected_backup)
        for env, plan in backup_plans.items():
            predicted = [n for n in names if n.env == env and n.rule.root == "backup"]
            problems += compare(f"backup ({env})", plan_names(plan), table_names(predicted))
    finally:
        shutil.rmtree(infra.parent, ignore_errors=True)
    assert not problems, "\n".join(problems)


@validator("terraform-env")
def backend_files_name_the_state_bucket(repo: RenderedRepo) -> None:
    names = generated_names(repo.spec, rendered_only=True)
    backup_root = repo.root / "infra" / "backup"
    for env in repo.spec["environments"]:
        files = {"env": repo.root / "infra" / "envs" / env / "backend.tfbackend"}
        if backup_root.is_dir():
            files["backup"] = backup_root / f"{env}.tfbackend"
        for root, file in files.items():
            bucket = re.search(r'^bucket\s*=\s*"([^"]+)"', file.read_text(), re.M)
            assert bucket, f"{file} names no bucket"
            predicted = {
                n.value
                for n in names
                if n.env == env
                and "backend:bucket" in n.rule.resources
                and (n.rule.root == "backup") == (root == "backup")
            }
            assert predicted == {bucket[1]}, (env, root, predicted, bucket[1])
    file = repo.root / "infra" / "artifacts" / "artifacts.tfbackend"
    bucket = re.search(r'^bucket\s*=\s*"([^"]+)"', file.read_text(), re.M)
    assert bucket, f"{file} names no bucket"
    predicted = {
        n.value
        for n in names
        if n.rule.root == "artifacts" and "backend:bucket" in n.rule.resources
    }
    assert predicted == {bucket[1]}, ("artifacts", predicted, bucket[1])


_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/part-of",
    "helm.sh/chart",
)


@validator("helm")
def kubernetes_names_are_the_naming_tables(repo: RenderedRepo) -> None:
    names = generated_names(repo.spec, rendered_only=True)

    def predicted(app: str, resource: str) -> set[str]:
        return {n.value for n in names if n.app in (app, None) and resource in n.rule.resources}

    for chart in charts(repo):
        app = chart.app["name"]
        objects, namespaces, labels = (
            predicted(app, "k8s:object"),
            predicted(app, "k8s:namespace"),
            predicted(app, "k8s:label"),
        )
        namespace = yaml.safe_load((chart.path / "namespace.yaml").read_text())
        assert {namespace["metadata"]["name"]} == namespaces, (app, namespaces)
        assert namespace["metadata"]["labels"]["app.kubernetes.io/part-of"] in labels
        makefile = (chart.path / "platform.mk").read_text()
        releases = set(re.findall(r"(?:helm|\$\(HELM\)) upgrade --install (\S+)", makefile))
        assert releases == predicted(app, "k8s:release"), (app, releases)
        for env, render in chart.renders.items():
            for manifest in render.manifests:
                meta = manifest["metadata"]
                where = f"{app} ({env}): {manifest['kind']}/{meta['name']}"
                assert meta["name"] in objects, f"{where}: name not predicted by naming.py"
                assert meta.get("namespace", app) in namespaces, where
                for label in _LABELS:
                    value = meta.get("labels", {}).get(label)
                    assert value is None or value in labels, f"{where}: label {label}={value}"


def unused_rules() -> list[str]:
    """Rendered rules with no resource to check them against (for tests/test_naming.py)."""
    return [r.id for r in RULES if r.rendered and not r.resources and r.root != "none"]
