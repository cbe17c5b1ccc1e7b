# The security baseline of one AWS account (spec accountBaseline: platform):
#   CloudTrail - one trail over every region, global services included, log file validation on, its logs encrypted with their own KMS key in a versioned, access-logged bucket and a CloudWatch log group
#   GuardDuty - a detector with S3 data event, EKS audit log, RDS login and EBS malware protection
#   AWS Config - a recorder of every supported resource type, delivering to the trail's bucket
#   Security Hub - the AWS Foundational Security Best Practices standard on Config's records, with consolidated control findings
# GuardDuty, Config and Security Hub are regional: this covers the account's region (the
# trail covers all). Where an AWS Organization provides them (accountBaseline:
# organization) the bootstrap does not call this module.

data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = var.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  bucket    = "${var.name}-trail-${local.account}"
  trail_arn = "arn:${local.partition}:cloudtrail:${local.region}:${local.account}:trail/${var.name}"
}

# --- The trail's key ----------------------------------------------------------------

data "aws_iam_policy_document" "trail_key" {
  #checkov:skip=CKV_AWS_109:A KMS key policy's Resource "*" means this key only; the account statement delegates access to IAM (the AWS default key policy).
  #checkov:skip=CKV_AWS_111:A KMS key policy's Resource "*" means this key only; the account statement delegates access to IAM (the AWS default key policy).
  #checkov:skip=CKV_AWS_356:A KMS key policy's Resource "*" means this key only; the account statement delegates access to IAM (the AWS default key policy).
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }

  statement {
    sid       = "CloudTrailEncryptsThisTrailsLogs"
    actions   = ["kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:cloudtrail:arn"
      values   = ["arn:${local.partition}:cloudtrail:*:${local.account}:trail/*"]
    }
  }

  statement {
    sid       = "CloudTrailDescribesTheKey"
    actions   = ["kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncryptsTheTrailsLogGroup"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/cloudtrail/${var.name}"]
    }
  }
}

resource "aws_kms_key" "trail" {
  description             = "${var.name}: CloudTrail and AWS Config logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.trail_key.json
}

resource "aws_kms_alias" "trail" {
  name          = "alias/${var.name}-trail"
  target_key_id = aws_kms_key.trail.key_id
}

# --- The trail's buckets ----------------------------------------------------------------

module "access_logs" {
  source = "../bucket"
  name   = "${var.name}-trail-logs-${local.account}"
  # S3 server access logs can only be delivered to an SSE-S3 bucket.
  kms_key_arn       = null
  expire_after_days = 365
  force_destroy     = var.force_destroy
  policy_statements = [{
    Sid       = "S3ServerAccessLogs"
    Effect    = "Allow"
    Principal = { Service = "logging.s3.amazonaws.com" }
    Action    = "s3:PutObject"
    Resource  = "arn:${local.partition}:s3:::${var.name}-trail-logs-${local.account}/*"
    Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
  }]
}

locals {
  # CloudTrail writes into the bucket only for this trail.
  bucket_statements = [
    {
      Sid       = "CloudTrailChecksTheBucketAcl"
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "s3:GetBucketAcl"
      Resource  = "arn:${local.partition}:s3:::${local.bucket}"
      Condition = { StringEquals = { "aws:SourceArn" = local.trail_arn } }
    },
    {
      Sid       = "CloudTrailWritesThisTrailsLogs"
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "s3:PutObject"
      Resource  = "arn:${local.partition}:s3:::${local.bucket}/AWSLogs/${local.account}/*"
      Condition = { StringEquals = { "aws:SourceArn" = local.trail_arn, "s3:x-amz-acl" = "bucket-owner-full-control" } }
    },
  ]
}

# The audit record: kept (versioned, noncurrent versions for a year), never expired.
module "bucket" {
  source                 = "../bucket"
  name                   = local.bucket
  kms_key_arn            = aws_kms_key.trail.arn
  access_log_bucket      = module.access_logs.log_target
  noncurrent_expire_days = 365
  force_destroy          = var.force_destroy
  policy_statements      = local.bucket_statements
}

# --- CloudTrail -------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "trail" {
  #checkov:skip=CKV_AWS_338:Retention is the spec's observability.logRetentionDays (default 90 days); the bucket keeps every log file, and 365 days or more can be set there.
  name              = "/aws/cloudtrail/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.trail.arn
}

data "aws_iam_policy_document" "trail_logs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }
}

