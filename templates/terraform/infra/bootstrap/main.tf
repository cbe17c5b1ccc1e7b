# Bootstrap of one environment's AWS account, run once per environment before its
# first apply (make infra-bootstrap ENV=<name>), by an administrator of the account:
#   - the Terraform state bucket: versioned, KMS-encrypted, TLS only, access-logged;
#     Terraform locks state with S3-native lock files (use_lockfile), no DynamoDB;
#   - the GitHub and Bitbucket OIDC identity providers;
#   - the account's roles (roles.tf, infra/docs/adr/0003-roles-and-permissions.md):
#     <project>-<env>-plan, <project>-<env>-platform, <project>-<env>-app-deploy and
#     the CI role <project>-<env>-ci of the delivering provider;
#   - the permissions boundary <project>-<env>-boundary (boundary.tf) that every role
#     the platform creates carries;
#   - the account's security baseline (baseline.tf).

data "aws_partition" "current" {}

locals {
  env        = var.environments[var.environment]
  name       = "${var.project}-${var.environment}"
  partition  = data.aws_partition.current.partition
  account_id = local.env.account_id
  region     = local.env.region
  bucket     = "${local.name}-tfstate-${local.env.account_id}"
  bucket_arn = "arn:${local.partition}:s3:::${local.bucket}"

  github_host     = "token.actions.githubusercontent.com"
  bitbucket_ready = var.bitbucket != null && try(var.bitbucket.workspace_uuid != "" && var.bitbucket.repository_uuid != "", false)
  bitbucket_host  = var.bitbucket == null ? "" : "api.bitbucket.org/2.0/workspaces/${var.bitbucket.workspace}/pipelines-config/identity/oidc"
}

# --- State -------------------------------------------------------------------------

data "aws_iam_policy_document" "state_key" {
  #checkov:skip=CKV_AWS_109:A KMS key policy's Resource "*" means this key only; the account statement delegates access to IAM (the AWS default key policy).
  #checkov:skip=CKV_AWS_111:A KMS key policy's Resource "*" means this key only; the account statement delegates access to IAM (the AWS default key policy).
  #checkov:skip=CKV_AWS_356:A KMS key policy's Resource "*" means this key only; the account statement delegates access to IAM (the AWS default key policy).
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "state" {
  description             = "${local.name}: Terraform state"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.state_key.json
}

resource "aws_kms_alias" "state" {
  name          = "alias/${local.name}-tfstate"
  target_key_id = aws_kms_key.state.key_id
}

module "state_access_logs" {
  source = "../modules/bucket"
  name   = "${local.name}-tfstate-logs-${local.account_id}"
  # S3 server access logs can only be delivered to an SSE-S3 bucket.
  kms_key_arn       = null
  expire_after_days = 365
  force_destroy     = var.force_destroy_state
  policy_statements = [{
    Sid       = "S3ServerAccessLogs"
    Effect    = "Allow"
    Principal = { Service = "logging.s3.amazonaws.com" }
    Action    = "s3:PutObject"
    Resource  = "arn:${local.partition}:s3:::${local.name}-tfstate-logs-${local.account_id}/*"
    Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
  }]
}

module "state" {
  source                 = "../modules/bucket"
  name                   = local.bucket
  kms_key_arn            = aws_kms_key.state.arn
  access_log_bucket      = module.state_access_logs.log_target
  noncurrent_expire_days = 365
  force_destroy          = var.force_destroy_state
}

# --- OIDC identity providers ---------------------------------------------------------

resource "aws_iam_openid_connect_provider" "github" {
  count          = var.github == null ? 0 : 1
  url            = "https://${local.github_host}"
  client_id_list = ["sts.amazonaws.com"]
}

resource "aws_iam_openid_connect_provider" "bitbucket" {
  count          = local.bitbucket_ready ? 1 : 0
  url            = "https://${local.bitbucket_host}"
  client_id_list = ["ari:cloud:bitbucket::workspace/${trim(var.bitbucket.workspace_uuid, "{}")}"]
}
