"""infra/addons: the charts pinned by digest, their values, and Karpenter's NodePools.

- every environment's NodePool and EC2NodeClass validate against Karpenter's vendored
  CRDs (tests/data/crds) and say what the spec says (instance types, capacity type,
  maxNodes - minNodes, the node role modules/karpenter creates);
- their subnet and security group selectors match the Name tags modules/network and
  modules/cluster set, read from the rendered modules;
- the values files of metrics-server and Karpenter use only keys their charts document,
  with the same types (tests/data/charts), and versions.mk pins both by version and digest;
- `make -n addons` pulls and checks the charts before it installs anything.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from conftest import ROOT
from support.helm import validate_manifest

from generator.spec import naming

from . import RenderedRepo, require, validator

CHARTS = ROOT / "tests" / "data" / "charts"
DIGESTED = {"karpenter": "KARPENTER", "metrics-server": "METRICS_SERVER"}


def _pins(repo: RenderedRepo) -> dict[str, str]:
    text = (repo.root / "infra" / "addons" / "versions.mk").read_text()
    return dict(re.findall(r"^([A-Z_]+) := (\S+)$", text, re.M))


def _nodepool(repo: RenderedRepo, env: str) -> dict[str, dict[str, Any]]:
    path = repo.root / "infra" / "addons" / f"karpenter-{env}.yaml"
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return {d["kind"]: d for d in docs}


def _name(rule_id: str, spec: dict[str, Any], env: str) -> str:
    names = {g.value for g in naming.generated_names(spec) if g.rule.id == rule_id and g.env == env}
    assert len(names) == 1, (rule_id, env, names)
    return names.pop()


@validator("terraform")
def karpenter_nodepools_validate_and_follow_the_spec(repo: RenderedRepo) -> None:
    spec = repo.spec
    for env_name, env in spec["environments"].items():
        kinds = _nodepool(repo, env_name)
        assert sorted(kinds) == ["EC2NodeClass", "NodePool"], kinds
        for manifest in kinds.values():
            validate_manifest(manifest, spec["kubernetes"]["version"])
        node_class, pool = kinds["EC2NodeClass"]["spec"], kinds["NodePool"]["spec"]
        cluster = env["cluster"]
        assert node_class["role"] == _name("karpenter-node-role", spec, env_name)
        assert re.fullmatch(r"al2023@v\d{8}", node_class["amiSelectorTerms"][0]["alias"])
        assert node_class["metadataOptions"]["httpTokens"] == "required"
        assert node_class["metadataOptions"]["httpPutResponseHopLimit"] == 1
        assert all(b["ebs"]["encrypted"] for b in node_class["blockDeviceMappings"])
        assert pool["limits"] == {"nodes": str(cluster["maxNodes"] - cluster["minNodes"])}
        requirements = {r["key"]: r for r in pool["template"]["spec"]["requirements"]}
        assert (
            requirements["node.kubernetes.io/instance-type"]["values"] == cluster["instanceTypes"]
        )
        capacity = "spot" if cluster["capacityType"] == "SPOT" else "on-demand"
        assert requirements["karpenter.sh/capacity-type"]["values"] == [capacity]
        graviton = re.match(r"^[a-z]+[0-9]+g", cluster["instanceTypes"][0]) is not None
        assert requirements["kubernetes.io/arch"]["values"] == ["arm64" if graviton else "amd64"]
        assert pool["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
        assert pool["disruption"]["budgets"] == [{"nodes": "1"}]


def _tag_value(module_file: Path, resource: str, name: str) -> str:
    """The Name tag expression of `resource "<resource>" "<name>"`, with var.name as {}."""
    text = module_file.read_text()
    start = text.index(f'resource "{resource}" "{name}"')
    block = text[start : text.index("\n}\n", start)]
    found = re.search(r'Name\s*=\s*"([^"]+)"', block)
    assert found, f"{module_file}: {resource}.{name} has no Name tag"
    return found[1]


CLUSTER_GROUP = "the cluster security group"


@validator("terraform")
def karpenter_selects_the_subnets_and_groups_the_modules_tag(repo: RenderedRepo) -> None:
    modules = repo.root / "infra" / "modules"
    subnet = _tag_value(modules / "network" / "main.tf", "aws_subnet", "private")
    cluster = (modules / "cluster" / "main.tf").read_text()
    template = re.search(r"^\s*vpc_security_group_ids\s*=\s*\[(.*)\]\s*$", cluster, re.M)
    assert template, "modules/cluster: the node launch template names no security groups"
    groups_of_managed_nodes = [
        CLUSTER_GROUP
        if "cluster_security_group_id" in ref
        else _tag_value(
            modules / "cluster" / "main.tf",
            "aws_security_group",
            re.fullmatch(r"aws_security_group\.(\w+)\.id", ref.strip())[1],  # type: ignore[index]
        )
        for ref in template[1].split(",")
        if ref.strip()
    ]
    other_subnets = [
        _tag_value(modules / "network" / "main.tf", "aws_subnet", tier)
        for tier in ("public", "load_balancer", "isolated")
    ]
    for env_name, env in repo.spec["environments"].items():
        name = f"{repo.spec['project']['name']}-{env_name}"
        node_class = _nodepool(repo, env_name)["EC2NodeClass"]["spec"]
        [subnet_term] = node_class["subnetSelectorTerms"]
        pattern = subnet_term["tags"]["Name"]

        def tagged(expression: str, zone: str, name: str = name) -> str:
            return expression.replace("${var.name}", name).replace("${each.key}", zone)

        zones = [f"{env['region']}{z}" for z in "abc"]
        assert all(fnmatch.fnmatchcase(tagged(subnet, z), pattern) for z in zones)
        assert not any(
            fnmatch.fnmatchcase(tagged(t, z), pattern) for t in other_subnets for z in zones
        ), f"{pattern} also selects subnets of another tier"
        groups = [t["tags"] for t in node_class["securityGroupSelectorTerms"]]
        # Karpenter's nodes carry exactly the groups of the managed nodes' launch template
        # (the database admits only its clients' group: a node without it cannot reach it).
        expected = [
            {"Name": tagged(g, "")} if g != CLUSTER_GROUP else {"aws:eks:cluster-name": name}
            for g in groups_of_managed_nodes
        ]
        assert groups == expected, f"{env_name}: {groups} != the launch template's {expected}"


# Values that are Kubernetes objects the chart passes through (a pod's resources,
# scheduling and security context): the chart documents the key, Kubernetes the shape.
PASSED_THROUGH = {
    "affinity",
    "nodeSelector",
    "podSecurityContext",
    "resources",
    "securityContext",
    "tolerations",
    "topologySpreadConstraints",
}


def _schema_of(default: Any) -> dict[str, Any]:
    """A JSON Schema of the values a chart documents: its defaults' keys and types."""
    if isinstance(default, dict) and default:
        return {
            "type": "object",
            "properties": {
                k: {} if k in PASSED_THROUGH else _schema_of(v) for k, v in default.items()
            },
            "additionalProperties": False,
        }
    if isinstance(default, dict):
        return {"type": "object"}
    if default is None:
        return {}
    if isinstance(default, bool):
        return {"type": "boolean"}
    if isinstance(default, int | float):
        return {"type": "number"}
    if isinstance(default, list):
        return {"type": "array"}
    return {"type": "string"}