resource "aws_iam_role" "trail_logs" {
  name                 = "${var.name}-cloudtrail"
  assume_role_policy   = data.aws_iam_policy_document.trail_logs_assume.json
  permissions_boundary = var.permissions_boundary
}

data "aws_iam_policy_document" "trail_logs" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.trail.arn}:*"]
  }
}

resource "aws_iam_role_policy" "trail_logs" {
  name   = "write-trail-logs"
  role   = aws_iam_role.trail_logs.id
  policy = data.aws_iam_policy_document.trail_logs.json
}

resource "aws_cloudtrail" "this" {
  #checkov:skip=CKV_AWS_252:A notification per delivered log file is noise; alarms come from the trail's CloudWatch Logs group and GuardDuty.
  name                          = var.name
  s3_bucket_name                = module.bucket.id
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  kms_key_id                    = aws_kms_key.trail.arn
  cloud_watch_logs_group_arn    = "${aws_cloudwatch_log_group.trail.arn}:*"
  cloud_watch_logs_role_arn     = aws_iam_role.trail_logs.arn

  event_selector {
    read_write_type           = "All"
    include_management_events = true
  }

  # The bucket must admit CloudTrail before the trail is created.
  depends_on = [module.bucket]
}

# --- GuardDuty --------------------------------------------------------------------------

resource "aws_guardduty_detector" "this" {
  #checkov:skip=CKV2_AWS_3:This is a single account's detector; with an AWS Organization, accountBaseline: organization leaves GuardDuty to its delegated administrator.
  enable                       = true
  finding_publishing_frequency = "FIFTEEN_MINUTES"
}

# Runtime monitoring is left off: it installs GuardDuty's own agent add-on into the
# cluster and a VPC endpoint, outside the platform's pinned add-ons (turn it on per team).
resource "aws_guardduty_detector_feature" "this" {
  for_each    = toset(var.guardduty_features)
  detector_id = aws_guardduty_detector.this.id
  name        = each.value
  status      = "ENABLED"
}

# --- AWS Config -------------------------------------------------------------------------

data "aws_iam_policy_document" "config_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["config.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "config" {
  name                 = "${var.name}-config"
  assume_role_policy   = data.aws_iam_policy_document.config_assume.json
  permissions_boundary = var.permissions_boundary
}

# What AWS Config needs to read resource configurations (the AWS-managed service role policy).
resource "aws_iam_role_policy_attachment" "config" {
  role       = aws_iam_role.config.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWS_ConfigRole"
}

data "aws_iam_policy_document" "config_delivery" {
  statement {
    sid       = "CheckTheBucket"
    actions   = ["s3:GetBucketAcl", "s3:ListBucket"]
    resources = [module.bucket.arn]
  }

  statement {
    sid       = "DeliverSnapshotsAndHistory"
    actions   = ["s3:PutObject"]
    resources = ["${module.bucket.arn}/config/AWSLogs/${local.account}/*"]
  }

  statement {
    sid       = "EncryptWithTheTrailKey"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.trail.arn]
  }
}

resource "aws_iam_role_policy" "config_delivery" {
  name   = "deliver-config"
  role   = aws_iam_role.config.id
  policy = data.aws_iam_policy_document.config_delivery.json
}

resource "aws_config_configuration_recorder" "this" {
  name     = var.name
  role_arn = aws_iam_role.config.arn

  recording_group {
    all_supported                 = true
    include_global_resource_types = true
  }
}

resource "aws_config_delivery_channel" "this" {
  name           = var.name
  s3_bucket_name = module.bucket.id
  s3_key_prefix  = "config"
  s3_kms_key_arn = aws_kms_key.trail.arn

  depends_on = [aws_config_configuration_recorder.this, aws_iam_role_policy.config_delivery]
}

resource "aws_config_configuration_recorder_status" "this" {
  name       = aws_config_configuration_recorder.this.name
  is_enabled = true

  depends_on = [aws_config_delivery_channel.this]
}

# --- Security Hub -----------------------------------------------------------------------

resource "aws_securityhub_account" "this" {
  enable_default_standards  = false
  auto_enable_controls      = true
  control_finding_generator = "SECURITY_CONTROL"

  # Its controls evaluate AWS Config's records.
  depends_on = [aws_config_configuration_recorder_status.this]
}

resource "aws_securityhub_standards_subscription" "foundational" {
  standards_arn = "arn:${local.partition}:securityhub:${local.region}::standards/aws-foundational-security-best-practices/v/1.0.0"

  depends_on = [aws_securityhub_account.this]
}
