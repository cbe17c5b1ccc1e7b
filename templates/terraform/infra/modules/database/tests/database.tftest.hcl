# Security invariants of the database module, checked with a mocked AWS provider
# (no credentials, no network). Run: terraform test (from the module folder).
# Every run is a plan: Terraform 1.11's test runner cannot apply a module with an
# ephemeral input variable (master_password). The configured values asserted here are
# all known at plan time.

mock_provider "aws" {
  source = "../.mocks"
}

variables {
  name                     = "acme-prod"
  tier                     = "production"
  engine_version           = "8.0"
  instance_class           = "db.r6g.large"
  db_name                  = "acme"
  allocated_storage_gb     = 100
  max_allocated_storage_gb = 400
  multi_az                 = true
  deletion_protection      = true
  backup_retention_days    = 14
  backup_window            = "16:00-17:00"
  maintenance_window       = "sun:17:00-sun:18:00"
  read_replicas            = 0
  parameters               = { long_query_time = "1" }
  vpc_id                   = "vpc-0123456789abcdef0"
  subnet_ids               = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
  client_security_group_id = "sg-0000000000000node1"
  kms_key_arn              = "arn:aws:kms:ap-southeast-2:111111111111:key/11111111-2222-3333-4444-555555555555"
  log_retention_days       = 90
  alarm_topic_arn          = "arn:aws:sns:ap-southeast-2:111111111111:acme-prod-alarms"
  permissions_boundary     = "arn:aws:iam::111111111111:policy/acme-prod-boundary"
}

run "database_is_private_and_encrypted_with_the_cmk" {
  command = plan

  assert {
    condition     = aws_db_instance.this.publicly_accessible == false
    error_message = "The database must not be publicly accessible."
  }
  assert {
    condition     = aws_db_instance.this.storage_encrypted && aws_db_instance.this.kms_key_id == var.kms_key_arn
    error_message = "The database storage must be encrypted with the environment's CMK."
  }
  assert {
    condition     = aws_db_instance.this.manage_master_user_password == true && aws_db_instance.this.password == null && aws_db_instance.this.master_user_secret_kms_key_id == var.kms_key_arn
    error_message = "The master password must be managed by RDS in Secrets Manager (CMK-encrypted), never set by Terraform."
  }
  assert {
    condition     = aws_db_instance.this.performance_insights_kms_key_id == var.kms_key_arn
    error_message = "Performance Insights data must be encrypted with the CMK."
  }
  assert {
    condition     = aws_db_instance.this.iam_database_authentication_enabled && aws_db_instance.this.ca_cert_identifier == "rds-ca-rsa2048-g1"
    error_message = "IAM authentication and the current CA must be on."
  }
}

run "minor_versions_follow_aws" {
  command = plan

  assert {
    condition     = aws_db_instance.this.engine_version == "8.0" && aws_db_instance.this.auto_minor_version_upgrade == true && aws_db_instance.this.allow_major_version_upgrade == false
    error_message = "The engine version is a major.minor prefix with automatic minor upgrades: AWS moves the minor version in the maintenance window, and Terraform never fights it."
  }
  assert {
    condition     = aws_db_parameter_group.this.family == "mysql8.0"
    error_message = "The parameter group family follows the engine's major.minor version."
  }
}

run "refuses_a_pinned_minor_version" {
  command = plan
  variables {
    engine_version = "8.0.42"
  }
  expect_failures = [var.engine_version]
}

run "production_is_multi_az_and_protected" {
  command = plan

  assert {
    condition     = aws_db_instance.this.multi_az == true
    error_message = "Production must be Multi-AZ."
  }
  assert {
    condition     = aws_db_instance.this.deletion_protection == true && aws_db_instance.this.skip_final_snapshot == false
    error_message = "Production must have deletion protection and a final snapshot."
  }
  assert {
    condition     = aws_db_instance.this.backup_retention_period >= 7
    error_message = "Production keeps at least 7 days of backups (PITR)."
  }
  assert {
    condition     = aws_db_instance.this.database_insights_mode == "standard" || aws_db_instance.this.performance_insights_retention_period == 465
    error_message = "Advanced Database Insights needs 465 days of Performance Insights retention."
  }
}

