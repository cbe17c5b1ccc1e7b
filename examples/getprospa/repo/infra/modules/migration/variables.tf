variable "name" {
  description = "Prefix of every name, <project>-<environment> (the migration's target environment)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name)) && length(var.name) <= 33
    error_message = "name must be lowercase letters, digits and single hyphens, at most 33 characters (DMS identifiers with their suffixes stay within 63)."
  }
}

variable "secret_prefix" {
  description = "Prefix of the environment's secrets, <project>/<environment>/: the dms user's secret is <prefix>database/dms."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*/[a-z][a-z0-9]*/$", var.secret_prefix))
    error_message = "secret_prefix must be <project>/<environment>/."
  }
}

variable "vpc_id" {
  description = "ID of the VPC."
  type        = string

  validation {
    condition     = can(regex("^vpc-", var.vpc_id))
    error_message = "vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Private subnets (a route out through NAT, whose addresses DigitalOcean's trusted sources admit), in at least two zones as DMS requires."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for s in var.subnet_ids : can(regex("^subnet-", s))])
    error_message = "subnet_ids must list at least two subnet IDs (subnet-...)."
  }
}

variable "database_security_group_id" {
  description = "Security group of the RDS target: it gets one rule admitting the replication instance on database_port."
  type        = string

  validation {
    condition     = can(regex("^sg-", var.database_security_group_id))
    error_message = "database_security_group_id must be a security group ID (sg-...)."
  }
}

variable "database_port" {
  description = "Port of the RDS target."
  type        = number
  default     = 3306

  validation {
    condition     = var.database_port >= 1 && var.database_port <= 65535 && floor(var.database_port) == var.database_port
    error_message = "database_port must be a TCP port."
  }
}

