variable "project" {
  description = "Project name: repositories are <project>/<app>, the bucket <project>-artifacts-<account>, the publisher role <project>-publish."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.project)) && length(var.project) >= 3 && length(var.project) <= 22
    error_message = "project must be a DNS label of 3-22 characters with single hyphens."
  }
}

variable "apps" {
  description = "Container apps by name: each gets one image repository. Empty for a platform without container apps (the bucket, keys and publisher remain: every environment's executors take their source bundles from the bucket)."
  type        = list(string)

  validation {
    condition     = alltrue([for a in var.apps : can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", a)) && length(a) <= 24])
    error_message = "apps: names are DNS labels of at most 24 characters."
  }
}

variable "environments" {
  description = "Every environment by name, with its account. Its roles <project>-<env>-node and -karpenter-node (nodes) and -platform and -app-deploy (the executors) may pull images, by aws:PrincipalArn; the executors may read source bundles and release manifests and verify signatures."
  type = map(object({
    account_id = string
  }))

  validation {
    condition     = length(var.environments) > 0 && alltrue([for k, e in var.environments : can(regex("^[a-z][a-z0-9]{1,9}$", k)) && can(regex("^[0-9]{12}$", e.account_id))])
    error_message = "environments: names are 2-10 lowercase letters and digits, account_id 12 digits, and there is at least one."
  }
}

variable "deliver" {
  description = "The one CI system that builds, publishes and deploys (spec pipelines.deliver), and what its trust needs: github (repository organisation/name), bitbucket (workspace slug, workspace and repository UUIDs, and the UUID of the deployment environment whose steps publish: the first environment in promotion order; empty while unknown), or codepipeline (the publish build project <project>-publish of the release pipeline in this account). branch: the deploy branch (github)."
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

  validation {
    condition     = contains(["github", "bitbucket", "codepipeline"], var.deliver.provider)
    error_message = "deliver.provider must be github, bitbucket or codepipeline."
  }

  validation {
    condition     = var.deliver.provider != "github" || can(regex("^[A-Za-z0-9-]+/[A-Za-z0-9_.-]+$", var.deliver.github_repository))
    error_message = "deliver.github_repository must be organisation/name when github delivers."
  }

  validation {
    # try(): Terraform 1.11 evaluates both sides of ||.
    condition = var.deliver.provider != "bitbucket" || try(
      can(regex("^[A-Za-z0-9-]+$", var.deliver.bitbucket.workspace))
      && alltrue([for u in [var.deliver.bitbucket.workspace_uuid, var.deliver.bitbucket.repository_uuid, var.deliver.bitbucket.environment_uuid] : can(regex("^(\\{[0-9a-fA-F-]{36}\\})?$", u))]),
      false
    )
    error_message = "deliver.bitbucket needs the workspace slug when bitbucket delivers; the workspace, repository and deployment environment UUIDs look like {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}, or are empty while unknown (then nothing may publish)."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]+$", var.deliver.branch))
    error_message = "deliver.branch must be a branch name."
  }
}

variable "create_oidc_provider" {
  description = "Create the delivering provider's OIDC identity provider here (a dedicated artifacts account). false: the account is an environment's, whose infra/bootstrap already created it (an account holds one provider per URL)."
  type        = bool
}

variable "access_log_bucket" {
  description = "Bucket that receives the artifact bucket's server access logs (a log bucket module's log_target)."
  type        = string
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

variable "force_destroy" {
  description = "Allow destroying the artifact bucket while it holds objects. Only for throwaway test accounts."
  type        = bool
  default     = false
}

variable "permissions_boundary" {
  description = "ARN of the permissions boundary the publisher carries (infra/artifacts: <project>-artifacts-boundary)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:iam::[0-9]{12}:policy/[A-Za-z0-9+=,.@_/-]+$", var.permissions_boundary))
    error_message = "permissions_boundary must be an IAM managed policy ARN."
  }
}
