# Invariants of the migration module (AWS DMS from DigitalOcean into RDS), checked with a
# mocked AWS provider.

mock_provider "aws" {
  source = "../.mocks"
}

variables {
  name                       = "acme-prod"
  secret_prefix              = "acme/prod/"
  vpc_id                     = "vpc-0123456789abcdef0"
  subnet_ids                 = ["subnet-0a", "subnet-0b", "subnet-0c"]
  database_security_group_id = "sg-0database"
  instance_class             = "dms.c6i.large"
  allocated_storage_gb       = 50
  multi_az                   = false
  kms_key_arn                = "arn:aws:kms:ap-southeast-2:111111111111:key/11111111-2222-3333-4444-555555555555"
  alarm_topic_arn            = "arn:aws:sns:ap-southeast-2:111111111111:acme-prod-alarms"
  permissions_boundary       = "arn:aws:iam::111111111111:policy/acme-prod-boundary"
  source_database = {
    database            = "acme"
    port                = 25060
    secret_name         = "acme/migration/digitalocean-source"
    tls                 = "verify-full"
    ca_certificate_pem  = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    ca_certificate_path = "database/digitalocean-ca.pem"
  }
  tables            = { include = ["%"], exclude = ["tmp_%"] }
  lob               = { mode = "limited", max_size_kb = 512 }
  target_secret_arn = "arn:aws:secretsmanager:ap-southeast-2:111111111111:secret:acme/prod/database/dms-XyZ123"
}

# The state carries from run to run: tls require is applied first, on an empty state, and
# the plans run before the other applies, so each plans a fresh create.
run "tls_require_needs_no_certificate" {
  command = apply
  variables {
    source_database = {
      database    = "acme"
      port        = 25060
      secret_name = "acme/migration/digitalocean-source"
      tls         = "require"
    }
  }

  assert {
    condition     = length(aws_dms_certificate.source) == 0 && aws_dms_endpoint.source.ssl_mode == "require"
    error_message = "With tls require the source is encrypted without a CA, and no certificate is imported."
  }
}

run "a_missing_ca_is_refused" {
  command = plan
  variables {
    source_database = {
      database    = "acme"
      port        = 25060
      secret_name = "acme/migration/digitalocean-source"
      tls         = "verify-full"
    }
  }
  expect_failures = [var.source_database]
}

run "clear_text_to_the_source_is_refused" {
  command = plan
  variables {
    source_database = {
      database    = "acme"
      port        = 25060
      secret_name = "acme/migration/digitalocean-source"
      tls         = "none"
      # A CA is given: only the TLS mode can be refused here.
      ca_certificate_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    }
  }
  expect_failures = [var.source_database]
}

run "full_lob_mode_copies_every_lob_in_chunks" {
  command = plan
  variables {
    lob = { mode = "full", max_size_kb = 64 }
  }

  assert {
    condition     = jsondecode(aws_dms_replication_task.this.replication_task_settings).TargetMetadata.FullLobMode == true && jsondecode(aws_dms_replication_task.this.replication_task_settings).TargetMetadata.LobChunkSize == 64 && jsondecode(aws_dms_replication_task.this.replication_task_settings).TargetMetadata.LimitedSizeLobMode == false
    error_message = "Full LOB mode copies every LOB whole, in chunks of lobMaxSizeKb."
  }
}

run "excluding_the_heartbeat_is_refused" {
  command = plan
  variables {
    tables = { include = ["%"], exclude = ["DBKIT_%"] }
  }
  expect_failures = [var.tables]
}

run "replication_instance_is_private_and_encrypted" {
  command = apply

  assert {
    condition     = aws_dms_replication_instance.this.publicly_accessible == false && aws_dms_replication_instance.this.kms_key_arn == var.kms_key_arn && aws_dms_replication_instance.this.replication_instance_class == "dms.c6i.large" && aws_dms_replication_instance.this.allocated_storage == 50
    error_message = "The replication instance has no public address, encrypts its storage with the environment's key, and is sized from the spec."
  }
  assert {
    condition     = toset(aws_dms_replication_subnet_group.this.subnet_ids) == toset(var.subnet_ids) && aws_dms_replication_instance.this.replication_subnet_group_id == aws_dms_replication_subnet_group.this.replication_subnet_group_id && aws_dms_replication_instance.this.vpc_security_group_ids == toset([aws_security_group.this.id])
    error_message = "The replication instance runs in the given private subnets, in its own security group only."
  }
}

