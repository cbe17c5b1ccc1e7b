"""Semantic and policy checks that the JSON Schema cannot express.

Semantic checks catch specs that are well-formed but wrong (duplicate names,
overlapping networks, references to things that do not exist). Policy checks
are the rules auditors sign off: no public database, production is Multi-AZ
with deletion protection and a week of backups, every public app is behind WAF
and TLS, no secret values in plain environment variables.
"""

from __future__ import annotations

import contextlib
import ipaddress
import keyword
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .diagnostics import Diagnostic, Severity, dotted
from .resolve import RESERVED_FIELDS, TIER_BY_NAME
from .yamlpos import LoadedYaml, SpecPath

_PRIVATE_NETWORKS = [
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("192.168.0.0/16"),
]
_SECRET_NAME = re.compile(
    r"(^|_)(PASSWORD|PASSWD|PASS|SECRET|TOKEN|PRIVATE_KEY|API_KEY|APIKEY|ACCESS_KEY|SECRET_KEY"
    r"|CREDENTIALS?|DSN)$"
)
_SECRET_VALUE = [
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"), "a URL with a password in it"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"), "a GitHub token"),
]
# Parameters platformgen sets for security and for DMS/CDC; a spec may not weaken them.
MANAGED_DB_PARAMETERS = {
    "require_secure_transport": "TLS to the database is mandatory",
    "binlog_format": "ROW binlogs are required for DMS CDC and point-in-time recovery",
    "binlog_row_image": "FULL row images are required for DMS CDC",
    "slow_query_log": "the slow query log feeds the CloudWatch alarms",
    "log_output": "logs are exported to CloudWatch as files",
    "local_infile": "LOAD DATA LOCAL is a data exfiltration path",
    "tls_version": "the platform pins TLS 1.2 and 1.3",
}


@dataclass
class Context:
    doc: LoadedYaml
    resolved: dict[str, Any]
    file: str

    @property
    def raw(self) -> dict[str, Any]:
        data: dict[str, Any] = self.doc.data
        return data

    def raw_app_index(self, name: str) -> int:
        for i, app in enumerate(self.raw["apps"]):
            if app["name"] == name:
                return i
        return 0

    def finding(
        self,
        severity: Severity,
        code: str,
        path: SpecPath,
        message: str,
        fix: str,
        *,
        key: bool = False,
    ) -> Diagnostic:
        position = self.doc.position(path, key=key)
        written = path in (self.doc.keys if key else self.doc.values)
        suffix = "" if written or not path else " (a default: set it explicitly to change it)"
        return Diagnostic(
            file=self.file,
            line=position.line,
            column=position.column,
            severity=severity,
            code=code,
            path=dotted(path),
            message=message + suffix,
            fix=fix,
        )


Check = Callable[[Context], Iterator[Diagnostic]]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    CHECKS.append(fn)
    return fn


# --- semantic ---------------------------------------------------------------------------------


@check
def unique_app_names(ctx: Context) -> Iterator[Diagnostic]:
    seen: dict[str, int] = {}
    for i, app in enumerate(ctx.raw["apps"]):
        name = app["name"]
        if name in seen:
            first = ctx.doc.position(("apps", seen[name], "name"))
            yield ctx.finding(
                "error",
                "semantic.duplicate-app",
                ("apps", i, "name"),
                f"app name '{name}' is used twice (first at line {first.line})",
                "give every app its own name; names become Helm releases, image repositories and folders",
            )
        else:
            seen[name] = i


