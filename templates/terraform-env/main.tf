# One environment of the platform, composed from ../../modules. This file is the
# same in every environment; what differs comes from platform.auto.tfvars.json.
#
#   internet -> CloudFront + WAF -> static app buckets (OAC)
#                                -> VPC origin -> internal ALB + WAF (load-balancer
#                                   subnets) -> pods (private subnets)
#   pods -> RDS MySQL (isolated subnets, 3306 from the database clients' security group
#   and the platform executor's only; the charts' NetworkPolicy lets only the database
#   apps' pods use that path; each app connects as its own user, docs/contracts.md)
#   Nothing else reaches the ALB: it has no public address, and its security group
#   admits only the VPC origin's interfaces. The pods admit only the load-balancer
#   subnets (NetworkPolicy, enforced by the VPC CNI; infra/docs/adr/0005).
#   CI -> (start only) -> CodeBuild executors in the private subnets -> the private EKS
#   API (443, admitted by the cluster's security group) and AWS APIs (modules/executors)
#   migration target only: DMS replication instance (private subnets) -> DigitalOcean
#          (TLS verify-full, through NAT) and -> RDS (3306, its own rule; modules/migration)
#   RDS -> AWS Backup: daily snapshots into a locked vault, copied to the backup account
#          and/or a DR region (modules/backup, modules/backup-vault)

# Zones a, b and c of the region, named explicitly, so a zone AWS adds later never
# moves a subnet.
data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "zone-name"
    values = [for letter in ["a", "b", "c"] : "${var.region}${letter}"]
  }

  lifecycle {
    postcondition {
      condition     = length(self.names) == 3
      error_message = "The region must offer zones a, b and c to this account: the platform spreads every tier over three zones."
    }
  }
}

data "aws_partition" "current" {}

locals {
  name          = "${var.project}-${var.environment}"
  development   = var.tier == "development"
  secret_prefix = "${var.project}/${var.environment}/"
  # Created by infra/bootstrap (infra/docs/adr/0003-roles-and-permissions.md): the
  # executors, and the permissions boundary every role created here carries.
  iam                  = "arn:${data.aws_partition.current.partition}:iam::${var.account_id}"
  platform_role_arn    = "${local.iam}:role/${local.name}-platform"
  app_deploy_role_arn  = "${local.iam}:role/${local.name}-app-deploy"
  permissions_boundary = "${local.iam}:policy/${local.name}-boundary"
  tags = {
    Project     = var.project
    Environment = var.environment
    Tier        = var.tier
    Owner       = var.tags.owner
    CostCentre  = var.tags.cost_centre
    Repository  = var.tags.repository
    ManagedBy   = "terraform"
  }

  container_apps   = { for k, a in var.apps : k => a if a.hosting == "container" }
  public_container = { for k, a in local.container_apps : k => a if a.public }
  public_static    = { for k, a in var.apps : k => a if a.hosting == "static" && a.public }
  has_edge         = length(local.public_container) + length(local.public_static) > 0
  has_alb          = length(local.public_container) > 0
  has_database     = var.database != null

  # The images: one registry in the artifacts account (infra/artifacts), pulled by digest.
  registry = "${var.artifacts.account_id}.dkr.ecr.${var.artifacts.region}.${data.aws_partition.current.dns_suffix}"

  # Backups: where the daily database snapshots are copied (spec backup).
  backup_account = try(var.backup.account_id, null)
  dr_region      = try(var.backup.dr_region, null)
}

module "foundation" {
  source            = "../../modules/foundation"
  name              = local.name
  alarm_emails      = var.observability.alarm_emails
  backup_account_id = local.has_database ? local.backup_account : null
}

module "network" {
  source               = "../../modules/network"
  name                 = local.name
  vpc_cidr             = var.network.vpc_cidr
  availability_zones   = sort(data.aws_availability_zones.available.names)
  nat_gateways         = var.network.nat_gateways
  kms_key_arn          = module.foundation.kms_key_arn
  log_retention_days   = var.observability.log_retention_days
  permissions_boundary = local.permissions_boundary
  # Interface endpoints are billed per zone-hour (docs/costs.md): without them (the
  # development default) this traffic goes through NAT. null: the module's services.
  interface_endpoints = var.network.interface_endpoints ? null : []
}

