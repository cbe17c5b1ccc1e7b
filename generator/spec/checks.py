"""Semantic and policy checks that the JSON Schema cannot express.

Semantic checks catch specs that are well-formed but wrong (duplicate names,
overlapping networks, references to things that do not exist). Policy checks
are the rules auditors sign off: no public database, production is Multi-AZ
with deletion protection and a week of backups, every public app is behind WAF
and TLS, no secret values in plain environment variables.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
from collections.abc import Iterator
from typing import Any

from . import area_rules, capacity_checks, migration_checks, name_checks, support
from .context import CHECKS, Check, Context, check
from .diagnostics import Diagnostic, Severity
from .resolve import TIER_BY_NAME
from .secret_scan import find_secrets
from .yamlpos import SpecPath

__all__ = ["CHECKS", "Check", "Context", "check", "run_checks"]
# Registered on import, with the checks below: capacity, the migration, names, and what
# each area needs.
_AREA_MODULES = (area_rules, capacity_checks, migration_checks, name_checks)

# RDS for MySQL 8.0's end of standard support (RDS release calendar for MySQL).
MYSQL_80_STANDARD_UNTIL = dt.date(2026, 7, 31)

_PRIVATE_NETWORKS = [
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("192.168.0.0/16"),
]


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
def master_password_version(ctx: Context) -> Iterator[Diagnostic]:
    """environments.<env>.database.masterPasswordVersion rotates only a Terraform-written
    master password (read replicas); RDS rotates its own."""
    for name, env in ctx.raw["environments"].items():
        db = env.get("database", {})
        if "masterPasswordVersion" in db and db.get("readReplicas", 0) == 0:
            yield ctx.finding(
                "warning",
                "semantic.master-password-version",
                ("environments", name, "database", "masterPasswordVersion"),
                f"environment '{name}' sets masterPasswordVersion, but its database has no "
                "read replicas: RDS manages and rotates that master password itself",
                "remove masterPasswordVersion (it only rotates the master of a database "
                "with read replicas)",
            )


@check
def database_user_secrets(ctx: Context) -> Iterator[Diagnostic]:
    """<project>/<env>/database/ holds the database users' secrets, each read by one app:
    an app called database (its own prefix <project>/<env>/database/*) or an app secret
    under database/ would reach another app's database user."""
    for i, app in enumerate(ctx.raw.get("apps", [])):
        if app.get("name") == "database":
            yield ctx.finding(
                "error",
                "semantic.database-prefix",
                ("apps", i, "name"),
                "an app may not be called 'database': <project>/<env>/database/ holds the "
                "database users' secrets",
                "rename the app",
            )
        for var, ref in app.get("secrets", {}).items():
            if isinstance(ref, dict) and str(ref.get("secret", "")).startswith("database/"):
                yield ctx.finding(
                    "error",
                    "semantic.database-prefix",
                    ("apps", i, "secrets", var, "secret"),
                    f"secret '{ref['secret']}' of app '{app.get('name')}' is under database/, "
                    "where the database users' secrets live (each read only by its own app)",
                    "store it under another prefix, e.g. the app's name",
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
            for field in ("port", "health", "replicas", "resources", "secrets", "env"):
                # An empty env is no setting (`platformgen show` prints one).
                if field in app and (field != "env" or app[field]):
                    yield ctx.finding(
                        "error",
                        "semantic.kind",
                        ("apps", i, field),
                        f"static web app '{name}' runs no container, so '{field}' has no effect",
                        f"remove {field}, or set 'hosting: container'"
                        + (
                            " (settings a static build needs are baked in at build time)"
                            if field == "env"
                            else ""
                        ),
                    )
            for env_name, override in app.get("environments", {}).items():
                for field in (f for f in override if f != "env" or override[f]):
                    yield ctx.finding(
                        "error",
                        "semantic.kind",
                        ("apps", i, "environments", env_name, field),
                        f"static web app '{name}' runs no container, so '{field}' in "
                        f"{env_name} has no effect",
                        f"remove environments.{env_name}.{field}, or set 'hosting: container'",
                        key=True,
                    )
            if app.get("public") is False:
                yield ctx.finding(
                    "error",
                    "semantic.static-private",
                    ("apps", i, "public"),
                    f"static web app '{name}' would be served by nothing: its bucket is "
                    "reachable only through CloudFront, which serves public apps",
                    "remove 'public: false' (a static app is public), or set "
                    "'hosting: container' to run it as a private server inside the VPC",
                )
            if app.get("database"):
                yield ctx.finding(
                    "error",
                    "semantic.kind",
                    ("apps", i, "database"),
                    f"static web app '{name}' cannot hold database credentials",
                    "remove database: true; the browser reaches data through an api app",
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
            "Bitbucket Pipelines cannot assume any AWS role yet (plan, or deploy where it "
            "delivers): its OIDC tokens are trusted only for a known workspace and repository "
            "UUID",
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
def delivery_provider(ctx: Context) -> Iterator[Diagnostic]:
    """pipelines.deliver: exactly one provider builds and deploys, and it is a provider."""
    given = ctx.raw.get("pipelines", {}).get("deliver")
    providers = ctx.resolved["pipelines"]["providers"]
    if given is not None and given not in providers:
        yield ctx.finding(
            "error",
            "semantic.deliver-provider",
            ("pipelines", "deliver"),
            f"pipelines.deliver is {given}, which is not one of pipelines.providers "
            f"({', '.join(providers)}): nothing would build or deploy",
            f"set deliver to one of {', '.join(providers)}, or add {given} to providers",
        )


@check
def repository_host(ctx: Context) -> Iterator[Diagnostic]:
    """pipelines.repositoryHost: CodePipeline's source connection needs exactly one host."""
    pipelines = ctx.raw.get("pipelines", {})
    given = pipelines.get("repositoryHost")
    providers = ctx.resolved["pipelines"]["providers"]
    hosts = [p for p in ("github", "bitbucket") if p in providers]
    if "codepipeline" in providers and given is None and len(hosts) != 1:
        listed = "both github and bitbucket" if hosts else "neither github nor bitbucket"
        yield ctx.finding(
            "error",
            "semantic.repository-host",
            ("pipelines", "providers"),
            f"CodePipeline's source is a CodeConnections connection to the repository's host, "
            f"and pipelines.providers lists {listed}, so the host cannot be known",
            "set pipelines.repositoryHost to github or bitbucket (where "
            f"{ctx.resolved['project']['organisation']}/{ctx.resolved['project']['repository']} lives)",
        )
    if given is not None and "codepipeline" not in providers:
        yield ctx.finding(
            "warning",
            "semantic.repository-host-unused",
            ("pipelines", "repositoryHost"),
            "pipelines.repositoryHost is set, but codepipeline is not a provider, so it is ignored",
            "add codepipeline to pipelines.providers or remove repositoryHost",
            key=True,
        )


@check
def drift_check(ctx: Context) -> Iterator[Diagnostic]:
    """The daily drift check (`make infra-drift ENV=<env>` under each plan role) runs on
    GitHub or Bitbucket: the delivering one, else (CodePipeline delivers) the repository's
    host (templates/_shared/delivery.jinja, drift_system). CodePipeline cannot run it: the
    plan roles trust only GitHub and Bitbucket OIDC, never the artifacts account."""
    providers = ctx.resolved["pipelines"]["providers"]
    if not any(p in providers for p in ("github", "bitbucket")):
        yield ctx.finding(
            "warning",
            "semantic.no-drift-check",
            ("pipelines", "providers"),
            "nothing checks the environments for drift: only GitHub Actions or Bitbucket "
            "Pipelines can run the daily `make infra-drift` (the plan roles trust their OIDC, "
            "never CodePipeline's account), and neither is listed",
            "list github or bitbucket (where the repository lives) in pipelines.providers; "
            "it then runs only the pull-request checks and the drift schedule",
        )


@check
def bitbucket_deploy_environments(ctx: Context) -> Iterator[Diagnostic]:
    """When Bitbucket delivers, each environment's CI role trusts only the steps of the
    deployment environment named for it (infra/bootstrap/roles.tf)."""
    bitbucket = ctx.raw.get("pipelines", {}).get("bitbucket")
    if not bitbucket or "bitbucket" not in ctx.resolved["pipelines"]["providers"]:
        return
    given = bitbucket.get("deployEnvironments", {})
    known = list(ctx.raw["environments"])
    delivers = ctx.resolved["pipelines"]["deliver"] == "bitbucket"
    for name in given:
        path = ("pipelines", "bitbucket", "deployEnvironments", name)
        if name not in known:
            yield ctx.finding(
                "error",
                "semantic.unknown-environment",
                path,
                f"deployEnvironments names '{name}', which is not a defined environment",
                f"use one of: {', '.join(known)}",
                key=True,
            )
        elif not delivers:
            yield ctx.finding(
                "warning",
                "semantic.bitbucket-deploy-environment-unused",
                path,
                f"Bitbucket only checks pull requests (pipelines.deliver is "
                f"{ctx.resolved['pipelines']['deliver']}), so no role trusts the deployment "
                f"environment of {name}",
                "remove deployEnvironments, or set pipelines.deliver: bitbucket",
                key=True,
            )
    if not delivers:
        return
    plan = bitbucket.get("planEnvironments", {})
    for name in known:
        if name not in given:
            yield ctx.finding(
                "warning",
                "semantic.bitbucket-deploy-environment",
                ("pipelines", "bitbucket"),
                f"Bitbucket Pipelines cannot deploy {name}: its CI role trusts only steps of "
                "the Bitbucket deployment environment named for it, and none is named",
                f"create a Bitbucket deployment environment '{name}' (Repository settings > "
                f"Deployments) and add its UUID as "
                f"pipelines.bitbucket.deployEnvironments.{name}",
                key=True,
            )
        elif plan.get(name) == given[name]:
            yield ctx.finding(
                "error",
                "semantic.bitbucket-deploy-shares-plan",
                ("pipelines", "bitbucket", "deployEnvironments", name),
                f"{name} deploys and plans in the same Bitbucket deployment environment "
                f"{given[name]}",
                "give the deploys their own deployment environment: a step that may only "
                "plan must not be able to start the executors",
            )


@check
def artifacts_account(ctx: Context) -> Iterator[Diagnostic]:
    """The artifacts account holds what every environment runs: no non-production
    administrator, and not the backup account, may control it."""
    given = ctx.raw.get("artifacts", {}).get("account")
    if given is None:
        return
    path = ("artifacts", "account")
    for name, env in ctx.resolved["environments"].items():
        if env["account"] == given and env["tier"] != "production":
            yield ctx.finding(
                "error",
                "policy.artifacts-account",
                path,
                f"artifacts account {given} is the account of {env['tier']}-tier environment "
                f"'{name}': whoever administers {name} could push images that production runs",
                "name a separate tooling account, or leave artifacts out so the registry "
                "lives in the production account",
            )
            return
    if ctx.raw.get("backup", {}).get("account") == given:
        yield ctx.finding(
            "error",
            "policy.artifacts-account",
            path,
            f"artifacts account {given} is the backup account, which must hold nothing but "
            "the copies it protects",
            "name a separate tooling account for the artifacts",
        )


def protected_plan(resolved: dict[str, Any], name: str) -> bool:
    """Whether `name`'s plan role is protected: CI reaches it only from a protected
    environment, never a pull request (infra/bootstrap/roles.tf, protected_plan). So is
    production's, and every plan role that reads the write-only database master secret."""
    env = resolved["environments"][name]
    replicas = "database" in resolved and env.get("database", {}).get("readReplicas", 0) > 0
    return env["tier"] == "production" or bool(replicas)


@check
def people_access(ctx: Context) -> Iterator[Diagnostic]:
    """environments.<env>.access: one role, one list; roles of the environment's account."""
    for name, env in ctx.raw["environments"].items():
        access = env.get("access", {})
        read_only = access.get("readOnly", [])
        for i, arn in enumerate(access.get("breakGlass", [])):
            if arn in read_only:
                yield ctx.finding(
                    "error",
                    "semantic.access-twice",
                    ("environments", name, "access", "breakGlass", i),
                    f"role {arn} is both readOnly and breakGlass in {name}",
                    "keep it in one list: EKS gives a role one access entry, so it is either a "
                    "viewer or a cluster admin",
                )
        for field in ("readOnly", "breakGlass"):
            for i, arn in enumerate(access.get(field, [])):
                account = arn.split(":")[4] if arn.count(":") >= 5 else ""
                if account and account != env["account"]:
                    yield ctx.finding(
                        "warning",
                        "semantic.access-account",
                        ("environments", name, "access", field, i),
                        f"role {arn} is in account {account}, not {name}'s account "
                        f"{env['account']}",
                        "IAM Identity Center creates a permission set's role in each account it "
                        "is assigned to: use the role in this environment's account, unless a "
                        "role of another account is meant (it then needs sts:AssumeRole on "
                        "this account's roles)",
                    )


@check
def bitbucket_plan_environments(ctx: Context) -> Iterator[Diagnostic]:
    bitbucket = ctx.raw.get("pipelines", {}).get("bitbucket")
    if not bitbucket or "bitbucket" not in ctx.resolved["pipelines"]["providers"]:
        return
    given = bitbucket.get("planEnvironments", {})
    known = list(ctx.raw["environments"])
    for name in given:
        path = ("pipelines", "bitbucket", "planEnvironments", name)
        if name not in known:
            yield ctx.finding(
                "error",
                "semantic.unknown-environment",
                path,
                f"planEnvironments names '{name}', which is not a defined environment",
                f"use one of: {', '.join(known)}",
                key=True,
            )
        elif not protected_plan(ctx.resolved, name):
            yield ctx.finding(
                "warning",
                "semantic.bitbucket-plan-environment-unused",
                path,
                f"{name}'s plan role is not protected (not production, no read replicas): it "
                "trusts every step of the repository, so this deployment environment is ignored",
                f"remove planEnvironments.{name}",
                key=True,
            )
    for name in known:
        if protected_plan(ctx.resolved, name) and name not in given:
            yield ctx.finding(
                "warning",
                "semantic.bitbucket-plan-environment",
                ("pipelines", "bitbucket"),
                f"Bitbucket Pipelines cannot plan {name}: its plan role trusts only steps of "
                "the deployment environment that runs its plans, and none is named",
                f"create a Bitbucket deployment environment '{name}-plan' with restricted "
                f"access and add its UUID as pipelines.bitbucket.planEnvironments.{name}",
                key=True,
            )


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY = 24 * 60
_WEEK = 7 * _DAY
MIN_WINDOW_MINUTES = 30
MAX_MAINTENANCE_MINUTES = 23 * 60 + 30


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def backup_window(text: str) -> tuple[int, int]:
    """Start minute of the day and length in minutes of a daily hh:mm-hh:mm window (UTC);
    a window that ends before it starts runs past midnight."""
    start, end = (_minutes(part) for part in text.split("-"))
    return start, (end - start) % _DAY


def maintenance_window(text: str) -> tuple[int, int]:
    """Start minute of the week (Monday 00:00 = 0) and length in minutes of a weekly
    ddd:hh:mm-ddd:hh:mm window (UTC); it may run past midnight and past Sunday."""
    first, second = text.split("-")
    start = _DAYS.index(first[:3]) * _DAY + _minutes(first[4:])
    end = _DAYS.index(second[:3]) * _DAY + _minutes(second[4:])
    return start, (end - start) % _WEEK


def windows_overlap(backup: str, maintenance: str) -> bool:
    """Does the weekly maintenance window share a minute with any day's backup window?

    Windows that only touch (one ends when the other starts) do not overlap: AWS
    accepts them."""
    b_start, b_length = backup_window(backup)
    m_start, m_length = maintenance_window(maintenance)
    for day in range(7):
        start = day * _DAY + b_start
        # Two intervals on a circle of one week overlap when either starts inside the other.
        if (start - m_start) % _WEEK < m_length or (m_start - start) % _WEEK < b_length:
            return True
    return False


@check
def database_windows(ctx: Context) -> Iterator[Diagnostic]:
    """AWS refuses, at create, windows under 30 minutes and a backup window that overlaps
    the maintenance window (CreateDBInstance: PreferredBackupWindow,
    PreferredMaintenanceWindow); a maintenance window lasts at most 23.5 hours."""
    db = ctx.resolved.get("database")
    if not db:
        return
    backup_path: SpecPath = ("database", "backupWindow")
    maintenance_path: SpecPath = ("database", "maintenanceWindow")
    backup, maintenance = db["backupWindow"], db["maintenanceWindow"]
    _, b_length = backup_window(backup)
    _, m_length = maintenance_window(maintenance)
    short = False
    if b_length < MIN_WINDOW_MINUTES:
        short = True
        yield ctx.finding(
            "error",
            "semantic.database-window",
            backup_path,
            f"backup window {backup} lasts {b_length} minutes; RDS needs at least "
            f"{MIN_WINDOW_MINUTES}",
            "make it at least 30 minutes long, for example 16:00-17:00 (UTC)",
        )
    if m_length < MIN_WINDOW_MINUTES or m_length > MAX_MAINTENANCE_MINUTES:
        short = True
        yield ctx.finding(
            "error",
            "semantic.database-window",
            maintenance_path,
            f"maintenance window {maintenance} lasts {m_length // 60} h {m_length % 60} min; "
            "RDS accepts 30 minutes to 23.5 hours",
            "give it a length between 30 minutes and 23.5 hours, for example "
            "sun:17:00-sun:18:00 (UTC)",
        )
    if not short and windows_overlap(backup, maintenance):
        written_backup = ctx.written(backup_path)
        path = backup_path if written_backup else maintenance_path
        other = maintenance_path if written_backup else backup_path
        yield ctx.finding(
            "error",
            "semantic.database-window",
            path,
            f"backup window {backup} (daily) overlaps maintenance window {maintenance} "
            f"(weekly, set at line {ctx.line(other)}); RDS refuses overlapping windows",
            "move one of them so they do not overlap on any day (touching is fine, "
            "for example 16:00-17:00 and sun:17:00-sun:18:00, UTC)",
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
    written = str(ctx.raw["database"].get("version", ""))
    if written.count(".") == 2:
        yield ctx.finding(
            "warning",
            "semantic.mysql-minor-version",
            ("database", "version"),
            f"version {written} pins a minor version; RDS upgrades minor versions itself "
            "(automatic minor version upgrades in the maintenance window), after which "
            f"Terraform would plan a downgrade, so it is read as {db['version']}",
            f'write version: "{db["version"]}"',
        )
    if db["version"] == "8.0":
        yield ctx.finding(
            "warning",
            "policy.mysql-80-support",
            ("database", "version"),
            "RDS for MySQL 8.0 "
            + ("leaves" if ctx.as_of < MYSQL_80_STANDARD_UNTIL else "left")
            + f" standard support on {MYSQL_80_STANDARD_UNTIL}; Extended Support is billed",
            "plan the major upgrade to 8.4 with an RDS Blue/Green deployment "
            f"(the generated {area_rules.MYSQL_UPGRADE_RUNBOOK} gives every step)",
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
def backup_destinations(ctx: Context) -> Iterator[Diagnostic]:
    """Copies of the database's snapshots leave the account and region they protect."""
    given = ctx.raw.get("backup")
    resolved = ctx.resolved.get("backup", {})
    environments = ctx.resolved["environments"]
    if given is not None and "account" in given:
        sharing = [n for n, e in environments.items() if e["account"] == given["account"]]
        if sharing:
            yield ctx.finding(
                "error",
                "semantic.backup-account",
                ("backup", "account"),
                f"backup account {given['account']} is the account of environment "
                f"'{sharing[0]}': its copies would fall with the account they protect",
                "name a separate AWS account of your organisation for the copies",
            )
    if "database" not in ctx.raw:
        if given is not None:
            yield ctx.finding(
                "warning",
                "semantic.backup-unused",
                ("backup",),
                "backup is set, but the spec has no database to back up, so it is ignored "
                "(the clusters are rebuilt from code)",
                "remove the backup section, or add a database",
                key=True,
            )
        return
    region = resolved.get("region")
    written_region = given is not None and "region" in given
    region_path: SpecPath = ("backup", "region") if written_region else ("project", "region")
    if region is None and "account" not in resolved:
        yield ctx.finding(
            "error",
            "semantic.backup-region",
            ("backup",) if given is not None else ("project", "region"),
            f"no default DR region for {ctx.resolved['project']['region']}, and no backup "
            "account: the database's copies would have nowhere to go outside the account and "
            "region they protect",
            "set backup.region to another region (copies stay in each environment's "
            "account) or backup.account to a backup account",
            key=given is not None,
        )
    for name, env in environments.items():
        if region is not None and env["region"] == region:
            what = (
                "backup.region"
                if written_region
                else f"the default DR region of {ctx.resolved['project']['region']}"
            )
            yield ctx.finding(
                "error",
                "semantic.backup-region",
                region_path,
                f"{what}, {region}, is the region of environment '{name}': its copies would "
                "not survive the loss of that region",
                "set backup.region to a region no environment runs in"
                + ("" if written_region else ", or set backup.account"),
            )
            break
    for name, env in environments.items():
        if env["tier"] != "production":
            continue
        copies = env["database"]["copyRetentionDays"]
        if copies < 7:
            yield ctx.finding(
                "error",
                "policy.prod-backup-copies",
                ("environments", name, "database", "copyRetentionDays"),
                f"production environment '{name}' keeps the copies of its database for "
                f"{copies} days; at least 7 are required",
                "set copyRetentionDays to 7 or more (35 by default)",
            )
        if "account" not in resolved and region is not None:
            yield ctx.finding(
                "warning",
                "policy.prod-backup-account",
                ("backup",) if given is not None else ("environments", name),
                f"production environment '{name}' keeps every copy of its database in its own "
                f"account (region {region}): whoever controls that account can destroy the "
                "database and make the copies unreadable (their KMS keys live there too)",
                "add backup.account: a separate AWS account of your organisation, whose "
                "vaults infra/backup/ renders",
                key=True,
            )


@check
def kubernetes_support(ctx: Context) -> Iterator[Diagnostic]:
    """The EKS release calendar (support.EKS_VERSIONS) on the validation's as-of date."""
    version = ctx.resolved["kubernetes"]["version"]
    path: SpecPath = ("kubernetes", "version")
    window = support.EKS_VERSIONS.get(version)
    newest = support.newest_in_standard_support(ctx.as_of)
    minor = int(version.split(".")[1])
    step = (
        f'raise it one minor version at a time (an EKS upgrade moves one): "1.{minor + 1}", '
        "apply every environment (the nodes and add-ons follow), then the next"
        + (f", up to {newest}" if newest else "")
    )
    if window is None:
        yield ctx.finding(
            "warning",
            "policy.kubernetes-support",
            path,
            f"Kubernetes {version} is not in platformgen's EKS release calendar (checked "
            f"{support.TABLES_AS_OF}), so its support dates are unknown",
            f"check that EKS offers {version} ({support.EKS_CALENDAR_SOURCE})"
            + (f", or use {newest}" if newest else ""),
        )
        return
    status = window.status(ctx.as_of)
    if ctx.as_of < window.released:
        yield ctx.finding(
            "warning",
            "policy.kubernetes-support",
            path,
            f"Kubernetes {version} arrives on EKS on {window.released}, after {ctx.as_of}",
            f"use a version EKS offers on {ctx.as_of}" + (f", such as {newest}" if newest else ""),
        )
    elif status == "extended":
        yield ctx.finding(
            "warning",
            "policy.kubernetes-support",
            path,
            f"EKS standard support for Kubernetes {version} ended on {window.standard_until}; "
            f"until {window.extended_until} it runs in extended support, billed per cluster "
            "hour on top of the standard price",
            step,
        )
    elif status == "ended":
        yield ctx.finding(
            "error",
            "policy.kubernetes-support",
            path,
            f"Kubernetes {version} left EKS extended support on {window.extended_until}: EKS "
            "creates no cluster on it and upgrades existing control planes by itself",
            step,
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
    production = [n for n, e in ctx.resolved["environments"].items() if e["tier"] == "production"]
    for group, settings in edge["waf"]["managedRuleGroups"].items():
        if settings["mode"] == "count" and production:
            yield ctx.finding(
                "warning",
                "policy.waf-count-mode",
                ("edge", "waf", "managedRuleGroups", group, "mode"),
                f"{group} only counts in every environment, production ({', '.join(production)}) "
                "included: it blocks nothing while it is trialled",
                "after the trial (docs/terraform.md), set mode: enforce; keep a trial short",
            )


@check
def secret_values(ctx: Context) -> Iterator[Diagnostic]:
    """Every string value of the spec, by detect-secrets and the name and URL rules."""
    for found in find_secrets(ctx.doc):
        yield ctx.finding("error", found.code, found.path, found.message, found.fix)


def run_checks(ctx: Context) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for fn in CHECKS:
        out.extend(fn(ctx))
    return out