@check
def renamed_apps(ctx: Context) -> Iterator[Diagnostic]:
    """`renamedFrom` names a previous name: not a current app, and each old name once."""
    names = {app["name"] for app in ctx.raw["apps"]}
    seen: dict[str, int] = {}
    for i, app in enumerate(ctx.raw["apps"]):
        old = app.get("renamedFrom")
        if old is None:
            continue
        path = ("apps", i, "renamedFrom")
        if old == app["name"]:
            yield ctx.finding(
                "error",
                "semantic.renamed-from",
                path,
                f"app '{old}' is renamed from its own name",
                "remove renamedFrom, or set it to the app's previous name",
            )
        elif old in names:
            yield ctx.finding(
                "error",
                "semantic.renamed-from",
                path,
                f"app '{app['name']}' is renamed from '{old}', but '{old}' is an app of this spec",
                f"if '{old}' became '{app['name']}', remove the app '{old}'; otherwise remove "
                "renamedFrom",
            )
        elif old in seen:
            first = ctx.doc.position(("apps", seen[old], "renamedFrom"))
            yield ctx.finding(
                "error",
                "semantic.renamed-from",
                path,
                f"two apps are renamed from '{old}' (first at line {first.line})",
                "an app's files move to one new name: keep renamedFrom on one app only",
            )
        else:
            seen[old] = i


@check
def environment_tiers(ctx: Context) -> Iterator[Diagnostic]:
    for name, env in ctx.raw["environments"].items():
        if "tier" not in env and name not in TIER_BY_NAME:
            yield ctx.finding(
                "error",
                "semantic.tier-required",
                ("environments", name),
                f"environment '{name}' does not say which tier it is",
                "add 'tier: development', 'tier: staging' or 'tier: production' under it "
                "(only dev, staging and prod get a tier from their name)",
                key=True,
            )
        elif "tier" in env and name in TIER_BY_NAME and env["tier"] != TIER_BY_NAME[name]:
            yield ctx.finding(
                "warning",
                "semantic.tier-name",
                ("environments", name, "tier"),
                f"environment '{name}' has tier {env['tier']}, which its name does not suggest",
                "check that this is intended; production tier carries the strict policy",
            )


@check
def networks(ctx: Context) -> Iterator[Diagnostic]:
    parsed: list[tuple[str, ipaddress.IPv4Network]] = []
    for name, env in ctx.raw["environments"].items():
        path = ("environments", name, "vpcCidr")
        text = env["vpcCidr"]
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            loose = None
            with contextlib.suppress(ValueError):
                loose = ipaddress.ip_network(text, strict=False)
            fix = (
                f"use the network address: {loose}"
                if loose is not None
                else "write an IPv4 network such as 10.20.0.0/16"
            )
            yield ctx.finding(
                "error", "semantic.cidr-invalid", path, f"{text} is not a network: {exc}", fix
            )
            continue
        if not isinstance(network, ipaddress.IPv4Network) or not any(
            network.subnet_of(p) for p in _PRIVATE_NETWORKS
        ):
            yield ctx.finding(
                "error",
                "semantic.cidr-public",
                path,
                f"{text} is not a private (RFC 1918) range",
                "use a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
            )
            continue
        for other_name, other in parsed:
            if network.overlaps(other):
                yield ctx.finding(
                    "error",
                    "semantic.cidr-overlap",
                    path,
                    f"{text} overlaps {other} of environment '{other_name}'",
                    "give each environment its own range (for example 10.10.0.0/16, 10.20.0.0/16, "
                    "10.30.0.0/16) so they can be peered and migrated between later",
                )
        parsed.append((name, network))


@check
def environment_references(ctx: Context) -> Iterator[Diagnostic]:
    known = list(ctx.raw["environments"])
    for i, app in enumerate(ctx.raw["apps"]):
        for env_name in app.get("environments", {}):
            if env_name not in known:
                yield ctx.finding(
                    "error",
                    "semantic.unknown-environment",
                    ("apps", i, "environments", env_name),
                    f"app '{app['name']}' has settings for environment '{env_name}', which is not defined",
                    f"use one of: {', '.join(known)}, or add '{env_name}' under environments",
                    key=True,
                )
    migration = ctx.raw.get("migration")
    if (
        migration
        and "targetEnvironment" in migration
        and migration["targetEnvironment"] not in known
    ):
        yield ctx.finding(
            "error",
            "semantic.unknown-environment",
            ("migration", "targetEnvironment"),
            f"migration target '{migration['targetEnvironment']}' is not a defined environment",
            f"use one of: {', '.join(known)}",
        )


