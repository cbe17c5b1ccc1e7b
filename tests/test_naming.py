"""The naming table (generator/spec/naming.py) and the name checks built on it.

tests/validators/names.py proves the table against rendered Terraform plans and Helm
charts for the whole spec matrix; these tests cover what the matrix cannot: names the
platform takes for itself, found in the templates, and specs at and over every limit.
"""

from __future__ import annotations

import re

import pytest
from conftest import REFERENCE_SPEC, ROOT, SPECS

from generator.spec import load_spec, load_spec_text
from generator.spec.naming import (
    K8S_NAMESPACE,
    RULES,
    generated_names,
    target_group_name,
)

TEMPLATES = ROOT / "templates"
SPEC_MATRIX = [REFERENCE_SPEC, *sorted(SPECS.glob("*.yaml"))]


def _tf_files(*, environment_accounts_only: bool = False) -> list[str]:
    """The templates' .tf files; with environment_accounts_only, not the backup and
    artifacts accounts' roots (infra/backup, infra/artifacts: their names are not
    <project>-<env>-..., and the naming table checks them against every name)."""
    return [
        p.read_text()
        for p in sorted(TEMPLATES.rglob("*.tf"))
        if not (
            environment_accounts_only
            and (
                p.parent.name.endswith("backup{% endif %}")
                or (p.parent.name == "artifacts" and p.parent.parent.name == "infra")
            )
        )
    ]


def _platform_resource_suffixes(resource_type: str, tail: str = "") -> set[str]:
    """Suffixes the templates put after <project>-<env>- for the platform's own resources."""
    pattern = re.compile(
        rf'resource "{resource_type}" "\w+" \{{[^}}]*?name\s*=\s*'
        rf'"\$\{{(?:var|local)\.name\}}-([a-z0-9-]+){re.escape(tail)}"',
        re.S,
    )
    return {m for text in _tf_files() for m in pattern.findall(text)}


def _bootstrap_role_suffixes() -> set[str]:
    """The bootstrap's roles: one for_each over its `roles` map (infra/bootstrap/roles.tf),
    the CI role merged in where the deliverer can be trusted."""
    text = (TEMPLATES / "terraform" / "infra" / "bootstrap" / "roles.tf").read_text()
    block = re.search(r"\n  roles = (.*?)\n  role_arns = ", text, re.S)
    assert block, "infra/bootstrap/roles.tf has no roles map: update this test"
    return set(re.findall(r'"\$\{local\.name\}-([a-z0-9-]+)"', block[1]))


def _role_suffixes() -> set[str]:
    return _platform_resource_suffixes("aws_iam_role") | _bootstrap_role_suffixes()


def _modules_bucket_suffixes() -> set[str]:
    pattern = re.compile(r'"\$\{(?:var|local)\.name\}-([a-z0-9-]+)-\$\{[^}]*account_id\}"')
    return {m for text in _tf_files(environment_accounts_only=True) for m in pattern.findall(text)}


def test_template_suffixes_are_found() -> None:
    roles = _role_suffixes()
    assert {"cluster", "node", "external-secrets", "plan", "platform", "app-deploy", "ci"} <= roles
    assert {"cdn-logs", "alb-logs", "tfstate", "tfstate-logs"} <= _modules_bucket_suffixes()
    assert "copies-logs" not in _modules_bucket_suffixes()  # the backup account's own


DATADOG_ONLY_ROLES = {"datadog-api-key"}
"""Roles of observability.provider datadog (modules/workloads/datadog.tf)."""


