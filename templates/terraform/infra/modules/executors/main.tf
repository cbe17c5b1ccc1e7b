# The environment's two executors: CodeBuild projects that run inside the VPC, where the
# private EKS API endpoint is, so no CI runner ever holds cluster or admin credentials.
#   <name>-apply   the platform executor (role <name>-platform): make plan, apply, addons
#   <name>-deploy  the app-deploy executor (role <name>-app-deploy): make deploy, by digest
# Both run in the private subnets behind one security group that the cluster's security
# group admits on 443, run the fixed buildspec of buildspecs/<stage>.yml, and log to a
# KMS-encrypted log group. The projects have no CodeBuild source (NO_SOURCE): CodeBuild
# reads an S3 source only from a bucket in the build's own region (CodeBuild user guide,
# Troubleshooting, "The bucket you are attempting to access must be addressed using the
# specified endpoint": https://docs.aws.amazon.com/codebuild/latest/userguide/troubleshooting.html#troubleshooting-input-bucket-different-region),
# and the artifacts bucket is in the artifacts region, not necessarily the environment's.
# The buildspec's pre_build phase fetches the bundle of the commit CI names
# (SOURCE_COMMIT, 40 hex) itself: aws s3 cp --region ARTIFACTS_REGION
# s3://ARTIFACTS_BUCKET/source/<sha>.zip, unzipped into a fresh BUNDLE_DIR. The bucket and
# its region are the project's own variables. The roles come from infra/bootstrap
# (roles.tf); CI may only start these projects and read their logs (the <name>-ci role
# there), pass SOURCE_COMMIT (and the digests to deploy), never override their source,
# image, role or buildspec.

locals {
  stages = {
    apply = {
      role         = var.platform_role_arn
      compute_type = "BUILD_GENERAL1_MEDIUM"
      timeout      = var.apply_timeout_minutes
      description  = "Platform executor of ${var.name}: make plan, apply and addons, and the database kit (STAGE=database), in the VPC"
    }
    deploy = {
      role         = var.app_deploy_role_arn
      compute_type = "BUILD_GENERAL1_SMALL"
      timeout      = var.deploy_timeout_minutes
      description  = "App-deploy executor of ${var.name}: make deploy by image digest, in the VPC"
    }
  }
  # The project's own variables (the CI role may pass none of these names).
  variables = {
    ENV              = var.environment
    ARTIFACTS_BUCKET = var.artifacts_bucket
    ARTIFACTS_REGION = var.artifacts_region
  }
}

# --- Network: the private subnets, 443 out, the cluster's API admits it ------------

resource "aws_security_group" "this" {
  name        = "${var.name}-executors"
  description = "CodeBuild executors of ${var.name}: HTTPS out only (cluster API, AWS APIs)"
  vpc_id      = var.vpc_id
  tags        = { Name = "${var.name}-executors" }
}

resource "aws_vpc_security_group_egress_rule" "cluster_api" {
  security_group_id            = aws_security_group.this.id
  description                  = "The private Kubernetes API endpoint"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = var.cluster_security_group_id
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "AWS APIs (interface endpoints, S3 gateway, or NAT) and pinned tool downloads"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# The cluster's own security group (EKS creates it) admits the executors on 443: that is
# the only path from a build to the Kubernetes API, whose endpoint is private.
resource "aws_vpc_security_group_ingress_rule" "cluster_api_from_executors" {
  security_group_id            = var.cluster_security_group_id
  description                  = "Kubernetes API from the ${var.name} executors"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.this.id
}

# The platform executor runs the database kit (make database-users-apply after every
# apply, make database-run STAGE=database: users, lag, cutover) against RDS, which sits in
# the isolated subnets: MySQL out to the database's security group only, which admits
# this group in turn (modules/database admin_client_security_groups). The app-deploy
# executor shares the group but has no database credentials: its role reads no secret.
resource "aws_vpc_security_group_egress_rule" "database" {
  count                        = var.database_access ? 1 : 0
  security_group_id            = aws_security_group.this.id
  description                  = "MySQL on the environment's RDS (the database kit, platform executor)"
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  referenced_security_group_id = var.database_security_group_id

  lifecycle {
    precondition {
      condition     = var.database_security_group_id != null
      error_message = "database_access needs database_security_group_id (modules/database security_group_id)."
    }
  }
}

# In a migration's target environment the platform executor also runs the kit against the
# DigitalOcean source (lag, cutover, preflight, verify, schema copy): its port out, as the
# DMS replication instance's group does (modules/migration), and nowhere else.
resource "aws_vpc_security_group_egress_rule" "migration_source" {
  #checkov:skip=CKV_AWS_382:DigitalOcean's managed MySQL has a public endpoint with no fixed address range; only its port is open, the kit verifies the server (TLS per the spec, verify-full by default), and DigitalOcean's trusted sources admit only the NAT addresses.
  count             = var.migration_source_port == null ? 0 : 1
  security_group_id = aws_security_group.this.id
  description       = "The DigitalOcean migration source (public endpoint, through NAT; the database kit)"
  ip_protocol       = "tcp"
  from_port         = var.migration_source_port
  to_port           = var.migration_source_port
  cidr_ipv4         = "0.0.0.0/0"
}

# --- Logs ----------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the spec's observability.logRetentionDays (default 90 days); set 365 or more there where compliance asks for it.
  for_each          = local.stages
  name              = "/aws/codebuild/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# --- The projects ----------------------------------------------------------------------

resource "aws_codebuild_project" "this" {
  for_each       = local.stages
  name           = "${var.name}-${each.key}"
  description    = each.value.description
  service_role   = each.value.role
  build_timeout  = each.value.timeout
  queued_timeout = 60
  encryption_key = var.kms_key_arn
  # One build at a time per executor: two applies (or two deploys) never race. A start
  # while one runs is refused with an error, not queued (CodeBuild user guide, "Builds in
  # AWS CodeBuild"): make execute reports it, and CI runs once the first build is done.
  concurrent_build_limit = 1

  source {
    type      = "NO_SOURCE"
    buildspec = file("${path.module}/buildspecs/${each.key}.yml")
  }

  artifacts {
    type = "NO_ARTIFACTS"
  }

  environment {
    type                        = "LINUX_CONTAINER"
    compute_type                = each.value.compute_type
    image                       = var.image
    image_pull_credentials_type = "CODEBUILD"
    privileged_mode             = false

    dynamic "environment_variable" {
      for_each = local.variables
      content {
        name  = environment_variable.key
        value = environment_variable.value
      }
    }
  }

  vpc_config {
    vpc_id             = var.vpc_id
    subnets            = var.subnet_ids
    security_group_ids = [aws_security_group.this.id]
  }

  logs_config {
    cloudwatch_logs {
      status     = "ENABLED"
      group_name = aws_cloudwatch_log_group.this[each.key].name
    }
    s3_logs {
      status = "DISABLED"
    }
  }
}
