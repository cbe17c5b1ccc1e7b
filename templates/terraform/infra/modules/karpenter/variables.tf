variable "name" {
  description = "Prefix of the module's resources: <project>-<environment>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,32}$", var.name))
    error_message = "name must be a lowercase DNS label of 3-33 characters (<project>-<environment>), so <name>-karpenter-capacity-reservation stays within EventBridge's 64."
  }
}

variable "cluster_name" {
  description = "Name of the EKS cluster whose nodes Karpenter manages."
  type        = string
}

variable "permissions_boundary" {
  description = "ARN of the permissions boundary every role of the platform carries (infra/bootstrap)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:iam::[0-9]{12}:policy/[A-Za-z0-9+=,.@_/-]+$", var.permissions_boundary))
    error_message = "permissions_boundary must be an IAM managed policy ARN."
  }
}
