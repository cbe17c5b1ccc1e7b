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

# RDS event subscriptions publish to the encrypted topic: the key and the topic admit
# RDS events of this account's instances of this environment only.
run "rds_events_reach_the_encrypted_topic" {
  command = plan

  assert {
    condition     = length([for s in data.aws_iam_policy_document.key.statement : s if s.sid == "RdsEventsPublishToTheEncryptedTopic" && one(s.principals).identifiers == toset(["events.rds.amazonaws.com"])]) == 1
    error_message = "The key must let RDS events encrypt messages to the alarm topic."
  }
  assert {
    condition = flatten([
      for s in data.aws_iam_policy_document.alarms.statement : [for c in s.condition : tolist(c.values) if c.variable == "aws:SourceArn"]
      if s.sid == "RdsEventsOfThisEnvironmentsDatabases" && one(s.principals).identifiers == toset(["events.rds.amazonaws.com"])
    ]) == ["arn:aws:rds:ap-southeast-2:111111111111:db:acme-prod*"]
    error_message = "The alarm topic must admit RDS events of this environment's instances only."
  }
}

# DMS event subscriptions (modules/migration) publish to the encrypted topic too: DMS
# of this account only, from its event subscriptions.
run "dms_events_reach_the_encrypted_topic" {
  command = plan

  assert {
    condition     = length([for s in data.aws_iam_policy_document.key.statement : s if s.sid == "DmsEventsPublishToTheEncryptedTopic" && one(s.principals).identifiers == toset(["dms.amazonaws.com"]) && try(one(s.condition).variable, "") == "aws:SourceAccount"]) == 1
    error_message = "The key must let DMS events of this account encrypt messages to the alarm topic."
  }
  assert {
    condition = flatten([
      for s in data.aws_iam_policy_document.alarms.statement : [for c in s.condition : tolist(c.values) if c.variable == "aws:SourceArn"]
      if s.sid == "DmsEventsOfThisEnvironment" && one(s.principals).identifiers == toset(["dms.amazonaws.com"])
    ]) == ["arn:aws:dms:ap-southeast-2:111111111111:es:*"]
    error_message = "The alarm topic must admit DMS event subscriptions of this account only."
  }
}

run "no_account_outside_uses_the_key_by_default" {
  command = plan

  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.key.statement : !startswith(s.sid, "BackupAccount")])
    error_message = "Without a backup account, no other account may use the environment's key."
  }
}

run "the_backup_account_may_copy_the_databases_snapshots" {
  command = plan
  variables {
    backup_account_id = "444444444444"
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.key.statement : one(s.principals).identifiers == toset(["arn:aws:iam::444444444444:root"]) if startswith(s.sid, "BackupAccount")
    ]) && length([for s in data.aws_iam_policy_document.key.statement : s if startswith(s.sid, "BackupAccount")]) == 2
    error_message = "The backup account (and only it) may use the key to copy the database's snapshots."
  }
  assert {
    condition     = [for v in one([for s in data.aws_iam_policy_document.key.statement : one(s.condition).values if s.sid == "BackupAccountGrantsToAwsServicesOnly"]) : v] == ["true"] && one([for s in data.aws_iam_policy_document.key.statement : one(s.condition).variable if s.sid == "BackupAccountGrantsToAwsServicesOnly"]) == "kms:GrantIsForAWSResource"
    error_message = "The backup account may create grants on the key for AWS services only."
  }
}

run "refuses_a_bad_address" {
  command = plan
  variables {
    alarm_emails = ["not-an-address"]
  }
  expect_failures = [var.alarm_emails]
}
