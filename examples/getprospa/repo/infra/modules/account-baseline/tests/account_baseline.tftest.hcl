# Invariants of the account baseline, checked with a mocked AWS provider.

mock_provider "aws" {
  source = "../.mocks"
}

variables {
  name                 = "acme-prod"
  account_id           = "111111111111"
  log_retention_days   = 90
  permissions_boundary = "arn:aws:iam::111111111111:policy/acme-prod-boundary"
}

run "the_trail_covers_every_region_and_can_be_verified" {
  command = apply

  assert {
    condition     = aws_cloudtrail.this.is_multi_region_trail && aws_cloudtrail.this.include_global_service_events
    error_message = "The trail must record every region and the global services (IAM, STS)."
  }
  assert {
    condition     = aws_cloudtrail.this.enable_log_file_validation
    error_message = "Log file validation lets an auditor prove no log file was changed or deleted."
  }
  assert {
    condition     = aws_cloudtrail.this.kms_key_id == aws_kms_key.trail.arn && aws_kms_key.trail.enable_key_rotation
    error_message = "The trail's logs are encrypted with its own rotating KMS key."
  }
  assert {
    condition     = aws_cloudtrail.this.s3_bucket_name == module.bucket.id && aws_cloudtrail.this.cloud_watch_logs_group_arn == "${aws_cloudwatch_log_group.trail.arn}:*"
    error_message = "The trail delivers to the account's trail bucket and to its log group."
  }
  assert {
    condition     = one([for s in aws_cloudtrail.this.event_selector : s.include_management_events && s.read_write_type == "All"])
    error_message = "The trail records every management event, reads and writes."
  }
}

run "the_trail_bucket_is_encrypted_logged_and_admits_only_this_trail" {
  command = apply

  assert {
    condition     = local.bucket == "acme-prod-trail-111111111111" && aws_cloudtrail.this.s3_bucket_name == module.bucket.id
    error_message = "The trail's bucket is named for the environment and account."
  }
  assert {
    condition     = alltrue([for s in local.bucket_statements : s.Principal.Service == "cloudtrail.amazonaws.com" && s.Condition.StringEquals["aws:SourceArn"] == "arn:aws:cloudtrail:ap-southeast-2:111111111111:trail/acme-prod"])
    error_message = "Only this account's trail may check the ACL of or write to the bucket (aws:SourceArn)."
  }
  assert {
    condition     = one([for s in local.bucket_statements : s.Condition.StringEquals["s3:x-amz-acl"] if s.Action == "s3:PutObject"]) == "bucket-owner-full-control"
    error_message = "CloudTrail's writes must hand the objects to the bucket owner."
  }
  assert {
    condition     = aws_cloudwatch_log_group.trail.kms_key_id == aws_kms_key.trail.arn && aws_cloudwatch_log_group.trail.retention_in_days == 90
    error_message = "The trail's log group is encrypted with the trail key and keeps the spec's retention."
  }
}

run "the_trail_key_admits_only_this_trail_and_its_log_group" {
  command = apply

  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.trail_key.statement : anytrue([for c in s.condition : c.variable == "aws:SourceArn" && length(c.values) == 1 && contains(c.values, "arn:aws:cloudtrail:ap-southeast-2:111111111111:trail/acme-prod")]) if anytrue([for p in s.principals : contains(p.identifiers, "cloudtrail.amazonaws.com")])])
    error_message = "CloudTrail may use the key only for this trail (aws:SourceArn)."
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.trail_key.statement : anytrue([for c in s.condition : c.variable == "kms:EncryptionContext:aws:logs:arn"]) if anytrue([for p in s.principals : contains(p.identifiers, "logs.ap-southeast-2.amazonaws.com")])])
    error_message = "CloudWatch Logs may use the key only for the trail's log group."
  }
}

run "guardduty_watches_s3_eks_and_rds" {
  command = apply

  assert {
    condition     = aws_guardduty_detector.this.enable
    error_message = "The GuardDuty detector must be on."
  }
  assert {
    condition     = toset([for f in aws_guardduty_detector_feature.this : f.name if f.status == "ENABLED"]) == toset(["S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "RDS_LOGIN_EVENTS", "EBS_MALWARE_PROTECTION"])
    error_message = "GuardDuty needs S3 data events, EKS audit logs, RDS login events and EBS malware protection."
  }
  assert {
    condition     = alltrue([for f in aws_guardduty_detector_feature.this : f.detector_id == aws_guardduty_detector.this.id])
    error_message = "Every protection plan belongs to the account's detector."
  }
}

run "config_records_everything_for_security_hub" {
  command = apply

  assert {
    condition     = aws_config_configuration_recorder.this.recording_group[0].all_supported && aws_config_configuration_recorder.this.recording_group[0].include_global_resource_types
    error_message = "AWS Config records every supported resource type, IAM included."
  }
  assert {
    condition     = aws_config_configuration_recorder_status.this.is_enabled && aws_config_delivery_channel.this.s3_bucket_name == module.bucket.id && aws_config_delivery_channel.this.s3_kms_key_arn == aws_kms_key.trail.arn
    error_message = "The recorder runs and delivers, encrypted, to the trail bucket."
  }
  assert {
    condition     = aws_securityhub_standards_subscription.foundational.standards_arn == "arn:aws:securityhub:ap-southeast-2::standards/aws-foundational-security-best-practices/v/1.0.0"
    error_message = "Security Hub runs the AWS Foundational Security Best Practices standard."
  }
  assert {
    condition     = aws_securityhub_account.this.control_finding_generator == "SECURITY_CONTROL" && aws_securityhub_account.this.auto_enable_controls && !aws_securityhub_account.this.enable_default_standards
    error_message = "Security Hub: consolidated control findings, new controls on, and only the standards chosen here."
  }
}

run "refuses_an_unknown_guardduty_feature" {
  command = plan
  variables {
    guardduty_features = ["S3_DATA_EVENTS", "EVERYTHING"]
  }
  expect_failures = [var.guardduty_features]
}

run "its_roles_carry_the_permissions_boundary" {
  command = plan

  assert {
    condition = alltrue([
      aws_iam_role.trail_logs.permissions_boundary == var.permissions_boundary,
      aws_iam_role.config.permissions_boundary == var.permissions_boundary,
    ])
    error_message = "The trail's and Config's roles carry the platform's permissions boundary."
  }
}
