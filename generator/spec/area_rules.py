"""What each template area needs from the spec: rules that know an area's templates.

ADR 0001 keeps the engine ignorant of areas. Validation still has to know a few facts
about what an area renders, to refuse a spec that would render something broken. They
live here, in one module, each next to the area it belongs to, and
tests/test_area_rules.py checks every one against that area's templates, so a template
change that invalidates a rule fails a test instead of passing silently.
"""

from __future__ import annotations

import json
import keyword
import sys
from collections.abc import Iterator
from functools import cache
from typing import Any

from ..paths import data_root
from .context import Context, check
from .diagnostics import Diagnostic
from .yamlpos import SpecPath

# --- service (templates/service/) ----------------------------------------------------

SERVICE_WHEN = "app.kind == 'api' and app.database"
"""templates/areas.yml: the apps that get a service."""


def renders_service(app: dict[str, Any]) -> bool:
    """The api apps with the database get a Flask service (areas.yml: SERVICE_WHEN)."""
    return bool(app["kind"] == "api" and app.get("database"))


SERVICE_COLUMNS = ("id", "owner", "status", "version", "created_at", "updated_at")
"""Columns migrations/versions/0001 adds to every resource table."""

SERVICE_AUTH_SETTINGS = ("AUTH_ISSUER", "AUTH_AUDIENCE")
SERVICE_AUTH_DEV_MODE = "AUTH_DEV_MODE"
"""config.py refuses to start without the settings, unless dev mode is on in development."""

SERVICE_IMPORT_NAMES = frozenset(
    {
        # Top-level packages of requirements.lock and requirements-dev.lock, and of the
        # venv itself (pip, setuptools), as installed in .tool-venvs/service.
        "alembic", "blinker", "cffi", "click", "cryptography", "flask", "gunicorn",
        "iniconfig", "itsdangerous", "jinja2", "jwt", "mako", "markupsafe", "packaging",
        "pip", "pkg_resources", "pluggy", "prometheus_client", "py", "pycparser",
        "pygments", "pymysql", "pytest", "ruff", "setuptools", "sqlalchemy",
        "typing_extensions", "werkzeug",
    }
)  # fmt: skip
SERVICE_TEST_MODULES = frozenset(
    {
        # tests/ has no __init__.py: pytest imports these as top-level modules.
        "tests", "conftest", "samples", "test_api", "test_auth",
        "test_config_and_migrations", "test_operations",
    }
)  # fmt: skip
PYTHON_PACKAGE_KINDS = ("api", "worker")
"""Kinds whose name becomes a Python package: api services, and workers (not rendered
yet, refused alike so a worker can become an api without a rename)."""


def python_package_clash(package: str) -> str | None:
    """Why `package` cannot be the service's package (run as python -m <package>.entrypoint)."""
    if keyword.iskeyword(package) or keyword.issoftkeyword(package):
        return "is a Python keyword"
    if package in sys.stdlib_module_names:
        return "is a module of Python's standard library"
    if package in SERVICE_IMPORT_NAMES:
        return "is a package the service depends on"
    if package in SERVICE_TEST_MODULES:
        return "is a module of the service's tests"
    return None