@check
def promotion_order(ctx: Context) -> Iterator[Diagnostic]:
    if "promotion" not in ctx.raw:
        return
    order = ctx.raw["promotion"]
    known = list(ctx.raw["environments"])
    for i, name in enumerate(order):
        if name not in known:
            yield ctx.finding(
                "error",
                "semantic.unknown-environment",
                ("promotion", i),
                f"promotion lists '{name}', which is not a defined environment",
                f"use only: {', '.join(known)}",
            )
    missing = [name for name in known if name not in order]
    if missing:
        yield ctx.finding(
            "error",
            "semantic.promotion-incomplete",
            ("promotion",),
            f"promotion does not list {', '.join(missing)}",
            "list every environment once, in the order changes reach them",
        )
    tiers = [
        ctx.resolved["environments"][n]["tier"] for n in order if n in ctx.resolved["environments"]
    ]
    for i, tier in enumerate(tiers):
        if tier == "production" and any(t != "production" for t in tiers[i + 1 :]):
            yield ctx.finding(
                "error",
                "policy.promotion-order",
                ("promotion", i),
                f"'{order[i]}' is production tier but comes before non-production environments",
                "promote through development and staging first; put production environments last",
            )
            break


@check
def ranges(ctx: Context) -> Iterator[Diagnostic]:
    for i, app in enumerate(ctx.raw["apps"]):
        blocks: list[tuple[SpecPath, dict[str, Any]]] = [
            (("apps", i, "replicas"), app.get("replicas", {}))
        ]
        for env_name, override in app.get("environments", {}).items():
            blocks.append(
                (("apps", i, "environments", env_name, "replicas"), override.get("replicas", {}))
            )
        for path, block in blocks:
            if "min" in block and "max" in block and block["min"] > block["max"]:
                yield ctx.finding(
                    "error",
                    "semantic.range",
                    (*path, "max"),
                    f"replicas max ({block['max']}) is below min ({block['min']})",
                    "set max to at least min",
                )
    for app in ctx.resolved["apps"]:
        i = ctx.raw_app_index(app["name"])
        base = ctx.raw["apps"][i].get("replicas", {})
        if base.get("min", 0) > base.get("max", base.get("min", 0)):
            continue  # already reported on the app's own replicas
        for env_name, env in app["environments"].items():
            replicas = env.get("replicas")
            override = ctx.raw["apps"][i].get("environments", {}).get(env_name, {})
            path: SpecPath = (
                ("apps", i, "environments", env_name, "replicas")
                if "replicas" in override
                else ("apps", i, "replicas")
            )
            if replicas and replicas["min"] > replicas["max"]:
                yield ctx.finding(
                    "error",
                    "semantic.range",
                    path,
                    f"in {env_name}, replicas min ({replicas['min']}) exceeds max ({replicas['max']})",
                    f"set replicas.max for {env_name} to at least {replicas['min']}",
                )
    for name, env in ctx.resolved["environments"].items():
        cluster = env["cluster"]
        if cluster["minNodes"] > cluster["maxNodes"]:
            yield ctx.finding(
                "error",
                "semantic.range",
                ("environments", name, "cluster", "maxNodes"),
                f"maxNodes ({cluster['maxNodes']}) is below minNodes ({cluster['minNodes']})",
                "set maxNodes to at least minNodes",
            )
    db = ctx.resolved.get("database")
    if db and db["storage"]["maxAllocatedGb"] < db["storage"]["allocatedGb"]:
        yield ctx.finding(
            "error",
            "semantic.range",
            ("database", "storage", "maxAllocatedGb"),
            f"maxAllocatedGb ({db['storage']['maxAllocatedGb']}) is below allocatedGb "
            f"({db['storage']['allocatedGb']})",
            "set maxAllocatedGb to at least allocatedGb",
        )


