"""The Terraform modules' own tests, once: the modules are static files, identical for
every spec (tests/validators/terraform.py checks that), so `terraform test` needs to run
on the template set only, not per spec.

`test_invariant_tests_catch_breakage` proves the security tests can fail: each case
breaks one invariant in a copy of a module and requires the run that guards it to fail
with its own message, while the unbroken module passes (test_module_tests_pass).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from support.terraform import Terraform

ROOT = Path(__file__).resolve().parents[1]
MODULES = ROOT / "templates" / "terraform" / "infra" / "modules"
MODULE_NAMES = sorted(p.name for p in MODULES.iterdir() if p.is_dir() and p.name[0] != ".")


@pytest.fixture(scope="session")
def initialised(terraform: Terraform, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template modules, copied once per worker and each `init`-ed once."""
    modules = tmp_path_factory.mktemp("modules") / "modules"
    shutil.copytree(MODULES, modules, ignore=shutil.ignore_patterns(".terraform*"))
    for result in terraform.each([modules / m for m in MODULE_NAMES], "init", workers=1):
        assert result.ok, result.describe()
    return modules


def copy_initialised(initialised: Path, target: Path) -> Path:
    """A private copy that keeps the initialised state (.terraform links the provider cache)."""
    shutil.copytree(initialised, target, symlinks=True)
    return target


@pytest.mark.parametrize("module", MODULE_NAMES)
def test_module_validates_and_its_tests_pass(
    module: str, terraform: Terraform, initialised: Path
) -> None:
    validated = terraform.init_and_validate(initialised / module)
    assert validated.ok, validated.describe()
    assert list((initialised / module / "tests").glob("*.tftest.hcl")), f"{module} has no tests"
    tested = terraform.run(["test", "-no-color"], initialised / module)
    assert tested.ok, tested.describe()
    passed = re.search(r"Success! (\d+) passed, 0 failed", tested.stdout)
    assert passed and int(passed[1]) >= 1, tested.stdout[-2000:]


def test_module_readmes_are_current() -> None:
    """The generated part of every module README (between its TF_DOCS markers) is current."""
    from support.scripts import run_script

    proc = run_script("terraform_docs", "--check")
    assert proc.returncode == 0, proc.stderr


