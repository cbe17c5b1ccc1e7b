output "state_bucket" {
  description = "Bucket of the environment's Terraform state (use_lockfile locking)."
  value       = module.state.id
}

output "deploy_role_arn" {
  description = "Role the pipelines assume to deploy this environment."
  value       = aws_iam_role.deploy.arn
}

output "plan_role_arn" {
  description = "Read-only role for plans on pull requests and drift checks."
  value       = aws_iam_role.plan.arn
}

output "bitbucket_trust" {
  description = "Whether the Bitbucket OIDC trust exists (it needs pipelines.bitbucket.workspaceUuid and repositoryUuid in platform.yaml)."
  value       = local.bitbucket_ready
}

output "trail_arn" {
  description = "The account's CloudTrail trail, or null when the organization provides the baseline (accountBaseline: organization)."
  value       = one(module.baseline[*].trail_arn)
}
