# AWS DMS copies a DigitalOcean managed MySQL schema into this environment's RDS database
# and keeps it in sync until cutover (infra/docs/adr/0013-dms-migration.md):
#
#   DigitalOcean MySQL (public endpoint, TLS verify-full with DigitalOcean's CA)
#     <- NAT EIPs (DigitalOcean's trusted sources) <- replication instance (private
#        subnets, no public address) -> RDS (3306, admitted from the instance's group only)
#
# - One provisioned replication instance, not DMS Serverless: its size is the spec's, it
#   runs one full-load-and-cdc task, and DMS's own assessment, validation and CDC metrics
#   are those of a task on an instance.
# - Credentials only through Secrets Manager: the source's secret (the spec's
#   passwordSecret) and the `dms` database user's secret on the target, both read by the
#   <name>-dms role; no password is in this configuration or its state.
# - The task is created stopped: `dbkit schema copy` creates the target schema first, then
#   the runbook starts the task (TargetTablePrepMode DO_NOTHING: DMS never drops,
#   recreates or truncates a target table).
# - The heartbeat table of the kit (dbkit_heartbeat) is always copied (`dbkit lag` reads
#   it on the target); DMS validation compares constants for its changing columns.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

data "aws_secretsmanager_secret" "source" {
  name = var.source_database.secret_name
}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
  verify     = var.source_database.tls != "require"
  # The dms user's secret: one of the environment's per-user secrets (modules/workloads makes
  # it empty; `dbkit users apply` writes it; never Terraform).
  target_secret_arn = var.target_secret_arn
  schema            = var.source_database.database
  task_id           = "${var.name}-dms-task"

  selection = concat(
    [for p in var.tables.include : { action = "include", table = p }],
    [{ action = "include", table = var.heartbeat_table }],
    [for p in var.tables.exclude : { action = "exclude", table = p }],
  )
  table_mappings = {
    rules = concat(
      [
        for i, s in local.selection : {
          "rule-type"      = "selection"
          "rule-id"        = tostring(i + 1)
          "rule-name"      = "${s.action}-${i + 1}"
          "object-locator" = { "schema-name" = local.schema, "table-name" = s.table }
          "rule-action"    = s.action
        }
      ],
      # The heartbeat row changes every second: validation compares a constant instead of
      # its values (DMS compares the key column id as always; it is 1).
      [
        {
          "rule-type"   = "validation"
          "rule-id"     = tostring(length(local.selection) + 1)
          "rule-name"   = "heartbeat-not-validated"
          "rule-target" = "column"
          "object-locator" = {
            "schema-name" = local.schema
            "table-name"  = var.heartbeat_table
            "column-name" = "%"
          }
          "rule-action"     = "override-validation-function"
          "source-function" = "case when $${column-name} is NULL then NULL else 0 end"
          "target-function" = "case when $${column-name} is NULL then NULL else 0 end"
        },
      ],
    )
  }

  full_lob = var.lob.mode == "full"
  task_settings = {
    TargetMetadata = {
      SupportLobs        = true
      FullLobMode        = local.full_lob
      LobChunkSize       = local.full_lob ? var.lob.max_size_kb : 0
      LimitedSizeLobMode = !local.full_lob
      LobMaxSize         = local.full_lob ? 0 : var.lob.max_size_kb
    }
    FullLoadSettings = {
      # The target schema comes from `dbkit schema copy` before the load (ADR 0013).
      TargetTablePrepMode = "DO_NOTHING"
    }
    ControlTablesSettings = {
      # DMS's own tables (status, validation failures) stay out of the app's schema.
      ControlSchema = "awsdms_control"
    }
    ValidationSettings = {
      EnableValidation = var.validation
      ValidationMode   = "ROW_LEVEL"
    }
    Logging = {
      EnableLogging = true
    }
  }

  alarms = {
    source = { metric = "CDCLatencySource", what = "reading the source's binlog" }
    target = { metric = "CDCLatencyTarget", what = "applying changes to RDS" }
  }
}

# --- Account roles DMS's API requires by name --------------------------------------------

