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
  description = "Every environment of the platform: account, region, tier; the people who may assume its roles (IAM role ARNs, e.g. IAM Identity Center permission-set roles: read_only may plan, break_glass may run the executors); whether its database keeps a write-only master secret (read replicas), which a plan must read; and, in a migration's target environment only, the name of the migration source's secret (spec migration.source.passwordSecret), which the platform executor reads for the database kit."
  type = map(object({
    account_id = string
    region     = string
    tier       = string
    access = optional(object({
      read_only   = list(string)
      break_glass = list(string)
    }), { read_only = [], break_glass = [] })
    reads_master_secret = optional(bool, false)
    # The migration's target environment only: the name of the DigitalOcean source's
    # secret (spec migration.source.passwordSecret), which the platform executor reads to
    # run the database kit against the source.
    migration_source_secret = optional(string)
  }))

  validation {
    condition     = alltrue([for e in values(var.environments) : can(regex("^[0-9]{12}$", e.account_id)) && contains(["development", "staging", "production"], e.tier)])
    error_message = "environments: account_id must be 12 digits and tier development, staging or production."
  }

  validation {
    # An exact role ARN: no wildcard, no assumed-role session, a 12-digit account.
    condition = alltrue(flatten([for e in values(var.environments) : [
      for arn in concat(e.access.read_only, e.access.break_glass) : can(regex("^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$", arn))
    ]]))
    error_message = "environments: access.read_only and access.break_glass hold IAM role ARNs (arn:aws:iam::<12 digits>:role/<path/>name), without wildcards."
  }

  validation {
    condition     = alltrue([for e in values(var.environments) : e.migration_source_secret == null || can(regex("^[A-Za-z0-9/_+=.@-]{1,512}$", e.migration_source_secret))])
    error_message = "environments: migration_source_secret must be a Secrets Manager secret name (letters, digits and /_+=.@-), the spec's migration.source.passwordSecret."
  }

  validation {
    # One IAM principal has one EKS access entry: it cannot be both.
    condition     = alltrue([for e in values(var.environments) : length(setintersection(e.access.read_only, e.access.break_glass)) == 0])
    error_message = "environments: a role ARN is either read_only or break_glass, not both."
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
  description = "GitHub repository (organisation/name) whose workflows may plan, and its deploy branch, or null without GitHub Actions. A protected plan role trusts only jobs with `environment: <env>-plan`; the others trust pull requests and the deploy branch."
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
  description = "Bitbucket workspace (slug and UUID) and repository UUID whose pipelines may plan, or null. The trust is created only when both UUIDs are known (spec pipelines.bitbucket). plan_environment_uuids: per environment, the UUID of the Bitbucket deployment environment that runs its plans; a protected plan role (production, or one that reads a secret) trusts only that. deploy_environment_uuids: per environment, the deployment environment whose steps the CI role trusts when Bitbucket delivers."
  type = object({
    workspace                = string
    workspace_uuid           = string
    repository_uuid          = string
    plan_environment_uuids   = optional(map(string), {})
    deploy_environment_uuids = optional(map(string), {})
  })
  default = null

  validation {
    condition     = var.bitbucket == null || (can(regex("^[A-Za-z0-9-]+$", var.bitbucket.workspace)) && can(regex("^(\\{[0-9a-fA-F-]{36}\\})?$", var.bitbucket.workspace_uuid)) && can(regex("^(\\{[0-9a-fA-F-]{36}\\})?$", var.bitbucket.repository_uuid)))
    error_message = "bitbucket: workspace is a slug; the UUIDs look like {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx} or are empty."
  }

  validation {
    condition     = var.bitbucket == null || alltrue([for u in concat(values(try(var.bitbucket.plan_environment_uuids, {})), values(try(var.bitbucket.deploy_environment_uuids, {}))) : can(regex("^\\{[0-9a-fA-F-]{36}\\}$", u))])
    error_message = "bitbucket: plan_environment_uuids and deploy_environment_uuids values look like {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}."
  }
}

variable "delivery" {
  description = "Who delivers (spec pipelines.deliver: github, bitbucket or codepipeline; only it is trusted by the CI role) and the artifacts account and region (spec artifacts: the registry, the source bundles, the pipeline)."
  type = object({
    provider             = string
    artifacts_account_id = string
    artifacts_region     = string
  })

  validation {
    condition     = contains(["github", "bitbucket", "codepipeline"], var.delivery.provider)
    error_message = "delivery.provider must be github, bitbucket or codepipeline."
  }

  validation {
    condition     = can(regex("^[0-9]{12}$", var.delivery.artifacts_account_id)) && can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[1-9]$", var.delivery.artifacts_region))
    error_message = "delivery.artifacts_account_id must be 12 digits and artifacts_region an AWS region."
  }
}

variable "static_apps" {
  description = "The public static web apps (spec apps with hosting static): the app-deploy executor syncs each one's bucket (<project>-<env>-<app>-<account>) and invalidates the distribution."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.static_apps : can(regex("^[a-z][a-z0-9-]*$", a))])
    error_message = "static_apps must be app names."
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
