variable "name" {
  description = "Name of the web ACL, e.g. <project>-<environment>-alb."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,100}$", var.name))
    error_message = "name must be a lowercase DNS label."
  }
}

variable "scope" {
  description = "REGIONAL (for an ALB, in its region) or CLOUDFRONT (the provider must be in us-east-1)."
  type        = string

  validation {
    condition     = contains(["REGIONAL", "CLOUDFRONT"], var.scope)
    error_message = "scope must be REGIONAL or CLOUDFRONT."
  }
}

variable "rate_limit" {
  description = "Requests per client IP per 5 minutes before the rate-based rule blocks."
  type        = number

  validation {
    condition     = var.rate_limit >= 100 && var.rate_limit <= 2000000000
    error_message = "rate_limit must be between 100 and 2000000000."
  }
}

variable "client_ip_header" {
  description = "Header carrying the viewer's IP when the ACL sits behind CloudFront (X-Forwarded-For); null uses the connection's source IP."
  type        = string
  default     = null

  validation {
    condition     = var.client_ip_header == null || can(regex("^[A-Za-z0-9-]+$", var.client_ip_header))
    error_message = "client_ip_header must be a header name."
  }
}

variable "kms_key_arn" {
  description = "KMS key of the WAF log group (in the same region as the ACL)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Retention of the WAF log group, in days (a value CloudWatch Logs accepts)."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts, e.g. 90 or 365."
  }
}
