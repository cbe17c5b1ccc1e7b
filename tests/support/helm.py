"""Render the generated Helm charts with Helm's own engine, and check manifests.

helm-python-sdk binds Helm 4's Go library (libhelm) through ctypes, so charts are
linted and rendered here exactly as `helm lint` and `helm template` would, with no
`helm` binary and no cluster. Manifests are checked with kubernetes-validate's
strict schemas for the spec's Kubernetes version, and custom resources against the
published CRD schemas vendored in tests/data/crds (see SOURCES.md there).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import kubernetes_validate.utils as kv_utils
import yaml

from .tools import ROOT

try:
    import helm_python
except ImportError as exc:  # pragma: no cover - the test extras install it
    raise ImportError(
        "helm-python-sdk is missing: run `make test`, which installs the [test] extras"
    ) from exc

CRD_DIR = ROOT / "tests" / "data" / "crds"

# kubernetes-validate reads and parses its (large) schema files on every call; the
# files never change in a run, so parse each once per process.
kv_utils.schema_contents = functools.lru_cache(maxsize=None)(kv_utils.schema_contents)

Manifest = dict[str, Any]


def deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Helm's merge of values files: maps merge, everything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def cidrsubnet(prefix: str, newbits: int, netnum: int) -> str:
    """Terraform's cidrsubnet(prefix, newbits, netnum)."""
    network = ipaddress.ip_network(prefix)
    return str(list(network.subnets(prefixlen_diff=newbits))[netnum])


def subnet_tier_cidrs(vpc_cidr: str) -> dict[str, list[str]]:
    """The network module's subnet ranges per tier, in zone order (its locals, in Python;
    the module's tests and the moto apply check the module itself)."""
    zones = range(3)
    return {
        "load-balancer": [cidrsubnet(vpc_cidr, 7, 27 * 4 + i) for i in zones],
        "isolated": [cidrsubnet(vpc_cidr, 5, 28 + i) for i in zones],
    }


def platform_values(spec: dict[str, Any], app: dict[str, Any], env: str) -> dict[str, Any]:
    """What Terraform's app_values output gives this app in `env` (ADR 0005), with nulls."""
    project = spec["project"]["name"]
    environment = spec["environments"][env]
    account, region = environment["account"], environment["region"]
    name = f"{project}-{env}-{app['name']}"
    target_group = "tg-" + hashlib.sha256(name.encode()).hexdigest()[:20]
    database = bool(app.get("database"))
    tiers = subnet_tier_cidrs(environment["vpcCidr"])
    return {
        "platform": {
            "imageRepository": f"{account}.dkr.ecr.{region}.amazonaws.com/{project}/{app['name']}",
            "roleArn": f"arn:aws:iam::{account}:role/{name}",
            "targetGroupArn": (
                f"arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/"
                f"{target_group}/0123456789abcdef"
                if app.get("public")
                else None
            ),
            "databaseHost": f"{project}-{env}.abcdefghijkl.{region}.rds.amazonaws.com"
            if database
            else None,
            "databasePort": 3306 if database else None,
            "databaseName": spec["database"]["name"] if database else None,
            "databaseSecretArn": (
                f"arn:aws:secretsmanager:{region}:{account}:secret:"
                f"{project}/{env}/database/{app['name']}-AbCdEf"
                if database
                else None
            ),
            "databaseMigratorSecretArn": (
                f"arn:aws:secretsmanager:{region}:{account}:secret:"
                f"{project}/{env}/database/{app['name']}-migrator-AbCdEf"
                if database
                else None
            ),
            "secretPrefix": f"{project}/{env}/",
            "loadBalancerCidrs": tiers["load-balancer"] if app.get("public") else None,
            "databaseCidrs": tiers["isolated"] if database else None,
        }
    }


IMAGE = {
    "image": {
        "tag": "0123456789abcdef0123456789abcdef01234567",
        "digest": "sha256:" + "ab" * 32,
    }
}


@dataclass
class Render:
    """One chart rendered for one environment, as `make deploy ENV=...` would."""

    app: str
    env: str
    values: dict[str, Any]
    files: dict[str, str]
    manifests: list[Manifest] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Manifest]:
        return [m for m in self.manifests if m["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> Manifest:
        found = [m for m in self.of_kind(kind) if name is None or m["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.app}/{self.env}: expected one {kind} {name or ''}"
        return found[0]


def load_chart(chart_dir: Path) -> helm_python.Chart:
    return helm_python.Chart.load(str(chart_dir))


def env_values(
    chart_dir: Path, spec: dict[str, Any], app: dict[str, Any], env: str
) -> dict[str, Any]:
    """values-<env>.yaml + the platform values + the image, merged as Helm merges -f files."""
    values = yaml.safe_load((chart_dir / f"values-{env}.yaml").read_text())
    return deep_merge(deep_merge(values, platform_values(spec, app, env)), IMAGE)


def render(chart: helm_python.Chart, app: str, env: str, values: dict[str, Any]) -> Render:
    files = chart.render(values, name=app, namespace=app)
    manifests = [
        doc
        for path, text in sorted(files.items())
        if path.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc
    ]
    return Render(app, env, values, files, manifests)


def pod_specs(manifest: Manifest) -> Iterator[dict[str, Any]]:
    kind = manifest["kind"]
    if kind == "Pod":
        yield manifest["spec"]
    elif kind in ("Deployment", "Job", "StatefulSet", "DaemonSet", "ReplicaSet"):
        yield manifest["spec"]["template"]["spec"]


# --- custom resources -----------------------------------------------------------------


def _strict(schema: Any) -> Any:
    """An OpenAPI v3 CRD schema as strict JSON Schema: nullable, and no unknown fields
    (what the API server's strict field validation rejects)."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items() if not k.startswith("x-kubernetes-")}
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    out.pop("nullable", None)
    if (
        out.get("type") == "object"
        and "properties" in out
        and "additionalProperties" not in out
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@functools.cache
def crd_validators() -> dict[tuple[str, str], jsonschema.Validator]:
    """(apiVersion, kind) -> validator, from every vendored CRD."""
    validators: dict[tuple[str, str], jsonschema.Validator] = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if not version.get("served"):
                continue
            schema = _strict(version["schema"]["openAPIV3Schema"])
            jsonschema.Draft202012Validator.check_schema(schema)
            validators[(f"{group}/{version['name']}", kind)] = jsonschema.Draft202012Validator(
                schema
            )
    return validators


def validate_manifest(manifest: Manifest, kubernetes_version: str) -> None:
    """Raise AssertionError with the path and message of the first problem."""
    key = (manifest.get("apiVersion", ""), manifest.get("kind", ""))
    name = f"{key[1]}/{manifest.get('metadata', {}).get('name')}"
    custom = crd_validators().get(key)
    if custom is not None:
        error = jsonschema.exceptions.best_match(custom.iter_errors(manifest))
        if error is not None:
            path = ".".join(str(p) for p in error.absolute_path)
            raise AssertionError(f"{name} ({key[0]}): {path}: {error.message}")
        return
    group = key[0].split("/")[0] if "/" in key[0] else ""
    if "." in group and not group.endswith(".k8s.io"):
        raise AssertionError(f"{name}: no vendored CRD schema for {key[0]} {key[1]}")
    try:
        kubernetes_validate.validate(manifest, kubernetes_version, strict=True)
    except kv_utils.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        raise AssertionError(
            f"{name} (Kubernetes {kubernetes_version}): {path}: {exc.message}"
        ) from None
    except kv_utils.SchemaNotFoundError as exc:
        raise AssertionError(f"{name}: no Kubernetes {kubernetes_version} schema: {exc}") from exc