@pytest.mark.parametrize(
    "suffix",
    # Longer suffixes are no app names (at most 24 characters, the schema says).
    sorted(s for s in _role_suffixes() if len(s) <= 24),
)
def test_an_app_cannot_take_a_platform_role_name(suffix: str) -> None:
    """An app's role is <project>-<env>-<app>: an app named after a platform role's
    suffix would take that role's name."""
    text = REFERENCE_SPEC.read_text().replace(
        "  - name: api\n    kind: api",
        f"  - name: api\n    kind: api\n  - name: {suffix}\n    kind: worker",
    )
    if suffix in DATADOG_ONLY_ROLES:  # rendered only when the spec chooses Datadog
        text = text.replace(
            "  provider: cloudwatch\n",
            "  provider: datadog\n  datadog: {apiKeySecret: getprospa/datadog-api-key}\n",
        )
    result = load_spec_text(text)
    found = [d for d in result.errors if d.code == "semantic.name-collision"]
    assert found, f"an app named {suffix} was accepted"
    assert all(text.splitlines()[d.line - 1].strip() == f"- name: {suffix}" for d in found)


@pytest.mark.parametrize("suffix", sorted(_modules_bucket_suffixes()))
def test_a_static_app_cannot_take_a_platform_bucket_name(suffix: str) -> None:
    """A static app's bucket is <project>-<env>-<app>-<account>, like the log and state buckets."""
    text = REFERENCE_SPEC.read_text().replace("  - name: web\n", f"  - name: {suffix}\n")
    result = load_spec_text(text)
    found = [d for d in result.errors if d.code == "semantic.name-collision"]
    assert [d.path for d in found] == ["apps[0].name"], result.errors


def _template_namespaces() -> set[str]:
    """Namespaces the templates install into or grant roles in (literal names only)."""
    found: set[str] = set()
    for path in TEMPLATES.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(errors="ignore")
        found |= set(re.findall(r'\bnamespace\s*=\s*"([a-z0-9-]+)"', text))
        found |= set(re.findall(r"--namespace ([a-z0-9-]+)\b", text))
        found |= set(re.findall(r"kubernetes\.io/metadata\.name: ([a-z0-9-]+)", text))
    return found


def test_platform_namespaces_are_the_templates() -> None:
    rendered = {
        r.template
        for r in RULES
        if r.kind.key == K8S_NAMESPACE.key
        and r.rendered
        and "k8s:platform-namespace" in r.resources
    }
    assert rendered == _template_namespaces()
    builtin = {r.template for r in RULES if r.id.startswith("kubernetes-namespace-")}
    assert builtin | {"kube-system"} == {"default", "kube-system", "kube-public", "kube-node-lease"}


@pytest.mark.parametrize(
    "name",
    [
        "kube-system",
        "default",
        "kube-public",
        "kube-node-lease",
        "external-secrets",
        "karpenter",
        "amazon-cloudwatch",
        "kube-tools",
    ],
)
def test_an_app_cannot_take_a_platform_namespace(name: str) -> None:
    text = REFERENCE_SPEC.read_text().replace(
        "  - name: api\n    kind: api",
        f"  - name: api\n    kind: api\n  - name: {name}\n    kind: worker",
    )
    result = load_spec_text(text)
    found = [d for d in result.errors if d.path.endswith("].name") and "name" in d.code]
    assert found and all(
        d.code in ("semantic.name-collision", "semantic.name-invalid") for d in found
    )


def test_constant_names_are_valid_for_their_service() -> None:
    for spec in SPEC_MATRIX:
        resolved = load_spec(spec).resolved
        assert resolved is not None
        for name in generated_names(resolved):
            if not name.rule.fields():
                assert name.rule.kind.overflow(name.value) <= 0, name
                assert not name.rule.kind.problems(name.value), name


def test_every_rendered_rule_is_checked_against_the_templates() -> None:
    for rule in RULES:
        if rule.rendered and rule.root != "none":
            assert rule.resources, f"{rule.id}: name where it renders (resources=...)"


# Resource types of the names the migration area will render.
PLANNED_RESOURCE_TYPES = {
    "dms-instance": "aws_dms_replication_instance",
    "dms-identifier": "aws_dms_endpoint",
    "dms-subnet-group": "aws_dms_replication_subnet_group",
}


