"""The capacity and connection checks' tables and formulas (generator/spec/capacity.py)."""

from __future__ import annotations

import copy

import pytest
from conftest import REFERENCE_SPEC

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
    assert capacity.max_connections("db.t4g.medium") == 341
    assert capacity.max_connections("db.r6g.large") == 1365
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
