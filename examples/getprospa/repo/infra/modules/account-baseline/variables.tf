variable "name" {
  description = "Prefix of every resource name: <project>-<environment> (the account's environment)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,32}$", var.name))
    error_message = "name must be a lowercase DNS label of 3-33 characters (<project>-<environment>)."
  }
}

variable "account_id" {
  description = "The account's id (the bootstrap's environment account): it names the buckets and scopes every policy."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "log_retention_days" {
  description = "Retention of the trail's CloudWatch log group, in days (a value CloudWatch Logs accepts). The bucket keeps every log file regardless."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts, e.g. 90 or 365."
  }
}

variable "guardduty_features" {
  description = "GuardDuty protection plans turned on besides the foundational data sources: S3 data events, EKS audit logs, RDS login events and EBS malware protection by default."
  type        = list(string)
  default     = ["S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "RDS_LOGIN_EVENTS", "EBS_MALWARE_PROTECTION"]

  validation {
    condition     = length(setsubtract(var.guardduty_features, ["S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "RDS_LOGIN_EVENTS", "EBS_MALWARE_PROTECTION", "LAMBDA_NETWORK_LOGS", "RUNTIME_MONITORING"])) == 0
    error_message = "guardduty_features takes GuardDuty feature names such as S3_DATA_EVENTS or EKS_AUDIT_LOGS."
  }
}

variable "force_destroy" {
  description = "Allow destroying the trail's buckets while they hold logs. Only for throwaway test accounts."
  type        = bool
  default     = false
}

variable "permissions_boundary" {
  description = "ARN of the permissions boundary every IAM role of the module carries (infra/bootstrap: arn:aws:iam::<account>:policy/<project>-<environment>-boundary)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:iam::[0-9]{12}:policy/[A-Za-z0-9+=,.@_/-]+$", var.permissions_boundary))
    error_message = "permissions_boundary must be an IAM managed policy ARN."
  }
}
