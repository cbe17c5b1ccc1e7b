# Values come from artifacts.auto.tfvars.json (rendered from platform.yaml): change
# platform.yaml, not that file.

variable "project" {
  description = "Project name (spec project.name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.project)) && length(var.project) >= 3 && length(var.project) <= 22
    error_message = "project must be a DNS label of 3-22 characters with single hyphens."
  }
}

variable "account_id" {
  description = "The artifacts account (spec artifacts.account; without it, the last production-tier environment's account). The provider refuses any other."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "Region of the registry and the bucket (spec project.region)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[1-9]$", var.region))
    error_message = "region must be an AWS region such as ap-southeast-2."
  }
}

variable "environments" {
  description = "Every environment by name with its account: its nodes and executors pull the images, its executors read the source bundles."
  type = map(object({
    account_id = string
    tier       = string
  }))

  validation {
    condition     = alltrue([for e in values(var.environments) : can(regex("^[0-9]{12}$", e.account_id)) && contains(["development", "staging", "production"], e.tier)])
    error_message = "environments: account_id must be 12 digits, tier development, staging or production."
  }

  # policy.artifacts-account: whoever administers a non-production environment must not
  # be able to change what production runs. A platform without a production-tier
  # environment keeps its registry in its last environment's account.
  validation {
    condition = alltrue([for e in values(var.environments) : e.tier != "production"]) || alltrue([
      for e in values(var.environments) : e.account_id != var.account_id || e.tier == "production"
    ])
    error_message = "The artifacts account may not be a development or staging environment's account while a production-tier environment exists."
  }
}

variable "apps" {
  description = "The container apps: one image repository each."
  type        = list(string)
}

variable "deliver" {
  description = "The delivering CI system and what its trust needs (modules/artifacts, variable deliver)."
  type = object({
    provider          = string
    branch            = string
    github_repository = optional(string)
    bitbucket = optional(object({
      workspace        = string
      workspace_uuid   = string
      repository_uuid  = string
      environment_uuid = string
    }))
  })
}

variable "tags" {
  description = "Owner, CostCentre and Repository tags added to every resource."
  type = object({
    owner       = string
    cost_centre = string
    repository  = string
  })
}

variable "images_kept" {
  description = "Tagged images kept per repository; older ones expire. A release is three tagged images (the image, its cosign signature and its SBOM attestation), so 300 keeps the last 100 releases to roll back to."
  type        = number
  default     = 300

  validation {
    condition     = var.images_kept >= 1 && var.images_kept <= 10000
    error_message = "images_kept must be between 1 and 10000."
  }
}

variable "force_destroy_state" {
  description = "Allow destroying the state and artifact buckets while they hold objects. Only for throwaway test accounts."
  type        = bool
  default     = false
}

variable "codepipeline" {
  description = "AWS CodePipeline (spec pipelines.providers lists codepipeline; null otherwise): the repository's host (pipelines.repositoryHost) and name, the deploy branch, whether it delivers (pipelines.deliver), the environments in promotion order with their approvals, and the build logs' retention (observability.logRetentionDays). modules/pipeline validates each."
  type = object({
    repository_host = string
    repository      = string
    branch          = string
    delivers        = bool
    environments = list(object({
      name       = string
      account_id = string
      approval   = bool
    }))
    log_retention_days = number
  })
  default = null
}
