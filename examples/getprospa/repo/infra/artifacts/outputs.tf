output "registry" {
  description = "The registry every environment pulls from: <account>.dkr.ecr.<region>.amazonaws.com."
  value       = module.artifacts.registry
}

output "repository_urls" {
  description = "ECR repository URL of each container app."
  value       = module.artifacts.repository_urls
}

output "bucket" {
  description = "The artifact bucket: source/<sha>.zip, releases/<sha>.json, pipeline/."
  value       = module.artifacts.bucket
}

output "signing_key" {
  description = "The cosign signing key: ARN and alias (cosign sign --key awskms:///<alias>)."
  value       = module.artifacts.signing_key
}

output "publisher_role_arn" {
  description = "The role the delivering CI system assumes to publish (null until its trust can be written)."
  value       = module.artifacts.publisher_role_arn
}

output "state_bucket" {
  description = "Bucket of this root's state, in the artifacts account."
  value       = module.state.id
}

output "codepipeline" {
  description = "AWS CodePipeline: the connection (PENDING until completed: docs/runbooks/codepipeline-connection.md), the pipelines and the release promotion (null without codepipeline)."
  value = try({
    connection = module.pipeline[0].connection
    pipelines  = module.pipeline[0].pipelines
    promotion  = module.pipeline[0].promotion
  }, null)
}