module "cluster" {
  source             = "../../modules/cluster"
  name               = local.name
  kubernetes_version = var.cluster.kubernetes_version
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.private_subnet_ids
  kms_key_arn        = module.foundation.kms_key_arn
  log_retention_days = var.observability.log_retention_days
  instance_types     = var.cluster.instance_types
  capacity_type      = var.cluster.capacity_type
  min_nodes          = var.cluster.min_nodes
  max_nodes          = var.cluster.max_nodes
  # People by position in platform.yaml's lists: labels are static, ARNs are data.
  cluster_admins = merge(
    { platform = local.platform_role_arn },
    { for i, arn in var.access.break_glass : "break-glass-${i}" => arn },
  )
  cluster_viewers      = { for i, arn in var.access.read_only : "read-only-${i}" => arn }
  app_deployers        = { "app-deploy" = local.app_deploy_role_arn }
  app_namespaces       = keys(local.container_apps)
  permissions_boundary = local.permissions_boundary
  # cloudwatch: the CloudWatch Observability add-on ships logs and metrics; datadog: the
  # Datadog agent does (infra/addons/datadog, installed by `make addons`).
  observability_provider = var.observability.provider
}

# Node autoscaling: Karpenter adds nodes of the spec's instance types, up to maxNodes in
# all, next to the managed node group's minNodes (infra/docs/adr/0006-node-autoscaling.md);
# `make infra-addons` installs it with infra/addons/karpenter-nodepool.yaml.
module "karpenter" {
  source               = "../../modules/karpenter"
  name                 = local.name
  cluster_name         = module.cluster.cluster_name
  permissions_boundary = local.permissions_boundary
}

# RDS cannot create read replicas of an instance whose master password it manages:
# with replicas, a password generated here goes write-only into the instance and its
# secret. Ephemeral: it is never stored in state or in a plan.
ephemeral "aws_secretsmanager_random_password" "database_master" {
  count               = local.has_database && try(var.database.read_replicas, 0) > 0 ? 1 : 0
  password_length     = 40
  exclude_punctuation = true
}

module "database" {
  source = "../../modules/database"
  count  = local.has_database ? 1 : 0

  name                     = local.name
  tier                     = var.tier
  engine_version           = var.database.engine_version
  instance_class           = var.database.instance_class
  db_name                  = var.database.db_name
  allocated_storage_gb     = var.database.allocated_storage_gb
  max_allocated_storage_gb = var.database.max_allocated_storage_gb
  multi_az                 = var.database.multi_az
  deletion_protection      = var.database.deletion_protection
  backup_retention_days    = var.database.backup_retention_days
  backup_window            = var.database.backup_window
  maintenance_window       = var.database.maintenance_window
  read_replicas            = var.database.read_replicas
  master_password          = try(ephemeral.aws_secretsmanager_random_password.database_master[0].random_password, null)
  # Raise environments.<env>.database.masterPasswordVersion to rotate it (read replicas only:
  # RDS rotates the password it manages itself). The master is break-glass only.
  master_password_version  = var.database.master_password_version
  parameters               = var.database.parameters
  migration_window_open    = try(var.migration.window, "closed") == "open"
  database_insights_mode   = var.tier == "production" ? "advanced" : "standard"
  vpc_id                   = module.network.vpc_id
  subnet_ids               = module.network.isolated_subnet_ids
  client_security_group_id = module.cluster.database_client_security_group_id
  # The platform executor runs the database kit (users apply, lag, cutover) in the VPC.
  admin_client_security_groups = { platform-executor = module.executors.security_group_id }
  kms_key_arn                  = module.foundation.kms_key_arn
  log_retention_days           = var.observability.log_retention_days
  alarm_topic_arn              = module.foundation.alarm_topic_arn
  permissions_boundary         = local.permissions_boundary
}

# --- The migration from DigitalOcean (spec migration, its target environment only) -----

