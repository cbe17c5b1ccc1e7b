# Invariants of the private bucket module, checked with a mocked AWS provider.

mock_provider "aws" {
  source = "../.mocks"
}

variables {
  name              = "acme-prod-web-111111111111"
  kms_key_arn       = "arn:aws:kms:ap-southeast-2:111111111111:key/11111111-2222-3333-4444-555555555555"
  access_log_bucket = "acme-prod-logs-111111111111"
}

run "nothing_is_public" {
  command = apply

  assert {
    condition     = aws_s3_bucket_public_access_block.this.block_public_acls && aws_s3_bucket_public_access_block.this.block_public_policy && aws_s3_bucket_public_access_block.this.ignore_public_acls && aws_s3_bucket_public_access_block.this.restrict_public_buckets
    error_message = "All four public access blocks must be on."
  }
  assert {
    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced" && length(aws_s3_bucket_acl.log_delivery) == 0
    error_message = "ACLs are disabled unless a log writer needs them."
  }
}

run "plain_http_is_denied" {
  command = plan

  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.this.statement : s.effect == "Deny" && anytrue([for c in s.condition : c.variable == "aws:SecureTransport" && contains(c.values, "false")])])
    error_message = "The bucket policy must deny requests without TLS."
  }
}

run "encrypted_versioned_logged" {
  command = apply

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" && one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).kms_master_key_id == var.kms_key_arn
    error_message = "Data buckets are encrypted with the CMK by default."
  }
  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled" && aws_s3_bucket_logging.this[0].target_bucket == var.access_log_bucket
    error_message = "Buckets are versioned and access-logged."
  }
}

run "log_buckets_use_sse_s3_and_expire" {
  command = apply
  variables {
    kms_key_arn       = null
    access_log_bucket = null
    expire_after_days = 90
    acl_log_delivery  = true
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256" && length(aws_s3_bucket_logging.this) == 0
    error_message = "Log buckets use SSE-S3 (the only encryption ALB and S3 log delivery support) and do not log themselves."
  }
  assert {
    condition     = one([for r in aws_s3_bucket_lifecycle_configuration.this.rule : r.expiration[0].days]) == 90 && aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerPreferred"
    error_message = "Logs expire after the retention; ACLs stay on only for CloudFront log delivery."
  }
}
