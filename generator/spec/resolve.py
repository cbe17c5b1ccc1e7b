"""Fill in every default, so templates and auditors see one complete spec.

Each default here is the one the schema's description documents. The resolved
spec is itself a valid spec (tests check this), so `platformgen show` prints
something a reader can paste back as platform.yaml.
"""

from __future__ import annotations

import copy
from typing import Any

from . import capacity
from .dr_regions import dr_region_of

TIER_BY_NAME = {"dev": "development", "staging": "staging", "prod": "production"}
TIER_ORDER = {"development": 0, "staging": 1, "production": 2}

# The default moves one minor version per platformgen release: EKS upgrades one minor
# version at a time, so a repository that relies on the default never skips one.
DEFAULT_KUBERNETES_VERSION = "1.34"
DEFAULT_MYSQL_VERSION = "8.0"


def mysql_major_minor(version: str) -> str:
    """8.0.42 -> 8.0: RDS applies minor versions itself (auto minor version upgrade), so
    the platform pins only major.minor; older specs wrote a full version."""
    return ".".join(version.split(".")[:2])


def tier_of(name: str, env: dict[str, Any]) -> str | None:
    tier = env.get("tier") or TIER_BY_NAME.get(name)
    return str(tier) if tier else None


def environment_order(environments: dict[str, Any]) -> list[str]:
    """Promotion order: development tier first, then staging, then production; by name within a tier."""

    def key(name: str) -> tuple[int, str]:
        tier = tier_of(name, environments[name]) or "development"
        return (TIER_ORDER[tier], name)

    return sorted(environments, key=key)


def _resolve_environment(
    name: str, env: dict[str, Any], project: dict[str, Any], has_database: bool
) -> dict[str, Any]:
    tier = tier_of(name, env) or "development"
    production = tier == "production"
    deletion_protection = env.get("deletionProtection", tier != "development")
    cluster = env.get("cluster", {})
    min_nodes = cluster.get("minNodes", 3 if production else 2)
    out: dict[str, Any] = {
        "tier": tier,
        "account": env["account"],
        "region": env.get("region", project["region"]),
        "domain": env.get(
            "domain", project["domain"] if production else f"{name}.{project['domain']}"
        ),
        "vpcCidr": env["vpcCidr"],
        "natGateways": env.get("natGateways", "perAz" if production else "single"),
        "interfaceEndpoints": env.get("interfaceEndpoints", tier != "development"),
        "deletionProtection": deletion_protection,
        "approval": env.get("approval", production),
        "cluster": {
            "instanceTypes": list(
                cluster.get("instanceTypes", ["m6i.large"] if production else ["t3.large"])
            ),
            "minNodes": min_nodes,
            "maxNodes": cluster.get("maxNodes", 3 * min_nodes),
            "capacityType": cluster.get("capacityType", "ON_DEMAND"),
        },
        "access": {
            "readOnly": list(env.get("access", {}).get("readOnly", [])),
            "breakGlass": list(env.get("access", {}).get("breakGlass", [])),
        },
    }
    if has_database:
        db = env.get("database", {})
        out["database"] = {
            "instanceClass": db.get(
                "instanceClass", "db.r6g.large" if production else "db.t4g.medium"
            ),
            "multiAz": db.get("multiAz", production),
            "deletionProtection": db.get("deletionProtection", deletion_protection),
            "backupRetentionDays": db.get(
                "backupRetentionDays", {"production": 14, "staging": 7}.get(tier, 1)
            ),
            "readReplicas": db.get("readReplicas", 0),
            "masterPasswordVersion": db.get("masterPasswordVersion", 1),
            "copyRetentionDays": db.get(
                "copyRetentionDays", {"production": 35, "staging": 14}.get(tier, 7)
            ),
        }
    return out


def _replicas(
    given: dict[str, Any] | None, base: dict[str, Any] | None, tier: str
) -> dict[str, int]:
    given = given or {}
    base = base or {}
    minimum = given.get("min", base.get("min", {"production": 3, "staging": 2}.get(tier, 1)))
    maximum = given.get("max", base.get("max", 3 * minimum))
    return {"min": minimum, "max": maximum}


