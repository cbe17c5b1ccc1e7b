variable "name" {
  description = "Name of the vault and of its key's alias, e.g. <project>-<environment>-backups (2-50 letters, digits, hyphens and underscores)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{2,50}$", var.name))
    error_message = "name must be 2-50 letters, digits, hyphens and underscores (an AWS Backup vault name)."
  }
}

variable "tier" {
  description = "Tier of the environment whose recovery points the vault keeps. production locks the vault in compliance mode (immutable after changeable_for_days: it cannot be undone); development and staging in governance mode (a principal allowed backup:DeleteBackupVaultLockConfiguration can remove the lock)."
  type        = string

  validation {
    condition     = contains(["development", "staging", "production"], var.tier)
    error_message = "tier must be development, staging or production."
  }
}

variable "min_retention_days" {
  description = "Shortest retention the vault accepts: a recovery point kept for less is refused, and none can be deleted earlier. In compliance mode it can never be lowered after the lock date."
  type        = number

  validation {
    condition     = var.min_retention_days >= 1 && var.min_retention_days <= 36500 && floor(var.min_retention_days) == var.min_retention_days
    error_message = "min_retention_days must be a whole number of days from 1 to 36500."
  }
}

variable "changeable_for_days" {
  description = "Compliance mode only: days before the lock becomes immutable (the cooling-off period, at least 3: AWS Backup enforces 72 hours). Until then `terraform destroy` or a changed setting can still remove or change it."
  type        = number
  default     = 3

  validation {
    condition     = var.changeable_for_days >= 3 && var.changeable_for_days <= 36500 && floor(var.changeable_for_days) == var.changeable_for_days
    error_message = "changeable_for_days must be a whole number of days, at least 3."
  }
}

variable "copy_accounts" {
  description = "AWS accounts that may copy recovery points into this vault (backup:CopyIntoBackupVault) and use its key for those copies: the environment accounts for a backup account's vault, the backup account for an environment's own vault (copies back, for a restore)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.copy_accounts : can(regex("^[0-9]{12}$", a))])
    error_message = "copy_accounts must be 12-digit AWS account ids."
  }
}

variable "force_destroy" {
  description = "Delete the recovery points with the vault on destroy (development tier only; a compliance lock refuses it anyway)."
  type        = bool
  default     = false
}

variable "key_deletion_window_days" {
  description = "Days a scheduled deletion of the vault's KMS key waits before the key (and every copy it encrypts) is gone (7-30)."
  type        = number
  default     = 30

  validation {
    condition     = var.key_deletion_window_days >= 7 && var.key_deletion_window_days <= 30
    error_message = "key_deletion_window_days must be between 7 and 30."
  }
}
