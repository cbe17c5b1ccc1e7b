"""What an environment's cluster and database can hold, and what the spec asks of them.

The capacity check packs every pod an environment can run at its peak onto the most
nodes it may have, and the connection check adds up the database connections of every
pod at its peak. The numbers come from vendored tables under generator/data/ and from
the formulas below; docs/spec.md ("Capacity") explains them.

Node allocatable, as the EKS AL2023 AMI's nodeadm sets it
(awslabs/amazon-eks-ami, nodeadm/internal/kubelet/config.go and eni_max_pods.go):

- max pods = ENIs x (IPv4 addresses per ENI - 1) + 2 (the eni-max-pods.txt formula);
- kube-reserved CPU = 6% of the first core, 1% of the second, 0.5% of the third and
  fourth, 0.25% of every further core;
- kube-reserved memory = 11 MiB x max pods + 255 MiB; eviction threshold 100 MiB;
  no system-reserved;
- the memory the kernel reports is below the instance's nominal size: Karpenter's
  VM_MEMORY_OVERHEAD_PERCENT default (7.5%) is taken off first.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

VM_MEMORY_OVERHEAD = 0.075
EVICTION_MEMORY_MIB = 100

# Requests (CPU millicores, memory MiB) of what runs on every node, per DaemonSet. The
# EKS add-ons' own manifests set these requests (vpc-cni: aws-node 25m plus the network
# policy agent; kube-proxy 100m; eks-pod-identity-agent); the observability agents are
# those of the CloudWatch Observability add-on (cloudwatch-agent 250m/128Mi,
# fluent-bit 50m/25Mi) and of the Datadog agent's chart (200m/256Mi).
DAEMONSETS: dict[str, tuple[int, int]] = {
    "aws-node (vpc-cni)": (50, 64),
    "kube-proxy": (100, 32),
    "eks-pod-identity-agent": (25, 32),
}
OBSERVABILITY_DAEMONSETS: dict[str, dict[str, tuple[int, int]]] = {
    "cloudwatch": {"cloudwatch-agent": (250, 128), "fluent-bit": (50, 25)},
    "datadog": {"datadog-agent": (200, 256)},
}
# Cluster add-ons: (replicas, CPU millicores, memory MiB) each. CoreDNS is the EKS
# add-on's default; the others are the requests infra/addons/*.values.yaml sets
# (external-secrets' webhook and cert controller set none: 10m/32Mi is their usage).
ADDONS: dict[str, tuple[int, int, int]] = {
    "coredns": (2, 100, 70),
    "metrics-server": (2, 100, 200),
    "karpenter": (2, 250, 512),
    "aws-load-balancer-controller": (2, 50, 128),
    "external-secrets": (2, 50, 128),
    "external-secrets-webhook": (2, 10, 32),
    "external-secrets-cert-controller": (1, 10, 32),
}
# The chart's rollout surge (templates/helm/values.yaml rollout.maxSurge).
ROLLOUT_SURGE = 0.5

# The service's connection pool (templates/service/.../config.py and service.json):
# each gunicorn worker has its own pool of DATABASE_POOL_SIZE plus DATABASE_MAX_OVERFLOW.
POOL_SIZE_DEFAULT = 5
MAX_OVERFLOW_DEFAULT = 2
# Headroom kept under max_connections: administrators, monitoring, DMS, and the gap
# between the class's nominal memory and DBInstanceClassMemory.
CONNECTION_HEADROOM = 0.1


@cache
def _table(name: str) -> dict[str, Any]:
    text = resources.files("generator").joinpath("data", name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def instance_types() -> dict[str, dict[str, int]]:
    types: dict[str, dict[str, int]] = _table("eks_instance_types.json")["types"]
    return types


def db_classes() -> dict[str, dict[str, int]]:
    classes: dict[str, dict[str, int]] = _table("rds_instance_classes.json")["classes"]
    return classes


def millicores(text: str) -> int:
    return int(text[:-1]) if text.endswith("m") else round(float(text) * 1000)


def mebibytes(text: str) -> int:
    return int(text[:-2]) * (1024 if text.endswith("Gi") else 1)


@dataclass(frozen=True)
class Node:
    instance_type: str
    cpu_m: int
    memory_mib: int
    pods: int


def kube_reserved_cpu_m(vcpu: int) -> int:
    total = vcpu * 1000
    reserved = 0.0
    for start, end, share in ((0, 1000, 0.06), (1000, 2000, 0.01), (2000, 4000, 0.005)):
        reserved += max(0, min(total, end) - start) * share
    reserved += max(0, total - 4000) * 0.0025
    return math.floor(reserved)


def allocatable(instance_type: str) -> Node | None:
    """The node's allocatable CPU, memory and pods, or None for a type not in the table."""
    info = instance_types().get(instance_type)
    if info is None:
        return None
    max_pods = info["maxEnis"] * (info["ipv4PerEni"] - 1) + 2
    memory = math.floor(info["memoryMiB"] * (1 - VM_MEMORY_OVERHEAD))
    memory -= 11 * max_pods + 255 + EVICTION_MEMORY_MIB
    return Node(
        instance_type=instance_type,
        cpu_m=info["vcpu"] * 1000 - kube_reserved_cpu_m(info["vcpu"]),
        memory_mib=memory,
        pods=max_pods,
    )