run "the_source_is_verified_with_digitaloceans_ca" {
  command = apply

  assert {
    condition     = aws_dms_endpoint.source.ssl_mode == "verify-full" && aws_dms_endpoint.source.certificate_arn == aws_dms_certificate.source[0].certificate_arn && aws_dms_certificate.source[0].certificate_pem == var.source_database.ca_certificate_pem
    error_message = "The source endpoint verifies the server's chain and name (verify-full) against DigitalOcean's CA."
  }
  assert {
    condition     = aws_dms_endpoint.source.secrets_manager_arn == data.aws_secretsmanager_secret.source.arn && aws_dms_endpoint.source.secrets_manager_access_role_arn == aws_iam_role.dms.arn && aws_dms_endpoint.source.password == null && aws_dms_endpoint.source.username == null && aws_dms_endpoint.source.server_name == null
    error_message = "The source's credentials come only from its Secrets Manager secret, read by the DMS role: no password, user or host in the configuration."
  }
}

run "the_target_uses_the_dms_users_secret" {
  command = apply

  assert {
    condition     = aws_dms_endpoint.target.secrets_manager_arn == var.target_secret_arn && aws_dms_endpoint.target.secrets_manager_access_role_arn == aws_iam_role.dms.arn
    error_message = "The target endpoint logs in as the dms database user through its own secret, never as the master."
  }
  assert {
    condition     = aws_dms_endpoint.target.password == null && aws_dms_endpoint.target.username == null && aws_dms_endpoint.target.ssl_mode == "require" && aws_dms_endpoint.target.extra_connection_attributes == "initstmt=SET FOREIGN_KEY_CHECKS=0"
    error_message = "The target endpoint has no password in the configuration, uses TLS (RDS requires it) and loads without foreign-key checks (tables load in parallel)."
  }
}