@check
def app_kinds(ctx: Context) -> Iterator[Diagnostic]:
    for i, app in enumerate(ctx.raw["apps"]):
        kind = app["kind"]
        name = app["name"]
        if kind == "worker":
            for field, why in (("public", "has no inbound traffic"), ("path", "is not routed")):
                if field in app and (field != "public" or app[field]):
                    yield ctx.finding(
                        "error",
                        "semantic.kind",
                        ("apps", i, field),
                        f"worker '{name}' sets {field}, but a worker {why}",
                        f"remove {field}, or make the app kind api",
                    )
        if "hosting" in app and kind != "web" and app["hosting"] == "static":
            yield ctx.finding(
                "error",
                "semantic.kind",
                ("apps", i, "hosting"),
                f"{kind} '{name}' cannot be hosted as static files",
                "remove hosting (only web apps can be static)",
            )
        if kind == "web" and app.get("hosting", "static") == "static":
            for field in ("port", "health", "replicas", "resources", "secrets"):
                if field in app:
                    yield ctx.finding(
                        "error",
                        "semantic.kind",
                        ("apps", i, field),
                        f"static web app '{name}' runs no container, so '{field}' has no effect",
                        f"remove {field}, or set 'hosting: container'",
                    )
            if app.get("database"):
                yield ctx.finding(
                    "error",
                    "semantic.kind",
                    ("apps", i, "database"),
                    f"static web app '{name}' cannot hold database credentials",
                    "remove database: true; the browser reaches data through an api app",
                )
        if kind in {"api", "worker"} and keyword.iskeyword(name.replace("-", "_")):
            yield ctx.finding(
                "error",
                "semantic.name",
                ("apps", i, "name"),
                f"app name '{name}' is a Python keyword and cannot name the service's package",
                f"rename it, for example '{name}-service'",
            )
        if app.get("database") and "database" not in ctx.raw:
            yield ctx.finding(
                "error",
                "semantic.database-missing",
                ("apps", i, "database"),
                f"app '{name}' asks for the database, but the spec has none",
                "add a database section, or remove 'database: true'",
            )
        env_names = set(app.get("env", {}))
        for env_override in app.get("environments", {}).values():
            env_names |= set(env_override.get("env", {}))
        for secret in app.get("secrets", {}):
            if secret in env_names:
                yield ctx.finding(
                    "error",
                    "semantic.env-secret-clash",
                    ("apps", i, "secrets", secret),
                    f"'{secret}' is both a plain env var and a secret of app '{name}'",
                    "keep it in secrets only",
                    key=True,
                )
        for var in sorted(env_names | set(app.get("secrets", {}))):
            if var.startswith("PLATFORMGEN_"):
                yield ctx.finding(
                    "error",
                    "semantic.reserved-env",
                    ("apps", i),
                    f"env var '{var}' uses the PLATFORMGEN_ prefix, which the platform reserves",
                    "choose another name",
                )


@check
def routes_and_domains(ctx: Context) -> Iterator[Diagnostic]:
    seen: dict[str, str] = {}
    for app in ctx.resolved["apps"]:
        if not app["public"] or "path" not in app:
            continue
        i = ctx.raw_app_index(app["name"])
        if app["path"] in seen:
            yield ctx.finding(
                "error",
                "semantic.duplicate-path",
                ("apps", i, "path"),
                f"public apps '{seen[app['path']]}' and '{app['name']}' both serve {app['path']}",
                "give each public app its own path prefix (set 'path:')",
            )
        else:
            seen[app["path"]] = app["name"]
    domains: dict[str, str] = {}
    for name, env in ctx.resolved["environments"].items():
        if env["domain"] in domains:
            yield ctx.finding(
                "error",
                "semantic.duplicate-domain",
                ("environments", name, "domain"),
                f"environments '{domains[env['domain']]}' and '{name}' both serve {env['domain']}",
                "give each environment its own domain",
            )
        domains[env["domain"]] = name


