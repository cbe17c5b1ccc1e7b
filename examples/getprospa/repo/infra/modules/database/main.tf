# RDS for MySQL 8 in the isolated subnets, reachable only from the cluster nodes'
# security group on 3306. Storage, the master secret, Performance Insights data and
# the exported logs are encrypted with the environment's KMS key.
#
# The master password never enters Terraform state:
# - without read replicas, RDS creates and rotates it in Secrets Manager
#   (manage_master_user_password);
# - RDS cannot create read replicas of an instance whose password it manages, so with
#   replicas the caller passes an ephemeral password (the environment roots generate
#   one with the ephemeral aws_secretsmanager_random_password), which goes write-only
#   (password_wo, secret_string_wo) into the instance and into a secret of the same
#   shape ({"username", "password"}); bump master_password_version to rotate it.

data "aws_partition" "current" {}

locals {
  family = "mysql${var.engine_version}"
  # Set by the platform; the spec cannot weaken them (see variables.tf).
  enforced_parameters = {
    require_secure_transport = "1"
    binlog_format            = "ROW"
    binlog_row_image         = "FULL"
    slow_query_log           = "1"
    log_output               = "FILE"
    # DMS loads a MySQL target with LOAD DATA LOCAL INFILE: on only while the spec's
    # migration window is open, and only in the migration's target environment.
    local_infile = var.migration_window_open ? "1" : "0"
  }
  # Each parameter applies as MySQL/RDS allow (mysql-parameters.json): a dynamic one at
  # once (immediate), a static one at the next reboot (pending-reboot; RDS refuses
  # immediate for it). A parameter the table does not know waits for the next reboot,
  # which RDS accepts for every parameter (platformgen warns about it).
  apply_types = jsondecode(file("${path.module}/mysql-parameters.json")).parameters
  parameters = merge(
    { long_query_time = "2" },
    var.parameters,
    local.enforced_parameters,
    { tls_version = "TLSv1.2,TLSv1.3" },
  )
  log_exports = ["error", "slowquery"]
  advanced    = var.database_insights_mode == "advanced"
  replicas    = { for i in range(var.read_replicas) : "${var.name}-replica-${i + 1}" => i }
  rds_managed = var.read_replicas == 0
  username    = "platform_admin"
}

resource "aws_secretsmanager_secret" "master" {
  #checkov:skip=CKV2_AWS_57:Rotated by bumping master_password_version (a write-only value); RDS-managed rotation is impossible while read replicas exist.
  count                   = local.rds_managed ? 0 : 1
  name                    = "${var.name}-database-master"
  description             = "Master user of ${var.name} (write-only from Terraform; never in state)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 30
}

resource "aws_secretsmanager_secret_version" "master" {
  count     = local.rds_managed ? 0 : 1
  secret_id = aws_secretsmanager_secret.master[0].id
  secret_string_wo = jsonencode({
    username = local.username
    password = var.master_password
  })
  secret_string_wo_version = var.master_password_version
}

resource "aws_security_group" "this" {
  name        = "${var.name}-database"
  description = "MySQL of ${var.name}: 3306 from the cluster nodes only"
  vpc_id      = var.vpc_id
  tags        = { Name = "${var.name}-database" }
}

resource "aws_vpc_security_group_ingress_rule" "mysql_from_nodes" {
  security_group_id            = aws_security_group.this.id
  description                  = "MySQL from the database clients' security group"
  ip_protocol                  = "tcp"
  from_port                    = 3306
  to_port                      = 3306
  referenced_security_group_id = var.client_security_group_id
}

# The platform executor (the database kit: users apply, lag, cutover) by its own security
# group: the only other client. Keys are static labels, so the plan never waits for an id.
resource "aws_vpc_security_group_ingress_rule" "mysql_from_admin_clients" {
  for_each                     = var.admin_client_security_groups
  security_group_id            = aws_security_group.this.id
  description                  = "MySQL from ${each.key} (the database kit)"
  ip_protocol                  = "tcp"
  from_port                    = 3306
  to_port                      = 3306
  referenced_security_group_id = each.value
}

resource "aws_db_subnet_group" "this" {
  name        = var.name
  description = "Isolated subnets of ${var.name}"
  subnet_ids  = var.subnet_ids
}