# DigitalOcean's CA, committed at the spec's caCertificate (repository-relative; this root
# is infra/envs/<env>). Missing, the module's validation names the path to fill.
locals {
  migration_ca_path = var.migration == null ? null : "${path.root}/../../../${var.migration.source.ca_certificate_path}"
  migration_ca_pem  = local.migration_ca_path != null && try(fileexists(local.migration_ca_path), false) ? file(local.migration_ca_path) : null
}

module "migration" {
  source = "../../modules/migration"
  count  = local.has_database && var.migration != null ? 1 : 0

  name                       = local.name
  secret_prefix              = local.secret_prefix
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  database_security_group_id = module.database[0].security_group_id
  database_port              = module.database[0].port
  instance_class             = var.migration.dms.instance_class
  allocated_storage_gb       = var.migration.dms.allocated_storage_gb
  multi_az                   = var.migration.dms.multi_az
  migration_type             = var.migration.dms.migration_type
  lob                        = { mode = var.migration.dms.lob_mode, max_size_kb = var.migration.dms.lob_max_size_kb }
  validation                 = var.migration.dms.validation
  tables                     = var.migration.tables
  source_database = {
    database            = var.migration.source.database
    port                = var.migration.source.port
    secret_name         = var.migration.source.secret_name
    tls                 = var.migration.source.tls
    ca_certificate_pem  = local.migration_ca_pem
    ca_certificate_path = var.migration.source.ca_certificate_path
  }
  kms_key_arn          = module.foundation.kms_key_arn
  alarm_topic_arn      = module.foundation.alarm_topic_arn
  permissions_boundary = local.permissions_boundary
  # The dms user's secret is one of the per-user secrets (modules/workloads).
  target_secret_arn = module.workloads.database_user_secret_arns["dms"]
}

# --- Backups: out of the account and region they protect -------------------------------

# The environment's own vault: daily snapshots, locked (compliance mode in production
# tier). The backup account may copy recovery points back into it for a restore.
module "backup_vault" {
  source = "../../modules/backup-vault"
  count  = local.has_database ? 1 : 0

  name               = "${local.name}-backups"
  tier               = var.tier
  min_retention_days = var.database.backup_retention_days
  copy_accounts      = local.backup_account == null ? [] : [local.backup_account]
  force_destroy      = local.development
}

# Copies in a DR region of this account (spec backup.region).
module "backup_dr_vault" {
  source    = "../../modules/backup-vault"
  count     = local.has_database && local.dr_region != null ? 1 : 0
  providers = { aws = aws.dr }

  name               = "${local.name}-dr-copies"
  tier               = var.tier
  min_retention_days = var.backup.copy_retention_days
  force_destroy      = local.development
}

module "backup" {
  source = "../../modules/backup"
  count  = local.has_database ? 1 : 0

  name          = local.name
  tier          = var.tier
  vault_name    = module.backup_vault[0].name
  vault_arn     = module.backup_vault[0].arn
  database_arns = [module.database[0].arn]
  # The backup account's vault of this environment (infra/backup), in this region: RDS
  # snapshots cannot go to another account and another region in one copy.
  copy_destinations = merge(
    local.backup_account == null ? {} : { backup-account = "arn:${data.aws_partition.current.partition}:backup:${var.region}:${local.backup_account}:backup-vault:${local.name}-copies" },
    local.dr_region == null ? {} : { dr-region = module.backup_dr_vault[0].arn },
  )
  rds_backup_window          = var.database.backup_window
  retention_days             = var.database.backup_retention_days
  copy_retention_days        = var.backup.copy_retention_days
  recovery_point_tags        = local.tags
  restore_testing_name       = "${replace(var.project, "-", "_")}_${var.environment}_restore_tests"
  restore_subnet_group_name  = module.database[0].subnet_group_name
  restore_security_group_ids = [module.database[0].security_group_id]
  permissions_boundary       = local.permissions_boundary
}

