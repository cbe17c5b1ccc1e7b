# AWS Backup for one environment's database: a daily snapshot into the environment's
# own locked vault (see modules/backup-vault), copied out of the account and region it
# protects (copy_destinations: a vault in the backup account, in the environment's
# region, and/or a vault in a DR region of the environment's account; RDS snapshots
# cannot go to another account and another region in one copy), and a restore testing
# plan that restores the newest snapshot into the isolated subnets and deletes it again.
#
# The snapshot starts 12 hours after the RDS backup window opens, away from RDS's own
# backup; AWS Backup starts no database backup within an hour of the weekly maintenance
# window, so on that day it waits inside its 4-hour start window. RDS keeps its own
# point-in-time recovery beside it (the database module's backup_retention_days).

data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  managed   = "arn:${local.partition}:iam::aws:policy/service-role"
  rds_start = split(":", split("-", var.rds_backup_window)[0])
  hour      = (tonumber(local.rds_start[0]) + 12) % 24
  minute    = tonumber(local.rds_start[1])
  # Restore tests where a test proves something: weekly in production, monthly in
  # staging (a real DB instance runs for the validation window); development keeps a day
  # of throwaway data and restores nothing. Six hours after the snapshot starts.
  restore_testing = {
    production  = "cron(${local.minute} ${(local.hour + 6) % 24} ? * TUE *)"
    staging     = "cron(${local.minute} ${(local.hour + 6) % 24} 2 * ? *)"
    development = null
  }[var.tier]
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }
  }
}

# AWS Backup takes snapshots, copies them and runs the restore tests as this role.
resource "aws_iam_role" "this" {
  name                 = "${var.name}-aws-backup"
  description          = "AWS Backup: snapshots, copies and restore tests of ${var.name}"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary
}

resource "aws_iam_role_policy_attachment" "this" {
  for_each   = toset(["AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"])
  role       = aws_iam_role.this.name
  policy_arn = "${local.managed}/${each.value}"
}

resource "aws_backup_plan" "this" {
  name = "${var.name}-database"

  rule {
    rule_name                    = "daily"
    target_vault_name            = var.vault_name
    schedule                     = "cron(${local.minute} ${local.hour} * * ? *)"
    schedule_expression_timezone = "Etc/UTC"
    start_window                 = 240
    completion_window            = 720
    recovery_point_tags          = var.recovery_point_tags

    lifecycle {
      delete_after = var.retention_days
    }

    dynamic "copy_action" {
      for_each = var.copy_destinations
      content {
        destination_vault_arn = copy_action.value
        lifecycle {
          delete_after = var.copy_retention_days
        }
      }
    }
  }
}

resource "aws_backup_selection" "database" {
  name         = "database"
  plan_id      = aws_backup_plan.this.id
  iam_role_arn = aws_iam_role.this.arn
  resources    = var.database_arns

  depends_on = [aws_iam_role_policy_attachment.this]
}

resource "aws_backup_restore_testing_plan" "this" {
  count                        = local.restore_testing == null ? 0 : 1
  name                         = var.restore_testing_name
  schedule_expression          = local.restore_testing
  schedule_expression_timezone = "Etc/UTC"
  start_window_hours           = 24

  recovery_point_selection {
    algorithm             = "LATEST_WITHIN_WINDOW"
    include_vaults        = [var.vault_arn]
    recovery_point_types  = ["SNAPSHOT"]
    selection_window_days = 7
  }
}

# The test restores into the isolated subnets behind the database's security group, and
# deletes the instance after the validation window.
resource "aws_backup_restore_testing_selection" "database" {
  count                     = local.restore_testing == null ? 0 : 1
  name                      = "database"
  restore_testing_plan_name = aws_backup_restore_testing_plan.this[0].name
  protected_resource_type   = "RDS"
  protected_resource_arns   = var.database_arns
  iam_role_arn              = aws_iam_role.this.arn
  validation_window_hours   = 1

  restore_metadata_overrides = {
    dbsubnetgroupname   = var.restore_subnet_group_name
    vpcsecuritygroupids = jsonencode(var.restore_security_group_ids)
  }

  depends_on = [aws_iam_role_policy_attachment.this]
}