# (module, file, text to replace, replacement, the run that must fail)
BREAKAGES = [
    (
        "database",
        "main.tf",
        "publicly_accessible    = false\n  multi_az               = var.multi_az",
        "publicly_accessible    = true\n  multi_az               = var.multi_az",
        "database_is_private_and_encrypted_with_the_cmk",
    ),
    (
        "database",
        "main.tf",
        "  kms_key_id            = var.kms_key_arn\n\n  db_subnet",
        "  kms_key_id            = null\n\n  db_subnet",
        "database_is_private_and_encrypted_with_the_cmk",
    ),
    (
        "database",
        "variables.tf",
        'condition     = var.multi_az || var.tier != "production"',
        "condition     = var.multi_az || !var.multi_az",
        "production_refuses_single_az",
    ),
    (
        "database",
        "variables.tf",
        'condition     = var.deletion_protection || var.tier != "production"',
        "condition     = var.deletion_protection || !var.deletion_protection",
        "production_refuses_no_deletion_protection",
    ),
    (
        "database",
        "main.tf",
        "  referenced_security_group_id = var.client_security_group_id",
        '  cidr_ipv4                    = "0.0.0.0/0"',
        "mysql_is_reachable_only_from_the_nodes",
    ),
    (
        "database",
        "main.tf",
        'require_secure_transport = "1"',
        'require_secure_transport = "0"',
        "parameters_enforce_tls_slow_log_and_row_binlogs",
    ),
    (
        "load-balancer",
        "main.tf",
        "  resource_arn = aws_lb.this.arn\n  web_acl_arn  = module.waf.arn",
        '  resource_arn = aws_lb.this.arn\n  web_acl_arn  = "arn:aws:wafv2:ap-southeast-2:111111111111:regional/webacl/other/0"',
        "waf_is_associated_with_the_alb",
    ),
    (
        "load-balancer",
        "main.tf",
        '  prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id\n}\n\nresource "aws_vpc_security_group_ingress_rule" "alb_http"',
        '  cidr_ipv4         = "0.0.0.0/0"\n}\n\nresource "aws_vpc_security_group_ingress_rule" "alb_http"',
        "only_cloudfront_reaches_the_alb_and_only_the_alb_reaches_pods",
    ),
    (
        "load-balancer",
        "main.tf",
        "drop_invalid_header_fields = true",
        "drop_invalid_header_fields = false",
        "alb_hardening",
    ),
    (
        "cluster",
        "main.tf",
        "endpoint_public_access  = false",
        "endpoint_public_access  = true",
        "the_api_endpoint_is_private",
    ),
    (
        "cluster",
        "main.tf",
        "http_put_response_hop_limit = 1",
        "http_put_response_hop_limit = 2",
        "nodes_require_imdsv2_with_hop_limit_one",
    ),
    (
        "cluster",
        "main.tf",
        'authentication_mode                         = "API"',
        'authentication_mode                         = "API_AND_CONFIG_MAP"',
        "access_entries_not_aws_auth",
    ),
    (
        "cluster",
        "main.tf",
        "  version = aws_eks_cluster.this.version\n",
        "",
        "nodes_and_addons_follow_the_kubernetes_version",
    ),
    (
        "cluster",
        "main.tf",
        '  addon_version               = data.aws_eks_addon_version.this["coredns"].version\n',
        "",
        "nodes_and_addons_follow_the_kubernetes_version",
    ),
    (
        "cluster",
        "main.tf",
        "  kubernetes_version = aws_eks_cluster.this.version\n",
        '  kubernetes_version = "1.33"\n',
        "a_version_bump_moves_nodes_and_addons",
    ),
    (
        "database",
        "variables.tf",
        'condition     = contains(["8.0", "8.4"], var.engine_version)',
        'condition     = can(regex("^8\\\\.(0|4)", var.engine_version))',
        "refuses_a_pinned_minor_version",
    ),
    (
        "database",
        "main.tf",
        "  auto_minor_version_upgrade  = true",
        "  auto_minor_version_upgrade  = false",
        "minor_versions_follow_aws",
    ),
    (
        "backup-vault",
        "main.tf",
        'lock_mode  = var.tier == "production" ? "compliance" : "governance"',
        'lock_mode  = "compliance"',
        "other_tiers_lock_in_governance_mode",
    ),
    (
        "backup-vault",
        "main.tf",
        'lock_mode  = var.tier == "production" ? "compliance" : "governance"',
        'lock_mode  = "governance"',
        "production_locks_in_compliance_mode",
    ),
    (
        "backup-vault",
        "main.tf",
        "  kms_key_arn   = aws_kms_key.this.arn",
        "  kms_key_arn   = null",
        "recovery_points_are_encrypted_with_the_vaults_own_cmk",
    ),
    (
        "backup-vault",
        "main.tf",
        '      Principal = { AWS = local.copiers }\n      Action    = "backup:CopyIntoBackupVault"',
        '      Principal = { AWS = "*" }\n      Action    = "backup:CopyIntoBackupVault"',
        "only_the_copy_accounts_may_copy_in",
    ),
    (
        "backup",
        "main.tf",
        "      for_each = var.copy_destinations",
        "      for_each = {}",
        "daily_snapshots_are_copied_to_the_backup_accounts_vault",
    ),
    (
        "backup",
        "main.tf",
        "    recovery_point_tags          = var.recovery_point_tags",
        "    recovery_point_tags          = {}",
        "owner_and_cost_centre_tag_every_recovery_point",
    ),
    (
        "backup",
        "main.tf",
        '    production  = "cron(${local.minute} ${(local.hour + 6) % 24} ? * TUE *)"',
        "    production  = null",
        "production_tests_a_restore_every_week",
    ),
    (
        "backup",
        "main.tf",
        "    dbsubnetgroupname   = var.restore_subnet_group_name\n",
        "",
        "production_tests_a_restore_every_week",
    ),
    (
        "foundation",
        "main.tf",
        '        values   = ["true"]\n      }\n    }\n  }',
        '        values   = ["false"]\n      }\n    }\n  }',
        "the_backup_account_may_copy_the_databases_snapshots",
    ),
    (
        "network",
        "main.tf",
        "  route_table_id = aws_route_table.isolated.id\n}\n\n# --- Flow logs",
        "  route_table_id = aws_route_table.private[each.key].id\n}\n\n# --- Flow logs",
        "isolated_subnets_have_no_internet_route",
    ),
    (
        "cdn",
        "main.tf",
        "  web_acl_id          = module.waf.arn\n",
        "",
        "waf_protects_the_distribution",
    ),
    (
        "bucket",
        "main.tf",
        "  block_public_policy     = true",
        "  block_public_policy     = false",
        "nothing_is_public",
    ),
    (
        "workloads",
        "main.tf",
        'image_tag_mutability = "IMMUTABLE"',
        'image_tag_mutability = "MUTABLE"',
        "registries_are_immutable_scanned_and_encrypted",
    ),
]


def only_run(test_file: Path, run: str) -> None:
    """Keep the file's providers, overrides and variables, and only the run `run`."""
    text = test_file.read_text()
    starts = [m.start() for m in re.finditer(r'^run "', text, re.M)]
    assert starts, f"{test_file} has no runs"
    blocks = {
        re.match(r'run "([a-z0-9_]+)"', text[a:])[1]: text[a:b]  # type: ignore[index]
        for a, b in zip(starts, [*starts[1:], len(text)], strict=True)
    }
    assert run in blocks, f"{test_file} has no run {run!r}; runs: {sorted(blocks)}"
    test_file.write_text(text[: starts[0]] + blocks[run])


@pytest.mark.parametrize(
    ("module", "file", "old", "new", "run"),
    BREAKAGES,
    ids=[f"{b[0]}-{b[4]}" for b in BREAKAGES],
)
def test_invariant_tests_catch_breakage(
    module: str,
    file: str,
    old: str,
    new: str,
    run: str,
    terraform: Terraform,
    initialised: Path,
    tmp_path: Path,
) -> None:
    modules = copy_initialised(initialised, tmp_path / "modules")
    target = modules / module / file
    source = target.read_text()
    assert source.count(old) == 1, f"the breakage of {module}/{file} no longer matches the code"
    target.write_text(source.replace(old, new))
    test_files = list((modules / module / "tests").glob("*.tftest.hcl"))
    assert len(test_files) == 1
    only_run(test_files[0], run)
    result = terraform.run(["test", "-no-color"], modules / module)
    assert not result.ok, (
        f"breaking {module} ({old!r} -> {new!r}) went unnoticed:\n{result.stdout[-3000:]}"
    )
    assert re.search(rf'run "{run}"\.\.\. fail', result.stdout), result.describe()