# RDS's DBInstanceClassMemory is the class's memory less what the OS and RDS keep; it is
# not published per class. Estimated on the safe side as max(10%, 384 MiB), the same
# estimate the generated database module's alarms use (infra/modules/database/capacity.tf):
# db.t4g.medium comes out at 307 where RDS reports about 312.
RESERVED_MIN_BYTES = 384 * 1024**2


def max_connections(instance_class: str) -> int | None:
    """RDS MySQL's default max_connections, {DBInstanceClassMemory/12582880}."""
    info = db_classes().get(instance_class)
    if info is None:
        return None
    memory = info["memoryGiB"] * 1024**3
    return (memory - max(memory // 10, RESERVED_MIN_BYTES)) // 12582880


@dataclass(frozen=True)
class Pod:
    what: str
    cpu_m: int
    memory_mib: int


def daemonsets(observability: str) -> dict[str, tuple[int, int]]:
    return {**DAEMONSETS, **OBSERVABILITY_DAEMONSETS.get(observability, {})}


def surge(replicas: int) -> int:
    return math.ceil(replicas * ROLLOUT_SURGE)


def peak_pods(resolved: dict[str, Any], env_name: str) -> list[Pod]:
    """Every pod the environment runs at its peak, DaemonSets aside: each container
    app at its maximum replicas plus a rollout's surge, its migration Job, and the
    cluster add-ons."""
    pods: list[Pod] = []
    for app in resolved["apps"]:
        if app["hosting"] != "container":
            continue
        env = app["environments"][env_name]
        cpu, memory = millicores(env["resources"]["cpu"]), mebibytes(env["resources"]["memory"])
        count = env["replicas"]["max"] + surge(env["replicas"]["max"])
        pods += [Pod(app["name"], cpu, memory)] * count
        if app["database"]:
            pods.append(Pod(f"{app['name']} migration Job", cpu, memory))
    for name, (replicas, cpu, memory) in ADDONS.items():
        pods += [Pod(name, cpu, memory)] * replicas
    return pods


@dataclass(frozen=True)
class Fit:
    node: Node
    nodes: int
    unplaced: list[Pod]
    demand_cpu_m: int
    demand_memory_mib: int
    capacity_cpu_m: int
    capacity_memory_mib: int


def fit(resolved: dict[str, Any], env_name: str) -> Fit | None:
    """Pack the environment's peak pods onto maxNodes nodes of its smallest instance type
    (first fit, largest first), after each node's DaemonSets. None when an instance type
    is not in the table."""
    env = resolved["environments"][env_name]
    nodes = [allocatable(t) for t in env["cluster"]["instanceTypes"]]
    known = [n for n in nodes if n is not None]
    if len(known) != len(nodes):
        return None
    node = min(known, key=lambda n: (n.cpu_m, n.memory_mib, n.pods))
    per_node = daemonsets(resolved.get("observability", {}).get("provider", "cloudwatch"))
    ds_cpu = sum(c for c, _ in per_node.values())
    ds_memory = sum(m for _, m in per_node.values())
    count = env["cluster"]["maxNodes"]
    bins = [
        [node.cpu_m - ds_cpu, node.memory_mib - ds_memory, node.pods - len(per_node)]
        for _ in range(count)
    ]
    pods = sorted(
        peak_pods(resolved, env_name), key=lambda p: (p.cpu_m, p.memory_mib), reverse=True
    )
    unplaced: list[Pod] = []
    for pod in pods:
        for b in bins:
            if b[0] >= pod.cpu_m and b[1] >= pod.memory_mib and b[2] >= 1:
                b[0] -= pod.cpu_m
                b[1] -= pod.memory_mib
                b[2] -= 1
                break
        else:
            unplaced.append(pod)
    return Fit(
        node=node,
        nodes=count,
        unplaced=unplaced,
        demand_cpu_m=sum(p.cpu_m for p in pods) + count * ds_cpu,
        demand_memory_mib=sum(p.memory_mib for p in pods) + count * ds_memory,
        capacity_cpu_m=count * node.cpu_m,
        capacity_memory_mib=count * node.memory_mib,
    )


def class_needed(resolved: dict[str, Any], env_name: str) -> str:
    """The environment's database class, or the smallest larger one of its family (db.t4g,
    db.r6g, ...) whose default max_connections, less the headroom, holds the apps' peak
    connections; the class itself when none does or the table does not know it."""
    current = resolved["environments"][env_name]["database"]["instanceClass"]
    family = current.rsplit(".", 1)[0] + "."
    total = sum(pods * each for _, pods, each in peak_connections(resolved, env_name))
    own = db_classes().get(current)
    if own is None:
        return current
    candidates = sorted(
        (info["memoryGiB"], name)
        for name, info in db_classes().items()
        if name.startswith(family) and info["memoryGiB"] >= own["memoryGiB"]
    )
    for _, name in candidates:
        limit = max_connections(name)
        if limit is not None and total <= math.floor(limit * (1 - CONNECTION_HEADROOM)):
            return name
    return current


def max_connections_parameter(database: dict[str, Any]) -> int | None:
    """database.parameters.max_connections when the spec sets a number there."""
    value = database.get("parameters", {}).get("max_connections")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


# Larger clusters than this are not searched for a maxNodes that fits.
MAX_SEARCHED_NODES = 500


def nodes_needed(resolved: dict[str, Any], env_name: str) -> int | None:
    """The smallest maxNodes, from the environment's own upwards, on which its peak fits;
    None when an instance type is unknown or no cluster up to MAX_SEARCHED_NODES holds it."""
    env = resolved["environments"][env_name]
    cluster = dict(env["cluster"])
    trial = {
        **resolved,
        "environments": {**resolved["environments"], env_name: {**env, "cluster": cluster}},
    }
    for nodes in range(cluster["maxNodes"], MAX_SEARCHED_NODES + 1):
        cluster["maxNodes"] = nodes
        result = fit(trial, env_name)
        if result is None:
            return None
        if not result.unplaced:
            return nodes
    return None


def _env_int(env: dict[str, str], name: str, default: int) -> int:
    value = env.get(name, "")
    return int(value) if value.isdigit() else default


def workers(app: dict[str, Any], env_name: str) -> int:
    """gunicorn workers of one pod: service.json's default (from the app's CPU request),
    unless the environment sets WEB_CONCURRENCY."""
    cores = millicores(app["resources"]["cpu"]) / 1000
    default = max(2, round(cores * 2))
    return _env_int(app["environments"][env_name]["env"], "WEB_CONCURRENCY", default)


def connections_per_pod(app: dict[str, Any], env_name: str) -> int:
    env = app["environments"][env_name]["env"]
    pool = _env_int(env, "DATABASE_POOL_SIZE", POOL_SIZE_DEFAULT)
    overflow = _env_int(env, "DATABASE_MAX_OVERFLOW", MAX_OVERFLOW_DEFAULT)
    return workers(app, env_name) * (pool + overflow)


def peak_connections(resolved: dict[str, Any], env_name: str) -> list[tuple[str, int, int]]:
    """(app, pods, connections per pod) of every app that uses the database, at its peak:
    maximum replicas plus surge, plus its migration Job."""
    out = []
    for app in resolved["apps"]:
        if app["hosting"] != "container" or not app["database"] or app["kind"] != "api":
            continue
        replicas = app["environments"][env_name]["replicas"]["max"]
        pods = replicas + surge(replicas) + 1
        out.append((app["name"], pods, connections_per_pod(app, env_name)))
    return out
