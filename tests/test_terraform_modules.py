"""The Terraform modules' and the bootstrap's own tests, once: they are static files,
identical for every spec (tests/validators/terraform.py checks that), so `terraform test`
needs to run on the template set only, not per spec.

`test_invariant_tests_catch_breakage` proves the security tests can fail: each case
breaks one invariant in a copy of a module (or of the bootstrap) and requires the run that
guards it to fail with its own message. That the unbroken modules and bootstrap validate and
pass their tests is proven once, by the generated repository's own targets
(the pipeline rehearsal, tests/test_pipeline_rehearsal.py, runs `make lint` and `make test`,
which include `infra-lint` and `infra-test`, on the rendered reference, whose modules are
these files byte for byte).

The rules no single module's test can see are checked on the files themselves, each with
its own breakage: every IAM role carries the permissions boundary, no AWS-managed
administrator or read-only policy appears anywhere, and the platform executor's policy
covers every AWS service and managed policy the modules use
(infra/docs/adr/0003-roles-and-permissions.md).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from support.terraform import Terraform

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "templates" / "terraform" / "infra"
MODULES = INFRA / "modules"
BOOTSTRAP = INFRA / "bootstrap"
ENV_ROOT = ROOT / "templates" / "terraform-env"
MODULE_NAMES = sorted(p.name for p in MODULES.iterdir() if p.is_dir() and p.name[0] != ".")


def root_of(infra: Path, module: str) -> Path:
    """A module's folder in a copy of infra/, or the bootstrap's ("bootstrap")."""
    return infra / "bootstrap" if module == "bootstrap" else infra / "modules" / module


@pytest.fixture(scope="session")
def initialised(terraform: Terraform, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template modules and bootstrap, copied once per worker and each `init`-ed once."""
    infra = tmp_path_factory.mktemp("infra") / "infra"
    # The committed .terraform.lock.hcl goes with each folder; only init output stays behind.
    skip = shutil.ignore_patterns(".terraform", "*.jinja")
    shutil.copytree(MODULES, infra / "modules", ignore=skip)
    shutil.copytree(BOOTSTRAP, infra / "bootstrap", ignore=skip)
    roots = [root_of(infra, m) for m in [*MODULE_NAMES, "bootstrap"]]
    for result in terraform.each(roots, "init", workers=1):
        assert result.ok, result.describe()
    return infra


def copy_initialised(initialised: Path, target: Path) -> Path:
    """A private copy that keeps the initialised state (.terraform links the provider cache)."""
    shutil.copytree(initialised, target, symlinks=True)
    return target


@pytest.mark.parametrize("module", [*MODULE_NAMES, "bootstrap"])
def test_every_module_has_tests(module: str) -> None:
    """`make infra-test` runs them (tests/test_pipeline_rehearsal.py); a module without any would
    pass it silently."""
    root = root_of(MODULES.parent, module)
    assert list((root / "tests").glob("*.tftest.hcl")), f"{module} has no tests"


def test_module_readmes_are_current() -> None:
    """The generated part of every module README (between its TF_DOCS markers) is current."""
    from support.scripts import run_script

    proc = run_script("terraform_docs", "--check")
    assert proc.returncode == 0, proc.stderr