@check
def bitbucket_identity(ctx: Context) -> Iterator[Diagnostic]:
    pipelines = ctx.raw.get("pipelines", {})
    providers = ctx.resolved["pipelines"]["providers"]
    if "bitbucket" in providers and "bitbucket" not in pipelines:
        yield ctx.finding(
            "warning",
            "semantic.bitbucket-identity",
            ("pipelines", "providers"),
            "Bitbucket Pipelines cannot deploy yet: its OIDC tokens are trusted only for a known "
            "workspace and repository UUID",
            "add pipelines.bitbucket.workspaceUuid and repositoryUuid (Repository settings > "
            "OpenID Connect in Bitbucket)",
        )
    if "bitbucket" in pipelines and "bitbucket" not in providers:
        yield ctx.finding(
            "warning",
            "semantic.bitbucket-unused",
            ("pipelines", "bitbucket"),
            "pipelines.bitbucket is set, but bitbucket is not a provider, so it is ignored",
            "add bitbucket to pipelines.providers or remove the section",
            key=True,
        )


@check
def migration_and_observability(ctx: Context) -> Iterator[Diagnostic]:
    if "migration" in ctx.raw and "database" not in ctx.raw:
        yield ctx.finding(
            "error",
            "semantic.database-missing",
            ("migration",),
            "a migration needs a target database, but the spec has none",
            "add a database section",
            key=True,
        )
    observability = ctx.raw.get("observability", {})
    if observability.get("provider") == "datadog" and "datadog" not in observability:
        yield ctx.finding(
            "error",
            "semantic.datadog-missing",
            ("observability", "provider"),
            "provider is datadog, but there is no datadog section",
            "add observability.datadog.apiKeySecret (the Secrets Manager secret with the API key)",
        )
    if "datadog" in observability and observability.get("provider", "cloudwatch") != "datadog":
        yield ctx.finding(
            "warning",
            "semantic.datadog-unused",
            ("observability", "datadog"),
            "a datadog section is present, but provider is not datadog, so it is ignored",
            "set 'provider: datadog' or remove the section",
            key=True,
        )


@check
def api_resources(ctx: Context) -> Iterator[Diagnostic]:
    """The example resource of an api app: fields and workflow make sense together."""
    for i, app in enumerate(ctx.raw["apps"]):
        resource = app.get("resource")
        if resource is None:
            continue
        base: SpecPath = ("apps", i, "resource")
        if app["kind"] != "api":
            yield ctx.finding(
                "error",
                "semantic.kind",
                base,
                f"{app['kind']} '{app['name']}' sets resource, but only api apps serve one",
                "remove resource, or make the app kind api",
                key=True,
            )
            continue
        seen: set[str] = set()
        for j, field in enumerate(resource.get("fields", [])):
            path: SpecPath = (*base, "fields", j)
            name = field["name"]
            if name in RESERVED_FIELDS:
                yield ctx.finding(
                    "error",
                    "semantic.resource-field",
                    (*path, "name"),
                    f"field name '{name}' is reserved: the service adds {', '.join(RESERVED_FIELDS)}",
                    "rename the field",
                )
            elif name in seen:
                yield ctx.finding(
                    "error",
                    "semantic.resource-field",
                    (*path, "name"),
                    f"field '{name}' is listed twice",
                    "give every field its own name",
                )
            seen.add(name)
            allowed = {"string": {"minLength", "maxLength"}, "integer": {"minimum", "maximum"}}
            for option in ("minLength", "maxLength", "minimum", "maximum"):
                if option in field and option not in allowed.get(field["type"], set()):
                    yield ctx.finding(
                        "error",
                        "semantic.resource-field",
                        (*path, option),
                        f"field '{name}' is a {field['type']}, so {option} has no effect",
                        f"remove {option}",
                        key=True,
                    )
            for low, high in (("minLength", "maxLength"), ("minimum", "maximum")):
                if low in field and high in field and field[low] > field[high]:
                    yield ctx.finding(
                        "error",
                        "semantic.range",
                        (*path, high),
                        f"field '{name}': {high} ({field[high]}) is below {low} ({field[low]})",
                        f"set {high} to at least {low}",
                    )
        workflow = resource.get("workflow")
        if workflow is None:
            continue
        pairs: set[tuple[str, str]] = set()
        targets = {workflow["initial"]}
        for j, step in enumerate(workflow["transitions"]):
            path = (*base, "workflow", "transitions", j)
            pair = (step["from"], step["to"])
            if step["from"] == step["to"]:
                yield ctx.finding(
                    "error",
                    "semantic.workflow",
                    path,
                    f"transition {step['from']} -> {step['to']} does not change the status",
                    "remove it",
                )
            elif pair in pairs:
                yield ctx.finding(
                    "error",
                    "semantic.workflow",
                    path,
                    f"transition {step['from']} -> {step['to']} is listed twice",
                    "keep one (a transition has one `by`)",
                )
            pairs.add(pair)
            targets.add(step["to"])
        for j, step in enumerate(workflow["transitions"]):
            if step["from"] not in targets:
                yield ctx.finding(
                    "error",
                    "semantic.workflow",
                    (*base, "workflow", "transitions", j, "from"),
                    f"status '{step['from']}' can never be reached: it is not the initial "
                    "status and no transition leads to it",
                    f"add a transition to '{step['from']}', or fix the name",
                )


