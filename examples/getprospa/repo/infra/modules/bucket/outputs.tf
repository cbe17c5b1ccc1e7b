output "id" {
  description = "Name of the bucket."
  value       = aws_s3_bucket.this.id
}

output "arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}

output "regional_domain_name" {
  description = "Regional domain name of the bucket (CloudFront S3 origin)."
  value       = aws_s3_bucket.this.bucket_regional_domain_name
}

output "domain_name" {
  description = "Global domain name of the bucket (CloudFront standard logging target)."
  value       = aws_s3_bucket.this.bucket_domain_name
}

# A log bucket's consumers wait for what delivery needs (policy, ACL, ownership,
# encryption), not for the whole module: its lifecycle rules alone take about a minute.
output "log_target" {
  description = "Name of the bucket, known at plan time and available once its policy, ACL and ownership settings are in place: pass it as another bucket's access_log_bucket or a load balancer's access_logs bucket."
  value       = aws_s3_bucket.this.bucket
  depends_on = [
    aws_s3_bucket_policy.this,
    aws_s3_bucket_acl.log_delivery,
    aws_s3_bucket_ownership_controls.this,
    aws_s3_bucket_public_access_block.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
  ]
}

output "log_target_domain_name" {
  description = "Global domain name of the bucket, available once it can receive logs (CloudFront standard logging target)."
  value       = aws_s3_bucket.this.bucket_domain_name
  depends_on = [
    aws_s3_bucket_policy.this,
    aws_s3_bucket_acl.log_delivery,
    aws_s3_bucket_ownership_controls.this,
    aws_s3_bucket_public_access_block.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
  ]
}

output "encryption" {
  description = "Default encryption of the bucket: algorithm (aws:kms or AES256) and KMS key (null with AES256)."
  value = {
    algorithm = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm
    key       = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).kms_master_key_id
  }
}
