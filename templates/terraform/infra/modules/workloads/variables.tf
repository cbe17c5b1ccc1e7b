variable "name" {
  description = "Prefix of every resource name: <project>-<environment>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,32}$", var.name))
    error_message = "name must be a lowercase DNS label of 3-33 characters (<project>-<environment>)."
  }
}

variable "secret_prefix" {
  description = "Prefix of the app secrets in Secrets Manager: <project>/<environment>/."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*/[a-z][a-z0-9]*/$", var.secret_prefix))
    error_message = "secret_prefix must look like <project>/<environment>/."
  }
}

variable "cluster_name" {
  description = "EKS cluster whose pods use the app roles through Pod Identity."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,32}$", var.cluster_name))
    error_message = "cluster_name must be a lowercase DNS label."
  }
}

variable "external_secrets_role_name" {
  description = "IAM role of the External Secrets Operator; it may assume each app role, to read that app's secrets for that app's namespace."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.external_secrets_role_name))
    error_message = "external_secrets_role_name must be an IAM role name."
  }
}

variable "external_secrets_role_arn" {
  description = "ARN of the External Secrets Operator's IAM role (trusted by every app role)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/", var.external_secrets_role_arn))
    error_message = "external_secrets_role_arn must be an IAM role ARN."
  }
}

variable "apps" {
  description = "Container apps by name: whether the app uses the database (it then reads its own database user's secret and its migrator's), and the Secrets Manager secrets it reads (names after secret_prefix). No app may be called database: <secret_prefix><app>/* is each app's own prefix, and database/ holds the users' secrets."
  type = map(object({
    database = bool
    secrets  = list(string)
  }))

  validation {
    condition = alltrue(flatten([for k, a in var.apps : concat(
      [can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", k)) && length(k) <= 24],
      [for s in a.secrets : can(regex("^[A-Za-z0-9][A-Za-z0-9/_+=.@-]{0,255}$", s))],
    )]))
    error_message = "apps: names are DNS labels; secret names use letters, digits and /_+=.@- only."
  }

  validation {
    condition     = !contains(keys(var.apps), "database") && alltrue(flatten([for a in values(var.apps) : [for s in a.secrets : !startswith(s, "database/")]]))
    error_message = "apps: no app may be called database, nor name a secret under database/: that prefix holds the database users' secrets, each read only by its own app."
  }
}

variable "database_users" {
  description = "Logical database users (database/users.json) whose secrets <secret_prefix>database/<user> this module creates empty: per app with the database <app> and <app>-migrator, plus the platform's own (readonly, dms). [] without a database."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for u in var.database_users : can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", u)) && length(u) <= 40])
    error_message = "database_users: each is a logical user name, a DNS label of at most 40 characters."
  }

  validation {
    condition = alltrue(flatten([for k, a in var.apps : [
      for u in(a.database ? [k, "${k}-migrator"] : []) : contains(var.database_users, u)
    ]]))
    error_message = "database_users must hold <app> and <app>-migrator for every app with the database: its pods and its migration hook connect as them."
  }
}

variable "kms_key_arn" {
  description = "KMS key of the repositories and the secrets."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "secret_recovery_days" {
  description = "Days a deleted secret can still be restored (7-30)."
  type        = number
  default     = 30

  validation {
    condition     = var.secret_recovery_days >= 7 && var.secret_recovery_days <= 30
    error_message = "secret_recovery_days must be between 7 and 30."
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

variable "datadog_api_key_secret" {
  description = "With observability.provider datadog: name of the Secrets Manager secret holding the Datadog API key (spec observability.datadog.apiKeySecret). null: no Datadog."
  type        = string
  default     = null

  validation {
    condition     = var.datadog_api_key_secret == null || can(regex("^[A-Za-z0-9/_+=.@-]{1,512}$", var.datadog_api_key_secret))
    error_message = "datadog_api_key_secret must be a Secrets Manager secret name."
  }
}