@validator("terraform")
def digest_pinned_charts_and_their_values(repo: RenderedRepo) -> None:
    pins = _pins(repo)
    for chart, prefix in DIGESTED.items():
        version = pins[f"{prefix}_CHART_VERSION"]
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", pins[f"{prefix}_CHART_DIGEST"]), chart
        documented = CHARTS / f"{chart}-{version}.values.yaml"
        assert documented.is_file(), f"vendor {chart} {version}'s values.yaml as {documented}"
        schema = _schema_of(yaml.safe_load(documented.read_text()))
        ours = yaml.safe_load((repo.root / "infra" / "addons" / f"{chart}.values.yaml").read_text())
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft7Validator(schema).iter_errors(ours)
        )
        assert error is None, f"{chart}.values.yaml: {list(error.absolute_path)}: {error.message}"
    karpenter = yaml.safe_load((repo.root / "infra/addons/karpenter.values.yaml").read_text())
    assert karpenter["serviceAccount"]["name"] == "karpenter"
    metrics = yaml.safe_load((repo.root / "infra/addons/metrics-server.values.yaml").read_text())
    assert metrics["apiService"]["insecureSkipTLSVerify"] is False
    assert metrics["replicas"] >= 2 and metrics["podDisruptionBudget"]["enabled"]


@validator("terraform")
def addons_check_the_digests_before_installing(repo: RenderedRepo) -> None:
    make = require("make")
    env = next(iter(repo.spec["environments"]))
    dry = subprocess.run(
        [make, "-n", "addons", f"ENV={env}"], cwd=repo.root, capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    pins = _pins(repo)
    check = dry.index("sha256sum -c -")
    digest = dry.index(f'grep -qx "Digest: {pins["KARPENTER_CHART_DIGEST"]}"')
    assert pins["METRICS_SERVER_CHART_DIGEST"].removeprefix("sha256:") in dry[:check]
    first_install = dry.index("helm upgrade --install")
    assert max(check, digest) < first_install
    for chart in DIGESTED:
        local = f"build/{env}/charts/{chart}-{pins[DIGESTED[chart] + '_CHART_VERSION']}.tgz"
        assert f"helm upgrade --install {chart} {local} " in dry
    crds = dry.index(f"-f build/{env}/charts/karpenter/crds")
    assert (
        crds
        < dry.index("helm upgrade --install karpenter ")
        < dry.index(f"-f infra/addons/karpenter-{env}.yaml")
    )
