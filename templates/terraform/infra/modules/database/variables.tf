variable "name" {
  description = "Identifier of the database instance and prefix of its resources: <project>-<environment>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,32}$", var.name))
    error_message = "name must be a lowercase DNS label of 3-33 characters (<project>-<environment>)."
  }
}

variable "tier" {
  description = "Tier of the environment: development, staging or production. Production requires Multi-AZ, deletion protection and at least 7 days of backups."
  type        = string

  validation {
    condition     = contains(["development", "staging", "production"], var.tier)
    error_message = "tier must be development, staging or production."
  }
}

variable "engine_version" {
  description = "MySQL major.minor version on RDS: 8.0 or 8.4. Minor versions are AWS's to apply (auto_minor_version_upgrade, in the maintenance window), so a full version such as 8.0.42 is refused: after AWS upgraded the minor, Terraform would plan a downgrade on every run."
  type        = string

  validation {
    condition     = contains(["8.0", "8.4"], var.engine_version)
    error_message = "engine_version must be a MySQL major.minor version, 8.0 or 8.4 (not a full version such as 8.0.42: AWS upgrades minor versions itself)."
  }
}

variable "instance_class" {
  description = "RDS instance class, for example db.t4g.medium."
  type        = string

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "instance_class must be an RDS instance class such as db.r6g.large."
  }
}

variable "db_name" {
  description = "Name of the application schema created with the instance."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,63}$", var.db_name))
    error_message = "db_name must start with a letter and hold only lowercase letters, digits and underscores (at most 64)."
  }
}

variable "allocated_storage_gb" {
  description = "Initial gp3 storage in GiB."
  type        = number

  validation {
    condition     = var.allocated_storage_gb >= 20 && var.allocated_storage_gb <= 65536
    error_message = "allocated_storage_gb must be between 20 and 65536."
  }
}

variable "max_allocated_storage_gb" {
  description = "Upper bound of storage autoscaling in GiB; at least allocated_storage_gb."
  type        = number

  validation {
    condition     = var.max_allocated_storage_gb >= var.allocated_storage_gb && var.max_allocated_storage_gb <= 65536
    error_message = "max_allocated_storage_gb must be at least allocated_storage_gb and at most 65536."
  }
}

variable "multi_az" {
  description = "Keep a synchronous standby in another zone. Must be true in production tier."
  type        = bool

  validation {
    condition     = var.multi_az || var.tier != "production"
    error_message = "multi_az must be true in production tier."
  }
}

variable "deletion_protection" {
  description = "Refuse deletion of the instance. Must be true in production tier."
  type        = bool

  validation {
    condition     = var.deletion_protection || var.tier != "production"
    error_message = "deletion_protection must be true in production tier."
  }
}

variable "backup_retention_days" {
  description = "Automated backups and point-in-time recovery window, 1-35 days; at least 7 in production tier."
  type        = number

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35 && (var.tier != "production" || var.backup_retention_days >= 7)
    error_message = "backup_retention_days must be 1-35, and at least 7 in production tier."
  }
}

variable "backup_window" {
  description = "Daily backup window in UTC, hh:mm-hh:mm."
  type        = string

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$", var.backup_window))
    error_message = "backup_window must look like 16:00-17:00."
  }
}

variable "maintenance_window" {
  description = "Weekly maintenance window in UTC, ddd:hh:mm-ddd:hh:mm; must not overlap the backup window."
  type        = string

  validation {
    condition     = can(regex("^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$", var.maintenance_window))
    error_message = "maintenance_window must look like sun:17:00-sun:18:00."
  }
}

variable "read_replicas" {
  description = "Number of read replicas of the primary, 0-5."
  type        = number
  default     = 0

  validation {
    condition     = var.read_replicas >= 0 && var.read_replicas <= 5 && floor(var.read_replicas) == var.read_replicas
    error_message = "read_replicas must be a whole number from 0 to 5."
  }
}

variable "master_password" {
  description = "Only with read replicas: the master password, an ephemeral value (never stored in state or plan). Without replicas RDS manages the password and this must be null."
  type        = string
  default     = null
  ephemeral   = true
  sensitive   = true
}

