output "registry" {
  description = "The registry of the images: <account>.dkr.ecr.<region>.<dns suffix>."
  value       = "${local.account_id}.dkr.ecr.${local.region}.${data.aws_partition.current.dns_suffix}"
}

output "repository_urls" {
  description = "ECR repository URL of each container app (every environment pulls from these)."
  value       = { for k, r in aws_ecr_repository.app : k => r.repository_url }
}

output "bucket" {
  description = "The artifact bucket: source/<sha>.zip, releases/<sha>.json, pipeline/."
  value       = module.bucket.id
}

output "bucket_encryption" {
  description = "How the artifact bucket encrypts by default: algorithm and key."
  value       = module.bucket.encryption
}

output "kms_key_arn" {
  description = "The key of the repositories and the bucket."
  value       = aws_kms_key.artifacts.arn
}

output "signing_key" {
  description = "The cosign signing key: ARN and alias (cosign --key awskms:///<alias>)."
  value       = { arn = aws_kms_key.signing.arn, alias = aws_kms_alias.signing.name }
}

output "publisher_role_arn" {
  description = "The publisher role the delivering CI system assumes (null until its trust can be written: Bitbucket without its UUIDs)."
  value       = try(aws_iam_role.publisher[0].arn, null)
}
