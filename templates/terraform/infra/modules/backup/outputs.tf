output "plan_arn" {
  description = "ARN of the backup plan."
  value       = aws_backup_plan.this.arn
}

output "role_arn" {
  description = "ARN of the role AWS Backup uses for snapshots, copies and restore tests."
  value       = aws_iam_role.this.arn
}

output "snapshot_schedule" {
  description = "When the daily snapshot starts (cron, UTC)."
  value       = one(aws_backup_plan.this.rule).schedule
}

output "restore_testing_schedule" {
  description = "When the restore tests run (cron, UTC), or null where none run (development tier)."
  value       = local.restore_testing
}