# The environment's public DNS zone. Delegate it from the parent domain (see
# docs/runbooks/new-environment.md) before the first full apply: certificates are
# validated through it.
resource "aws_route53_zone" "this" {
  #checkov:skip=CKV2_AWS_38:DNSSEC signing needs a DS record at the parent zone or registrar; enable it after delegation (docs/runbooks/new-environment.md).
  #checkov:skip=CKV2_AWS_39:Query logs of a public zone record resolvers, not viewers; CloudFront, WAF and ALB logs already record every request.
  count   = local.has_edge ? 1 : 0
  name    = var.domain
  comment = "${local.name}: public entry point"
}

module "load_balancer" {
  source = "../../modules/load-balancer"
  count  = local.has_alb ? 1 : 0

  name                     = local.name
  origin_domain            = "origin.${var.domain}"
  zone_id                  = aws_route53_zone.this[0].zone_id
  vpc_id                   = module.network.vpc_id
  subnet_ids               = module.network.load_balancer_subnet_ids
  node_security_group_id   = module.cluster.node_security_group_id
  cluster_name             = module.cluster.cluster_name
  apps                     = { for k, a in local.public_container : k => { path = a.path, port = a.port, health_path = a.health_path } }
  deletion_protection      = var.deletion_protection
  tls_minimum_protocol     = var.edge.tls_minimum_protocol
  waf_rule_group_overrides = var.edge.waf_rule_groups
  kms_key_arn              = module.foundation.kms_key_arn
  log_retention_days       = var.observability.log_retention_days
  alarm_topic_arn          = module.foundation.alarm_topic_arn
  force_destroy_logs       = local.development
}

module "cdn" {
  source = "../../modules/cdn"
  count  = local.has_edge ? 1 : 0
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name                     = local.name
  domain                   = var.domain
  zone_id                  = aws_route53_zone.this[0].zone_id
  static_apps              = { for k, a in local.public_static : k => { path = a.path } }
  container_apps           = { for k, a in local.public_container : k => { path = a.path } }
  origin_domain            = local.has_alb ? module.load_balancer[0].origin_domain : null
  vpc_origin_id            = local.has_alb ? module.load_balancer[0].vpc_origin_id : null
  waf_rate_limit           = var.edge.waf_rate_limit
  waf_rule_group_overrides = var.edge.waf_rule_groups
  kms_key_arn              = module.foundation.kms_key_arn
  log_retention_days       = var.observability.log_retention_days
  alarm_emails             = var.observability.alarm_emails
  force_destroy_buckets    = local.development
}

# The executors: the only builds that change this environment (infra/bootstrap's
# <name>-ci role may only start them and read their logs). They run the source bundle
# of one commit from the artifacts account's bucket.
module "executors" {
  source                    = "../../modules/executors"
  name                      = local.name
  environment               = var.environment
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  cluster_security_group_id = module.cluster.cluster_security_group_id
  platform_role_arn         = local.platform_role_arn
  app_deploy_role_arn       = local.app_deploy_role_arn
  artifacts_bucket          = "${var.project}-artifacts-${var.artifacts.account_id}"
  artifacts_region          = var.artifacts.region
  kms_key_arn               = module.foundation.kms_key_arn
  log_retention_days        = var.observability.log_retention_days
  # The platform executor reaches MySQL (make database-users-apply, make database-run).
  database_access            = local.has_database
  database_security_group_id = local.has_database ? module.database[0].security_group_id : null
  # The migration's target environment: the kit also reaches the DigitalOcean source.
  migration_source_port = local.has_database && var.migration != null ? var.migration.source.port : null
}

module "workloads" {
  source                     = "../../modules/workloads"
  name                       = local.name
  secret_prefix              = local.secret_prefix
  cluster_name               = module.cluster.cluster_name
  external_secrets_role_name = module.cluster.external_secrets_role_name
  external_secrets_role_arn  = module.cluster.external_secrets_role_arn
  apps                       = { for k, a in local.container_apps : k => { database = a.database && local.has_database, secrets = a.secrets } }
  # Empty secrets <project>/<env>/database/<user> that dbkit users apply fills; each app
  # reads its own and its migrator's, never the master (break-glass).
  database_users         = local.has_database ? var.database.users : []
  datadog_api_key_secret = try(var.observability.datadog.api_key_secret, null)
  kms_key_arn            = module.foundation.kms_key_arn
  permissions_boundary   = local.permissions_boundary
}
