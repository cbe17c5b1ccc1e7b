variable "name" {
  description = "Prefix of every resource name: <project>-<environment>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,32}$", var.name))
    error_message = "name must be a lowercase DNS label of 3-33 characters (<project>-<environment>)."
  }
}

variable "environment" {
  description = "The environment's name, the ENV every build of the executors runs make with."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be 2-10 lowercase letters and digits, starting with a letter."
  }
}

variable "vpc_id" {
  description = "ID of the environment's VPC."
  type        = string
}

variable "subnet_ids" {
  description = "The private subnets (NAT, no public address) the builds run in, one per zone."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids must list subnet IDs."
  }
}

variable "cluster_security_group_id" {
  description = "The cluster security group EKS created (modules/cluster cluster_security_group_id): it admits the executors on 443, the path to the private API endpoint."
  type        = string
}

variable "platform_role_arn" {
  description = "Service role of the apply project: infra/bootstrap's <project>-<environment>-platform (trusted only by that project)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_-]+-platform$", var.platform_role_arn))
    error_message = "platform_role_arn must be the ARN of the <project>-<environment>-platform role."
  }
}

variable "app_deploy_role_arn" {
  description = "Service role of the deploy project: infra/bootstrap's <project>-<environment>-app-deploy (namespace-scoped in the cluster)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_-]+-app-deploy$", var.app_deploy_role_arn))
    error_message = "app_deploy_role_arn must be the ARN of the <project>-<environment>-app-deploy role."
  }
}

variable "artifacts_bucket" {
  description = "The artifacts account's bucket (<project>-artifacts-<account>, infra/artifacts) whose source/<sha>.zip bundles the builds fetch and run."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifacts_bucket))
    error_message = "artifacts_bucket must be an S3 bucket name."
  }
}

variable "artifacts_region" {
  description = "Region of the artifacts bucket (the artifacts account's, spec project.region): the builds fetch their bundle from it with aws s3 cp --region, since CodeBuild's own S3 source reads only a bucket of the build's region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[1-9]$", var.artifacts_region))
    error_message = "artifacts_region must be an AWS region, e.g. ap-southeast-2."
  }
}

variable "kms_key_arn" {
  description = "ARN of the environment's KMS key: it encrypts the executors' log groups (and any build output)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Retention of the executors' log groups, in days (a value CloudWatch Logs accepts)."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts, e.g. 90 or 365."
  }
}

variable "image" {
  description = "The CodeBuild-managed image the builds run on (a curated image: no registry credentials, never privileged)."
  type        = string
  default     = "aws/codebuild/amazonlinux-x86_64-standard:5.0"

  validation {
    condition     = startswith(var.image, "aws/codebuild/")
    error_message = "image must be a CodeBuild-managed image (aws/codebuild/...)."
  }
}

variable "apply_timeout_minutes" {
  description = "Longest an apply build may run: a first apply creates the cluster and the database."
  type        = number
  default     = 120

  validation {
    condition     = var.apply_timeout_minutes >= 5 && var.apply_timeout_minutes <= 480
    error_message = "apply_timeout_minutes must be 5 to 480 (CodeBuild's limits)."
  }
}

variable "deploy_timeout_minutes" {
  description = "Longest a deploy build may run."
  type        = number
  default     = 30

  validation {
    condition     = var.deploy_timeout_minutes >= 5 && var.deploy_timeout_minutes <= 480
    error_message = "deploy_timeout_minutes must be 5 to 480 (CodeBuild's limits)."
  }
}

variable "database_access" {
  description = "Whether the environment has a database the platform executor reaches (the database kit: users apply after every apply, make database-run). A plain bool, known at plan time, so the rule's count never waits for the database's security group id."
  type        = bool
  default     = false
}

variable "database_security_group_id" {
  description = "The database's security group (modules/database security_group_id): the only MySQL destination of the executors. null without a database."
  type        = string
  default     = null

  validation {
    condition     = var.database_security_group_id == null || can(regex("^sg-", var.database_security_group_id))
    error_message = "database_security_group_id must be a security group ID (sg-...) or null."
  }
}

variable "database_port" {
  description = "The database's port."
  type        = number
  default     = 3306

  validation {
    condition     = var.database_port >= 1 && var.database_port <= 65535 && floor(var.database_port) == var.database_port
    error_message = "database_port must be a TCP port."
  }
}

variable "migration_source_port" {
  description = "Port of the DigitalOcean migration source (spec migration.source.port) in the migration's target environment, where the platform executor runs the database kit against it; null (the default) elsewhere: no egress beyond HTTPS and the database."
  type        = number
  default     = null

  validation {
    condition     = var.migration_source_port == null || try(var.migration_source_port >= 1 && var.migration_source_port <= 65535 && floor(var.migration_source_port) == var.migration_source_port, false)
    error_message = "migration_source_port must be a TCP port (1-65535) or null."
  }
}