# DMS manages the replication instance's network interfaces and writes task logs as
# these two roles, which must exist with exactly these names in the account.
resource "aws_iam_role" "dms_vpc" {
  count                = var.create_account_roles ? 1 : 0
  name                 = "dms-vpc-role"
  description          = "AWS DMS manages replication instances' network interfaces (name required by DMS)"
  permissions_boundary = var.permissions_boundary
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "dms.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy_attachment" "dms_vpc" {
  count      = var.create_account_roles ? 1 : 0
  role       = aws_iam_role.dms_vpc[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonDMSVPCManagementRole"
}

resource "aws_iam_role" "dms_logs" {
  count                = var.create_account_roles ? 1 : 0
  name                 = "dms-cloudwatch-logs-role"
  description          = "AWS DMS writes task logs to CloudWatch Logs (name required by DMS)"
  permissions_boundary = var.permissions_boundary
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "dms.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy_attachment" "dms_logs" {
  count      = var.create_account_roles ? 1 : 0
  role       = aws_iam_role.dms_logs[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonDMSCloudWatchLogsRole"
}

# --- Credentials ---------------------------------------------------------------------------

# DMS reads both endpoints' secrets as this role (secrets_manager_access_role_arn).
resource "aws_iam_role" "dms" {
  name                 = "${var.name}-dms"
  description          = "AWS DMS reads the source's and the dms user's database secrets"
  permissions_boundary = var.permissions_boundary
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "dms.${local.region}.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "dms" {
  name = "read-the-endpoint-secrets"
  role = aws_iam_role.dms.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "TheTwoEndpointSecrets"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
        Resource = [data.aws_secretsmanager_secret.source.arn, local.target_secret_arn]
      },
      {
        Sid       = "DecryptThemThroughSecretsManager"
        Effect    = "Allow"
        Action    = "kms:Decrypt"
        Resource  = var.kms_key_arn
        Condition = { StringEquals = { "kms:ViaService" = "secretsmanager.${local.region}.amazonaws.com" } }
      },
    ]
  })
}

# --- Network -------------------------------------------------------------------------------

resource "aws_dms_replication_subnet_group" "this" {
  replication_subnet_group_id          = "${var.name}-dms"
  replication_subnet_group_description = "Private subnets of ${var.name}: DMS reaches DigitalOcean through NAT"
  subnet_ids                           = var.subnet_ids

  depends_on = [aws_iam_role_policy_attachment.dms_vpc]
}

resource "aws_security_group" "this" {
  name        = "${var.name}-dms"
  description = "DMS replication instance of ${var.name}: out to the source and RDS only"
  vpc_id      = var.vpc_id
  tags        = { Name = "${var.name}-dms" }
}