def test_planned_names_are_not_rendered_yet() -> None:
    """When an area starts rendering one of these, mark its rules rendered=True and give
    them resources, so the validators check them."""
    planned_kinds = {r.kind.key for r in RULES if not r.rendered}
    assert set(PLANNED_RESOURCE_TYPES) <= planned_kinds
    text = "".join(_tf_files())
    for kind, resource_type in PLANNED_RESOURCE_TYPES.items():
        assert f'resource "{resource_type}"' not in text, f"{kind} is rendered now"


def test_target_group_names_keep_32_characters() -> None:
    assert target_group_name("a" * 32) == "a" * 32
    long = "a23456789012345678901z-live-edge-api"
    short = target_group_name(long)
    assert len(short) == 32 and short.startswith(long[:25] + "-")


def _spec(project: str, env: str, app: str, *, kind: str = "web", extra: str = "") -> str:
    return (
        "apiVersion: platformgen/v1\n"
        f"project: {{name: {project}, organisation: org, domain: x.example.com, region: eu-west-1}}\n"
        f"environments:\n  {env}:\n    tier: development\n"
        "    account: '123456789012'\n    vpcCidr: 10.0.0.0/16\n"
        f"apps:\n  - name: {app}\n    kind: {kind}\n{extra}"
    )


def test_the_longest_alb_name_fits_and_one_more_is_refused() -> None:
    api = "  - {name: api, kind: api, public: true}\n"
    fits = _spec("a" * 21, "e" * 10, "web", extra=api)  # 21 + 1 + 10 = 32
    assert load_spec_text(fits).ok
    over = load_spec_text(_spec("a" * 22, "e" * 10, "web", extra=api))
    assert [(d.code, d.path) for d in over.errors] == [
        ("semantic.name-too-long", "environments.eeeeeeeeee")
    ]
    assert "32" in over.errors[0].message and "by 1 character" in over.errors[0].fix


def test_the_longest_static_bucket_fits_and_one_more_is_refused() -> None:
    # <project>-<env>-<app>-<account>: 63 = 20 + 1 + 5 + 1 + 23 + 1 + 12
    assert load_spec_text(_spec("p" * 20, "e" * 5, "w" * 23)).ok
    over = load_spec_text(_spec("p" * 20, "e" * 5, "w" * 24))
    assert [(d.code, d.path) for d in over.errors] == [("semantic.name-too-long", "apps[0].name")]
    assert "64 characters; S3 bucket names allow 63" in over.errors[0].message


def test_private_apps_need_no_bucket_or_load_balancer() -> None:
    """Limits apply to the names a spec renders: a worker has no bucket, no ALB."""
    assert load_spec_text(_spec("a" * 22, "e" * 10, "w" * 24, kind="worker")).ok


def test_a_valid_spec_never_renders_an_invalid_name() -> None:
    for spec in SPEC_MATRIX:
        resolved = load_spec(spec).resolved
        assert resolved is not None
        for name in generated_names(resolved):
            assert name.rule.kind.overflow(name.value) <= 0, name
            assert not name.rule.kind.problems(name.value), name


def test_names_reference_is_generated_from_the_table() -> None:
    from support.scripts import load_script

    committed = (ROOT / "docs" / "names.md").read_text()
    assert committed == load_script("spec_docs").names_reference(), "run `make docs`"


@pytest.mark.parametrize("name", ["readonly", "dms", "api-migrator"])
def test_an_app_cannot_take_a_database_user_name(name: str) -> None:
    """dbkit users: an app with the database has the logical users <app> and <app>-migrator,
    each with a secret <project>/<env>/database/<logical>; the platform has readonly and dms.
    An app named like one of those would share its secret (and its MySQL users)."""
    text = REFERENCE_SPEC.read_text().replace(
        "  - name: api\n    kind: api",
        f"  - name: {name}\n    kind: worker\n    database: true\n  - name: api\n    kind: api",
    )
    result = load_spec_text(text)
    found = [d for d in result.errors if d.code == "semantic.name-collision"]
    assert found, f"an app named {name} was accepted"
    if name != "dms":  # dms also takes the DMS role's name, reported first
        assert any("/database/" in d.message for d in found), [d.message for d in found]