# (module, file, text to replace, replacement, the run that must fail)
BREAKAGES = [
    # issue 14: each app connects as its own database user; the master is break-glass.
    (
        "workloads",
        "main.tf",
        '"${local.secret_arn_prefix}${var.secret_prefix}database/${u}-??????"',
        '"${local.secret_arn_prefix}${var.secret_prefix}database/*"',
        "apps_read_only_their_own_database_users",
    ),
    (
        "workloads",
        "main.tf",
        '  description             = "Database user ${each.value}: written by dbkit users apply/rotate (platform executor), never by Terraform"\n  kms_key_id              = var.kms_key_arn',
        '  description             = "Database user ${each.value}: written by dbkit users apply/rotate (platform executor), never by Terraform"\n  kms_key_id              = null',
        "the_database_users_secrets_are_empty_encrypted_and_named_by_the_contract",
    ),
    (
        "workloads",
        "variables.tf",
        '      for u in(a.database ? [k, "${k}-migrator"] : []) : contains(var.database_users, u)',
        "      for u in(a.database ? [k] : []) : contains(var.database_users, u) || true",
        "an_app_with_the_database_needs_its_users",
    ),
    (
        "workloads",
        "variables.tf",
        '    condition     = !contains(keys(var.apps), "database") &&',
        '    condition     = true || !contains(keys(var.apps), "database") &&',
        "no_app_may_take_the_database_users_prefix",
    ),
    (
        "executors",
        "main.tf",
        "  referenced_security_group_id = var.database_security_group_id",
        '  cidr_ipv4                    = "10.0.0.0/8"',
        "the_executors_reach_only_the_database_on_its_port",
    ),
    (
        "executors",
        "main.tf",
        "  from_port         = var.migration_source_port\n  to_port           = var.migration_source_port",
        "  from_port         = 0\n  to_port           = 65535",
        "the_migration_target_reaches_the_source_port_only",
    ),
    (
        "database",
        "main.tf",
        '  description                  = "MySQL from ${each.key} (the database kit)"\n  ip_protocol                  = "tcp"\n  from_port                    = 3306',
        '  description                  = "MySQL from ${each.key} (the database kit)"\n  ip_protocol                  = "tcp"\n  from_port                    = 0',
        "the_platform_executor_reaches_mysql_by_its_group_only",
    ),
    (
        "database",
        "main.tf",
        "  password_wo_version           = local.rds_managed ? null : var.master_password_version",
        "  password_wo_version           = local.rds_managed ? null : 1",
        "replicas_rotate_the_master_by_version",
    ),
    (
        "bootstrap",
        "roles.tf",
        "NotResource = compact([local.master_secret, local.rds_managed_secrets, local.database_user_secrets, local.migration_source_secret]) },",
        'NotResource = compact([local.master_secret, local.rds_managed_secrets, local.database_user_secrets, local.migration_source_secret, "*"]) },',
        "the_platform_executor_reads_only_the_databases_secrets",
    ),
    (
        "bootstrap",
        "roles.tf",
        '      Condition = { StringNotEquals = { "secretsmanager:ResourceTag/aws:rds:primaryDBInstanceArn" = local.primary_instance_arn } }',
        '      Condition = { StringNotEquals = { "secretsmanager:ResourceTag/aws:rds:primaryDBInstanceArn" = "*" } }',
        "the_platform_executor_reads_only_the_databases_secrets",
    ),
    (
        "account-baseline",
        "main.tf",
        "  enable_log_file_validation    = true",
        "  enable_log_file_validation    = false",
        "the_trail_covers_every_region_and_can_be_verified",
    ),
    (
        "account-baseline",
        "main.tf",
        '      Condition = { StringEquals = { "aws:SourceArn" = local.trail_arn, "s3:x-amz-acl" = "bucket-owner-full-control" } }',
        '      Condition = { StringEquals = { "s3:x-amz-acl" = "bucket-owner-full-control" } }',
        "the_trail_bucket_is_encrypted_logged_and_admits_only_this_trail",
    ),
    (
        "account-baseline",
        "variables.tf",
        'default     = ["S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "RDS_LOGIN_EVENTS", "EBS_MALWARE_PROTECTION"]',
        'default     = ["S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION"]',
        "guardduty_watches_s3_eks_and_rds",
    ),
    (
        "migration",
        "main.tf",
        "  publicly_accessible         = false",
        "  publicly_accessible         = true",
        "replication_instance_is_private_and_encrypted",
    ),
    (
        "migration",
        "main.tf",
        "  kms_key_arn                 = var.kms_key_arn\n  replication_subnet_group_id",
        "  kms_key_arn                 = null\n  replication_subnet_group_id",
        "replication_instance_is_private_and_encrypted",
    ),
    (
        "migration",
        "main.tf",
        "  ssl_mode                        = var.source_database.tls",
        '  ssl_mode                        = "require"',
        "the_source_is_verified_with_digitaloceans_ca",
    ),
    (
        "migration",
        "variables.tf",
        'condition     = var.source_database.tls == "require" || startswith(',
        "condition     = true || startswith(",
        "a_missing_ca_is_refused",
    ),
    (
        "migration",
        "variables.tf",
        'contains(["verify-full", "verify-ca", "require"], var.source_database.tls)',
        'contains(["verify-full", "verify-ca", "require", "none"], var.source_database.tls)',
        "clear_text_to_the_source_is_refused",
    ),
    (
        "migration",
        "main.tf",
        "  secrets_manager_arn             = local.target_secret_arn",
        "  secrets_manager_arn             = data.aws_secretsmanager_secret.source.arn",
        "the_target_uses_the_dms_users_secret",
    ),
    (
        "migration",
        "main.tf",
        '  extra_connection_attributes = "initstmt=SET FOREIGN_KEY_CHECKS=0"\n',
        "",
        "the_target_uses_the_dms_users_secret",
    ),
    (
        "migration",
        "main.tf",
        "        Resource = [data.aws_secretsmanager_secret.source.arn, local.target_secret_arn]",
        '        Resource = "*"',
        "the_dms_role_reads_only_the_two_secrets",
    ),
    (
        "migration",
        "main.tf",
        "  description          = \"AWS DMS reads the source's and the dms user's database secrets\"\n  permissions_boundary = var.permissions_boundary\n",
        "  description          = \"AWS DMS reads the source's and the dms user's database secrets\"\n",
        "the_dms_role_reads_only_the_two_secrets",
    ),
    (
        "migration",
        "main.tf",
        "  referenced_security_group_id = aws_security_group.this.id",
        '  cidr_ipv4                    = "10.0.0.0/8"',
        "rds_admits_only_the_replication_instance",
    ),
    (
        "migration",
        "main.tf",
        '    [{ action = "include", table = var.heartbeat_table }],\n',
        "",
        "the_task_copies_the_selected_tables_and_the_heartbeat",
    ),
    (
        "migration",
        "main.tf",
        'TargetTablePrepMode = "DO_NOTHING"',
        'TargetTablePrepMode = "DROP_AND_CREATE"',
        "the_task_copies_the_selected_tables_and_the_heartbeat",
    ),
    (
        "migration",
        "main.tf",
        "  start_replication_task = false",
        "  start_replication_task = true",
        "the_task_copies_the_selected_tables_and_the_heartbeat",
    ),
    (
        "migration",
        "main.tf",
        '            "table-name"  = var.heartbeat_table',
        '            "table-name"  = "%"',
        "the_task_copies_the_selected_tables_and_the_heartbeat",
    ),
    (
        "migration",
        "main.tf",
        "      LobMaxSize         = local.full_lob ? 0 : var.lob.max_size_kb",
        "      LobMaxSize         = 32",
        "the_task_copies_the_selected_tables_and_the_heartbeat",
    ),
    (
        "migration",
        "main.tf",
        "      EnableValidation = var.validation",
        "      EnableValidation = false",
        "the_task_copies_the_selected_tables_and_the_heartbeat",
    ),
    (
        "migration",
        "variables.tf",
        "condition     = !anytrue(",
        "condition     = true || !anytrue(",
        "excluding_the_heartbeat_is_refused",
    ),
    (
        "migration",
        "main.tf",
        'target = { metric = "CDCLatencyTarget"',
        'target = { metric = "CDCLatencySource"',
        "cdc_latency_alarms_and_events_reach_the_topic",
    ),
    (
        "migration",
        "main.tf",
        "  alarm_actions = [var.alarm_topic_arn]\n  ok_actions    = [var.alarm_topic_arn]",
        "  alarm_actions = []\n  ok_actions    = [var.alarm_topic_arn]",
        "cdc_latency_alarms_and_events_reach_the_topic",
    ),
    (
        "migration",
        "main.tf",
        '  event_categories = ["failure", "state change"]',
        '  event_categories = ["creation"]',
        "cdc_latency_alarms_and_events_reach_the_topic",
    ),
    (
        "database",
        "main.tf",
        '    local_infile = var.migration_window_open ? "1" : "0"',
        '    local_infile = "1"',
        "parameters_enforce_tls_slow_log_and_row_binlogs",
    ),
    (
        "database",
        "main.tf",
        '    local_infile = var.migration_window_open ? "1" : "0"',
        '    local_infile = "0"',
        "local_infile_only_while_the_migration_window_is_open",
    ),
    (
        "foundation",
        "main.tf",
        '      values   = ["arn:${local.partition}:dms:${local.region}:${local.account_id}:es:*"]',
        '      values   = ["*"]',
        "dms_events_reach_the_encrypted_topic",
    ),
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
        "database",
        "main.tf",
        'lookup(local.apply_types, parameter.key, "static") == "dynamic" ? "immediate" : "pending-reboot"',
        '"pending-reboot"',
        "each_parameter_applies_as_mysql_allows",
    ),
    (
        "database",
        "mysql-parameters.json",
        '"tls_version": "static"',
        '"tls_version": "dynamic"',
        "each_parameter_applies_as_mysql_allows",
    ),
    (
        "database",
        "capacity.tf",
        "floor(local.max_connections * 0.8)",
        "500",
        "alarm_thresholds_follow_the_class_and_the_allocation",
    ),
    (
        "database",
        "capacity.tf",
        "var.allocated_storage_gb * 1073741824 * local.storage_alarm_percent / 100",
        "var.max_allocated_storage_gb * 1073741824 / 10",
        "alarm_thresholds_follow_the_class_and_the_allocation",
    ),
    (
        "database",
        "main.tf",
        "  sns_topic   = var.alarm_topic_arn",
        '  sns_topic   = "arn:aws:sns:ap-southeast-2:111111111111:elsewhere"',
        "alarm_thresholds_follow_the_class_and_the_allocation",
    ),
    (
        "foundation",
        "main.tf",
        'values   = ["arn:${local.partition}:rds:${local.region}:${local.account_id}:db:${var.name}*"]',
        'values   = ["arn:${local.partition}:rds:${local.region}:${local.account_id}:db:*"]',
        "rds_events_reach_the_encrypted_topic",
    ),
    (
        "waf",
        "main.tf",
        '    var.scope == "REGIONAL" ? { Region = data.aws_region.current.name } : {},',
        "    { Region = data.aws_region.current.name },",
        "the_blocked_share_alarms_on_the_acls_own_metrics",
    ),
    (
        "load-balancer",
        "main.tf",
        'expression  = "IF(requests >= 20, 100 * FILL(errors, 0) / requests, 0)"',
        'expression  = "errors"',
        "each_app_is_alarmed_on_its_error_rate_and_p99",
    ),
    (
        "load-balancer",
        "main.tf",
        '  extended_statistic  = "p99"',
        '  extended_statistic  = "p50"',
        "each_app_is_alarmed_on_its_error_rate_and_p99",
    ),
    (
        "cdn",
        "main.tf",
        '  name              = "${var.name}-cdn-alarms"\n  kms_master_key_id = aws_kms_key.waf_logs.arn',
        '  name              = "${var.name}-cdn-alarms"\n  kms_master_key_id = null',
        "the_cloudfront_acls_alarm_reaches_on_call_from_us_east_1",
    ),
    (
        "cluster",
        "observability.tf",
        "  kms_key_id        = var.kms_key_arn\n}",
        "  kms_key_id        = null\n}",
        "cloudwatch_observability_ships_logs_and_metrics_to_encrypted_groups",
    ),
    (
        "cluster",
        "observability.tf",
        'actions = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]',
        'actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]',
        "cloudwatch_observability_ships_logs_and_metrics_to_encrypted_groups",
    ),
    (
        "cluster",
        "observability.tf",
        'cloudwatch_observability = var.observability_provider == "cloudwatch"',
        "cloudwatch_observability = true",
        "datadog_leaves_the_cloudwatch_add_on_out",
    ),
    (
        "workloads",
        "datadog.tf",
        ':secret:${coalesce(var.datadog_api_key_secret, "none")}-??????',
        ":secret:*",
        "datadog_reads_only_its_api_key",
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
        "  referenced_security_group_id = data.aws_security_group.cloudfront_vpc_origin.id",
        '  cidr_ipv4                    = "0.0.0.0/0"',
        "only_cloudfronts_vpc_origin_reaches_the_alb_and_only_the_alb_reaches_pods",
    ),
    (
        # CloudFront's global prefix list: every customer's distribution uses it.
        "load-balancer",
        "main.tf",
        "  referenced_security_group_id = data.aws_security_group.cloudfront_vpc_origin.id",
        '  prefix_list_id               = "pl-3b927c52"',
        "only_cloudfronts_vpc_origin_reaches_the_alb_and_only_the_alb_reaches_pods",
    ),
    (
        "load-balancer",
        "main.tf",
        "  internal                   = true",
        "  internal                   = false",
        "the_alb_is_internal_in_the_load_balancer_subnets",
    ),
    (
        "load-balancer",
        "main.tf",
        "  subnets                    = var.subnet_ids",
        "  subnets                    = slice(var.subnet_ids, 0, 2)",
        "the_alb_is_internal_in_the_load_balancer_subnets",
    ),
    (
        "load-balancer",
        "main.tf",
        '    type = "fixed-response"\n    fixed_response {\n      content_type = "text/plain"\n      message_body = "Not found"\n      status_code  = "404"\n    }',
        '    type             = "forward"\n    target_group_arn = aws_lb_target_group.app["api"].arn',
        "unmatched_requests_get_the_default_404",
    ),
    (
        "load-balancer",
        "main.tf",
        '    origin_protocol_policy = "https-only"',
        '    origin_protocol_policy = "http-only"',
        "cloudfront_reaches_the_alb_through_its_vpc_origin_over_https",
    ),
    (
        "load-balancer",
        "main.tf",
        '  scope                = "REGIONAL"',
        '  scope                = "REGIONAL"\n  rate_limit           = 2000\n  rate_limit_routes    = { _other = { path = "/", except = [] } }',
        "the_regional_acl_does_not_rate_limit_forgeable_addresses",
    ),
    (
        "waf",
        "main.tf",
        '          aggregate_key_type = "IP"',
        '          aggregate_key_type = "FORWARDED_IP"\n          forwarded_ip_config {\n            header_name       = "X-Forwarded-For"\n            fallback_behavior = "MATCH"\n          }',
        "the_rate_limit_counts_a_key_the_client_cannot_forge",
    ),
    (
        "waf",
        "main.tf",
        '          scope_down_statement {\n            label_match_statement {\n              scope = "LABEL"\n              key   = local.label\n            }\n          }\n',
        "",
        "the_rate_limit_counts_only_api_requests",
    ),
    (
        "waf",
        "main.tf",
        "          version     = group.value.version",
        "          version     = null",
        "managed_rule_groups_are_pinned",
    ),
    (
        "cdn",
        "main.tf",
        '        except = [for s in local.static_paths : s if a.path == "/" || startswith(s, "${a.path}/")]',
        "        except = []",
        "the_rate_limit_counts_the_api_only",
    ),
    (
        "cdn",
        "main.tf",
        "        vpc_origin_id            = origin.value",
        '        vpc_origin_id            = "vo_someone_elses"',
        "the_load_balancer_is_reached_through_its_vpc_origin_only",
    ),
    (
        "network",
        "main.tf",
        "  route_table_id = aws_route_table.load_balancer.id",
        "  route_table_id = aws_route_table.public.id",
        "the_load_balancer_tier_is_its_own_and_private",
    ),
    (
        "network",
        "main.tf",
        "cidrsubnet(var.vpc_cidr, 7, 27 * 4 + i)",
        "cidrsubnet(var.vpc_cidr, 5, 24 + i)",
        "four_tiers_over_three_zones",
    ),
    (
        "load-balancer",
        "main.tf",
        "drop_invalid_header_fields = true",
        "drop_invalid_header_fields = false",
        "alb_hardening",
    ),
    (
        "karpenter",
        "main.tf",
        'namespace       = "karpenter"',
        'namespace       = "kube-system"',
        "controller_through_pod_identity",
    ),
    (
        "karpenter",
        "main.tf",
        'identifiers = ["pods.eks.amazonaws.com"]',
        'identifiers = ["pods.eks.amazonaws.com", "ec2.amazonaws.com"]',
        "controller_through_pod_identity",
    ),
    (
        "karpenter",
        "main.tf",
        "  assume_role_policy   = data.aws_iam_policy_document.node_assume.json\n"
        "  permissions_boundary = var.permissions_boundary\n",
        "  assume_role_policy   = data.aws_iam_policy_document.node_assume.json\n",
        "every_role_carries_the_boundary",
    ),
    (
        "karpenter",
        "main.tf",
        'owned      = "kubernetes.io/cluster/${var.cluster_name}"',
        'owned      = "kubernetes.io/cluster/*"',
        "the_controller_acts_only_on_this_clusters_resources",
    ),
    (
        "karpenter",
        "main.tf",
        "resources = [aws_iam_role.node.arn]",
        'resources = ["*"]',
        "the_controller_acts_only_on_this_clusters_resources",
    ),
    (
        "karpenter",
        "main.tf",
        'type          = "EC2_LINUX"',
        'type          = "STANDARD"',
        "nodes_join_through_an_access_entry",
    ),
    (
        "karpenter",
        "main.tf",
        'values   = ["false"]',
        'values   = ["true"]',
        "interruptions_reach_karpenter_over_tls_only",
    ),
    (
        "karpenter",
        "main.tf",
        "arn       = aws_sqs_queue.interruptions.arn",
        'arn       = "arn:aws:sqs:ap-southeast-2:111111111111:elsewhere"',
        "interruptions_reach_karpenter_over_tls_only",
    ),
    (
        "karpenter",
        "main.tf",
        'resources = [aws_sqs_queue.interruptions.arn]\n  }\n\n  statement {\n    sid       = "PassOnlyTheNodeRoleToEc2"',
        'resources = ["*"]\n  }\n\n  statement {\n    sid       = "PassOnlyTheNodeRoleToEc2"',
        "interruptions_reach_karpenter_over_tls_only",
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
        'vpc-cni = jsonencode({ enableNetworkPolicy = "true" })',
        'vpc-cni = jsonencode({ enableNetworkPolicy = "false" })',
        "network_policy_is_enforced",
    ),
    (
        "cluster",
        "main.tf",
        "  configuration_values        = lookup(local.addon_configuration, each.value, null)\n",
        "",
        "network_policy_is_enforced",
    ),
    (
        "cluster",
        "main.tf",
        "[aws_security_group.node.id, aws_security_group.database_clients.id, aws_eks_cluster",
        "[aws_security_group.node.id, aws_eks_cluster",
        "the_database_path_has_its_own_security_group",
    ),
    (
        "cluster",
        "outputs.tf",
        "  value       = aws_security_group.database_clients.id",
        "  value       = aws_security_group.node.id",
        "the_database_path_has_its_own_security_group",
    ),
    (
        "network",
        "outputs.tf",
        "  value       = [for az in var.availability_zones : aws_subnet.isolated[az].cidr_block]",
        "  value       = [for az in var.availability_zones : aws_subnet.private[az].cidr_block]",
        "four_tiers_over_three_zones",
    ),
    (
        "cluster",
        "variables.tf",
        'regex("^1\\\\.3[0-9]$", var.kubernetes_version)',
        'regex("^1\\\\.(2[5-9]|3[0-9])$", var.kubernetes_version)',
        "refuses_kubernetes_before_1_30",
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
        '  count       = local.interface_endpoints ? 1 : 0\n  name        = "${var.name}-vpc-endpoints"',
        '  count       = 1\n  name        = "${var.name}-vpc-endpoints"',
        "without_interface_endpoints_only_the_free_gateway_stays",
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
        "artifacts",
        "main.tf",
        'image_tag_mutability = "IMMUTABLE"',
        'image_tag_mutability = "MUTABLE"',
        "tags_are_immutable_scanned_and_encrypted",
    ),
    (
        "artifacts",
        "main.tf",
        'selection    = { tagStatus = "tagged", tagPatternList = ["*"],',
        'selection    = { tagStatus = "any", tagPatternList = ["*"],',
        "tags_are_immutable_scanned_and_encrypted",
    ),
    (
        "artifacts",
        "main.tf",
        "    scan_on_push = true",
        "    scan_on_push = false",
        "tags_are_immutable_scanned_and_encrypted",
    ),
    (
        "artifacts",
        "main.tf",
        "  kms_key_arn            = aws_kms_key.artifacts.arn",
        "  kms_key_arn            = null",
        "the_bucket_uses_kms",
    ),
    (
        "artifacts",
        "main.tf",
        'Condition = { ArnEquals = { "aws:PrincipalArn" = local.pullers } }',
        'Condition = { ArnEquals = { "aws:PrincipalArn" = concat(local.pullers, ["arn:aws:iam::111111111111:role/any"]) } }',
        "pulls_only_by_the_environments_roles",
    ),
    (
        "artifacts",
        "main.tf",
        'Action    = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]',
        'Action    = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:PutImage"]',
        "pulls_only_by_the_environments_roles",
    ),
    (
        "artifacts",
        "main.tf",
        'Action    = ["kms:GetPublicKey", "kms:DescribeKey", "kms:Verify"]',
        'Action    = ["kms:GetPublicKey", "kms:DescribeKey", "kms:Verify", "kms:Sign"]',
        "the_signing_key_signs_and_never_leaves_kms",
    ),
    (
        "artifacts",
        "main.tf",
        'Action    = ["s3:GetObject", "s3:GetObjectVersion"]\n      Resource  = "${local.bucket_arn}/source/*"',
        'Action    = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]\n      Resource  = "${local.bucket_arn}/source/*"',
        "only_the_executors_read_bundles",
    ),
    (
        "artifacts",
        "main.tf",
        '      Resource  = "${local.bucket_arn}/source/*"\n',
        '      Resource  = ["${local.bucket_arn}/source/*", "${local.bucket_arn}/releases/*"]\n',
        "only_the_executors_read_bundles",
    ),
    (
        "artifacts",
        "main.tf",
        'Resource  = ["${local.bucket_arn}/releases/*", "${local.bucket_arn}/static/*"]',
        'Resource  = ["${local.bucket_arn}/releases/*"]',
        "only_the_executors_read_bundles",
    ),
    (
        "artifacts",
        "main.tf",
        '"aws:PrincipalArn" = local.executors.app_deploy }, StringLike = { "s3:prefix" = ["static/*"] } }',
        '"aws:PrincipalArn" = local.all_executors } }',
        "only_the_executors_read_bundles",
    ),
    (
        "artifacts",
        "main.tf",
        '        Resource  = "*"\n        Condition = { ArnEquals = { "aws:PrincipalArn" = local.executors.app_deploy } }\n',
        '        Resource  = "*"\n        Condition = { ArnEquals = { "aws:PrincipalArn" = local.all_executors } }\n',
        "the_signing_key_signs_and_never_leaves_kms",
    ),
    (
        "artifacts",
        "publisher.tf",
        '"${local.bucket_arn}/static/*", ',
        "",
        "the_publisher_writes_bundles_releases_and_static_files",
    ),
    (
        "artifacts",
        "publisher.tf",
        '          Condition = { StringLike = { "s3:prefix" = ["static/*"] } }\n',
        "",
        "the_publisher_writes_bundles_releases_and_static_files",
    ),
    (
        "artifacts",
        "publisher.tf",
        ":ref:refs/heads/${var.deliver.branch}",
        ":*",
        "only_the_deliverer_from_the_deploy_branch_publishes",
    ),
    (
        "artifacts",
        "publisher.tf",
        '"${local.bitbucket.repository_uuid}:${local.bitbucket.environment_uuid}:*"',
        '"${local.bitbucket.repository_uuid}:*"',
        "bitbucket_publishes_from_its_deployment_environment",
    ),
    (
        "artifacts",
        "publisher.tf",
        "  permissions_boundary = var.permissions_boundary\n",
        "",
        "only_the_deliverer_from_the_deploy_branch_publishes",
    ),
    (
        "artifacts",
        "publisher.tf",
        '"ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",',
        '"ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart", "ecr:BatchDeleteImage",',
        "the_publisher_pushes_signs_and_writes_nothing_else",
    ),
    # --- the executors: in the VPC, admitted by the cluster, fixed, logged -------------------
    (
        "executors",
        "main.tf",
        "subnets            = var.subnet_ids",
        "subnets            = slice(var.subnet_ids, 0, 1)",
        "builds_run_in_the_private_subnets",
    ),
    (
        "executors",
        "main.tf",
        '  security_group_id            = var.cluster_security_group_id\n  description                  = "Kubernetes API',
        '  security_group_id            = aws_security_group.this.id\n  description                  = "Kubernetes API',
        "the_cluster_api_admits_the_executors",
    ),
    (
        "executors",
        "main.tf",
        "  kms_key_id        = var.kms_key_arn",
        "  kms_key_id        = null",
        "logs_are_encrypted",
    ),
    (
        "executors",
        "main.tf",
        "privileged_mode             = false",
        "privileged_mode             = true",
        "fixed_buildspec_image_and_no_privilege",
    ),
    (
        "executors",
        "main.tf",
        'buildspec = file("${path.module}/buildspecs/${each.key}.yml")',
        'buildspec = file("${path.module}/buildspecs/deploy.yml")',
        "fixed_buildspec_image_and_no_privilege",
    ),
    (
        "executors",
        "main.tf",
        '    type      = "NO_SOURCE"\n',
        '    type      = "S3"\n    location  = "${var.artifacts_bucket}/source/none.zip"\n',
        "the_bundle_is_fetched_from_the_artifacts_region",
    ),
    (
        "executors",
        "main.tf",
        "    ARTIFACTS_REGION = var.artifacts_region\n",
        '    ARTIFACTS_REGION = "ap-southeast-2"\n',
        "the_bundle_is_fetched_from_the_artifacts_region",
    ),
    (
        "executors",
        "buildspecs/deploy.yml",
        '--region "$ARTIFACTS_REGION" ',
        "",
        "the_bundle_is_fetched_from_the_artifacts_region",
    ),
    (
        "executors",
        "buildspecs/apply.yml",
        "=~ ^[0-9a-f]{40}$ ]]",
        "=~ ^[0-9a-z./-]+$ ]]",
        "the_bundle_is_fetched_from_the_artifacts_region",
    ),
    (
        "executors",
        "buildspecs/apply.yml",
        '      - cd "$BUNDLE_DIR"\n',
        "",
        "the_bundle_is_fetched_from_the_artifacts_region",
    ),
    (
        "executors",
        "main.tf",
        "      role         = var.app_deploy_role_arn",
        "      role         = var.platform_role_arn",
        "two_executors_each_with_its_own_role",
    ),
    # --- the permissions boundary on every module's roles ---------------------------------
    (
        "cluster",
        "main.tf",
        "node_assume.json\n  permissions_boundary = var.permissions_boundary",
        "node_assume.json\n  permissions_boundary = null",
        "every_role_carries_the_boundary",
    ),
    (
        "workloads",
        "main.tf",
        "  permissions_boundary = var.permissions_boundary\n  max_session_duration = 3600",
        "  max_session_duration = 3600",
        "every_role_carries_the_boundary",
    ),
    (
        "network",
        "main.tf",
        "  permissions_boundary = var.permissions_boundary",
        "  permissions_boundary = null",
        "every_role_carries_the_boundary",
    ),
    (
        "database",
        "main.tf",
        "  permissions_boundary = var.permissions_boundary",
        "  permissions_boundary = null",
        "every_role_carries_the_boundary_and_replicas_stay_removable",
    ),
    (
        "database",
        "main.tf",
        'tags = { "platformgen.io/role" = "read-replica" }',
        "tags = {}",
        "every_role_carries_the_boundary_and_replicas_stay_removable",
    ),
    # --- who may use the Kubernetes API -----------------------------------------------------
    (
        "cluster",
        "main.tf",
        'policy_arn    = "${local.access_policy}/AmazonEKSAdminPolicy"',
        'policy_arn    = "${local.access_policy}/AmazonEKSClusterAdminPolicy"',
        "the_app_deployer_administers_only_the_app_namespaces",
    ),
    (
        "cluster",
        "main.tf",
        'policy_arn    = "${local.access_policy}/AmazonEKSViewPolicy"',
        'policy_arn    = "${local.access_policy}/AmazonEKSAdminViewPolicy"',
        "the_app_deployer_administers_only_the_app_namespaces",
    ),
    # --- the bootstrap: roles, trust, boundary ----------------------------------------------
    (
        "bootstrap",
        "roles.tf",
        'secret:${local.env.migration_source_secret}-??????"',
        'secret:${local.env.migration_source_secret}*"',
        "the_migration_target_reads_exactly_its_source_secret",
    ),
    (
        "bootstrap",
        "roles.tf",
        "NotResource = compact([local.master_secret, local.rds_managed_secrets, local.database_user_secrets, local.migration_source_secret])",
        'NotResource = compact([local.master_secret, local.rds_managed_secrets, local.database_user_secrets, "*"])',
        "the_migration_target_reads_exactly_its_source_secret",
    ),
    (
        "bootstrap",
        "roles.tf",
        'database_runs_prefix  = "database-runs/${var.environment}/"',
        'database_runs_prefix  = "database-runs/"',
        "the_database_runs_stay_under_their_prefix",
    ),
    (
        "bootstrap",
        "roles.tf",
        'Action    = [for s in local.platform_services : "${s}:*"]',
        'Action    = "*"',
        "no_ci_role_is_allowed_every_action",
    ),
    (
        "bootstrap",
        "roles.tf",
        '"s3:GetAccelerateConfiguration", "s3:GetBucket*",',
        '"s3:GetAccelerateConfiguration", "s3:Get*",',
        "plan_role_reads_configuration_never_data",
    ),
    (
        "bootstrap",
        "roles.tf",
        '      { Sid = "NoDataReads", Effect = "Deny", Action = local.data_read_actions, Resource = "*" },\n',
        "",
        "plan_role_reads_configuration_never_data",
    ),
    (
        "bootstrap",
        "roles.tf",
        '        { Sid = "EphemeralPasswords", Effect = "Allow", Action = "secretsmanager:GetRandomPassword", Resource = "*" },\n      ],\n      [for s',
        "      ],\n      [for s",
        "plan_role_reads_configuration_never_data",
    ),
    (
        "bootstrap",
        "roles.tf",
        '? ["repo:${var.github.repository}:environment:${var.environment}-plan"]',
        '? ["repo:${var.github.repository}:environment:${var.environment}-plan", "repo:${var.github.repository}:pull_request"]',
        "prod_plan_role_trusts_only_the_protected_environment",
    ),
    (
        "bootstrap",
        "roles.tf",
        'protected_plan = local.env.tier == "production" || local.env.reads_master_secret',
        'protected_plan = local.env.tier == "production"',
        "a_plan_role_that_reads_a_secret_is_protected",
    ),
    (
        "bootstrap",
        "roles.tf",
        ":project/${project}",
        ":project/*",
        "executors_trust_their_codebuild_project_and_break_glass_people",
    ),
    (
        "bootstrap",
        "roles.tf",
        "  permissions_boundary = aws_iam_policy.boundary.arn",
        "  permissions_boundary = null",
        "every_role_carries_the_boundary",
    ),
    # --- the bootstrap: the CI role ---------------------------------------------------------
    (
        "bootstrap",
        "roles.tf",
        '"${local.github_host}:sub" = "repo:${var.github.repository}:environment:${var.environment}"',
        '"${local.github_host}:sub" = ["repo:${var.github.repository}:environment:${var.environment}", "repo:${var.github.repository}:pull_request"]',
        "ci_role_trusts_only_the_github_environment_of_its_env",
    ),
    (
        "bootstrap",
        "roles.tf",
        '"${var.bitbucket.repository_uuid}:${local.bitbucket_deploy_environment}:*"',
        '"${var.bitbucket.repository_uuid}:*"',
        "ci_role_trusts_only_the_bitbucket_deployment_environment",
    ),
    (
        "bootstrap",
        "roles.tf",
        '    } if var.delivery.provider == "github"],',
        "    }],",
        "ci_role_trusts_only_the_bitbucket_deployment_environment",
    ),
    (
        "bootstrap",
        "roles.tf",
        '      Condition = { ArnEquals = { "aws:PrincipalArn" = local.pipeline_role } }\n',
        "",
        "ci_role_trusts_only_the_artifacts_accounts_pipeline",
    ),
    (
        "bootstrap",
        "roles.tf",
        'Action = ["codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"], Resource = values(local.ci_projects)',
        'Action = ["codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild", "eks:DescribeCluster", "sts:AssumeRole"], Resource = "*"',
        "ci_role_can_only_start_its_executors",
    ),
    (
        "bootstrap",
        "roles.tf",
        '        { Sid = "NothingElse", Effect = "Deny", NotAction = local.ci_actions, Resource = "*" },\n',
        "",
        "ci_role_can_only_start_its_executors",
    ),
    (
        "bootstrap",
        "roles.tf",
        '"codebuild:source.auth.resource", "codebuild:source.auth.type", "codebuild:source.buildspec",',
        '"codebuild:source.auth.resource", "codebuild:source.auth.type",',
        "ci_role_cannot_override_what_an_executor_runs",
    ),
    (
        "bootstrap",
        "roles.tf",
        '"codebuild:source.insecureSsl", "codebuild:source.location",',
        '"codebuild:source.insecureSsl",',
        "ci_role_cannot_override_what_an_executor_runs",
    ),
    (
        "bootstrap",
        "roles.tf",
        '"codebuild:serviceRole",\n    "codebuild:source", ',
        '"codebuild:serviceRole",\n    ',
        "ci_role_cannot_override_what_an_executor_runs",
    ),
    (
        "bootstrap",
        "roles.tf",
        '"codebuild:artifacts", "codebuild:cache",',
        '"codebuild:cache",',
        "ci_role_cannot_override_what_an_executor_runs",
    ),
    (
        "bootstrap",
        "roles.tf",
        'apply  = ["SOURCE_COMMIT", "DBKIT_ARGS"]',
        'apply  = ["SOURCE_COMMIT", "DBKIT_ARGS", "ENV"]',
        "ci_role_cannot_override_what_an_executor_runs",
    ),
    (
        "bootstrap",
        "roles.tf",
        'deploy = ["SOURCE_COMMIT", "IMAGE_DIGEST", "IMAGE_DIGEST_*", "RELEASE"]',
        'deploy = ["*"]',
        "ci_role_cannot_override_what_an_executor_runs",
    ),
    # --- the bootstrap: what make deploy reads in the artifacts account --------------------
    (
        "bootstrap",
        "roles.tf",
        'Resource = ["${local.artifacts_bucket_arn}/releases/*", "${local.artifacts_bucket_arn}/static/*"]',
        'Resource = ["${local.artifacts_bucket_arn}/releases/*"]',
        "app_deployer_reads_releases_static_files_and_verifies_signatures",
    ),
    (
        "bootstrap",
        "roles.tf",
        '      Condition = { StringLike = { "s3:prefix" = ["static/*"] } }\n',
        "",
        "app_deployer_reads_releases_static_files_and_verifies_signatures",
    ),
    (
        "bootstrap",
        "roles.tf",
        '      Condition = { "ForAnyValue:StringEquals" = { "kms:ResourceAliases" = local.signing_alias } }\n',
        "",
        "app_deployer_reads_releases_static_files_and_verifies_signatures",
    ),
    (
        "bootstrap",
        "roles.tf",
        "      local.release_reads,\n",
        "",
        "app_deployer_reads_releases_static_files_and_verifies_signatures",
    ),
    (
        "bootstrap",
        "roles.tf",
        "      local.executor_statements.apply,\n",
        "      local.executor_statements.apply,\n      local.release_reads,\n",
        "app_deployer_reads_releases_static_files_and_verifies_signatures",
    ),
    (
        "bootstrap",
        "roles.tf",
        '      Condition = { StringEquals = { "ec2:AuthorizedService" = "codebuild.amazonaws.com" } }\n',
        "",
        "executors_can_run_in_the_vpc_from_the_bundle",
    ),
    (
        "bootstrap",
        "boundary.tf",
        '        Condition = { StringNotEquals = { "aws:ResourceTag/${local.replica_tag}" = local.replica_marker } }\n',
        "",
        "boundary_denies_deletes_and_tampering",
    ),
    (
        "bootstrap",
        "boundary.tf",
        '"iam:PermissionsBoundary" = local.boundary_arn',
        '"iam:PermissionsBoundary" = "arn:aws:iam::aws:policy/AdministratorAccess"',
        "boundary_denies_deletes_and_tampering",
    ),
    (
        "bootstrap",
        "boundary.tf",
        'Action   = ["iam:CreatePolicyVersion", "iam:DeletePolicy",',
        'Action   = ["iam:DeletePolicy",',
        "boundary_denies_deletes_and_tampering",
    ),
    (
        "bootstrap",
        "boundary.tf",
        '"kms:DeleteImportedKeyMaterial", "kms:DisableKey", "kms:ScheduleKeyDeletion"',
        '"kms:DeleteImportedKeyMaterial", "kms:DisableKey"',
        "boundary_denies_deletes_and_tampering",
    ),
    # modules/pipeline: V2, the source, the triggers, promotion order and approvals,
    # least privilege.
    (
        "pipeline",
        "main.tf",
        'role_arn       = aws_iam_role.this["release-pipeline"].arn\n  pipeline_type  = "V2"',
        'role_arn       = aws_iam_role.this["release-pipeline"].arn\n  pipeline_type  = "V1"',
        "pipelines_are_v2_from_the_connection",
    ),
    (
        "pipeline",
        "main.tf",
        'OutputArtifactFormat = "CODEBUILD_CLONE_REF"',
        'OutputArtifactFormat = "CODE_ZIP"',
        "pipelines_are_v2_from_the_connection",
    ),
    (
        "pipeline",
        "main.tf",
        '      pull_request {\n        events = ["OPEN", "UPDATED"]\n        branches {\n          includes = [var.branch]\n        }\n      }\n',
        "      push {\n        branches {\n          includes = [var.branch]\n        }\n      }\n",
        "pipelines_are_v2_from_the_connection",
    ),
    (
        "pipeline",
        "main.tf",
        "  promotion = [for e in var.environments : {",
        "  promotion = [for e in reverse(var.environments) : {",
        "promotion_follows_the_order_with_approvals_where_configured",
    ),
    (
        "pipeline",
        "main.tf",
        'e.approval ? [{ name = "Approve"',
        'true ? [{ name = "Approve"',
        "promotion_follows_the_order_with_approvals_where_configured",
    ),
    (
        "pipeline",
        "main.tf",
        'e.approval ? [{ name = "Approve"',
        'false ? [{ name = "Approve"',
        "promotion_follows_the_order_with_approvals_where_configured",
    ),
    (
        "pipeline",
        "main.tf",
        '{ name = "Deploy", kind = "build", build = "release-deploy"',
        '{ name = "Deploy", kind = "build", build = "release-bake"',
        "promotion_follows_the_order_with_approvals_where_configured",
    ),
    (
        "pipeline",
        "main.tf",
        "Resource = local.ci_roles },",
        'Resource = "arn:aws:iam::*:role/*" },',
        "roles_are_least_privilege",
    ),
    (
        "pipeline",
        "main.tf",
        '        privileged  = false\n        compute     = "BUILD_GENERAL1_SMALL"\n        timeout     = 240',
        '        privileged  = true\n        compute     = "BUILD_GENERAL1_SMALL"\n        timeout     = 240',
        "roles_are_least_privilege",
    ),
    (
        "pipeline",
        "main.tf",
        "  permissions_boundary = var.permissions_boundary\n",
        "",
        "roles_are_least_privilege",
    ),
    (
        "pipeline",
        "main.tf",
        "  kms_key_id        = aws_kms_key.logs.arn\n",
        "",
        "roles_are_least_privilege",
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


def _has_provider_blocks(root: Path) -> bool:
    """A root with its own provider blocks (the bootstrap) cannot be called from a run's
    `module` block: its providers would not be the test file's mocks."""
    return any(re.search(r'^provider "', f.read_text(), re.M) for f in root.glob("*.tf"))


BATCHED = sorted(
    {b[0] for b in BREAKAGES if not _has_provider_blocks(root_of(MODULES.parent, b[0]))}
)


def _break(root: Path, target: Path, file: str, old: str, new: str) -> None:
    """A copy of the module's own files in `target`, with one invariant broken."""
    target.mkdir()
    for path in root.iterdir():
        if path.is_file() and path.name != ".terraform.lock.hcl":
            shutil.copy(path, target / path.name)
        elif path.is_dir() and path.name not in ("tests", ".terraform"):
            shutil.copytree(path, target / path.name)  # files the module reads (buildspecs/)
    source = (target / file).read_text()
    assert source.count(old) == 1, f"the breakage of {root.name}/{file} no longer matches the code"
    (target / file).write_text(source.replace(old, new))


@pytest.mark.parametrize("module", BATCHED)
def test_invariant_tests_catch_breakage(
    module: str, terraform: Terraform, initialised: Path, tmp_path: Path
) -> None:
    """Every breakage of one module in one `terraform test` process (the provider schema
    loads once): each broken copy is its own folder, called by its own test file, whose
    one run is the run that guards the invariant; each must fail, with its own name."""
    cases = [b for b in BREAKAGES if b[0] == module]
    root = root_of(copy_initialised(initialised, tmp_path / "infra"), module)
    [test_file] = list((root / "tests").glob("*.tftest.hcl"))
    text = test_file.read_text()
    starts = [m.start() for m in re.finditer(r'^run "', text, re.M)]
    blocks = {
        re.match(r'run "([a-z0-9_]+)"', text[a:])[1]: text[a:b]  # type: ignore[index]
        for a, b in zip(starts, [*starts[1:], len(text)], strict=True)
    }
    test_file.unlink()
    for n, (_, file, old, new, run) in enumerate(cases):
        assert run in blocks, f"{module} has no run {run!r}; runs: {sorted(blocks)}"
        # A sibling folder, so the module's own `../<module>` calls still resolve.
        _break(root, root.parent / f"{module}-broken{n}", file, old, new)
        block = blocks[run].replace(
            f'run "{run}" {{',
            f'run "{run}__{n}" {{\n  module {{\n    source = "../{module}-broken{n}"\n  }}\n',
            1,
        )
        (root / "tests" / f"broken{n}.tftest.hcl").write_text(text[: starts[0]] + block)
    installed = terraform.init(root)
    assert installed.ok, installed.describe()
    result = terraform.run(["test", "-no-color"], root)
    unnoticed = [
        f"{run}: {old!r} -> {new!r}"
        for n, (_, _, old, new, run) in enumerate(cases)
        if not re.search(rf'run "{run}__{n}"\.\.\. fail', result.stdout)
    ]
    assert not unnoticed, f"breaking {module} went unnoticed: {unnoticed}\n{result.describe()}"


@pytest.mark.parametrize(
    ("module", "file", "old", "new", "run"),
    [b for b in BREAKAGES if b[0] not in BATCHED],
    ids=[f"{b[0]}-{b[4]}" for b in BREAKAGES if b[0] not in BATCHED],
)
def test_invariant_tests_of_a_root_catch_breakage(
    module: str,
    file: str,
    old: str,
    new: str,
    run: str,
    terraform: Terraform,
    initialised: Path,
    tmp_path: Path,
) -> None:
    root = root_of(copy_initialised(initialised, tmp_path / "infra"), module)
    target = root / file
    source = target.read_text()
    assert source.count(old) == 1, f"the breakage of {module}/{file} no longer matches the code"
    target.write_text(source.replace(old, new))
    test_files = list((root / "tests").glob("*.tftest.hcl"))
    assert len(test_files) == 1
    only_run(test_files[0], run)
    result = terraform.run(["test", "-no-color"], root)
    assert not result.ok, (
        f"breaking {module} ({old!r} -> {new!r}) went unnoticed:\n{result.stdout[-3000:]}"
    )
    assert re.search(rf'run "{run}"\.\.\. fail', result.stdout), result.describe()


# --- no CI role in the cluster ------------------------------------------------------------

# Who may use the Kubernetes API (EKS access entries, modules/cluster): the executors and
# the spec's people. infra/bootstrap's CI role <name>-ci is never among them.
CLUSTER_PRINCIPALS = {
    "local.platform_role_arn",
    "local.app_deploy_role_arn",
    "var.access.break_glass",
    "var.access.read_only",
    "local.container_apps",  # app_namespaces: where the app-deploy executor may deploy
}


def cluster_access_problems(main_tf: str) -> list[str]:
    """What the env root's call of modules/cluster grants beyond the executors and people."""
    block = re.search(r'^module "cluster" \{\n(.*?)^\}', main_tf, re.M | re.S)
    assert block, 'the environment root has no module "cluster" block'
    text = block[1]
    grants = re.search(r"^  cluster_admins = (.*?)^  permissions_boundary", text, re.M | re.S)
    assert grants, "the cluster call no longer lists its access entries before permissions_boundary"
    problems = [f"grants {ref}" for ref in re.findall(r"\b(?:local|var)\.[a-z_.]+", grants[1])]
    problems = [p for p in problems if p.removeprefix("grants ") not in CLUSTER_PRINCIPALS]
    if re.search(r"-ci\b|\bci\b", grants[1]):
        problems.append("names the CI role")
    return problems


def test_no_ci_role_has_cluster_access() -> None:
    """The CI role may only start the executors (bootstrap tests); here: the environment
    root gives it no EKS access entry, and breaking that is caught."""
    main_tf = (ENV_ROOT / "main.tf").read_text()
    assert cluster_access_problems(main_tf) == []
    broken = main_tf.replace(
        "    { platform = local.platform_role_arn },",
        '    { platform = local.platform_role_arn, ci = "${local.iam}:role/${local.name}-ci" },',
        1,
    )
    assert broken != main_tf
    assert cluster_access_problems(broken) != []
    broken = main_tf.replace(
        '  app_deployers        = { "app-deploy" = local.app_deploy_role_arn }',
        '  app_deployers        = { "app-deploy" = local.app_deploy_role_arn, ci = local.ci_role_arn }',
        1,
    )
    assert broken != main_tf
    assert cluster_access_problems(broken) != []


def deploy_executor_problems(main_tf: str) -> list[str]:
    """The deploy executor runs as the role the cluster scopes to the app namespaces
    (modules/cluster: AmazonEKSAdminPolicy, namespace scope), never as a cluster admin."""
    executors = re.search(r'^module "executors" \{\n(.*?)^\}', main_tf, re.M | re.S)
    cluster = re.search(r'^module "cluster" \{\n(.*?)^\}', main_tf, re.M | re.S)
    assert executors and cluster, "the environment root lost its executors or cluster call"
    role = re.search(r"^  app_deploy_role_arn\s+=\s+(\S+)$", executors[1], re.M)
    deployers = re.search(r"^  app_deployers\s+=\s+\{ \"app-deploy\" = (\S+) \}$", cluster[1], re.M)
    admins = re.search(r"^  cluster_admins = (.*?)^  cluster_viewers", cluster[1], re.M | re.S)
    problems = []
    if not (role and deployers and role[1] == deployers[1]):
        problems.append("the deploy executor's role is not the cluster's namespace-scoped deployer")
    if role and admins and role[1] in admins[1]:
        problems.append("the deploy executor's role is a cluster admin")
    return problems


def test_the_deploy_executor_is_namespace_scoped() -> None:
    main_tf = (ENV_ROOT / "main.tf").read_text()
    assert deploy_executor_problems(main_tf) == []
    swapped = main_tf.replace(
        "  app_deploy_role_arn       = local.app_deploy_role_arn",
        "  app_deploy_role_arn       = local.platform_role_arn",
        1,
    )
    assert swapped != main_tf and deploy_executor_problems(swapped) != []
    admin = main_tf.replace(
        "    { platform = local.platform_role_arn },",
        "    { platform = local.platform_role_arn, deploy = local.app_deploy_role_arn },",
        1,
    )
    assert admin != main_tf and deploy_executor_problems(admin) != []


def forgotten_not_destroyed(text: str) -> dict[str, bool]:
    """`removed` blocks of a module: from-address -> whether Terraform keeps the object
    (lifecycle destroy = false)."""
    out = {}
    for match in re.finditer(r"^removed \{\n(.*?)\n\}\n", text, re.M | re.S):
        body = match[1]
        source = re.search(r"^\s*from\s*=\s*(\S+)\s*$", body, re.M)
        assert source, f"a removed block without from: {body!r}"
        out[source[1]] = bool(re.search(r"^\s*destroy\s*=\s*false\s*$", body, re.M))
    return out


# The image repositories left modules/workloads for infra/artifacts: an environment's
# next apply must forget its old repositories, never delete them with their images.
MOVED_TO_ARTIFACTS = {"aws_ecr_repository.app": True, "aws_ecr_lifecycle_policy.app": True}


def test_the_old_repositories_are_forgotten_not_destroyed() -> None:
    main = (MODULES / "workloads" / "main.tf").read_text()
    assert forgotten_not_destroyed(main) == MOVED_TO_ARTIFACTS
    assert not re.search(r'^resource "aws_ecr_', main, re.M), "workloads creates ECR again"
    # The check fails on the broken forms: destroying, or dropping a removed block.
    assert forgotten_not_destroyed(main.replace("destroy = false", "destroy = true", 1)) != (
        MOVED_TO_ARTIFACTS
    )
    dropped = re.sub(r"^removed \{\n.*?\n\}\n", "", main, count=1, flags=re.M | re.S)
    assert forgotten_not_destroyed(dropped) != MOVED_TO_ARTIFACTS


def migration_wiring_problems(main_tf: str) -> list[str]:
    """The environment root opens local_infile only through the spec's migration window, and
    calls modules/migration only where platform.auto.tfvars.json carries a migration (its
    target environment; tests/validators/terraform.py checks the tfvars)."""
    database = re.search(r'^module "database" \{\n(.*?)^\}', main_tf, re.M | re.S)
    migration = re.search(r'^module "migration" \{\n(.*?)^\}', main_tf, re.M | re.S)
    assert database and migration, "the environment root lost its database or migration call"
    problems = []
    window = re.search(r"^  migration_window_open\s+=\s+(.+)$", database[1], re.M)
    if not window or window[1] != 'try(var.migration.window, "closed") == "open"':
        problems.append("local_infile is not driven by the spec's migration window alone")
    count = re.search(r"^  count\s+=\s+(.+)$", migration[1], re.M)
    if not count or "var.migration != null" not in count[1] or "? 1 : 0" not in count[1]:
        problems.append("modules/migration is not called only where the tfvars carry a migration")
    if (
        re.search(
            r"^  database_security_group_id\s+=\s+module\.database\[0\]\.security_group_id$",
            migration[1],
            re.M,
        )
        is None
    ):
        problems.append("the replication instance's rule is not on the database's own group")
    return problems


def test_the_migration_window_and_module_reach_the_target_only() -> None:
    main_tf = (ENV_ROOT / "main.tf").read_text()
    assert migration_wiring_problems(main_tf) == []
    for old, new in [
        (
            '  migration_window_open    = try(var.migration.window, "closed") == "open"',
            "  migration_window_open    = true",
        ),
        (
            "  count  = local.has_database && var.migration != null ? 1 : 0",
            "  count  = local.has_database ? 1 : 0",
        ),
        (
            "  database_security_group_id = module.database[0].security_group_id",
            "  database_security_group_id = module.cluster.node_security_group_id",
        ),
    ]:
        broken = main_tf.replace(old, new, 1)
        assert broken != main_tf, old
        assert migration_wiring_problems(broken) != [], new