def _resources(given: dict[str, Any] | None, base: dict[str, Any] | None) -> dict[str, str]:
    merged = {"cpu": "250m", "memory": "512Mi", **(base or {}), **(given or {})}
    return dict(sorted(merged.items()))


JSON_SAFE_INTEGER = 9007199254740991
DEFAULT_WORKFLOW = {
    "initial": "draft",
    "transitions": [
        {"from": "draft", "to": "active", "by": "owner"},
        {"from": "active", "to": "archived", "by": "owner"},
    ],
}


def _field(field: dict[str, Any]) -> dict[str, Any]:
    required = field.get("required", False)
    out: dict[str, Any] = {"name": field["name"], "type": field["type"], "required": required}
    if field["type"] == "string":
        out["minLength"] = field.get("minLength", 1 if required else 0)
        out["maxLength"] = field.get("maxLength", 200)
    elif field["type"] == "integer":
        out["minimum"] = field.get("minimum", -JSON_SAFE_INTEGER)
        out["maximum"] = field.get("maximum", JSON_SAFE_INTEGER)
    return out


def _resource(resource: dict[str, Any]) -> dict[str, Any]:
    """The example resource of an api app (see the schema's apps[].resource)."""
    fields = resource.get("fields", [{"name": "title", "type": "string", "required": True}])
    workflow = resource.get("workflow", DEFAULT_WORKFLOW)
    return {
        "name": resource.get("name", "items"),
        "fields": [_field(f) for f in fields],
        "workflow": {
            "initial": workflow["initial"],
            "transitions": [
                {"from": t["from"], "to": t["to"], "by": t["by"]} for t in workflow["transitions"]
            ],
        },
    }


def _resolve_app(
    app: dict[str, Any], environments: dict[str, dict[str, Any]], has_database: bool
) -> dict[str, Any]:
    kind = app["kind"]
    hosting = app.get("hosting", "static" if kind == "web" else "container")
    container = hosting == "container"
    out: dict[str, Any] = {
        "name": app["name"],
        "kind": kind,
        "description": app.get("description", ""),
        "hosting": hosting,
        "public": app.get("public", kind == "web"),
    }
    if "renamedFrom" in app:
        out["renamedFrom"] = app["renamedFrom"]  # for the engine; templates never see it
    if container:
        out["port"] = app.get("port", {"api": 8000, "web": 8080}.get(kind, 8000))
        out["health"] = {
            "liveness": app.get("health", {}).get("liveness", "/livez"),
            "readiness": app.get("health", {}).get("readiness", "/readyz"),
        }
    if kind != "worker":
        out["path"] = app.get("path", "/" if kind == "web" else "/api")
    base_env = dict(sorted(app.get("env", {}).items()))
    out["env"] = base_env
    if container:
        out["secrets"] = {
            name: {"secret": ref["secret"], **({"key": ref["key"]} if "key" in ref else {})}
            for name, ref in sorted(app.get("secrets", {}).items())
        }
    out["database"] = app.get("database", has_database and kind != "web")
    if kind == "api":
        out["resource"] = _resource(app.get("resource", {}))
    if container:
        out["replicas"] = _replicas(app.get("replicas"), None, "development")
        out["resources"] = _resources(app.get("resources"), None)
    per_env: dict[str, Any] = {}
    overrides = app.get("environments", {})
    for env_name, env in environments.items():
        override = overrides.get(env_name, {})
        resolved: dict[str, Any] = {
            "env": dict(sorted({**base_env, **override.get("env", {})}.items())),
        }
        if container:
            resolved["replicas"] = _replicas(
                override.get("replicas"), app.get("replicas"), env["tier"]
            )
            resolved["resources"] = _resources(override.get("resources"), app.get("resources"))
        per_env[env_name] = resolved
    out["environments"] = per_env
    return out


def _backup(given: dict[str, Any], project: dict[str, Any]) -> dict[str, str]:
    """Where copies of the database's snapshots go: the backup account as given, and the
    DR region as given, else (without an account) the pair of the project's region."""
    out: dict[str, str] = {}
    if "account" in given:
        out["account"] = given["account"]
    region = given.get("region") or (
        None if "account" in given else dr_region_of(project["region"])
    )
    if region:
        out["region"] = region
    return out


