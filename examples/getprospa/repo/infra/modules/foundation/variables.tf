variable "name" {
  description = "Prefix of every resource name: <project>-<environment>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,32}$", var.name))
    error_message = "name must be a lowercase DNS label of 3-33 characters (<project>-<environment>)."
  }
}

variable "alarm_emails" {
  description = "Email addresses subscribed to the alarm topic. Each address must confirm the subscription."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$", e))])
    error_message = "alarm_emails must be email addresses."
  }
}

variable "key_deletion_window_days" {
  description = "Days a scheduled deletion of the KMS key waits before the key is gone (7-30)."
  type        = number
  default     = 30

  validation {
    condition     = var.key_deletion_window_days >= 7 && var.key_deletion_window_days <= 30
    error_message = "key_deletion_window_days must be between 7 and 30."
  }
}

variable "backup_account_id" {
  description = "The backup account that copies this environment's database snapshots (spec backup.account): it may use the key for those copies. null: no account outside the environment's own uses the key."
  type        = string
  default     = null

  validation {
    condition     = var.backup_account_id == null || can(regex("^[0-9]{12}$", var.backup_account_id))
    error_message = "backup_account_id must be a 12-digit AWS account id or null."
  }
}