@check
def service_auth_settings(ctx: Context) -> Iterator[Diagnostic]:
    """A generated service refuses to start without its token settings: say so before deploying."""
    for app in ctx.resolved["apps"]:
        if app["kind"] != "api" or not app["database"]:
            continue
        secrets = set(app.get("secrets", {}))
        missing_in = []
        for env_name, settings in app["environments"].items():
            names = set(settings["env"]) | secrets
            tier = ctx.resolved["environments"][env_name]["tier"]
            dev_mode = tier == "development" and settings["env"].get("AUTH_DEV_MODE") == "true"
            if not dev_mode and not {"AUTH_ISSUER", "AUTH_AUDIENCE"} <= names:
                missing_in.append(env_name)
        if missing_in:
            yield ctx.finding(
                "warning",
                "semantic.service-auth",
                ("apps", ctx.raw_app_index(app["name"]), "name"),
                f"api '{app['name']}' has no AUTH_ISSUER and AUTH_AUDIENCE in "
                f"{', '.join(missing_in)}: its service refuses to start without them",
                "set them under env (per environment under environments.<env>.env): the "
                "identity provider's issuer URL and the accepted client ids",
            )


# --- policy -------------------------------------------------------------------------------------


@check
def database_policy(ctx: Context) -> Iterator[Diagnostic]:
    db = ctx.resolved.get("database")
    if not db:
        return
    if db["publiclyAccessible"]:
        yield ctx.finding(
            "error",
            "policy.database-public",
            ("database", "publiclyAccessible"),
            "the database would get a public endpoint; no database is ever public",
            "remove publiclyAccessible (apps reach the database inside the VPC)",
        )
    for parameter, why in MANAGED_DB_PARAMETERS.items():
        if parameter in db["parameters"]:
            yield ctx.finding(
                "error",
                "policy.database-parameter",
                ("database", "parameters", parameter),
                f"parameter {parameter} is managed by the platform ({why})",
                f"remove {parameter} from database.parameters",
                key=True,
            )
    if db["version"].startswith("8.0."):
        yield ctx.finding(
            "warning",
            "policy.mysql-80-support",
            ("database", "version"),
            "RDS for MySQL 8.0 left standard support on 2026-07-31; Extended Support is billed",
            "plan the major upgrade to 8.4 with an RDS Blue/Green deployment "
            "(see the generated docs/runbooks/database.md)",
        )
    for name, env in ctx.resolved["environments"].items():
        if env["tier"] != "production":
            continue
        settings = env["database"]
        base: SpecPath = ("environments", name, "database")
        if not settings["multiAz"]:
            yield ctx.finding(
                "error",
                "policy.prod-multi-az",
                (*base, "multiAz"),
                f"production environment '{name}' has a single-AZ database",
                "set multiAz: true (a standby in another zone takes over in about a minute)",
            )
        inherited = "deletionProtection" not in ctx.raw["environments"][name].get("database", {})
        if not settings["deletionProtection"] and not (
            inherited and "deletionProtection" in ctx.raw["environments"][name]
        ):
            yield ctx.finding(
                "error",
                "policy.prod-deletion-protection",
                (*base, "deletionProtection"),
                f"production environment '{name}' has no deletion protection on its database",
                "set deletionProtection: true",
            )
        if settings["backupRetentionDays"] < 7:
            yield ctx.finding(
                "error",
                "policy.prod-backups",
                (*base, "backupRetentionDays"),
                f"production environment '{name}' keeps backups for "
                f"{settings['backupRetentionDays']} days; at least 7 are required",
                "set backupRetentionDays to 7 or more (up to 35)",
            )


