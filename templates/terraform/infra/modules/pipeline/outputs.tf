output "connection" {
  description = "The CodeConnections connection: ARN, name and status (PENDING until a person completes it: docs/runbooks/codepipeline-connection.md)."
  value       = local.connection
}

output "pipelines" {
  description = "The pipelines by purpose: checks (pull requests) and, when CodePipeline delivers, release."
  value       = merge({ checks = aws_codepipeline.checks.name }, { for p in aws_codepipeline.release : "release" => p.name })
}

output "promotion" {
  description = "The release pipeline's stages after Publish, in order: each environment's actions in run order (empty when CodePipeline does not deliver)."
  value       = var.delivers ? [for s in local.promotion : { environment = s.environment, stage = s.name, actions = [for a in s.actions : a.name] }] : []
}

output "build_projects" {
  description = "The CodeBuild projects by key, with the buildspec each runs (pipelines/codebuild/<buildspec>.yml)."
  value       = { for k, p in aws_codebuild_project.this : k => { name = p.name, buildspec = p.source[0].buildspec, privileged = p.environment[0].privileged_mode } }
}

output "driver_role_arn" {
  description = "The driver <project>-drive, which each environment's CI role trusts when CodePipeline delivers (null otherwise)."
  value       = try(aws_iam_role.this["drive"].arn, null)
}