run "production_refuses_single_az" {
  command = plan
  variables {
    multi_az = false
  }
  expect_failures = [var.multi_az]
}

run "production_refuses_no_deletion_protection" {
  command = plan
  variables {
    deletion_protection = false
  }
  expect_failures = [var.deletion_protection]
}

run "production_refuses_short_backups" {
  command = plan
  variables {
    backup_retention_days = 3
  }
  expect_failures = [var.backup_retention_days]
}

run "mysql_is_reachable_only_from_the_nodes" {
  command = plan

  assert {
    condition     = aws_vpc_security_group_ingress_rule.mysql_from_nodes.from_port == 3306 && aws_vpc_security_group_ingress_rule.mysql_from_nodes.to_port == 3306 && aws_vpc_security_group_ingress_rule.mysql_from_nodes.ip_protocol == "tcp"
    error_message = "The only ingress rule must be MySQL, 3306/tcp."
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.mysql_from_nodes.referenced_security_group_id == var.client_security_group_id && aws_vpc_security_group_ingress_rule.mysql_from_nodes.cidr_ipv4 == null && aws_vpc_security_group_ingress_rule.mysql_from_nodes.cidr_ipv6 == null && aws_vpc_security_group_ingress_rule.mysql_from_nodes.prefix_list_id == null
    error_message = "3306 must be open only to the nodes' security group, never to an address range."
  }
  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.mysql_from_admin_clients) == 0
    error_message = "Without admin clients, the nodes' security group is the only source."
  }
  assert {
    condition     = aws_db_subnet_group.this.subnet_ids == toset(var.subnet_ids)
    error_message = "The database must live in the given isolated subnets."
  }
}

run "parameters_enforce_tls_slow_log_and_row_binlogs" {
  command = plan

  assert {
    condition     = contains([for p in aws_db_parameter_group.this.parameter : "${p.name}=${p.value}"], "require_secure_transport=1")
    error_message = "require_secure_transport must be ON."
  }
  assert {
    condition = length(setintersection(
      [for p in aws_db_parameter_group.this.parameter : "${p.name}=${p.value}"],
      ["binlog_format=ROW", "binlog_row_image=FULL", "slow_query_log=1", "log_output=FILE", "local_infile=0", "long_query_time=1"],
    )) == 6
    error_message = "ROW/FULL binlogs, the slow query log to files, no local_infile, and the spec's long_query_time must be set."
  }
  assert {
    condition     = aws_db_parameter_group.this.family == "mysql8.0" && toset(aws_db_instance.this.enabled_cloudwatch_logs_exports) == toset(["error", "slowquery"])
    error_message = "The parameter family must follow the engine version, and error and slow query logs must be exported."
  }
}

# DMS's MySQL target loads with LOAD DATA LOCAL INFILE: local_infile is on only while the
# spec's migration window is open (the env root passes it in the target environment only),
# and it applies at once (a dynamic parameter), both ways.
run "local_infile_only_while_the_migration_window_is_open" {
  command = plan
  variables {
    migration_window_open = true
  }

  assert {
    condition     = one([for p in aws_db_parameter_group.this.parameter : "${p.value}/${p.apply_method}" if p.name == "local_infile"]) == "1/immediate" && contains([for p in aws_db_parameter_group.this.parameter : "${p.name}=${p.value}"], "require_secure_transport=1")
    error_message = "An open migration window turns local_infile on, at once, and changes nothing else the platform enforces."
  }
}

