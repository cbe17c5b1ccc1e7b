variable "name" {
  description = "Globally unique bucket name."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be a valid S3 bucket name (3-63 lowercase letters, digits and hyphens)."
  }
}

variable "kms_key_arn" {
  description = "KMS key for default encryption (SSE-KMS with a bucket key). null means SSE-S3, for writers that cannot use KMS (ALB access logs)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN or null."
  }
}

variable "policy_statements" {
  description = "Extra bucket policy statements (IAM policy JSON statement objects) granting writers or readers; a statement denying plain HTTP is always added."
  type        = any
  default     = []
}

variable "expire_after_days" {
  description = "Delete objects this many days after creation (for logs); 0 keeps them."
  type        = number
  default     = 0

  validation {
    condition     = var.expire_after_days >= 0 && floor(var.expire_after_days) == var.expire_after_days
    error_message = "expire_after_days must be a whole number of days, 0 or more."
  }
}

variable "noncurrent_expire_days" {
  description = "Delete replaced object versions this many days after they were replaced."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_expire_days >= 1
    error_message = "noncurrent_expire_days must be at least 1."
  }
}

variable "acl_log_delivery" {
  description = "Keep ACLs enabled (object ownership BucketOwnerPreferred) and grant the awslogsdelivery account, which CloudFront standard logging needs. Public access stays blocked."
  type        = bool
  default     = false
}

variable "access_log_bucket" {
  description = "Bucket that receives this bucket's server access logs; null for a log bucket itself. Pass the log bucket module's log_target output: known at plan time, and ordered after what log delivery needs."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Allow deleting the bucket while it holds objects (never for production data)."
  type        = bool
  default     = false
}
