"""Rules of the account's roles that no single module's `terraform test` can see, checked on
the template files (infra/docs/adr/0003-roles-and-permissions.md):

- every IAM role in the bootstrap and in every module carries the permissions boundary;
  each module that creates a role requires `permissions_boundary`, asserts it in its
  tests, and the environment root passes the bootstrap's boundary to it;
- no AWS-managed administrator or read-only policy appears in any Terraform file;
- the platform executor may manage every AWS service the environment roots manage, the
  plan role may read it, and every AWS-managed policy the modules attach is attachable.

Each check is a function of the files' text, and each is shown to fail on a broken copy,
so a module added later (or another slice's new resource) cannot slip past them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "templates" / "terraform" / "infra"
ENV_MAIN = ROOT / "templates" / "terraform-env" / "main.tf"
ROLES_TF = INFRA / "bootstrap" / "roles.tf"

Files = dict[str, str]

# Terraform resource, data and ephemeral types -> the IAM service that manages them (the
# longest matching prefix wins). A type no prefix matches fails the coverage check: map it.
SERVICE_OF = {
    "aws_acm_": "acm",
    "aws_backup_": "backup",
    "aws_cloudfront_": "cloudfront",
    "aws_cloudwatch_event_": "events",
    "aws_cloudwatch_log_": "logs",
    "aws_cloudwatch_metric_alarm": "cloudwatch",
    "aws_codebuild_": "codebuild",
    "aws_db_": "rds",
    "aws_dms_": "dms",
    "aws_rds_": "rds",
    "aws_availability_zones": "ec2",
    "aws_default_security_group": "ec2",
    "aws_default_network_acl": "ec2",
    "aws_default_route_table": "ec2",
    "aws_ec2_": "ec2",
    "aws_eip": "ec2",
    "aws_flow_log": "ec2",
    "aws_internet_gateway": "ec2",
    "aws_launch_template": "ec2",
    "aws_nat_gateway": "ec2",
    "aws_network_acl": "ec2",
    "aws_route": "ec2",
    "aws_route_table": "ec2",
    "aws_security_group": "ec2",
    "aws_subnet": "ec2",
    "aws_vpc": "ec2",
    "aws_ecr_": "ecr",
    "aws_eks_": "eks",
    "aws_lb": "elasticloadbalancing",
    "aws_alb": "elasticloadbalancing",
    "aws_iam_": "iam",
    "aws_kms_": "kms",
    "aws_route53_": "route53",
    "aws_sqs_": "sqs",
    "aws_s3_": "s3",
    "aws_canonical_user_id": "s3",
    "aws_secretsmanager_": "secretsmanager",
    "aws_sns_": "sns",
    "aws_wafv2_": "wafv2",
}
# Computed locally by the provider or answered for any caller: no permission needed.
NO_SERVICE = {"aws_partition", "aws_region", "aws_caller_identity", "aws_iam_policy_document"}
FORBIDDEN_MANAGED = ("AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess", "IAMFullAccess")


def template_files() -> Files:
    """Every Terraform file of the modules, the bootstrap and the environment root."""
    files = {
        str(p.relative_to(INFRA)): p.read_text()
        for p in sorted([*INFRA.rglob("*.tf"), *INFRA.rglob("*.tftest.hcl")])
        if ".terraform" not in p.parts
    }
    files["envs/<env>/main.tf"] = ENV_MAIN.read_text()
    return files


def module_tests(files: Files, module: str) -> str:
    return "".join(
        text for path, text in files.items() if path.startswith(f"modules/{module}/tests/")
    )


def _code(text: str) -> str:
    """The text without comment lines."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")) + "\n"


def blocks(text: str, kind: str, type_: str | None = None) -> list[tuple[str, str, str]]:
    """(type, name, body) of each top-level `kind "type" "name" {` block (or `module "name"`)."""
    out = []
    pattern = (
        rf'^{kind} "([A-Za-z0-9_]+)" "([A-Za-z0-9_-]+)" \{{'
        if kind != "module"
        else r'^module "()([A-Za-z0-9_-]+)" \{'
    )
    for match in re.finditer(pattern, text, re.M):
        if type_ is not None and match[1] != type_:
            continue
        end = text.index("\n}\n", match.end())
        out.append((match[1], match[2], text[match.end() : end]))
    return out


