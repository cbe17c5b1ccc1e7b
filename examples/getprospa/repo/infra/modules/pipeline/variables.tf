# Values come from infra/artifacts (artifacts.auto.tfvars.json, rendered from platform.yaml).

variable "project" {
  description = "Project name (spec project.name): names every pipeline, project, role and connection here."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.project)) && length(var.project) >= 3 && length(var.project) <= 22
    error_message = "project must be a DNS label of 3-22 characters with single hyphens."
  }
}

variable "repository_host" {
  description = "Where the repository lives (spec pipelines.repositoryHost): github or bitbucket. The CodeConnections connection <project>-<host> is created PENDING; a person completes it (docs/runbooks/codepipeline-connection.md)."
  type        = string

  validation {
    condition     = contains(["github", "bitbucket"], var.repository_host)
    error_message = "repository_host must be github or bitbucket."
  }
}

variable "repository" {
  description = "The repository as <organisation>/<name> (spec project.organisation and project.repository)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+$", var.repository))
    error_message = "repository must be <organisation>/<name>."
  }
}

variable "branch" {
  description = "The deploy branch (spec pipelines.branch): pushes to it start <project>-release; pull requests into it start <project>-checks."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$", var.branch))
    error_message = "branch must be a git branch name of letters, digits, '.', '_', '/' and '-'."
  }
}

variable "delivers" {
  description = "Whether CodePipeline delivers (spec pipelines.deliver is codepipeline): only then is there a release pipeline, its driver role and the environments' CI roles to assume. Otherwise CodePipeline checks pull requests only."
  type        = bool
}

variable "environments" {
  description = "The environments in promotion order (spec promotion): each one's name, account and whether a person approves before its deploy (environments.<env>.approval). The release pipeline promotes through them in this order."
  type = list(object({
    name       = string
    account_id = string
    approval   = bool
  }))

  validation {
    condition     = length(var.environments) > 0 && alltrue([for e in var.environments : can(regex("^[a-z][a-z0-9]{1,9}$", e.name)) && can(regex("^[0-9]{12}$", e.account_id))])
    error_message = "environments: at least one; each name 2-10 lowercase letters and digits, each account_id 12 digits."
  }
  validation {
    condition     = length(distinct([for e in var.environments : e.name])) == length(var.environments)
    error_message = "environments: each environment appears once in the promotion order."
  }
}

variable "artifact_bucket" {
  description = "The artifact bucket (modules/artifacts): the pipelines' artifact store, under pipeline/."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact_bucket))
    error_message = "artifact_bucket must be an S3 bucket name."
  }
}

variable "kms_key_arn" {
  description = "The artifacts key (modules/artifacts): encrypts the pipelines' artifacts in the bucket and the builds' output."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "publisher_role_arn" {
  description = "The publisher <project>-publish (modules/artifacts): the role of the publish build, trusted by that build project only. Required when delivers."
  type        = string
  default     = null

  validation {
    condition     = var.publisher_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.publisher_role_arn))
    error_message = "publisher_role_arn must be an IAM role ARN."
  }
}

variable "permissions_boundary" {
  description = "The permissions boundary of every role here (infra/artifacts)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/", var.permissions_boundary))
    error_message = "permissions_boundary must be an IAM policy ARN."
  }
}

variable "log_retention_days" {
  description = "Days the builds' logs are kept (spec observability.logRetentionDays)."
  type        = number
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention period (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "image" {
  description = "The CodeBuild-managed image every build runs on (a curated image: no registry credentials)."
  type        = string
  default     = "aws/codebuild/amazonlinux-x86_64-standard:5.0"

  validation {
    condition     = startswith(var.image, "aws/codebuild/")
    error_message = "image must be a CodeBuild-managed image (aws/codebuild/...)."
  }
}
