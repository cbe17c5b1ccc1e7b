output "role_arns" {
  description = "IAM role ARN of each app (Pod Identity, namespace and service account named after the app)."
  value       = { for k, r in aws_iam_role.app : k => r.arn }
}

output "secret_arns" {
  description = "ARN of each app secret container, by name after the prefix."
  value       = { for k, s in aws_secretsmanager_secret.app : k => s.arn }
}

output "datadog_api_key_role_arn" {
  description = "Role the External Secrets Operator assumes to read the Datadog API key (null without Datadog)."
  value       = try(aws_iam_role.datadog_api_key[0].arn, null)
}

output "database_user_secret_arns" {
  description = "ARN of each database user's secret (<secret_prefix>database/<user>), by logical user; the values are dbkit users apply's."
  value       = { for k, s in aws_secretsmanager_secret.database_user : k => s.arn }
}