def _bake_minutes(name: str, env: dict[str, Any], given: dict[str, Any], last: str) -> int:
    """Minutes promotion waits after a deploy to this environment (make bake)."""
    if "bakeMinutes" in given:
        return int(given["bakeMinutes"])
    if name == last:
        return 0
    return 15 if env["tier"] == "development" else 30


def _resolve_artifacts(
    spec: dict[str, Any], environments: dict[str, Any], promotion: list[str]
) -> dict[str, Any]:
    """The artifacts account: the spec's, or else the last production-tier environment's
    account in promotion order (infra/docs/adr/0008), so there is always one registry."""
    given = spec.get("artifacts", {}).get("account")
    if given is not None:
        return {"account": given}
    return {"account": default_artifacts_account(environments, promotion)}


def default_artifacts_account(environments: dict[str, Any], promotion: list[str]) -> str:
    """The account of the last production-tier environment in promotion order, else of the
    last environment (resolved environments, with their tiers)."""
    # A promotion list naming unknown environments is reported by the checks.
    order = [n for n in promotion if n in environments] or list(environments)
    production = [n for n in order if environments[n]["tier"] == "production"]
    return str(environments[(production or order)[-1]]["account"])


def resolve(spec: dict[str, Any]) -> dict[str, Any]:
    """Return a new spec with every default filled in. `spec` must already be schema-valid."""
    spec = copy.deepcopy(spec)
    project_in = spec["project"]
    project = {
        "name": project_in["name"],
        "organisation": project_in["organisation"],
        "repository": project_in.get("repository", project_in["name"]),
        "domain": project_in["domain"],
        "region": project_in["region"],
        "description": project_in.get("description", ""),
        "owner": project_in.get("owner", "platform"),
        "costCentre": project_in.get("costCentre", project_in["name"]),
    }
    has_database = "database" in spec
    environments = {
        name: _resolve_environment(name, spec["environments"][name], project, has_database)
        for name in environment_order(spec["environments"])
    }
    out: dict[str, Any] = {
        "apiVersion": spec["apiVersion"],
        "project": project,
        "kubernetes": {
            "version": spec.get("kubernetes", {}).get("version", DEFAULT_KUBERNETES_VERSION)
        },
        "environments": environments,
        "promotion": list(spec.get("promotion", environments)),
        "apps": [
            _resolve_app(app, environments, has_database)
            for app in sorted(spec["apps"], key=lambda a: a["name"])
        ],
    }
    order = [n for n in out["promotion"] if n in environments] or list(environments)
    last = order[-1]
    for name, env in environments.items():
        env["bakeMinutes"] = _bake_minutes(name, env, spec["environments"][name], last)
    if has_database:
        db = spec["database"]
        allocated = db.get("storage", {}).get("allocatedGb", 50)
        out["database"] = {
            "engine": db.get("engine", "mysql"),
            "version": mysql_major_minor(db.get("version", DEFAULT_MYSQL_VERSION)),
            "name": db.get("name", project["name"].replace("-", "_")),
            "storage": {
                "allocatedGb": allocated,
                "maxAllocatedGb": db.get("storage", {}).get("maxAllocatedGb", 4 * allocated),
            },
            "publiclyAccessible": db.get("publiclyAccessible", False),
            "parameters": dict(sorted(db.get("parameters", {}).items())),
            "backupWindow": db.get("backupWindow", "16:00-17:00"),
            "maintenanceWindow": db.get("maintenanceWindow", "sun:17:00-sun:18:00"),
        }
    if has_database or "backup" in spec:
        out["backup"] = _backup(spec.get("backup", {}), project)
    edge = spec.get("edge", {})
    waf = edge.get("waf", {})
    out["edge"] = {
        "waf": {
            "enabled": waf.get("enabled", True),
            "rateLimit": waf.get("rateLimit", 2000),
            # A group without a version runs the one the waf module pins.
            "managedRuleGroups": {
                name: {**group, "mode": group.get("mode", "enforce")}
                for name, group in sorted(waf.get("managedRuleGroups", {}).items())
            },
        },
        "tls": {
            "enabled": edge.get("tls", {}).get("enabled", True),
            "minimumProtocol": edge.get("tls", {}).get("minimumProtocol", "TLSv1.2"),
        },
    }
    pipelines = spec.get("pipelines", {})
    providers = pipelines.get("providers", ["github"])
    order = ["github", "bitbucket", "codepipeline"]
    out["pipelines"] = {
        "providers": sorted(providers, key=order.index),
        # The one provider that builds and deploys: the first one the user listed.
        "deliver": pipelines.get("deliver", providers[0] if providers else "github"),
        "branch": pipelines.get("branch", "main"),
    }
    # CodePipeline's source host: as written, else the one repository host listed (none
    # when both or neither are: semantic.repository-host refuses that with codepipeline).
    hosts = [p for p in ("github", "bitbucket") if p in providers]
    host = pipelines.get("repositoryHost", hosts[0] if len(hosts) == 1 else None)
    if host is not None:
        out["pipelines"]["repositoryHost"] = host
    if "bitbucket" in pipelines:
        bitbucket = pipelines["bitbucket"]
        out["pipelines"]["bitbucket"] = {
            **bitbucket,
            "planEnvironments": dict(sorted(bitbucket.get("planEnvironments", {}).items())),
            "deployEnvironments": dict(sorted(bitbucket.get("deployEnvironments", {}).items())),
        }
    out["artifacts"] = _resolve_artifacts(spec, environments, out["promotion"])
    if "migration" in spec:
        migration = spec["migration"]
        source = migration["source"]
        dms = migration.get("dms", {})
        production = [n for n, e in environments.items() if e["tier"] == "production"]
        out["migration"] = {
            "source": {
                "provider": source.get("provider", "digitalocean"),
                "host": source["host"],
                "port": source.get("port", 25060),
                "database": source["database"],
                "user": source["user"],
                "passwordSecret": source["passwordSecret"],
                "tls": source.get("tls", "verify-full"),
                "caCertificate": source.get("caCertificate", "database/digitalocean-ca.pem"),
            },
            "tables": {
                "include": list(migration.get("tables", {}).get("include", ["%"])),
                "exclude": list(migration.get("tables", {}).get("exclude", [])),
            },
            "window": migration.get("window", "closed"),
            "targetEnvironment": migration.get(
                "targetEnvironment", production[0] if production else list(environments)[-1]
            ),
            "dms": {
                "instanceClass": dms.get("instanceClass", "dms.c6i.large"),
                "allocatedStorageGb": dms.get("allocatedStorageGb", 50),
                "multiAz": dms.get("multiAz", False),
                "migrationType": dms.get("migrationType", "full-load-and-cdc"),
                "lobMode": dms.get("lobMode", "full"),
                "lobMaxSizeKb": dms.get("lobMaxSizeKb", 64),
                "validation": dms.get("validation", True),
            },
        }
        if "windowUntil" in migration:
            out["migration"]["windowUntil"] = str(migration["windowUntil"])
    out["accountBaseline"] = spec.get("accountBaseline", "platform")
    observability = spec.get("observability", {})
    out["observability"] = {
        "provider": observability.get("provider", "cloudwatch"),
        "logRetentionDays": observability.get("logRetentionDays", 90),
        "alarmEmails": sorted(observability.get("alarmEmails", [])),
    }
    if "datadog" in observability:
        out["observability"]["datadog"] = {
            "site": observability["datadog"].get("site", "datadoghq.com"),
            "apiKeySecret": observability["datadog"]["apiKeySecret"],
        }
    out["localChanges"] = sorted(spec.get("localChanges", []))
    for name, env in out["environments"].items():
        if "maxNodes" not in spec["environments"][name].get("cluster", {}):
            # Unwritten, maxNodes is 3 x minNodes or what the apps' peak needs, if more:
            # the defaults always fit (a written maxNodes is checked: capacity.fit).
            needed = capacity.nodes_needed(out, name)
            if needed is not None:
                env["cluster"]["maxNodes"] = needed
        database = spec["environments"][name].get("database", {})
        if (
            has_database
            and "instanceClass" not in database
            and capacity.max_connections_parameter(spec.get("database", {})) is None
        ):
            # Unwritten, the class is the tier's default or, when the apps' connection pools
            # need more, the smallest larger one of its family (capacity.connections).
            env["database"]["instanceClass"] = capacity.class_needed(out, name)
    return out
