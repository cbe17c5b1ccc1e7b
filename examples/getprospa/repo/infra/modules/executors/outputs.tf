output "project_names" {
  description = "The executors' CodeBuild projects by stage (apply, deploy): what make execute STAGE= starts."
  value       = { for k, p in aws_codebuild_project.this : k => p.name }
}

output "project_arns" {
  description = "ARNs of the executors' projects by stage."
  value       = { for k, p in aws_codebuild_project.this : k => p.arn }
}

output "log_group_names" {
  description = "The executors' log groups by stage (the CI role reads them to stream a build's log)."
  value       = { for k, g in aws_cloudwatch_log_group.this : k => g.name }
}

output "security_group_id" {
  description = "Security group of the executors' network interfaces."
  value       = aws_security_group.this.id
}