variable "master_password_version" {
  description = "Only with read replicas (where RDS cannot manage the password): bump to generate and set a new master password."
  type        = number
  default     = 1

  validation {
    condition     = var.master_password_version >= 1 && floor(var.master_password_version) == var.master_password_version
    error_message = "master_password_version must be a whole number, 1 or more."
  }
}

variable "migration_window_open" {
  description = "The DMS migration window (spec migration.window open, in the migration's target environment only): local_infile=1, which DMS's MySQL target needs to load. Off otherwise; platformgen refuses a window with no last day or past it."
  type        = bool
  default     = false
}

variable "parameters" {
  description = "Extra MySQL parameters by name. Each applies as mysql-parameters.json says: dynamic ones at once (immediate), static and unknown ones at the next reboot (pending-reboot). The parameters the platform enforces (TLS, binlogs, slow log, log output, local_infile, tls_version) cannot be set here."
  type        = map(string)
  default     = {}

  validation {
    condition = length(setintersection(keys(var.parameters), [
      "require_secure_transport", "binlog_format", "binlog_row_image", "slow_query_log", "log_output", "local_infile", "tls_version",
    ])) == 0
    error_message = "parameters may not set require_secure_transport, binlog_format, binlog_row_image, slow_query_log, log_output, local_infile or tls_version: the platform enforces them."
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
  description = "Isolated subnets (no route to the internet), one per zone."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for s in var.subnet_ids : can(regex("^subnet-", s))])
    error_message = "subnet_ids must list at least two subnet IDs (subnet-...)."
  }
}

variable "client_security_group_id" {
  description = "The only security group allowed to connect on 3306: the database clients' group (modules/cluster), never the node group as such."
  type        = string

  validation {
    condition     = can(regex("^sg-", var.client_security_group_id))
    error_message = "client_security_group_id must be a security group ID (sg-...)."
  }
}

variable "admin_client_security_groups" {
  description = "Security groups, by a static label, that may connect on 3306 besides the database clients': the platform executor's (modules/executors), which runs the database kit (users apply, lag, cutover) as the master user. Nothing else."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.admin_client_security_groups : can(regex("^[a-z][a-z0-9-]{0,40}$", k)) && can(regex("^sg-", v))])
    error_message = "admin_client_security_groups maps a label (lowercase, hyphens) to a security group ID (sg-...)."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key for storage, the managed master secret, Performance Insights data and the log groups."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Retention of the exported database log groups, in days (a value CloudWatch Logs accepts)."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts, e.g. 90 or 365."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic the database alarms notify."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:sns:", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN."
  }
}

variable "monitoring_interval" {
  description = "Enhanced monitoring interval in seconds (1, 5, 10, 15, 30 or 60)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 5, 10, 15, 30, 60], var.monitoring_interval)
    error_message = "monitoring_interval must be 1, 5, 10, 15, 30 or 60."
  }
}

variable "database_insights_mode" {
  description = "CloudWatch Database Insights mode: standard (free, 7 days) or advanced (15 months, execution plans, fleet view). Performance Insights' own console reached end of life; Database Insights replaces it."
  type        = string
  default     = "standard"

  validation {
    condition     = contains(["standard", "advanced"], var.database_insights_mode)
    error_message = "database_insights_mode must be standard or advanced."
  }
}

variable "max_connections_alarm" {
  description = "Alarm when the connection count stays above this for 10 minutes. Default (null): 80% of the class's max_connections (capacity.tf), or of the spec's max_connections parameter."
  type        = number
  default     = null

  validation {
    condition     = var.max_connections_alarm == null || try(var.max_connections_alarm >= 1, false)
    error_message = "max_connections_alarm must be positive."
  }
}

variable "permissions_boundary" {
  description = "ARN of the permissions boundary every IAM role of the module carries (infra/bootstrap: arn:aws:iam::<account>:policy/<project>-<environment>-boundary)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:iam::[0-9]{12}:policy/[A-Za-z0-9+=,.@_/-]+$", var.permissions_boundary))
    error_message = "permissions_boundary must be an IAM managed policy ARN."
  }
}