def _module_of(path: str) -> str | None:
    parts = path.split("/")
    return parts[1] if parts[0] == "modules" and parts[1] != ".mocks" else None


# --- the checks -----------------------------------------------------------------------------


def roles_without_the_boundary(files: Files) -> list[str]:
    """Every aws_iam_role carries the boundary: the module's variable, or the bootstrap's
    policy; no IAM user exists at all (a user would sit outside every role's boundary)."""
    problems = []
    for path, text in files.items():
        if "/tests/" in path or path.startswith("modules/.mocks"):
            continue
        code = _code(text)
        expected = (
            "aws_iam_policy.boundary.arn"
            if path.startswith("bootstrap/")
            else "var.permissions_boundary"
        )
        for _, name, body in blocks(code, "resource", "aws_iam_role"):
            if not re.search(
                rf"^\s*permissions_boundary\s*=\s*{re.escape(expected)}\s*$", body, re.M
            ):
                problems.append(
                    f"{path}: aws_iam_role.{name} does not set permissions_boundary = {expected}"
                )
        for type_, name, _ in blocks(code, "resource"):
            if type_ in ("aws_iam_user", "aws_iam_group", "aws_iam_access_key"):
                problems.append(f"{path}: {type_}.{name}: the platform creates roles only")
    return problems


def modules_not_taking_the_boundary(files: Files) -> list[str]:
    """A module with a role requires permissions_boundary (no default), its tests assert it,
    and the environment root passes the bootstrap's boundary to it."""
    problems = []
    with_roles = sorted(
        {
            m
            for path, text in files.items()
            if (m := _module_of(path))
            and "/tests/" not in path
            and blocks(_code(text), "resource", "aws_iam_role")
        }
    )
    for module in with_roles:
        variables = "".join(
            _code(t)
            for p, t in files.items()
            if p.startswith(f"modules/{module}/") and "/tests/" not in p
        )
        declared = [
            variables[m.end() : variables.index("\n}\n", m.end())]
            for m in re.finditer(r'^variable "permissions_boundary" \{', variables, re.M)
        ]
        if not declared:
            problems.append(
                f"modules/{module}: creates a role but has no permissions_boundary variable"
            )
        elif any(re.search(r"^\s*default\s*=", b, re.M) for b in declared):
            problems.append(f"modules/{module}: permissions_boundary must be required (no default)")
        if "permissions_boundary == var.permissions_boundary" not in module_tests(files, module):
            problems.append(f"modules/{module}: no test asserts its roles' permissions_boundary")
    env = _code(files["envs/<env>/main.tf"])
    if not re.search(
        r'^\s*permissions_boundary\s*=\s*"\$\{local\.iam\}:policy/\$\{local\.name\}-boundary"',
        env,
        re.M,
    ):
        problems.append(
            "envs/<env>/main.tf: local.permissions_boundary is not the bootstrap's boundary"
        )
    calls = {}
    for _, name, body in blocks(env, "module"):
        source = re.search(r'source\s*=\s*"\.\./\.\./modules/([a-z-]+)"', body)
        if source:
            calls[source[1]] = (name, body)
    for module in with_roles:
        if module not in calls:
            continue
        name, body = calls[module]
        if not re.search(
            r"^\s*permissions_boundary\s*=\s*local\.permissions_boundary\s*$", body, re.M
        ):
            problems.append(
                f"envs/<env>/main.tf: module.{name} is not given local.permissions_boundary"
            )
    return problems


def managed_admin_policies(files: Files) -> list[str]:
    """No AWS-managed administrator or read-only policy, attached or referenced, anywhere."""
    return [
        f"{path}: {name}"
        for path, text in files.items()
        if "/tests/" not in path
        for name in FORBIDDEN_MANAGED
        if re.search(rf"\b{name}\b", _code(text))
    ]