@check
def python_package_names(ctx: Context) -> Iterator[Diagnostic]:
    for i, app in enumerate(ctx.raw["apps"]):
        name = app["name"]
        package = name.replace("-", "_")
        why = python_package_clash(package) if app["kind"] in PYTHON_PACKAGE_KINDS else None
        if why:
            yield ctx.finding(
                "error",
                "semantic.name",
                ("apps", i, "name"),
                f"app name '{name}' becomes the Python package '{package}', which {why}: "
                f"`python -m {package}.entrypoint` would import the wrong module",
                f"rename the app, for example '{name}-service'",
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
            if name in SERVICE_COLUMNS:
                yield ctx.finding(
                    "error",
                    "semantic.resource-field",
                    (*path, "name"),
                    f"field name '{name}' is reserved: the service adds {', '.join(SERVICE_COLUMNS)}",
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
        if not renders_service(app):
            continue
        secrets = set(app.get("secrets", {}))
        missing_in = []
        for env_name, settings in app["environments"].items():
            names = set(settings["env"]) | secrets
            tier = ctx.resolved["environments"][env_name]["tier"]
            dev_mode = (
                tier == "development"
                and not app["public"]
                and settings["env"].get(SERVICE_AUTH_DEV_MODE) == "true"
            )
            if not dev_mode and not set(SERVICE_AUTH_SETTINGS) <= names:
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


_FALSE = ("", "0", "false", "no", "off")


@check
def service_dev_mode(ctx: Context) -> Iterator[Diagnostic]:
    """AUTH_DEV_MODE accepts `Bearer dev:<anyone>`: config.py refuses it outside the
    development tier and whenever the app is internet-facing (the chart sets
    APP_INTERNET_FACING from `public`); refuse a spec that would deploy it there."""
    for app in ctx.resolved["apps"]:
        if not renders_service(app):
            continue
        i = ctx.raw_app_index(app["name"])
        raw = ctx.raw["apps"][i]
        where: dict[SpecPath, list[str]] = {}
        for env_name, settings in app["environments"].items():
            value = settings["env"].get(SERVICE_AUTH_DEV_MODE)
            if value is None or str(value).strip().lower() in _FALSE:
                continue
            tier = ctx.resolved["environments"][env_name]["tier"]
            if not app["public"] and tier == "development":
                continue
            per_env = (raw.get("environments") or {}).get(env_name) or {}
            path: SpecPath = (
                ("apps", i, "environments", env_name, "env", SERVICE_AUTH_DEV_MODE)
                if SERVICE_AUTH_DEV_MODE in (per_env.get("env") or {})
                else ("apps", i, "env", SERVICE_AUTH_DEV_MODE)
            )
            where.setdefault(path, []).append(f"{env_name} ({tier} tier)")
        for path, envs in where.items():
            why = (
                "the app is public (internet-facing)"
                if app["public"]
                else "the tier is not development"
            )
            yield ctx.finding(
                "error",
                "policy.service-dev-mode",
                path,
                f"api '{app['name']}' turns {SERVICE_AUTH_DEV_MODE} on in {', '.join(envs)}, "
                f"where {why}: dev tokens would let anyone call the API as anyone, and the "
                "service refuses to start with it",
                f"remove {SERVICE_AUTH_DEV_MODE}; use real tokens (AUTH_ISSUER, AUTH_AUDIENCE), "
                "or `make run` on your machine",
                key=True,
            )


# --- policy -------------------------------------------------------------------------------------


# --- terraform (templates/terraform/infra/modules/database) ---------------------------

MANAGED_DB_PARAMETERS = {
    "require_secure_transport": "TLS to the database is mandatory",
    "binlog_format": "ROW binlogs are required for DMS CDC and point-in-time recovery",
    "binlog_row_image": "FULL row images are required for DMS CDC",
    "slow_query_log": "the slow query log feeds the CloudWatch alarms",
    "log_output": "logs are exported to CloudWatch as files",
    "local_infile": "LOAD DATA LOCAL is a data exfiltration path",
    "tls_version": "the platform pins TLS 1.2 and 1.3",
}
"""The parameters modules/database sets last (enforced_parameters and tls_version)."""


@check
def managed_database_parameters(ctx: Context) -> Iterator[Diagnostic]:
    db = ctx.resolved.get("database")
    if not db:
        return
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


MYSQL_PARAMETER_TABLE = "templates/terraform/infra/modules/database/mysql-parameters.json"
"""modules/database applies each parameter by this table: dynamic at once, static (and
unknown) at the next reboot."""


@cache
def mysql_parameter_types() -> dict[str, str]:
    """Parameter name -> "dynamic" or "static" (MySQL 8.0/8.4 on RDS), as the module reads it."""
    table = json.loads((data_root() / MYSQL_PARAMETER_TABLE).read_text())
    return dict(table["parameters"])


@check
def database_parameter_apply_types(ctx: Context) -> Iterator[Diagnostic]:
    db = ctx.resolved.get("database")
    if not db:
        return
    known = mysql_parameter_types()
    for parameter in db["parameters"]:
        if parameter in known or parameter in MANAGED_DB_PARAMETERS:
            continue
        yield ctx.finding(
            "warning",
            "semantic.database-parameter-apply",
            ("database", "parameters", parameter),
            f"parameter {parameter} is not in platformgen's table of MySQL parameters, so it "
            "applies only at the database's next reboot (apply_method pending-reboot), and "
            "RDS refuses the whole parameter group if MySQL has no such parameter",
            "check the name against the MySQL 8.0 Server System Variable Reference; reboot "
            "the instance in a maintenance window to apply it, or add it with its type "
            f"(dynamic or static) to {MYSQL_PARAMETER_TABLE.removeprefix('templates/terraform/')} "
            "in platformgen",
            key=True,
        )


MYSQL_UPGRADE_RUNBOOK = "docs/runbooks/mysql-major-upgrade.md"
"""Rendered by the database area while database.version is 8.0 (the specs this warning
fires on): the 8.0 -> 8.4 upgrade with an RDS Blue/Green deployment."""

# --- terraform and service: who reads an app's path -----------------------------------


def routes_path(app: dict[str, Any]) -> bool:
    """CloudFront and the ALB route a public app's path (terraform-env); an api's service
    serves its resource under the path (service.json pathPrefix)."""
    return bool(app["public"] or renders_service(app))


@check
def ignored_paths(ctx: Context) -> Iterator[Diagnostic]:
    for app in ctx.resolved["apps"]:
        i = ctx.raw_app_index(app["name"])
        if "path" not in ctx.raw["apps"][i] or routes_path(app):
            continue
        yield ctx.finding(
            "warning",
            "semantic.path-ignored",
            ("apps", i, "path"),
            f"app '{app['name']}' is private, so nothing routes its path {app['path']}: "
            "only CloudFront and the load balancer route by path, for public apps",
            "remove path, or set 'public: true' to serve the app at that path",
        )


# --- repo (templates/repo/delivery/tools.versions) ------------------------------------------

TOOLS_VERSIONS = ("templates", "repo", "delivery", "tools.versions")
"""The tools the in-VPC executors install (delivery/install-tools.sh), kubectl per minor."""


@cache
def kubectl_minors() -> frozenset[str]:
    """The Kubernetes minors tools.versions pins a kubectl for (KUBECTL_VERSION_<minor>=...)."""
    text = data_root().joinpath(*TOOLS_VERSIONS).read_text()
    prefix = "KUBECTL_VERSION_"
    return frozenset(
        line.split("=", 1)[0].removeprefix(prefix)
        for line in text.splitlines()
        if line.startswith(prefix)
    )


@check
def executor_kubectl(ctx: Context) -> Iterator[Diagnostic]:
    """The executors install the kubectl of the cluster's minor, verified by a pinned checksum:
    with none pinned for the spec's minor, their install phase refuses and the first run fails."""
    version = ctx.resolved["kubernetes"]["version"]
    if version not in kubectl_minors():
        pinned = ", ".join(sorted(kubectl_minors(), key=lambda v: int(v.split(".")[1])))
        yield ctx.finding(
            "warning",
            "policy.executor-tools",
            ("kubernetes", "version"),
            f"no kubectl is pinned for Kubernetes {version} (pinned: {pinned}): the executors' "
            "install phase (make executor-tools) refuses to install an unverified one, so "
            "every executor build fails",
            f"use a pinned minor, or add KUBECTL_VERSION_{version} and its KUBECTL_SHA256_* "
            "lines to delivery/tools.versions in the generated repository, copied from "
            "https://dl.k8s.io/release/v<version>/bin/linux/<arch>/kubectl.sha256",
        )


# --- pipelines (templates/pipelines/) ------------------------------------------------

GITHUB_JOB_MINUTES = 360
"""A job on a GitHub-hosted runner runs at most 6 hours, then GitHub ends it (GitHub Docs,
"Actions limits": https://docs.github.com/en/actions/reference/actions-limits)."""
GITHUB_EXECUTOR_MINUTES = 120 + 30 + 20
"""What an environment's job of deliver.yml spends before its bake: the executors' build
timeouts (modules/executors: apply_timeout_minutes 120, deploy_timeout_minutes 30) and 20
minutes for the job's own setup and the builds' queueing. deliver.yml sets each
environment job's timeout-minutes to this plus the bake."""
GITHUB_BAKE_MAX = GITHUB_JOB_MINUTES - GITHUB_EXECUTOR_MINUTES


BITBUCKET_STEP_MAX_MINUTES = 720
"""Bitbucket Pipelines ends a step after its max-time, which is at most 720 minutes
(Atlassian, "Bitbucket pipeline is failing with Exceeded build time limit error": "A step's
max-time can be configured to any positive integer between 1 and 720")."""
BITBUCKET_STEP_SETUP_MINUTES = 15
"""What a step of bitbucket-pipelines.yml spends before its work: make tools and
ci-assume-role. The file gives the bake step bakeMinutes plus this, and the apply and deploy
steps the executors' build timeouts (modules/executors) plus this."""
BITBUCKET_BAKE_MAX = BITBUCKET_STEP_MAX_MINUTES - BITBUCKET_STEP_SETUP_MINUTES


BAKE_LIMITS = {
    # GitHub: an environment's apply, deploy and bake run in one job of deliver.yml (one
    # approval, one OIDC session), which GitHub ends after 6 hours.
    "github": (
        "area.github-bake-too-long",
        GITHUB_BAKE_MAX,
        f"GitHub ends a job after {GITHUB_JOB_MINUTES} minutes and the job also waits up to "
        f"{GITHUB_EXECUTOR_MINUTES} minutes for the executors",
    ),
    # Bitbucket: an environment's bake is one step (make bake ENV=<env>).
    "bitbucket": (
        "area.bitbucket-bake-too-long",
        BITBUCKET_BAKE_MAX,
        f"Bitbucket Pipelines ends a step after {BITBUCKET_STEP_MAX_MINUTES} minutes and the "
        f"bake step needs {BITBUCKET_STEP_SETUP_MINUTES} more for its tools",
    ),
}
"""Per delivering system whose CI runner ends long work: the check id, the longest bake
that fits, and why."""


@check
def bake_fits_the_delivering_ci(ctx: Context) -> Iterator[Diagnostic]:
    """Each environment's bake fits what the delivering CI system lets one job or step run."""
    limit = BAKE_LIMITS.get(ctx.resolved["pipelines"]["deliver"])
    if limit is None:
        return
    check_id, most, why = limit
    for name, env in ctx.resolved["environments"].items():
        if env["bakeMinutes"] > most:
            yield ctx.finding(
                "error",
                check_id,
                ("environments", name, "bakeMinutes"),
                f"environment '{name}' bakes {env['bakeMinutes']} minutes, but {why}",
                f"set bakeMinutes to at most {most}, or deliver with another "
                "provider (pipelines.deliver)",
            )