resource "aws_vpc_security_group_egress_rule" "source" {
  #checkov:skip=CKV_AWS_382:DigitalOcean's managed MySQL has a public endpoint with no fixed address range; only its port is open, TLS verify-full checks the server, and DigitalOcean's trusted sources admit only the NAT addresses.
  security_group_id = aws_security_group.this.id
  description       = "The DigitalOcean source (public endpoint, through NAT)"
  ip_protocol       = "tcp"
  from_port         = var.source_database.port
  to_port           = var.source_database.port
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "https" {
  #checkov:skip=CKV_AWS_382:AWS APIs (Secrets Manager, CloudWatch, KMS) through the VPC endpoints or NAT, on 443 only.
  security_group_id = aws_security_group.this.id
  description       = "AWS APIs (Secrets Manager, CloudWatch Logs, KMS) on 443"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "database" {
  security_group_id            = aws_security_group.this.id
  description                  = "The RDS target"
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  referenced_security_group_id = var.database_security_group_id
}

# The database admits the replication instance, and nothing else is added.
resource "aws_vpc_security_group_ingress_rule" "database_from_dms" {
  security_group_id            = var.database_security_group_id
  description                  = "MySQL from the DMS replication instance of ${var.name}"
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  referenced_security_group_id = aws_security_group.this.id
}

# --- Replication -----------------------------------------------------------------------------

resource "aws_dms_replication_instance" "this" {
  replication_instance_id     = "${var.name}-dms"
  replication_instance_class  = var.instance_class
  allocated_storage           = var.allocated_storage_gb
  multi_az                    = var.multi_az
  publicly_accessible         = false
  kms_key_arn                 = var.kms_key_arn
  replication_subnet_group_id = aws_dms_replication_subnet_group.this.replication_subnet_group_id
  vpc_security_group_ids      = [aws_security_group.this.id]
  auto_minor_version_upgrade  = true
  apply_immediately           = false

  depends_on = [aws_iam_role_policy_attachment.dms_logs]
}

resource "aws_dms_certificate" "source" {
  count           = local.verify ? 1 : 0
  certificate_id  = "${var.name}-dms-source-ca"
  certificate_pem = var.source_database.ca_certificate_pem
}

resource "aws_dms_endpoint" "source" {
  endpoint_id                     = "${var.name}-dms-source"
  endpoint_type                   = "source"
  engine_name                     = "mysql"
  secrets_manager_arn             = data.aws_secretsmanager_secret.source.arn
  secrets_manager_access_role_arn = aws_iam_role.dms.arn
  ssl_mode                        = var.source_database.tls
  certificate_arn                 = local.verify ? aws_dms_certificate.source[0].certificate_arn : null
  kms_key_arn                     = var.kms_key_arn

  depends_on = [aws_iam_role_policy.dms]
}

resource "aws_dms_endpoint" "target" {
  endpoint_id                     = "${var.name}-dms-target"
  endpoint_type                   = "target"
  engine_name                     = "mysql"
  secrets_manager_arn             = local.target_secret_arn
  secrets_manager_access_role_arn = aws_iam_role.dms.arn
  # RDS refuses clear text (require_secure_transport=1).
  ssl_mode = "require"
  # DMS loads tables in parallel, in no foreign-key order (the schema from
  # `dbkit schema copy` has the source's foreign keys).
  extra_connection_attributes = "initstmt=SET FOREIGN_KEY_CHECKS=0"
  kms_key_arn                 = var.kms_key_arn

  depends_on = [aws_iam_role_policy.dms]
}

resource "aws_dms_replication_task" "this" {
  replication_task_id       = local.task_id
  resource_identifier       = local.task_id
  migration_type            = var.migration_type
  replication_instance_arn  = aws_dms_replication_instance.this.replication_instance_arn
  source_endpoint_arn       = aws_dms_endpoint.source.endpoint_arn
  target_endpoint_arn       = aws_dms_endpoint.target.endpoint_arn
  table_mappings            = jsonencode(local.table_mappings)
  replication_task_settings = jsonencode(local.task_settings)
  # Started by the runbook after `dbkit schema copy`, never by an apply.
  start_replication_task = false
}

# --- Alarms and events ---------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "cdc_latency" {
  for_each            = var.migration_type == "full-load-and-cdc" ? local.alarms : {}
  alarm_name          = "${var.name}-dms-cdc-latency-${each.key}"
  alarm_description   = "${var.name} DMS: ${each.value.metric} above ${var.cdc_latency_alarm_seconds} s for 15 minutes (${each.value.what}); cutover waits for it"
  namespace           = "AWS/DMS"
  metric_name         = each.value.metric
  statistic           = "Maximum"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.cdc_latency_alarm_seconds
  period              = 300
  evaluation_periods  = 3
  # No data: the task is stopped (before the load, after cutover); its failures and state
  # changes reach the topic through the event subscription.
  treat_missing_data = "notBreaching"
  dimensions = {
    ReplicationInstanceIdentifier = aws_dms_replication_instance.this.replication_instance_id
    ReplicationTaskIdentifier     = aws_dms_replication_task.this.resource_identifier
  }
  alarm_actions = [var.alarm_topic_arn]
  ok_actions    = [var.alarm_topic_arn]
}

resource "aws_dms_event_subscription" "instance" {
  name             = "${var.name}-dms-instance-events"
  sns_topic_arn    = var.alarm_topic_arn
  source_type      = "replication-instance"
  source_ids       = [aws_dms_replication_instance.this.replication_instance_id]
  event_categories = ["configuration change", "failover", "failure", "low storage", "maintenance"]
  enabled          = true
}

resource "aws_dms_event_subscription" "task" {
  name             = "${var.name}-dms-task-events"
  sns_topic_arn    = var.alarm_topic_arn
  source_type      = "replication-task"
  source_ids       = [aws_dms_replication_task.this.replication_task_id]
  event_categories = ["failure", "state change"]
  enabled          = true
}