def _hcl_list(text: str, local: str) -> list[str]:
    match = re.search(rf"^\s*{local}\s*=\s*\[(.*?)\n\s*\]", text, re.M | re.S)
    assert match, f"infra/bootstrap/roles.tf has no {local} list"
    return re.findall(r'"([^"]+)"', match[1])


def service_of(type_: str) -> str | None:
    if type_ in NO_SERVICE:
        return ""
    for prefix in sorted(SERVICE_OF, key=len, reverse=True):
        if type_.startswith(prefix):
            return SERVICE_OF[prefix]
    return None


def env_modules(files: Files) -> set[str]:
    """The modules an environment root uses, directly or through another module. The rest
    (the account baseline) serve only the bootstrap, which an account administrator runs."""
    sources = re.compile(r'source\s*=\s*"\.\./(?:\.\./modules/)?([a-z0-9-]+)"')
    used: set[str] = set()
    todo = sources.findall(_code(files["envs/<env>/main.tf"]))
    while todo:
        module = todo.pop()
        if module not in used:
            used.add(module)
            todo += sources.findall(_code(files.get(f"modules/{module}/main.tf", "")))
    return used


def services_not_covered(files: Files) -> list[str]:
    """Each resource, data source and ephemeral resource of the environment root and the
    modules it uses belongs to a service the platform executor may manage and the plan role
    may read."""
    roles = _code(files["bootstrap/roles.tf"])
    managed = set(_hcl_list(roles, "platform_services"))
    readable = {a.split(":")[0] for a in _hcl_list(roles, "plan_read_actions")}
    used = env_modules(files)
    problems = []
    for path, text in files.items():
        if path.startswith("bootstrap/") or "/tests/" in path or ".mocks" in path:
            continue
        if path.startswith("modules/") and path.split("/")[1] not in used:
            continue
        for kind in ("resource", "data", "ephemeral"):
            for type_, name, _ in blocks(_code(text), kind):
                service = service_of(type_)
                if service is None:
                    problems.append(
                        f"{path}: {kind} {type_}.{name}: which IAM service is it? map it in "
                        "tests/test_platform_roles.py SERVICE_OF"
                    )
                elif service and service != "iam" and service not in managed:
                    problems.append(
                        f"{path}: {type_}.{name}: the platform executor may not manage {service} "
                        "(infra/bootstrap/roles.tf platform_services)"
                    )
                elif service and service != "iam" and service not in readable:
                    problems.append(
                        f"{path}: {type_}.{name}: the plan role cannot read {service} "
                        "(infra/bootstrap/roles.tf plan_read_actions)"
                    )
    return problems


def attachments_not_attachable(files: Files) -> list[str]:
    """Every AWS-managed policy a module attaches is one the platform executor may attach."""
    allowed = _hcl_list(_code(files["bootstrap/roles.tf"]), "attachable_policy_names")
    problems = []
    for path, text in files.items():
        if not _module_of(path) or "/tests/" in path:
            continue
        for _, name, body in blocks(_code(text), "resource", "aws_iam_role_policy_attachment"):
            source = body
            each = re.search(r"for_each\s*=\s*toset\(\[(.*?)\]\)", body, re.S)
            attached = re.findall(
                r"(?:iam::aws:policy|\$\{local\.managed\})/((?:service-role/)?[A-Za-z0-9_]+)",
                source,
            )
            if each:
                # `${local.managed}/${each.value}`: the local names the policy path prefix.
                managed = re.search(r'managed\s*=\s*"arn:[^"]*:policy/?([^"]*)"', _code(text))
                prefix = f"{managed[1]}/" if managed and managed[1] else ""
                attached += [prefix + n for n in re.findall(r'"([A-Za-z0-9_]+)"', each[1])]
            if not attached:
                problems.append(f"{path}: {name}: cannot tell which managed policy it attaches")
            for policy in attached:
                covered = any(
                    policy == a or (a.endswith("/*") and policy.startswith(a[:-1])) for a in allowed
                )
                if not covered:
                    problems.append(
                        f"{path}: {name} attaches {policy}, which the platform executor may not "
                        f"attach (infra/bootstrap/roles.tf attachable_policy_names: {allowed})"
                    )
    return problems