@check
def environment_policy(ctx: Context) -> Iterator[Diagnostic]:
    accounts: dict[str, list[str]] = {}
    for name, env in ctx.resolved["environments"].items():
        accounts.setdefault(env["account"], []).append(name)
        if env["tier"] == "production" and not env["deletionProtection"]:
            yield ctx.finding(
                "error",
                "policy.prod-deletion-protection",
                ("environments", name, "deletionProtection"),
                f"production environment '{name}' turns deletion protection off",
                "set deletionProtection: true",
            )
        if env["tier"] == "production" and env["natGateways"] == "single":
            yield ctx.finding(
                "warning",
                "policy.prod-single-nat",
                ("environments", name, "natGateways"),
                f"production environment '{name}' has one NAT gateway; a zone outage cuts egress",
                "set natGateways: perAz",
            )
    for account, names in accounts.items():
        if len(names) < 2:
            continue
        tiers = {ctx.resolved["environments"][n]["tier"] for n in names}
        severity: Severity = "error" if "production" in tiers and len(tiers) > 1 else "warning"
        yield ctx.finding(
            severity,
            "policy.shared-account",
            ("environments", names[1], "account"),
            f"environments {', '.join(names)} share AWS account {account}",
            "give each environment its own account; production must never share one with "
            "non-production",
        )


@check
def public_app_policy(ctx: Context) -> Iterator[Diagnostic]:
    public = [a["name"] for a in ctx.resolved["apps"] if a["public"]]
    if not public:
        return
    edge = ctx.resolved["edge"]
    if not edge["waf"]["enabled"]:
        yield ctx.finding(
            "error",
            "policy.public-app-waf",
            ("edge", "waf", "enabled"),
            f"public apps ({', '.join(public)}) would not be behind WAF",
            "set edge.waf.enabled: true, or make the apps private",
        )
    if not edge["tls"]["enabled"]:
        yield ctx.finding(
            "error",
            "policy.public-app-tls",
            ("edge", "tls", "enabled"),
            f"public apps ({', '.join(public)}) would be served without TLS",
            "set edge.tls.enabled: true, or make the apps private",
        )


@check
def secret_values(ctx: Context) -> Iterator[Diagnostic]:
    for i, app in enumerate(ctx.raw["apps"]):
        blocks: list[tuple[SpecPath, dict[str, str]]] = [(("apps", i, "env"), app.get("env", {}))]
        for env_name, override in app.get("environments", {}).items():
            blocks.append((("apps", i, "environments", env_name, "env"), override.get("env", {})))
        for path, block in blocks:
            for var, value in block.items():
                reason = next(
                    (label for pattern, label in _SECRET_VALUE if pattern.search(value)), None
                )
                if reason is None and _SECRET_NAME.search(var) and value.strip():
                    reason = "a value for a variable named like a secret"
                if reason:
                    yield ctx.finding(
                        "error",
                        "policy.secret-in-env",
                        (*path, var),
                        f"env var {var} of app '{app['name']}' holds {reason}; specs hold no secret values",
                        f"store it in AWS Secrets Manager and reference it under secrets: "
                        f"{{{var}: {{secret: <name>}}}}",
                    )


def run_checks(ctx: Context) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for fn in CHECKS:
        out.extend(fn(ctx))
    return out
