# Invariants of the foundation module, checked with a mocked AWS provider.

mock_provider "aws" {
  source = "../.mocks"
}

variables {
  name         = "acme-prod"
  alarm_emails = ["oncall@acme.example"]
}

run "the_key_rotates_and_alarms_are_encrypted" {
  command = apply

  assert {
    condition     = aws_kms_key.this.enable_key_rotation && aws_kms_key.this.deletion_window_in_days == 30
    error_message = "The CMK rotates yearly and waits 30 days before deletion."
  }
  assert {
    condition     = aws_sns_topic.alarms.kms_master_key_id == aws_kms_key.this.arn && length(aws_sns_topic_subscription.email) == 1
    error_message = "The alarm topic is encrypted with the CMK and emails the spec's addresses."
  }
}

run "refuses_a_bad_address" {
  command = plan
  variables {
    alarm_emails = ["not-an-address"]
  }
  expect_failures = [var.alarm_emails]
}
