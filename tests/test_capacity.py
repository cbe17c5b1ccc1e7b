"""The capacity and connection checks' tables and formulas (generator/spec/capacity.py)."""

from __future__ import annotations

import copy
import json
import shutil

import pytest
from conftest import REFERENCE_SPEC, ROOT

from generator.spec import capacity, load_spec


def test_allocatable_follows_the_eks_ami_formulas() -> None:
    # eni-max-pods.txt: m6i.large 29, t3.large 35, m7i.xlarge 58.
    assert {t: capacity.allocatable(t).pods for t in ("m6i.large", "t3.large", "m7i.xlarge")} == {
        "m6i.large": 29,
        "t3.large": 35,
        "m7i.xlarge": 58,
    }
    # kube-reserved CPU: 60m + 10m for two cores; 60 + 10 + 5 + 5 for four.
    assert capacity.allocatable("m6i.large").cpu_m == 1930
    assert capacity.allocatable("m7i.xlarge").cpu_m == 3920
    assert capacity.kube_reserved_cpu_m(16) == 60 + 10 + 10 + 30
    # 8 GiB less 7.5%, less 11 MiB x 29 pods + 255 MiB, less the 100 MiB eviction threshold.
    assert capacity.allocatable("m6i.large").memory_mib == 7577 - (11 * 29 + 255) - 100
    assert capacity.allocatable("z9.large") is None


def test_max_connections_is_class_memory_over_12582880() -> None:
    # 4 GiB less 10%, over 12582880: 307 (RDS reports about 312 for db.t4g.medium).
    assert capacity.max_connections("db.t4g.medium") == 307
    assert capacity.max_connections("db.r6g.large") == 1228
    # Small classes keep at least 384 MiB: db.t4g.micro (1 GiB) admits 53.
    assert capacity.max_connections("db.t4g.micro") == (1024**3 - 384 * 1024**2) // 12582880
    assert capacity.max_connections("db.x9.large") is None


def _reference() -> dict:
    result = load_spec(REFERENCE_SPEC)
    assert result.resolved is not None
    return copy.deepcopy(result.resolved)


def test_reference_prod_fits_its_twelve_nodes_and_not_three() -> None:
    resolved = _reference()
    assert resolved["environments"]["prod"]["cluster"]["maxNodes"] == 12
    assert not capacity.fit(resolved, "prod").unplaced
    resolved["environments"]["prod"]["cluster"]["maxNodes"] = 3
    unplaced = capacity.fit(resolved, "prod").unplaced
    assert unplaced and {p.what for p in unplaced} >= {"api"}


@pytest.mark.parametrize("provider", ["cloudwatch", "datadog"])
def test_daemonsets_take_their_share_of_every_node(provider: str) -> None:
    resolved = _reference()
    resolved["observability"]["provider"] = provider
    with_agents = capacity.fit(resolved, "prod")
    resolved["observability"]["provider"] = "none"
    without = capacity.fit(resolved, "prod")
    agents = capacity.OBSERVABILITY_DAEMONSETS[provider]
    assert with_agents.demand_cpu_m - without.demand_cpu_m == 12 * sum(
        c for c, _ in agents.values()
    )


def test_connections_count_workers_pools_surge_and_the_migration_job() -> None:
    resolved = _reference()
    # prod: 12 replicas + 6 surge + 1 migration Job; 2 workers x (5 + 2).
    assert capacity.peak_connections(resolved, "prod") == [("api", 19, 14)]
    api = next(a for a in resolved["apps"] if a["name"] == "api")
    api["environments"]["prod"]["env"].update(
        {"WEB_CONCURRENCY": "4", "DATABASE_POOL_SIZE": "10", "DATABASE_MAX_OVERFLOW": "0"}
    )
    assert capacity.peak_connections(resolved, "prod") == [("api", 19, 40)]


def test_the_model_reads_what_the_templates_set() -> None:
    """Surge, pool sizes and add-on requests are the templates' own numbers."""
    import re

    import yaml
    from conftest import ROOT

    values = yaml.safe_load((ROOT / "templates/helm/values.yaml").read_text())
    assert values["rollout"]["maxSurge"] == f"{round(capacity.ROLLOUT_SURGE * 100)}%"
    config = next((ROOT / "templates/service/src").glob("*/config.py")).read_text()
    assert f'"DATABASE_POOL_SIZE", {capacity.POOL_SIZE_DEFAULT},' in config
    assert f'"DATABASE_MAX_OVERFLOW", {capacity.MAX_OVERFLOW_DEFAULT},' in config
    addons = ROOT / "templates/terraform/infra/addons"
    for name in ("aws-load-balancer-controller", "external-secrets", "metrics-server", "karpenter"):
        replicas, cpu, memory = capacity.ADDONS[name]
        text = (addons / f"{name}.values.yaml").read_text()
        data = yaml.safe_load(re.sub(r"\{\{.*?\}\}", "x", text))
        block = data.get("controller", data) if name == "karpenter" else data
        assert data.get("replicaCount", data.get("replicas")) == replicas, name
        assert block["resources"]["requests"] == {"cpu": f"{cpu}m", "memory": f"{memory}Mi"}, name


