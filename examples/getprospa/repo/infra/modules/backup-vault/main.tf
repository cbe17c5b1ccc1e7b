# A backup vault for recovery points that must outlive mistakes and attackers: its own
# customer-managed KMS key (rotated yearly), Vault Lock, and an access policy that lets
# only the named accounts copy recovery points in (and use the key for those copies).
#
# Vault Lock in compliance mode (production tier only) cannot be undone: after the cooling-off
# period (changeable_for_days, at least 3 days) nobody, the account's root user
# included, can delete the lock, delete a recovery point before its retention ends, or
# shorten a retention below min_retention_days; the vault itself can then be deleted
# only once it is empty. Governance mode (every other tier) enforces the same retention,
# but a principal allowed backup:DeleteBackupVaultLockConfiguration can remove the lock,
# so such a vault can still be torn down.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  # Compliance mode cannot be undone: production tier only.
  lock_mode  = var.tier == "production" ? "compliance" : "governance"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  copiers    = [for a in var.copy_accounts : "arn:${local.partition}:iam::${a}:root"]

  copy_statements = [
    {
      # Copying a recovery point between accounts re-encrypts it: the other side's
      # AWS Backup and RDS read it with this key.
      Sid       = "CopyAccountsUseTheKeyForCopies"
      Effect    = "Allow"
      Principal = { AWS = local.copiers }
      Action    = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"]
      Resource  = "*"
    },
    {
      Sid       = "CopyAccountsGrantToAwsServicesOnly"
      Effect    = "Allow"
      Principal = { AWS = local.copiers }
      Action    = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
      Resource  = "*"
      Condition = { Bool = { "kms:GrantIsForAWSResource" = "true" } }
    },
  ]
  key_statements = concat(
    [{
      # The account administers the key through IAM (the AWS default key policy).
      Sid       = "AccountAdministers"
      Effect    = "Allow"
      Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }],
    [for s in local.copy_statements : s if length(local.copiers) > 0],
  )
}

resource "aws_kms_key" "this" {
  description             = "${var.name}: recovery points in the backup vault"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = var.key_deletion_window_days
  policy                  = jsonencode({ Version = "2012-10-17", Statement = local.key_statements })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_backup_vault" "this" {
  name          = var.name
  kms_key_arn   = aws_kms_key.this.arn
  force_destroy = var.force_destroy
}

# Compliance mode: immutable from the lock date (changeable_for_days after creation). AWS
# then refuses any change to the lock, so Terraform stops managing its settings: a later,
# longer retention changes the plan's lifecycle (the lock accepts anything above its
# minimum), never the lock.
resource "aws_backup_vault_lock_configuration" "compliance" {
  count               = local.lock_mode == "compliance" ? 1 : 0
  backup_vault_name   = aws_backup_vault.this.name
  min_retention_days  = var.min_retention_days
  changeable_for_days = var.changeable_for_days

  lifecycle {
    ignore_changes = [min_retention_days, max_retention_days, changeable_for_days]
  }
}

# Governance mode: no lock date, so the lock follows the retention and can be removed by
# a principal allowed backup:DeleteBackupVaultLockConfiguration (and by terraform destroy).
resource "aws_backup_vault_lock_configuration" "governance" {
  count              = local.lock_mode == "governance" ? 1 : 0
  backup_vault_name  = aws_backup_vault.this.name
  min_retention_days = var.min_retention_days
}

resource "aws_backup_vault_policy" "this" {
  count             = length(local.copiers) == 0 ? 0 : 1
  backup_vault_name = aws_backup_vault.this.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CopyAccountsCopyIn"
      Effect    = "Allow"
      Principal = { AWS = local.copiers }
      Action    = "backup:CopyIntoBackupVault"
      Resource  = "*"
    }]
  })
}