CHECKS = [
    roles_without_the_boundary,
    modules_not_taking_the_boundary,
    managed_admin_policies,
    services_not_covered,
    attachments_not_attachable,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_the_templates_keep_the_rule(check) -> None:  # type: ignore[no-untyped-def]
    assert check(template_files()) == []


def _broken(path: str, old: str, new: str) -> Files:
    files = template_files()
    assert files[path].count(old) >= 1, f"{path} no longer holds {old!r}: update the breakage"
    files[path] = files[path].replace(old, new, 1)
    return files


# (check, file, text to replace, replacement, what the finding must say)
BREAKAGES = [
    (roles_without_the_boundary, "modules/cluster/main.tf",
     '  name                 = "${var.name}-node"\n  assume_role_policy   = data.aws_iam_policy_document.node_assume.json\n  permissions_boundary = var.permissions_boundary\n',
     '  name                 = "${var.name}-node"\n  assume_role_policy   = data.aws_iam_policy_document.node_assume.json\n',
     "aws_iam_role.node"),
    (roles_without_the_boundary, "bootstrap/roles.tf",
     "  permissions_boundary = aws_iam_policy.boundary.arn\n", "", "aws_iam_role.this"),
    (roles_without_the_boundary, "modules/workloads/main.tf",
     "# --- App roles",
     'resource "aws_iam_user" "ci" {\n  name = "ci"\n}\n\n# --- App roles', "aws_iam_user.ci"),
    (modules_not_taking_the_boundary, "modules/network/variables.tf",
     '  description = "ARN of the permissions boundary every IAM role of the module carries',
     '  default     = null\n  description = "ARN of the permissions boundary every IAM role of the module carries',
     "modules/network: permissions_boundary must be required"),
    (modules_not_taking_the_boundary, "modules/database/tests/database.tftest.hcl",
     "aws_iam_role.monitoring.permissions_boundary == var.permissions_boundary",
     "aws_iam_role.monitoring.name != \"\"", "modules/database: no test asserts"),
    (modules_not_taking_the_boundary, "envs/<env>/main.tf",
     "  kms_key_arn            = module.foundation.kms_key_arn\n  permissions_boundary   = local.permissions_boundary\n}\n",
     "  kms_key_arn            = module.foundation.kms_key_arn\n  permissions_boundary   = \"arn:aws:iam::111111111111:policy/other\"\n}\n",
     "module.workloads is not given local.permissions_boundary"),
    (managed_admin_policies, "modules/cluster/main.tf",
     '    "AmazonSSMManagedInstanceCore",\n', '    "AmazonSSMManagedInstanceCore",\n    "AdministratorAccess",\n',
     "AdministratorAccess"),
    (services_not_covered, "bootstrap/roles.tf", '"rds", "route53", "s3",', '"rds", "s3",',
     "may not manage route53"),
    (services_not_covered, "bootstrap/roles.tf", '"route53:Get*", "route53:List*",', "",
     "cannot read route53"),
    (services_not_covered, "modules/foundation/main.tf", "\nresource ",
     '\nresource "aws_cloudtrail" "trail" {\n  name = "x"\n}\n\nresource ', "which IAM service is it"),
    (attachments_not_attachable, "modules/cluster/main.tf",
     '    "AmazonSSMManagedInstanceCore",\n', '    "AmazonSSMManagedInstanceCore",\n    "AmazonS3FullAccess",\n',
     "attaches AmazonS3FullAccess"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("check", "path", "old", "new", "finding"),
    BREAKAGES,
    ids=[f"{b[0].__name__}-{i}" for i, b in enumerate(BREAKAGES)],
)
def test_each_rule_catches_its_breakage(check, path: str, old: str, new: str, finding: str) -> None:  # type: ignore[no-untyped-def]
    problems = check(_broken(path, old, new))
    assert any(finding in p for p in problems), problems