# Dynamic parameters apply at once, static ones at the next reboot (RDS refuses
# immediate for them), and one the module's table does not know waits for the reboot.
run "each_parameter_applies_as_mysql_allows" {
  command = plan
  variables {
    parameters = {
      long_query_time            = "1"
      innodb_print_all_deadlocks = "1"
      max_connections            = "400"
      innodb_read_io_threads     = "8"
      lower_case_table_names     = "1"
      platformgen_unknown_thing  = "1"
    }
  }

  assert {
    condition = alltrue([for p in aws_db_parameter_group.this.parameter : p.apply_method == "immediate" if contains([
      "long_query_time", "innodb_print_all_deadlocks", "max_connections", "require_secure_transport",
      "binlog_format", "binlog_row_image", "slow_query_log", "log_output", "local_infile",
    ], p.name)]) && length([for p in aws_db_parameter_group.this.parameter : p if p.apply_method == "immediate"]) == 9
    error_message = "Dynamic parameters (the spec's and the platform's) must apply at once (immediate), not wait for a reboot."
  }
  assert {
    condition = toset([for p in aws_db_parameter_group.this.parameter : p.name if p.apply_method == "pending-reboot"]) == toset([
      "tls_version", "innodb_read_io_threads", "lower_case_table_names", "platformgen_unknown_thing",
    ])
    error_message = "Static parameters (tls_version on RDS, innodb_read_io_threads, lower_case_table_names) and unknown ones must wait for the next reboot."
  }
}

run "the_spec_cannot_weaken_enforced_parameters" {
  command = plan
  variables {
    parameters = { require_secure_transport = "0" }
  }
  expect_failures = [var.parameters]
}

run "alarms_notify_the_topic" {
  command = plan

  assert {
    condition     = length(aws_db_instance.replica) == 0 && length(aws_secretsmanager_secret.master) == 0
    error_message = "Without replicas there is no replica and no Terraform-written master secret."
  }
  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.primary)) == toset(["connections", "cpu", "memory", "storage"]) && alltrue([for a in aws_cloudwatch_metric_alarm.primary : a.alarm_actions == toset([var.alarm_topic_arn])])
    error_message = "CPU, storage, connections and memory alarms must notify the alarm topic."
  }
  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.this : g.kms_key_id == var.kms_key_arn && g.retention_in_days == 90])
    error_message = "Exported log groups must be encrypted and keep the spec's retention."
  }
}

# The connections alarm fires below what the class admits (db.t4g.medium: MySQL's
# {DBInstanceClassMemory/12582880} is about 312), and the storage alarm is relative to the
# allocated storage, not to the autoscaling ceiling.
run "alarm_thresholds_follow_the_class_and_the_allocation" {
  command = plan
  variables {
    instance_class           = "db.t4g.medium"
    allocated_storage_gb     = 100
    max_allocated_storage_gb = 1000
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.primary["connections"].threshold == 245 && aws_cloudwatch_metric_alarm.primary["connections"].threshold < 312 * 0.8
    error_message = "On db.t4g.medium (max_connections about 312) the connections alarm must fire at 80% of a safe estimate (245), not above what MySQL admits."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.primary["storage"].threshold == 100 * 1073741824 * 5 / 100
    error_message = "With autoscaling headroom the storage alarm fires when less than 5% of the allocated storage (not of the ceiling) is free."
  }
  assert {
    condition     = aws_db_event_subscription.this.sns_topic == var.alarm_topic_arn && aws_db_event_subscription.this.source_type == "db-instance" && aws_db_event_subscription.this.source_ids == toset(["acme-prod"]) && alltrue([for c in ["availability", "failover", "failure", "low storage", "maintenance"] : contains(aws_db_event_subscription.this.event_categories, c)])
    error_message = "RDS events (availability, failover, failure, low storage, maintenance) of the instance must reach the alarm topic."
  }
}

run "alarm_thresholds_take_the_specs_max_connections_and_fixed_storage" {
  command = plan
  variables {
    instance_class           = "db.r6g.large"
    allocated_storage_gb     = 200
    max_allocated_storage_gb = 200
    parameters               = { max_connections = "1000" }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.primary["connections"].threshold == 800
    error_message = "A spec max_connections (1000) sets the connections alarm at 80% of it."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.primary["storage"].threshold == 200 * 1073741824 / 10
    error_message = "Without autoscaling the storage alarm fires when less than 10% of the allocated storage is free."
  }
}