_MANY_APPS = (
    "apiVersion: platformgen/v1\n"
    "project: {name: many, organisation: org, domain: many.example.com, region: eu-west-1}\n"
    "environments:\n"
    "  prod: {account: '123456789013', vpcCidr: 10.1.0.0/16%s}\n"
    "apps:\n" + "".join(f"  - {{name: app{i}, kind: worker}}\n" for i in range(8))
)


def test_an_unwritten_max_nodes_grows_to_the_peak_and_a_written_one_is_judged(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    spec = tmp_path / "platform.yaml"
    spec.write_text(_MANY_APPS % "")
    result = load_spec(spec)
    assert result.ok, result.errors
    cluster = result.resolved["environments"]["prod"]["cluster"]
    # 3 x minNodes (9) holds less than eight workers at their peak: the default grows.
    assert cluster["maxNodes"] > 3 * cluster["minNodes"]
    assert capacity.nodes_needed(result.resolved, "prod") == cluster["maxNodes"]
    assert not capacity.fit(result.resolved, "prod").unplaced
    smaller = copy.deepcopy(result.resolved)
    smaller["environments"]["prod"]["cluster"]["maxNodes"] -= 1
    assert capacity.fit(smaller, "prod").unplaced, "the default is the smallest that fits"

    spec.write_text(_MANY_APPS % ", cluster: {maxNodes: 9}")
    written = load_spec(spec)
    assert [(d.code, d.line) for d in written.errors] == [("capacity.fit", 4)]


def test_the_spec_check_and_the_database_alarm_agree_on_max_connections(
    terraform,  # type: ignore[no-untyped-def]
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    """capacity.connections (generator) and the connections alarm (the database module's
    capacity.tf, evaluated by Terraform itself) read the same max_connections per class."""
    module = tmp_path / "m"
    module.mkdir()
    source = ROOT / "templates" / "terraform" / "infra" / "modules" / "database" / "capacity.tf"
    shutil.copy(source, module / "capacity.tf")
    (module / "stub.tf").write_text(
        'variable "instance_class" { type = string }\n'
        'variable "parameters" {\n  type    = map(string)\n  default = {}\n}\n'
        'variable "max_connections_alarm" {\n  type    = number\n  default = null\n}\n'
        'variable "allocated_storage_gb" {\n  type    = number\n  default = 20\n}\n'
        'variable "max_allocated_storage_gb" {\n  type    = number\n  default = 20\n}\n'
        'output "max_connections" { value = local.default_max_connections }\n'
    )
    classes = sorted(capacity.db_classes())
    root = (
        'module "class" {\n  for_each       = toset(CLASSES)\n  source         = "./m"\n'
        "  instance_class = each.key\n}\n"
        'output "max_connections" {\n'
        "  value = { for k, m in module.class : k => m.max_connections }\n}\n"
    )
    (tmp_path / "main.tf").write_text(root.replace("CLASSES", json.dumps(classes)))
    assert terraform.init(tmp_path).ok
    applied = terraform.run(["apply", "-auto-approve", "-input=false", "-no-color"], tmp_path)
    assert applied.ok, applied.describe()
    out = terraform.run(["output", "-json", "max_connections"], tmp_path)
    by_terraform = json.loads(out.stdout)
    assert by_terraform == {c: capacity.max_connections(c) for c in classes}
    assert by_terraform["db.t4g.medium"] == 307


def test_an_unwritten_database_class_grows_to_the_apps_pools() -> None:
    reference = _reference()
    env = reference["environments"]["staging"]
    env["database"]["instanceClass"] = "db.t4g.medium"
    peaks = capacity.peak_connections(reference, "staging")
    total = sum(pods * each for _, pods, each in peaks)
    chosen = capacity.class_needed(reference, "staging")
    limit = capacity.max_connections(chosen)
    assert chosen.startswith("db.t4g.") and total <= limit * (1 - capacity.CONNECTION_HEADROOM)
    # Three copies of the apps need more than db.t4g.medium: the next class that holds them.
    reference["apps"] = reference["apps"] * 3
    bigger = capacity.class_needed(reference, "staging")
    assert bigger != "db.t4g.medium" and bigger.startswith("db.t4g.")
    smaller_classes = [
        c
        for c, info in capacity.db_classes().items()
        if c.startswith("db.t4g.")
        and capacity.db_classes()["db.t4g.medium"]["memoryGiB"]
        <= info["memoryGiB"]
        < capacity.db_classes()[bigger]["memoryGiB"]
    ]
    triple = 3 * total
    assert all(
        triple > capacity.max_connections(c) * (1 - capacity.CONNECTION_HEADROOM)
        for c in smaller_classes
    )
