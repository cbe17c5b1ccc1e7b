"""Checks that each environment's peak fits its cluster and its database.

- capacity.fit: every pod at its peak (apps at maximum replicas plus a rollout's surge,
  migration Jobs, cluster add-ons) and every node's DaemonSets fit on maxNodes nodes of
  the environment's smallest instance type (generator/data/eks_instance_types.json);
- capacity.connections: those pods' database connection pools stay under the database
  class's default max_connections (generator/data/rds_instance_classes.json), with
  headroom.

generator/spec/capacity.py holds the tables and formulas; docs/spec.md ("Capacity")
documents them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from . import capacity
from .context import Context, check
from .diagnostics import Diagnostic
from .yamlpos import SpecPath


def _ranges_valid(ctx: Context, env_name: str) -> bool:
    """False when replicas or node ranges are already reported wrong (semantic.range)."""
    cluster = ctx.resolved["environments"][env_name]["cluster"]
    if cluster["minNodes"] > cluster["maxNodes"]:
        return False
    return all(
        app["environments"][env_name]["replicas"]["min"]
        <= app["environments"][env_name]["replicas"]["max"]
        for app in ctx.resolved["apps"]
        if app["hosting"] == "container"
    )


def _cluster_path(ctx: Context, env_name: str, key: str) -> SpecPath:
    path: SpecPath = ("environments", env_name, "cluster", key)
    return path if ctx.written(path) else ("environments", env_name)


@check
def cluster_capacity(ctx: Context) -> Iterator[Diagnostic]:
    for env_name, env in ctx.resolved["environments"].items():
        if not _ranges_valid(ctx, env_name):
            continue
        if env["cluster"]["minNodes"] < capacity.ADDONS["karpenter"][0]:
            yield ctx.finding(
                "warning",
                "capacity.system-nodes",
                _cluster_path(ctx, env_name, "minNodes"),
                f"in {env_name}, minNodes is {env['cluster']['minNodes']}: Karpenter's "
                f"{capacity.ADDONS['karpenter'][0]} replicas run one per node of the managed "
                "node group (never on nodes Karpenter manages), so one stays Pending and a "
                "node's loss stops node autoscaling until it is replaced",
                f"set environments.{env_name}.cluster.minNodes to at least "
                f"{capacity.ADDONS['karpenter'][0]}",
            )
        types = env["cluster"]["instanceTypes"]
        unknown = [t for t in types if capacity.allocatable(t) is None]
        if unknown:
            yield ctx.finding(
                "warning",
                "capacity.instance-type-unknown",
                _cluster_path(ctx, env_name, "instanceTypes"),
                f"in {env_name}, the capacity check does not know the instance type(s) "
                f"{', '.join(unknown)}, so it cannot tell whether the apps fit",
                "use types of the families the table lists (docs/spec.md, 'Capacity'), or "
                "check by hand that maxNodes nodes hold the apps at their maximum replicas",
            )
            continue
        result = capacity.fit(ctx.resolved, env_name)
        if result is None or not result.unplaced:
            continue
        apps = sorted({p.what for p in result.unplaced})
        needed = capacity.nodes_needed(ctx.resolved, env_name)
        more = (
            f"raise maxNodes to at least {needed}"
            if needed is not None
            else "use larger instance types"
        )
        node = result.node
        yield ctx.finding(
            "error",
            "capacity.fit",
            _cluster_path(ctx, env_name, "maxNodes"),
            f"in {env_name}, the peak does not fit {result.nodes} x {node.instance_type} "
            f"(allocatable {node.cpu_m}m CPU, {node.memory_mib}Mi, {node.pods} pods each): "
            f"{len(result.unplaced)} pod(s) of {', '.join(apps)} find no node. The peak is every "
            "app at replicas.max plus a 50% rollout surge, migration Jobs, the cluster add-ons "
            f"and each node's DaemonSets: {result.demand_cpu_m}m CPU and "
            f"{result.demand_memory_mib}Mi requested of {result.capacity_cpu_m}m and "
            f"{result.capacity_memory_mib}Mi",
            f"{more} under environments.{env_name}.cluster, or use larger instanceTypes, or "
            "lower the apps' replicas.max or resources there",
        )


@check
def database_connections(ctx: Context) -> Iterator[Diagnostic]:
    if not ctx.resolved.get("database"):
        return
    for env_name, env in ctx.resolved["environments"].items():
        if not _ranges_valid(ctx, env_name):
            continue
        instance_class = env["database"]["instanceClass"]
        db_path: SpecPath = ("environments", env_name, "database", "instanceClass")
        if not ctx.written(db_path):
            db_path = ("environments", env_name)
        limit = capacity.max_connections(instance_class)
        set_limit = capacity.max_connections_parameter(ctx.resolved["database"])
        source = f"{instance_class}'s default max_connections"
        if set_limit is not None:
            limit, source = set_limit, "database.parameters.max_connections"
            db_path = ("database", "parameters", "max_connections")
        if limit is None:
            yield ctx.finding(
                "warning",
                "capacity.db-class-unknown",
                db_path,
                f"in {env_name}, the connection check does not know {instance_class}, so it "
                "cannot tell whether the apps' connection pools fit its max_connections",
                "use a class the table lists (docs/spec.md, 'Capacity'), or check by hand that "
                "pods x workers x (pool size + overflow) stays under max_connections",
            )
            continue
        budget = math.floor(limit * (1 - capacity.CONNECTION_HEADROOM))
        peaks = capacity.peak_connections(ctx.resolved, env_name)
        total = sum(pods * each for _, pods, each in peaks)
        if total <= budget:
            continue
        detail = "; ".join(f"{name}: {pods} pods x {each}" for name, pods, each in peaks)
        yield ctx.finding(
            "error",
            "capacity.connections",
            db_path,
            f"in {env_name}, the apps may open {total} database connections at their peak "
            f"({detail}; pods are replicas.max plus a 50% rollout surge and the migration Job, "
            "each pod's connections are gunicorn workers x (DATABASE_POOL_SIZE + "
            f"DATABASE_MAX_OVERFLOW)), above {budget}: 90% of {source} ({limit})",
            f"use a larger environments.{env_name}.database.instanceClass (or raise "
            "database.parameters.max_connections where the class has the memory), or lower the "
            "apps' "
            "replicas.max there, or set smaller DATABASE_POOL_SIZE / DATABASE_MAX_OVERFLOW / "
            "WEB_CONCURRENCY in the apps' env",
        )
