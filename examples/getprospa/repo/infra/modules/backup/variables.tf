variable "name" {
  description = "Prefix of the plan's and role's names (<project>-<environment>-database, <project>-<environment>-aws-backup)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,32}$", var.name))
    error_message = "name must be a lowercase DNS label of 3-33 characters (<project>-<environment>)."
  }
}

variable "tier" {
  description = "Tier of the environment: restore tests run weekly in production, monthly in staging, never in development."
  type        = string

  validation {
    condition     = contains(["development", "staging", "production"], var.tier)
    error_message = "tier must be development, staging or production."
  }
}

variable "vault_name" {
  description = "The environment's own vault (modules/backup-vault) the daily snapshots go to."
  type        = string
}

variable "vault_arn" {
  description = "ARN of that vault: the restore tests pick their snapshot from it."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:", var.vault_arn))
    error_message = "vault_arn must be an AWS Backup vault ARN."
  }
}

variable "database_arns" {
  description = "ARNs of the RDS DB instances to back up (the primary; read replicas cannot be)."
  type        = list(string)

  validation {
    condition     = length(var.database_arns) >= 1 && alltrue([for a in var.database_arns : can(regex("^arn:[a-z-]+:rds:[a-z0-9-]+:[0-9]{12}:db:", a))])
    error_message = "database_arns must list RDS DB instance ARNs."
  }
}

variable "rds_backup_window" {
  description = "The database's daily backup window in UTC (hh:mm-hh:mm): the snapshot starts 12 hours after it opens."
  type        = string

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$", var.rds_backup_window))
    error_message = "rds_backup_window must look like 16:00-17:00."
  }
}

variable "retention_days" {
  description = "Days a snapshot stays in the environment's own vault (at least that vault's lock minimum)."
  type        = number

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 36500 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number of days from 1 to 36500."
  }
}

variable "copy_destinations" {
  description = "Vaults each snapshot is copied to, by a static label: { backup-account = <vault ARN in the backup account>, dr-region = <vault ARN in the DR region> }. At least one: a backup that stays in the account and region it protects is lost with them."
  type        = map(string)

  validation {
    condition     = length(var.copy_destinations) >= 1 && alltrue([for a in values(var.copy_destinations) : can(regex("^arn:[a-z-]+:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:", a))])
    error_message = "copy_destinations must name at least one AWS Backup vault ARN."
  }
}

variable "copy_retention_days" {
  description = "Days a copy is kept (at least the destination vault's lock minimum)."
  type        = number

  validation {
    condition     = var.copy_retention_days >= 1 && var.copy_retention_days <= 36500 && floor(var.copy_retention_days) == var.copy_retention_days
    error_message = "copy_retention_days must be a whole number of days from 1 to 36500."
  }
}

variable "recovery_point_tags" {
  description = "Tags of every snapshot and copy (default_tags do not reach recovery points): the environment's Project, Environment, Owner, CostCentre, ..."
  type        = map(string)

  validation {
    condition     = contains(keys(var.recovery_point_tags), "Owner") && contains(keys(var.recovery_point_tags), "CostCentre")
    error_message = "recovery_point_tags must carry Owner and CostCentre."
  }
}

variable "restore_testing_name" {
  description = "Name of the restore testing plan: letters, digits and underscores only (AWS's rule), e.g. <project>_<environment>_restore_tests."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,50}$", var.restore_testing_name))
    error_message = "restore_testing_name must be 1-50 letters, digits and underscores."
  }
}

variable "restore_subnet_group_name" {
  description = "DB subnet group a restore test restores into (the isolated subnets)."
  type        = string
}

variable "restore_security_group_ids" {
  description = "Security groups of a restored test instance (the database's)."
  type        = list(string)

  validation {
    condition     = length(var.restore_security_group_ids) >= 1 && alltrue([for s in var.restore_security_group_ids : can(regex("^sg-", s))])
    error_message = "restore_security_group_ids must list security group IDs (sg-...)."
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
