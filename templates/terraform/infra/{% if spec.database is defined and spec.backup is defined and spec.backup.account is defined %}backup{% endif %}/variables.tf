# Values come from backup.auto.tfvars.json (rendered from platform.yaml); `environment`
# is chosen per run: make infra-backup ENV=<name>.

variable "environment" {
  description = "The environment whose copies this run manages."
  type        = string

  validation {
    condition     = contains(keys(var.environments), var.environment)
    error_message = "environment must be one of the environments in platform.yaml (backup.auto.tfvars.json)."
  }
}

variable "environments" {
  description = "Every environment with a database: its account (the only one that may copy in), region (the vault's), tier (its lock mode) and how long copies are kept."
  type = map(object({
    account_id          = string
    region              = string
    tier                = string
    copy_retention_days = number
  }))

  validation {
    condition     = alltrue([for e in values(var.environments) : can(regex("^[0-9]{12}$", e.account_id)) && contains(["development", "staging", "production"], e.tier) && e.copy_retention_days >= 1])
    error_message = "environments: account_id must be 12 digits, tier development, staging or production, and copy_retention_days at least 1."
  }
}

variable "backup_account_id" {
  description = "The backup account (spec backup.account); the provider refuses any other, and no environment may be it."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.backup_account_id))
    error_message = "backup_account_id must be 12 digits."
  }
}

variable "project" {
  description = "Project name (spec project.name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.project)) && length(var.project) >= 3 && length(var.project) <= 22
    error_message = "project must be a DNS label of 3-22 characters with single hyphens."
  }
}

variable "tags" {
  description = "Owner, CostCentre and Repository tags added to every resource."
  type = object({
    owner       = string
    cost_centre = string
    repository  = string
  })
}

variable "force_destroy_state" {
  description = "Allow destroying the state bucket while it holds state. Only for throwaway test accounts."
  type        = bool
  default     = false
}