resource "aws_db_parameter_group" "this" {
  # A name prefix plus create_before_destroy lets a major upgrade switch to a new
  # family's group while the old one is still attached.
  name_prefix = "${var.name}-${replace(local.family, ".", "-")}-"
  family      = local.family
  description = "MySQL parameters of ${var.name}"

  # require_secure_transport is its own block, so scanners (checkov CKV2_AWS_69) see TLS
  # enforced without evaluating the merge.
  parameter {
    name         = "require_secure_transport"
    value        = local.enforced_parameters.require_secure_transport
    apply_method = "immediate"
  }

  dynamic "parameter" {
    for_each = { for k, v in local.parameters : k => v if k != "require_secure_transport" }
    content {
      name         = parameter.key
      value        = parameter.value
      apply_method = lookup(local.apply_types, parameter.key, "static") == "dynamic" ? "immediate" : "pending-reboot"
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the spec's observability.logRetentionDays (default 90 days); set 365 or more there where compliance asks for it.
  # RDS exports each log type to /aws/rds/instance/<id>/<type>; creating the groups
  # first sets their retention and encryption.
  for_each          = { for pair in setproduct(concat([var.name], keys(local.replicas)), local.log_exports) : "${pair[0]}/${pair[1]}" => pair }
  name              = "/aws/rds/instance/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name                 = "${var.name}-rds-monitoring"
  assume_role_policy   = data.aws_iam_policy_document.monitoring_assume.json
  permissions_boundary = var.permissions_boundary
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_133:Retention is var.backup_retention_days, which variables.tf validates to 1-35 days (7+ in production); checkov cannot read a variable of a module no root calls (a spec without a database).
  #checkov:skip=CKV_AWS_293:Deletion protection follows the spec per environment; production refuses false (variables.tf validation, policy.prod-deletion-protection), development may drop it.
  #checkov:skip=CKV_AWS_157:Multi-AZ follows the spec per environment; production refuses single-AZ (variables.tf validation, policy.prod-multi-az), development saves the standby.
  identifier     = var.name
  engine         = "mysql"
  engine_version = var.engine_version
  instance_class = var.instance_class
  db_name        = var.db_name

  username                      = local.username
  manage_master_user_password   = local.rds_managed ? true : null
  master_user_secret_kms_key_id = local.rds_managed ? var.kms_key_arn : null
  password_wo                   = local.rds_managed ? null : var.master_password
  password_wo_version           = local.rds_managed ? null : var.master_password_version

  allocated_storage     = var.allocated_storage_gb
  max_allocated_storage = var.max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.this.id]
  publicly_accessible    = false
  multi_az               = var.multi_az
  ca_cert_identifier     = "rds-ca-rsa2048-g1"
  parameter_group_name   = aws_db_parameter_group.this.name

  iam_database_authentication_enabled = true
  deletion_protection                 = var.deletion_protection
  backup_retention_period             = var.backup_retention_days
  backup_window                       = var.backup_window
  maintenance_window                  = var.maintenance_window
  copy_tags_to_snapshot               = true
  delete_automated_backups            = false
  skip_final_snapshot                 = false
  final_snapshot_identifier           = "${var.name}-final"
  # engine_version is a major.minor prefix (8.0): AWS applies minor versions in the
  # maintenance window, and the provider reports the running one in engine_version_actual.
  auto_minor_version_upgrade  = true
  allow_major_version_upgrade = false
  apply_immediately           = false

  enabled_cloudwatch_logs_exports = local.log_exports
  monitoring_interval             = var.monitoring_interval
  monitoring_role_arn             = aws_iam_role.monitoring.arn
  database_insights_mode          = var.database_insights_mode
  performance_insights_enabled    = true
  performance_insights_kms_key_id = var.kms_key_arn
  # Advanced Database Insights keeps 15 months (465 days); standard keeps the free 7 days.
  performance_insights_retention_period = local.advanced ? 465 : 7

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy_attachment.monitoring]

  lifecycle {
    precondition {
      condition     = local.rds_managed || var.master_password != null
      error_message = "With read replicas RDS cannot manage the master password: pass master_password (an ephemeral value)."
    }
  }
}

