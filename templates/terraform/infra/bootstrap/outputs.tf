output "state_bucket" {
  description = "Bucket of the environment's Terraform state (use_lockfile locking)."
  value       = module.state.id
}

output "plan_role_arn" {
  description = "Role for plans and drift checks: configuration and state, no data (CI, read-only people)."
  value       = aws_iam_role.this["plan"].arn
}

output "platform_role_arn" {
  description = "The platform executor: Terraform apply and cluster add-ons (its CodeBuild project, break-glass people)."
  value       = aws_iam_role.this["platform"].arn
}

output "app_deploy_role_arn" {
  description = "The app-deploy executor: make deploy into the app namespaces (its CodeBuild project, break-glass people)."
  value       = aws_iam_role.this["app_deploy"].arn
}

output "permissions_boundary_arn" {
  description = "The permissions boundary every role of the environment carries; the environment root passes it to every module that creates a role."
  value       = aws_iam_policy.boundary.arn
}

output "bitbucket_trust" {
  description = "Whether the Bitbucket OIDC trust exists (it needs pipelines.bitbucket.workspaceUuid and repositoryUuid in platform.yaml)."
  value       = local.bitbucket_ready
}

output "trail_arn" {
  description = "The account's CloudTrail trail, or null when the organization provides the baseline (accountBaseline: organization)."
  value       = one(module.baseline[*].trail_arn)
}

output "ci_role_arn" {
  description = "The CI role of the delivering provider (spec pipelines.deliver): may only start the executors and read their logs and the alarms. null when the deliverer cannot be trusted yet (Bitbucket without a deployment environment UUID for this environment)."
  value       = try(aws_iam_role.this["ci"].arn, null)
}
