# The backup account's part of one environment's backups, applied once per environment
# (make infra-backup ENV=<env>, with credentials of the backup account) before the
# environment itself, in the environment's region:
#   - <project>-<env>-copies, the vault the environment's AWS Backup copies each daily
#     database snapshot into: its own KMS key, Vault Lock (compliance mode in production
#     tier, which cannot be undone; governance mode elsewhere), and a policy that lets
#     only the environment's account copy in (and copy back, for a restore);
#   - this root's own state bucket, KMS-encrypted, versioned and access-logged, in the
#     backup account: nothing in the environment's account can reach it.
# RDS cannot copy a snapshot to another account and another region in one step, so the
# vault is in the environment's region (docs/runbooks/restore.md).

data "aws_partition" "current" {}

locals {
  env        = var.environments[var.environment]
  name       = "${var.project}-${var.environment}"
  partition  = data.aws_partition.current.partition
  account_id = var.backup_account_id
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
  description             = "${local.name}: Terraform state of its copies in the backup account"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.state_key.json
}

resource "aws_kms_alias" "state" {
  name          = "alias/${local.name}-copies-state"
  target_key_id = aws_kms_key.state.key_id
}

module "state_access_logs" {
  source = "../modules/bucket"
  name   = "${local.name}-copies-logs-${local.account_id}"
  # S3 server access logs can only be delivered to an SSE-S3 bucket.
  kms_key_arn       = null
  expire_after_days = 365
  force_destroy     = var.force_destroy_state
  policy_statements = [{
    Sid       = "S3ServerAccessLogs"
    Effect    = "Allow"
    Principal = { Service = "logging.s3.amazonaws.com" }
    Action    = "s3:PutObject"
    Resource  = "arn:${local.partition}:s3:::${local.name}-copies-logs-${local.account_id}/*"
    Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
  }]
}

module "state" {
  source                 = "../modules/bucket"
  name                   = "${local.name}-copies-state-${local.account_id}"
  kms_key_arn            = aws_kms_key.state.arn
  access_log_bucket      = module.state_access_logs.log_target
  noncurrent_expire_days = 365
  force_destroy          = var.force_destroy_state
}

# --- The vault the environment copies into --------------------------------------------

module "copies" {
  source = "../modules/backup-vault"

  name               = "${local.name}-copies"
  tier               = local.env.tier
  min_retention_days = local.env.copy_retention_days
  copy_accounts      = [local.env.account_id]
  force_destroy      = local.env.tier == "development"
}