run "the_dms_role_reads_only_the_two_secrets" {
  command = apply

  assert {
    condition     = toset(jsondecode(aws_iam_role_policy.dms.policy).Statement[0].Resource) == toset([data.aws_secretsmanager_secret.source.arn, var.target_secret_arn]) && jsondecode(aws_iam_role_policy.dms.policy).Statement[1].Resource == var.kms_key_arn && jsondecode(aws_iam_role_policy.dms.policy).Statement[1].Condition.StringEquals["kms:ViaService"] == "secretsmanager.ap-southeast-2.amazonaws.com" && length(jsondecode(aws_iam_role_policy.dms.policy).Statement) == 2
    error_message = "The DMS role reads the source's and the dms user's secrets and decrypts through Secrets Manager only."
  }
  assert {
    condition     = jsondecode(aws_iam_role.dms.assume_role_policy).Statement[0].Principal.Service == "dms.ap-southeast-2.amazonaws.com" && jsondecode(aws_iam_role.dms.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "111111111111"
    error_message = "Only DMS in this region, for this account, assumes the DMS role."
  }
  assert {
    condition     = aws_iam_role.dms.permissions_boundary == var.permissions_boundary && aws_iam_role.dms_vpc[0].permissions_boundary == var.permissions_boundary && aws_iam_role.dms_logs[0].permissions_boundary == var.permissions_boundary
    error_message = "Every role the module creates carries the permissions boundary."
  }
  assert {
    condition     = aws_iam_role.dms_vpc[0].name == "dms-vpc-role" && aws_iam_role.dms_logs[0].name == "dms-cloudwatch-logs-role" && endswith(aws_iam_role_policy_attachment.dms_vpc[0].policy_arn, "service-role/AmazonDMSVPCManagementRole") && endswith(aws_iam_role_policy_attachment.dms_logs[0].policy_arn, "service-role/AmazonDMSCloudWatchLogsRole")
    error_message = "The account roles DMS requires by name exist, with AWS's DMS service-role policies."
  }
}

run "rds_admits_only_the_replication_instance" {
  command = apply

  assert {
    condition     = aws_vpc_security_group_ingress_rule.database_from_dms.security_group_id == var.database_security_group_id && aws_vpc_security_group_ingress_rule.database_from_dms.referenced_security_group_id == aws_security_group.this.id && aws_vpc_security_group_ingress_rule.database_from_dms.cidr_ipv4 == null && aws_vpc_security_group_ingress_rule.database_from_dms.from_port == 3306 && aws_vpc_security_group_ingress_rule.database_from_dms.to_port == 3306
    error_message = "The database's security group admits the replication instance's group on 3306, and no address range."
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.database.referenced_security_group_id == var.database_security_group_id && aws_vpc_security_group_egress_rule.source.from_port == 25060 && aws_vpc_security_group_egress_rule.source.to_port == 25060 && aws_vpc_security_group_egress_rule.https.from_port == 443 && aws_vpc_security_group_egress_rule.https.to_port == 443
    error_message = "The replication instance may reach only RDS, the source's port and HTTPS."
  }
}

run "the_task_copies_the_selected_tables_and_the_heartbeat" {
  command = apply

  assert {
    condition = [for r in jsondecode(aws_dms_replication_task.this.table_mappings).rules : [r["rule-action"], r["object-locator"]["schema-name"], r["object-locator"]["table-name"]] if r["rule-type"] == "selection"] == [
      ["include", "acme", "%"], ["include", "acme", "dbkit_heartbeat"], ["exclude", "acme", "tmp_%"],
    ]
    error_message = "The task selects the spec's tables and always the heartbeat table, then leaves out the excluded ones."
  }
  assert {
    condition     = one([for r in jsondecode(aws_dms_replication_task.this.table_mappings).rules : r if r["rule-type"] == "validation"])["object-locator"]["table-name"] == "dbkit_heartbeat" && one([for r in jsondecode(aws_dms_replication_task.this.table_mappings).rules : r if r["rule-type"] == "validation"])["rule-action"] == "override-validation-function" && length(distinct([for r in jsondecode(aws_dms_replication_task.this.table_mappings).rules : r["rule-id"]])) == length(jsondecode(aws_dms_replication_task.this.table_mappings).rules)
    error_message = "DMS validation skips the heartbeat's changing values (and only the heartbeat's); every rule has its own id."
  }
  assert {
    condition     = aws_dms_replication_task.this.migration_type == "full-load-and-cdc" && aws_dms_replication_task.this.start_replication_task == false && jsondecode(aws_dms_replication_task.this.replication_task_settings).FullLoadSettings.TargetTablePrepMode == "DO_NOTHING" && jsondecode(aws_dms_replication_task.this.replication_task_settings).ValidationSettings.EnableValidation == true
    error_message = "The task is created stopped (the schema comes first from `dbkit schema copy`), never drops or truncates a target table, and validates rows."
  }
  assert {
    condition     = jsondecode(aws_dms_replication_task.this.replication_task_settings).TargetMetadata.LimitedSizeLobMode == true && jsondecode(aws_dms_replication_task.this.replication_task_settings).TargetMetadata.LobMaxSize == 512 && jsondecode(aws_dms_replication_task.this.replication_task_settings).TargetMetadata.FullLobMode == false && jsondecode(aws_dms_replication_task.this.replication_task_settings).TargetMetadata.SupportLobs == true
    error_message = "Limited LOB mode copies LOBs up to the spec's lobMaxSizeKb."
  }
}

run "cdc_latency_alarms_and_events_reach_the_topic" {
  command = apply

  assert {
    condition     = toset([for a in aws_cloudwatch_metric_alarm.cdc_latency : a.metric_name]) == toset(["CDCLatencySource", "CDCLatencyTarget"]) && alltrue([for a in aws_cloudwatch_metric_alarm.cdc_latency : a.namespace == "AWS/DMS" && a.threshold == 300 && a.alarm_actions == toset([var.alarm_topic_arn]) && a.dimensions.ReplicationTaskIdentifier == aws_dms_replication_task.this.resource_identifier && a.dimensions.ReplicationInstanceIdentifier == aws_dms_replication_instance.this.replication_instance_id])
    error_message = "CDC latency on the source side and the target side each alarm to the environment's topic, for this task."
  }
  assert {
    condition     = aws_dms_event_subscription.task.sns_topic_arn == var.alarm_topic_arn && contains(aws_dms_event_subscription.task.event_categories, "failure") && contains(aws_dms_event_subscription.task.event_categories, "state change") && aws_dms_event_subscription.task.source_ids == toset([aws_dms_replication_task.this.replication_task_id]) && aws_dms_event_subscription.instance.sns_topic_arn == var.alarm_topic_arn && contains(aws_dms_event_subscription.instance.event_categories, "failure") && contains(aws_dms_event_subscription.instance.event_categories, "low storage")
    error_message = "The task's failures and state changes, and the instance's failures and low storage, are sent to the environment's topic."
  }
}
