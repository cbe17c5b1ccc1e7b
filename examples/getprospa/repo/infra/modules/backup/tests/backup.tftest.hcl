# Invariants of the backup module, checked with a mocked AWS provider.

mock_provider "aws" {
  source = "../.mocks"
}

variables {
  name                = "acme-prod"
  tier                = "production"
  vault_name          = "acme-prod-backups"
  vault_arn           = "arn:aws:backup:ap-southeast-2:111111111111:backup-vault:acme-prod-backups"
  database_arns       = ["arn:aws:rds:ap-southeast-2:111111111111:db:acme-prod"]
  rds_backup_window   = "16:30-17:30"
  retention_days      = 14
  copy_destinations   = { backup-account = "arn:aws:backup:ap-southeast-2:444444444444:backup-vault:acme-prod-copies" }
  copy_retention_days = 35
  recovery_point_tags = {
    Project     = "acme"
    Environment = "prod"
    Owner       = "platform-team"
    CostCentre  = "lending"
  }
  restore_testing_name       = "acme_prod_restore_tests"
  restore_subnet_group_name  = "acme-prod"
  restore_security_group_ids = ["sg-0000000000database"]
  permissions_boundary       = "arn:aws:iam::111111111111:policy/acme-prod-boundary"
}

run "daily_snapshots_are_copied_to_the_backup_accounts_vault" {
  command = apply

  assert {
    condition     = one(aws_backup_plan.this.rule).target_vault_name == "acme-prod-backups" && one(aws_backup_plan.this.rule).lifecycle[0].delete_after == 14
    error_message = "Daily snapshots go to the environment's own vault and are kept for the retention."
  }
  assert {
    condition     = [for c in one(aws_backup_plan.this.rule).copy_action : c.destination_vault_arn] == ["arn:aws:backup:ap-southeast-2:444444444444:backup-vault:acme-prod-copies"] && alltrue([for c in one(aws_backup_plan.this.rule).copy_action : c.lifecycle[0].delete_after == 35])
    error_message = "Every snapshot is copied to the backup account's vault and kept there for the copy retention."
  }
  assert {
    condition     = aws_backup_selection.database.resources == toset(var.database_arns) && aws_backup_selection.database.plan_id == aws_backup_plan.this.id && aws_backup_selection.database.iam_role_arn == aws_iam_role.this.arn
    error_message = "The plan selects the database by its ARN and runs as the backup role."
  }
}

run "the_snapshot_keeps_away_from_rds_backups" {
  command = plan

  assert {
    condition     = one(aws_backup_plan.this.rule).schedule == "cron(30 4 * * ? *)" && one(aws_backup_plan.this.rule).schedule_expression_timezone == "Etc/UTC" && output.snapshot_schedule == "cron(30 4 * * ? *)"
    error_message = "The daily snapshot starts 12 hours after the RDS backup window opens (UTC)."
  }
  assert {
    condition     = one(aws_backup_plan.this.rule).start_window == 240 && one(aws_backup_plan.this.rule).completion_window == 720
    error_message = "A snapshot may wait up to 4 hours to start (AWS Backup starts none within an hour of the maintenance window)."
  }
}

run "owner_and_cost_centre_tag_every_recovery_point" {
  command = plan

  assert {
    condition     = one(aws_backup_plan.this.rule).recovery_point_tags["Owner"] == "platform-team" && one(aws_backup_plan.this.rule).recovery_point_tags["CostCentre"] == "lending"
    error_message = "Snapshots and their copies carry the spec's Owner and CostCentre (default_tags do not reach recovery points)."
  }
}

run "copies_go_to_every_destination" {
  command = plan
  variables {
    copy_destinations = {
      backup-account = "arn:aws:backup:ap-southeast-2:444444444444:backup-vault:acme-prod-copies"
      dr-region      = "arn:aws:backup:ap-southeast-4:111111111111:backup-vault:acme-prod-dr-copies"
    }
  }

  assert {
    condition     = toset([for c in one(aws_backup_plan.this.rule).copy_action : c.destination_vault_arn]) == toset(values(var.copy_destinations))
    error_message = "A snapshot is copied to the backup account and to the DR region when both are set."
  }
}

run "refuses_a_plan_without_copies" {
  command = plan
  variables {
    copy_destinations = {}
  }
  expect_failures = [var.copy_destinations]
}

run "production_tests_a_restore_every_week" {
  command = apply

  assert {
    condition     = aws_backup_restore_testing_plan.this[0].schedule_expression == "cron(30 10 ? * TUE *)" && aws_backup_restore_testing_plan.this[0].name == "acme_prod_restore_tests"
    error_message = "Production tests a restore every week, six hours after a snapshot."
  }
  assert {
    condition     = one(aws_backup_restore_testing_plan.this[0].recovery_point_selection).include_vaults == toset([var.vault_arn]) && one(aws_backup_restore_testing_plan.this[0].recovery_point_selection).algorithm == "LATEST_WITHIN_WINDOW"
    error_message = "The restore test takes the newest snapshot of the environment's vault."
  }
  assert {
    condition     = aws_backup_restore_testing_selection.database[0].protected_resource_type == "RDS" && aws_backup_restore_testing_selection.database[0].protected_resource_arns == toset(var.database_arns) && aws_backup_restore_testing_selection.database[0].restore_testing_plan_name == aws_backup_restore_testing_plan.this[0].name
    error_message = "The restore test restores the database."
  }
  assert {
    condition     = aws_backup_restore_testing_selection.database[0].restore_metadata_overrides["dbsubnetgroupname"] == "acme-prod" && jsondecode(aws_backup_restore_testing_selection.database[0].restore_metadata_overrides["vpcsecuritygroupids"]) == ["sg-0000000000database"]
    error_message = "A restored test instance lands in the isolated subnets behind the database's security group, never in a default VPC."
  }
}

run "staging_tests_a_restore_every_month" {
  command = plan
  variables {
    tier = "staging"
  }

  assert {
    condition     = aws_backup_restore_testing_plan.this[0].schedule_expression == "cron(30 10 2 * ? *)" && length(aws_backup_restore_testing_selection.database) == 1
    error_message = "Staging tests a restore every month."
  }
}

run "development_restores_nothing" {
  command = plan
  variables {
    tier = "development"
  }

  assert {
    condition     = length(aws_backup_restore_testing_plan.this) == 0 && length(aws_backup_restore_testing_selection.database) == 0 && output.restore_testing_schedule == null
    error_message = "Development keeps a day of throwaway data and runs no restore tests."
  }
}

run "the_role_is_aws_backups_with_its_managed_policies" {
  command = plan

  assert {
    condition     = aws_iam_role.this.name == "acme-prod-aws-backup" && aws_iam_role.this.permissions_boundary == var.permissions_boundary
    error_message = "The backup role carries the permissions boundary it is given."
  }
  assert {
    condition     = toset([for a in aws_iam_role_policy_attachment.this : a.policy_arn]) == toset(["arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup", "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"])
    error_message = "The role holds AWS Backup's service policies for backups and restores, nothing more."
  }
  assert {
    condition     = one(data.aws_iam_policy_document.assume.statement[0].principals).identifiers == toset(["backup.amazonaws.com"])
    error_message = "Only AWS Backup assumes the role."
  }
}

run "recovery_points_must_carry_owner_and_cost_centre" {
  command = plan
  variables {
    recovery_point_tags = { Project = "acme" }
  }
  expect_failures = [var.recovery_point_tags]
}
