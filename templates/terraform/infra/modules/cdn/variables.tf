variable "name" {
  description = "Prefix of every resource name: <project>-<environment>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,32}$", var.name))
    error_message = "name must be a lowercase DNS label of 3-33 characters (<project>-<environment>)."
  }
}

variable "domain" {
  description = "Host name viewers use, e.g. dev.example.com; gets the us-east-1 ACM certificate and alias records."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lowercase DNS name."
  }
}

variable "zone_id" {
  description = "Route 53 hosted zone of the domain."
  type        = string

  validation {
    condition     = can(regex("^[A-Z0-9]{1,32}$", var.zone_id))
    error_message = "zone_id must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ."
  }
}

variable "static_apps" {
  description = "Public static web apps by name, each served from its own private S3 bucket (origin access control) under its URL path prefix."
  type = map(object({
    path = string
  }))
  default = {}

  validation {
    condition     = alltrue([for k, a in var.static_apps : can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", k)) && length(k) <= 24 && can(regex("^/([a-z0-9][a-z0-9/-]*)?$", a.path))])
    error_message = "static_apps: names are DNS labels and paths start with /."
  }
}

variable "container_apps" {
  description = "Public container apps by name and URL path prefix; CloudFront forwards them, uncached, to the load balancer at origin_domain."
  type = map(object({
    path = string
  }))
  default = {}

  validation {
    condition     = alltrue([for k, a in var.container_apps : can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", k)) && length(k) <= 24 && can(regex("^/([a-z0-9][a-z0-9/-]*)?$", a.path))])
    error_message = "container_apps: names are DNS labels and paths start with /."
  }
}

variable "origin_domain" {
  description = "Host name on the load balancer's certificate: CloudFront sends it (SNI and Host) through the VPC origin; null when there is no public container app."
  type        = string
  default     = null

  validation {
    condition     = var.origin_domain == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.origin_domain))
    error_message = "origin_domain must be a lowercase DNS name or null."
  }
}

variable "vpc_origin_id" {
  description = "ID of the load balancer's CloudFront VPC origin (the only way to the container apps); null when there is no public container app."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_origin_id == null || can(regex("^[A-Za-z0-9_-]+$", var.vpc_origin_id))
    error_message = "vpc_origin_id must be a VPC origin ID (vo_...) or null."
  }
}

variable "waf_rule_group_overrides" {
  description = "Per AWS managed rule group, a version other than the waf module's pin and mode count to trial it (edge.waf.managedRuleGroups in the spec)."
  type = map(object({
    version = optional(string)
    mode    = optional(string, "enforce")
  }))
  default = {}
}

variable "waf_rate_limit" {
  description = "Requests to the container apps per viewer IP (the connection's source address) per 5 minutes before the rate-based rule blocks; static apps do not count."
  type        = number

  validation {
    condition     = var.waf_rate_limit >= 100 && var.waf_rate_limit <= 2000000000
    error_message = "waf_rate_limit must be between 100 and 2000000000."
  }
}

variable "kms_key_arn" {
  description = "The environment's KMS key (its region): encrypts the static app buckets; CloudFront may decrypt through origin access control."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Retention of the CloudFront WAF log group and the access logs, in days (a value CloudWatch Logs accepts)."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts, e.g. 90 or 365."
  }
}

variable "force_destroy_buckets" {
  description = "Allow destroying the log and static app buckets while they hold objects (development environments)."
  type        = bool
  default     = false
}

variable "alarm_emails" {
  description = "Addresses the us-east-1 alarm topic (CloudFront's WAF alarm) emails: the environment's alarm addresses."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$", e))])
    error_message = "alarm_emails must be email addresses."
  }
}
