# Values come from environments.auto.tfvars.json (rendered from platform.yaml);
# `environment` is chosen per run: make infra-bootstrap ENV=<name>.

variable "environment" {
  description = "The environment (and so the AWS account) to bootstrap."
  type        = string

  validation {
    condition     = contains(keys(var.environments), var.environment)
    error_message = "environment must be one of the environments in platform.yaml (environments.auto.tfvars.json)."
  }
}

variable "environments" {
  description = "Every environment of the platform: account, region and tier."
  type = map(object({
    account_id = string
    region     = string
    tier       = string
  }))

  validation {
    condition     = alltrue([for e in values(var.environments) : can(regex("^[0-9]{12}$", e.account_id)) && contains(["development", "staging", "production"], e.tier)])
    error_message = "environments: account_id must be 12 digits and tier development, staging or production."
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

variable "github" {
  description = "GitHub repository (organisation/name) whose workflows may deploy, or null without GitHub Actions. Deploy jobs must set `environment: <name>`: only that token subject is trusted."
  type = object({
    repository = string
    branch     = string
  })
  default = null

  validation {
    condition     = var.github == null || can(regex("^[A-Za-z0-9-]+/[A-Za-z0-9_.-]+$", var.github.repository))
    error_message = "github.repository must be organisation/name."
  }
}

variable "bitbucket" {
  description = "Bitbucket workspace (slug and UUID) and repository UUID whose pipelines may deploy, or null. The trust is created only when both UUIDs are known (spec pipelines.bitbucket)."
  type = object({
    workspace       = string
    workspace_uuid  = string
    repository_uuid = string
  })
  default = null

  validation {
    condition     = var.bitbucket == null || (can(regex("^[A-Za-z0-9-]+$", var.bitbucket.workspace)) && can(regex("^(\\{[0-9a-fA-F-]{36}\\})?$", var.bitbucket.workspace_uuid)) && can(regex("^(\\{[0-9a-fA-F-]{36}\\})?$", var.bitbucket.repository_uuid)))
    error_message = "bitbucket: workspace is a slug; the UUIDs look like {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx} or are empty."
  }
}

variable "force_destroy_state" {
  description = "Allow destroying the state bucket while it holds state. Only for throwaway test accounts."
  type        = bool
  default     = false
}

variable "account_baseline" {
  description = "platform: this bootstrap creates the account's CloudTrail trail, GuardDuty detector, AWS Config recorder and Security Hub (spec accountBaseline); organization: an AWS Organization provides them, and none is created here."
  type        = string
  default     = "platform"

  validation {
    condition     = contains(["platform", "organization"], var.account_baseline)
    error_message = "account_baseline must be platform or organization."
  }
}

variable "log_retention_days" {
  description = "Retention of the trail's CloudWatch log group, in days (spec observability.logRetentionDays); the trail's bucket keeps every log file."
  type        = number
  default     = 90
}