variable "instance_class" {
  description = "Replication instance class (spec migration.dms.instanceClass), e.g. dms.c6i.large."
  type        = string

  validation {
    condition     = can(regex("^dms\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "instance_class must be a DMS instance class such as dms.c6i.large."
  }
}

variable "allocated_storage_gb" {
  description = "Storage of the replication instance in GiB (spec migration.dms.allocatedStorageGb): task logs and changes cached during the full load."
  type        = number

  validation {
    condition     = var.allocated_storage_gb >= 5 && var.allocated_storage_gb <= 6144 && floor(var.allocated_storage_gb) == var.allocated_storage_gb
    error_message = "allocated_storage_gb must be a whole number from 5 to 6144."
  }
}

variable "multi_az" {
  description = "Run the replication instance Multi-AZ (spec migration.dms.multiAz)."
  type        = bool
}

variable "kms_key_arn" {
  description = "The environment's KMS key: encrypts the replication instance's storage, the endpoints' connection settings and the dms user's secret."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "source_database" {
  description = "The DigitalOcean managed MySQL source: the schema to copy, its port, the Secrets Manager secret (by name) holding {username, password, host, port}, the TLS mode (verify-full, verify-ca or require) and, for the verify modes, DigitalOcean's CA certificate (PEM) and the repository path it was read from."
  type = object({
    database            = string
    port                = number
    secret_name         = string
    tls                 = string
    ca_certificate_pem  = optional(string)
    ca_certificate_path = optional(string, "database/digitalocean-ca.pem")
  })

  validation {
    condition     = can(regex("^[A-Za-z0-9_$]{1,64}$", var.source_database.database))
    error_message = "source_database.database must be a MySQL schema name."
  }

  validation {
    condition     = var.source_database.port >= 1 && var.source_database.port <= 65535
    error_message = "source_database.port must be a TCP port."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9/_+=.@-]{1,512}$", var.source_database.secret_name))
    error_message = "source_database.secret_name must be a Secrets Manager secret name."
  }

  validation {
    condition     = contains(["verify-full", "verify-ca", "require"], var.source_database.tls)
    error_message = "source_database.tls must be verify-full, verify-ca or require: the source is reached over the internet, never in clear text."
  }

  validation {
    condition     = var.source_database.tls == "require" || startswith(trimspace(coalesce(var.source_database.ca_certificate_pem, "missing")), "-----BEGIN CERTIFICATE-----")
    error_message = "DigitalOcean's CA certificate is missing or not a PEM certificate at ${var.source_database.ca_certificate_path} (spec migration.source.caCertificate). Download it from DigitalOcean (the database cluster's Connection details > Download CA certificate), commit it at that path, and plan again: DMS verifies the source with it (tls ${var.source_database.tls})."
  }
}

variable "target_secret_arn" {
  description = "ARN of the dms database user's secret <secret_prefix>database/dms ({engine, host, port, dbname, username, password}), one of the per-user secrets modules/workloads creates empty and `dbkit users apply` writes."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:", var.target_secret_arn))
    error_message = "target_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "tables" {
  description = "DMS table-name patterns (% = any run of characters) of the source schema to copy (include) and to leave out (exclude wins); spec migration.tables."
  type = object({
    include = list(string)
    exclude = list(string)
  })
  default = { include = ["%"], exclude = [] }

  validation {
    condition     = length(var.tables.include) > 0 && alltrue([for p in concat(var.tables.include, var.tables.exclude) : can(regex("^[A-Za-z0-9_$%]{1,64}$", p))])
    error_message = "tables: include needs at least one pattern, and patterns are MySQL table names with % wildcards."
  }

  validation {
    condition     = !anytrue([for p in var.tables.exclude : can(regex("^(?i)${replace(p, "%", ".*")}$", var.heartbeat_table))])
    error_message = "tables.exclude may not match the heartbeat table (${var.heartbeat_table}): `dbkit lag` and `dbkit cutover` read it on the target."
  }
}

variable "heartbeat_table" {
  description = "The kit's heartbeat table (platformgen_dbkit.names.HEARTBEAT_TABLE): always copied, and not validated by DMS (its row changes every second)."
  type        = string
  default     = "dbkit_heartbeat"

  validation {
    condition     = can(regex("^[a-z0-9_]{1,64}$", var.heartbeat_table))
    error_message = "heartbeat_table must be a MySQL table name."
  }
}

variable "migration_type" {
  description = "full-load copies once; full-load-and-cdc keeps the target in sync until cutover (spec migration.dms.migrationType)."
  type        = string
  default     = "full-load-and-cdc"

  validation {
    condition     = contains(["full-load", "full-load-and-cdc"], var.migration_type)
    error_message = "migration_type must be full-load or full-load-and-cdc."
  }
}

variable "lob" {
  description = "LOB handling (spec migration.dms.lobMode and lobMaxSizeKb): full copies every LOB in chunks of max_size_kb; limited truncates values above max_size_kb, so `dbkit preflight` prints the largest LOB to put there."
  type = object({
    mode        = string
    max_size_kb = number
  })
  default = { mode = "full", max_size_kb = 64 }

  validation {
    condition     = contains(["full", "limited"], var.lob.mode) && var.lob.max_size_kb >= 1 && var.lob.max_size_kb <= 102400 && floor(var.lob.max_size_kb) == var.lob.max_size_kb
    error_message = "lob: mode must be full or limited, and max_size_kb a whole number of KiB from 1 to 102400."
  }
}

variable "validation" {
  description = "DMS row validation of the copied tables (spec migration.dms.validation), in addition to `dbkit verify`."
  type        = bool
  default     = true
}

variable "cdc_latency_alarm_seconds" {
  description = "CDCLatencySource and CDCLatencyTarget above this many seconds for 15 minutes alarm (full-load-and-cdc only)."
  type        = number
  default     = 300

  validation {
    condition     = var.cdc_latency_alarm_seconds >= 10 && var.cdc_latency_alarm_seconds <= 86400
    error_message = "cdc_latency_alarm_seconds must be from 10 to 86400."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic of the environment's alarms: the CDC latency alarms and the DMS event subscriptions publish there."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN."
  }
}

variable "create_account_roles" {
  description = "Create the account-wide roles DMS requires by name (dms-vpc-role, dms-cloudwatch-logs-role). false when the account already has them (one migration per account creates them)."
  type        = bool
  default     = true
}

variable "permissions_boundary" {
  description = "ARN of the permissions boundary every role created here carries."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/", var.permissions_boundary))
    error_message = "permissions_boundary must be an IAM policy ARN."
  }
}
