output "replication_instance_arn" {
  description = "ARN of the replication instance."
  value       = aws_dms_replication_instance.this.replication_instance_arn
}

output "replication_task_arn" {
  description = "ARN of the replication task: the runbook starts it (aws dms start-replication-task) after `dbkit schema copy`."
  value       = aws_dms_replication_task.this.replication_task_arn
}

output "security_group_id" {
  description = "Security group of the replication instance."
  value       = aws_security_group.this.id
}

output "target_secret_arn" {
  description = "ARN of the dms database user's secret that the target endpoint reads."
  value       = local.target_secret_arn
}

output "source_endpoint_arn" {
  description = "ARN of the source endpoint (aws dms test-connection checks it from the replication instance)."
  value       = aws_dms_endpoint.source.endpoint_arn
}

output "target_endpoint_arn" {
  description = "ARN of the target endpoint."
  value       = aws_dms_endpoint.target.endpoint_arn
}