run "a_class_of_unknown_memory_needs_max_connections" {
  command = plan
  variables {
    instance_class = "db.m6i.metal"
  }
  expect_failures = [aws_cloudwatch_metric_alarm.primary]
}

run "the_platform_executor_reaches_mysql_by_its_group_only" {
  command = plan
  variables {
    admin_client_security_groups = { platform-executor = "sg-0000000000000exec1" }
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.mysql_from_admin_clients["platform-executor"].referenced_security_group_id == "sg-0000000000000exec1" && aws_vpc_security_group_ingress_rule.mysql_from_admin_clients["platform-executor"].cidr_ipv4 == null && aws_vpc_security_group_ingress_rule.mysql_from_admin_clients["platform-executor"].from_port == 3306 && aws_vpc_security_group_ingress_rule.mysql_from_admin_clients["platform-executor"].to_port == 3306
    error_message = "The platform executor's group is admitted on 3306 only, by group, never by address range."
  }
}

run "replicas_rotate_the_master_by_version" {
  command = plan
  variables {
    read_replicas           = 1
    master_password         = "only-a-test-value-never-stored-0123456789"
    master_password_version = 2
  }

  assert {
    condition     = aws_db_instance.this.password_wo_version == 2 && aws_secretsmanager_secret_version.master[0].secret_string_wo_version == 2
    error_message = "Bumping master_password_version sets the new password on the instance and in its secret together."
  }
}

run "replicas_get_a_write_only_password" {
  command = plan
  variables {
    read_replicas   = 1
    master_password = "only-a-test-value-never-stored-0123456789"
  }

  assert {
    condition     = length(aws_db_instance.replica) == 1 && alltrue([for r in aws_db_instance.replica : r.publicly_accessible == false && r.storage_encrypted && r.replicate_source_db == aws_db_instance.this.identifier])
    error_message = "One private, encrypted read replica of the primary was asked for."
  }
  assert {
    condition     = aws_db_instance.this.manage_master_user_password == null && aws_db_instance.this.password == null && aws_db_instance.this.password_wo_version == 1
    error_message = "With replicas the password goes write-only (password_wo), never into state."
  }
  assert {
    condition     = aws_secretsmanager_secret.master[0].kms_key_id == var.kms_key_arn && aws_secretsmanager_secret_version.master[0].secret_string_wo_version == 1 && aws_secretsmanager_secret.master[0].name == "acme-prod-database-master"
    error_message = "The password is written (write-only) to a CMK-encrypted secret: break-glass, no app reads it."
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.replica_lag) == 1
    error_message = "Each replica has a replica lag alarm."
  }
}

run "replicas_need_a_password" {
  command = plan
  variables {
    read_replicas = 1
  }
  expect_failures = [aws_db_instance.this]
}

run "development_may_be_single_az" {
  command = plan
  variables {
    name                  = "acme-dev"
    tier                  = "development"
    multi_az              = false
    deletion_protection   = false
    backup_retention_days = 1
    engine_version        = "8.4"
  }

  assert {
    condition     = aws_db_instance.this.multi_az == false && aws_db_parameter_group.this.family == "mysql8.4"
    error_message = "A development database follows its settings."
  }
}

run "every_role_carries_the_boundary_and_replicas_stay_removable" {
  command = plan
  variables {
    read_replicas   = 2
    master_password = "only-a-test-value-never-stored-0123456789"
  }

  assert {
    condition     = aws_iam_role.monitoring.permissions_boundary == var.permissions_boundary
    error_message = "The enhanced monitoring role carries the permissions boundary."
  }
  assert {
    # The boundary denies deleting an instance without this tag, and lets only instances
    # named <name>-replica-* carry it.
    condition     = alltrue([for k, r in aws_db_instance.replica : r.tags["platformgen.io/role"] == "read-replica" && startswith(k, "acme-prod-replica-")]) && !contains(keys(coalesce(aws_db_instance.this.tags, {})), "platformgen.io/role")
    error_message = "Read replicas carry the read-replica tag (so they stay removable under the boundary); the primary never does."
  }
}