resource "aws_db_instance" "replica" {
  #checkov:skip=CKV_AWS_133:Retention is var.backup_retention_days, which variables.tf validates to 1-35 days (7+ in production); checkov cannot read a variable of a module no root calls (a spec without a database).
  #checkov:skip=CKV_AWS_157:Read replicas scale reads; the primary is Multi-AZ in production, and a failed replica is recreated from it.
  #checkov:skip=CKV_AWS_293:A read replica must stay removable: its deletion protection follows the primary's setting, and the permissions boundary lets roles delete only instances tagged read-replica.
  for_each            = local.replicas
  identifier          = each.key
  replicate_source_db = aws_db_instance.this.identifier
  instance_class      = var.instance_class
  storage_type        = "gp3"
  storage_encrypted   = true
  kms_key_id          = var.kms_key_arn

  vpc_security_group_ids = [aws_security_group.this.id]
  publicly_accessible    = false
  multi_az               = false
  ca_cert_identifier     = "rds-ca-rsa2048-g1"
  parameter_group_name   = aws_db_parameter_group.this.name

  iam_database_authentication_enabled = true
  deletion_protection                 = var.deletion_protection
  backup_retention_period             = var.backup_retention_days
  copy_tags_to_snapshot               = true
  skip_final_snapshot                 = true
  auto_minor_version_upgrade          = true
  apply_immediately                   = false

  enabled_cloudwatch_logs_exports       = local.log_exports
  monitoring_interval                   = var.monitoring_interval
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  database_insights_mode                = var.database_insights_mode
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = local.advanced ? 465 : 7

  # The permissions boundary lets a role delete a database instance only when it carries
  # this tag, and lets only instances named <name>-replica-* carry it: replicas stay
  # removable, the primary does not (infra/docs/adr/0003-roles-and-permissions.md).
  tags = { "platformgen.io/role" = "read-replica" }

  depends_on = [aws_cloudwatch_log_group.this]
}

# --- Alarms --------------------------------------------------------------------------

locals {
  alarms = {
    cpu = {
      metric    = "CPUUtilization", statistic = "Average", comparison = "GreaterThanThreshold"
      threshold = 80, periods = 3, description = "CPU above 80% for 15 minutes"
    }
    storage = {
      metric      = "FreeStorageSpace", statistic = "Minimum", comparison = "LessThanThreshold"
      threshold   = local.storage_alarm_bytes, periods = 1
      description = local.storage_autoscales ? "Less than ${local.storage_alarm_percent}% of the ${var.allocated_storage_gb} GiB allocated is free: storage autoscaling (at 10%) did not keep up or reached ${var.max_allocated_storage_gb} GiB" : "Less than ${local.storage_alarm_percent}% of the ${var.allocated_storage_gb} GiB allocated is free"
    }
    connections = {
      metric    = "DatabaseConnections", statistic = "Maximum", comparison = "GreaterThanThreshold"
      threshold = local.connections_alarm, periods = 2, description = "Connections above ${local.connections_alarm} (80% of max_connections ${coalesce(local.max_connections, -1)}) for 10 minutes"
    }
    memory = {
      metric    = "FreeableMemory", statistic = "Minimum", comparison = "LessThanThreshold"
      threshold = 268435456, periods = 3, description = "Less than 256 MiB freeable memory for 15 minutes"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "primary" {
  for_each            = local.alarms
  alarm_name          = "${var.name}-database-${each.key}"
  alarm_description   = "${var.name} database: ${each.value.description}"
  namespace           = "AWS/RDS"
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  period              = 300
  evaluation_periods  = each.value.periods
  treat_missing_data  = "breaching"
  dimensions          = { DBInstanceIdentifier = aws_db_instance.this.identifier }
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]

  lifecycle {
    precondition {
      condition     = local.connections_alarm > 0
      error_message = "The module cannot tell the memory of ${var.instance_class} (capacity.tf): set max_connections in the spec's database.parameters, or max_connections_alarm."
    }
  }
}

# RDS's own events (failover, failure, low storage, maintenance, restarts...) of the
# primary and its replicas, to the alarm topic (its key and policy admit RDS events).
resource "aws_db_event_subscription" "this" {
  name        = "${var.name}-database-events"
  sns_topic   = var.alarm_topic_arn
  source_type = "db-instance"
  source_ids  = concat([aws_db_instance.this.identifier], [for r in aws_db_instance.replica : r.identifier])
  event_categories = [
    "availability", "deletion", "failover", "failure", "low storage", "maintenance",
    "notification", "read replica", "recovery", "restoration",
  ]
}

resource "aws_cloudwatch_metric_alarm" "replica_lag" {
  for_each            = aws_db_instance.replica
  alarm_name          = "${each.key}-lag"
  alarm_description   = "${each.key}: replica more than 60 seconds behind for 10 minutes"
  namespace           = "AWS/RDS"
  metric_name         = "ReplicaLag"
  statistic           = "Maximum"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 60
  period              = 300
  evaluation_periods  = 2
  treat_missing_data  = "breaching"
  dimensions          = { DBInstanceIdentifier = each.value.identifier }
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
}
