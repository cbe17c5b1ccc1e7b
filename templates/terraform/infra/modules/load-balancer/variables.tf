variable "name" {
  description = "Prefix of every resource name: <project>-<environment>. It is the load balancer's name too, so at most 32 characters (the ALB limit)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,31}$", var.name)) && !startswith(var.name, "internal-")
    error_message = "name must be a lowercase DNS label of 3-32 characters (<project>-<environment>; an ALB name), not starting with internal-."
  }
}

variable "origin_domain" {
  description = "Host name of the load balancer as CloudFront's origin, e.g. origin.dev.example.com: the name CloudFront sends (SNI and Host) and checks the certificate against. Gets the ACM certificate and an alias record (it resolves to private addresses only)."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.origin_domain))
    error_message = "origin_domain must be a lowercase DNS name."
  }
}

variable "zone_id" {
  description = "Route 53 hosted zone for certificate validation and the origin record."
  type        = string

  validation {
    condition     = can(regex("^[A-Z0-9]{1,32}$", var.zone_id))
    error_message = "zone_id must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ."
  }
}

variable "vpc_id" {
  description = "ID of the VPC."
  type        = string

  validation {
    condition     = can(regex("^vpc-", var.vpc_id))
    error_message = "vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "The network module's load-balancer subnets, one per zone: private (no internet route), where CloudFront's VPC origin places its interfaces too."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for s in var.subnet_ids : can(regex("^subnet-", s))])
    error_message = "subnet_ids must list at least two subnet IDs (subnet-...)."
  }
}

variable "node_security_group_id" {
  description = "Security group of the cluster nodes; pods (target type ip) receive traffic from the load balancer only through it."
  type        = string

  validation {
    condition     = can(regex("^sg-", var.node_security_group_id))
    error_message = "node_security_group_id must be a security group ID (sg-...)."
  }
}

variable "cluster_name" {
  description = "EKS cluster whose AWS Load Balancer Controller may register targets in these target groups (tag platformgen.io/cluster)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,32}$", var.cluster_name))
    error_message = "cluster_name must be a lowercase DNS label."
  }
}

variable "apps" {
  description = "Public container apps by name: the URL path prefix routed to each, its container port, and the readiness path the target group's health check calls."
  type = map(object({
    path        = string
    port        = number
    health_path = string
  }))

  validation {
    condition     = length(var.apps) >= 1 && alltrue([for k, a in var.apps : can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", k)) && length(k) <= 24 && can(regex("^/([a-z0-9][a-z0-9/-]*)?$", a.path)) && a.port >= 1024 && a.port <= 65535 && can(regex("^/[A-Za-z0-9._~/-]*$", a.health_path))])
    error_message = "apps must hold at least one app; names are DNS labels, paths start with /, ports are 1024-65535."
  }

  validation {
    condition     = length(distinct([for a in values(var.apps) : a.path])) == length(var.apps)
    error_message = "Two apps cannot share a path."
  }
}

variable "deletion_protection" {
  description = "Refuse deletion of the load balancer."
  type        = bool
}

variable "tls_minimum_protocol" {
  description = "Oldest TLS version the HTTPS listener accepts: TLSv1.2 (policy ELBSecurityPolicy-TLS13-1-2-2021-06) or TLSv1.3 (ELBSecurityPolicy-TLS13-1-3-2021-06)."
  type        = string

  validation {
    condition     = contains(["TLSv1.2", "TLSv1.3"], var.tls_minimum_protocol)
    error_message = "tls_minimum_protocol must be TLSv1.2 or TLSv1.3."
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

variable "kms_key_arn" {
  description = "KMS key of the WAF log group."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Retention of the WAF log group and the access logs, in days (a value CloudWatch Logs accepts)."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts, e.g. 90 or 365."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic the load balancer alarms notify."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:sns:", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN."
  }
}

variable "force_destroy_logs" {
  description = "Allow destroying the access log bucket while it holds logs (development environments)."
  type        = bool
  default     = false
}

variable "health_check" {
  description = "Target group health check and draining, tuned for fast, safe rollouts. The chart's preStop sleep (20 s) and terminationGracePeriodSeconds (50 s) are aligned with deregistration_delay (30 s); see docs/adr in infra/."
  type = object({
    interval             = number
    timeout              = number
    healthy_threshold    = number
    unhealthy_threshold  = number
    deregistration_delay = number
  })
  default = {
    interval             = 5
    timeout              = 3
    healthy_threshold    = 2
    unhealthy_threshold  = 2
    deregistration_delay = 30
  }

  validation {
    condition     = var.health_check.interval >= 5 && var.health_check.interval <= 300 && var.health_check.timeout >= 2 && var.health_check.timeout < var.health_check.interval && var.health_check.healthy_threshold >= 2 && var.health_check.unhealthy_threshold >= 2 && var.health_check.deregistration_delay >= 0 && var.health_check.deregistration_delay <= 3600
    error_message = "health_check: interval 5-300 s, timeout at least 2 s and below the interval, thresholds at least 2, deregistration_delay 0-3600 s."
  }
}

variable "slo" {
  description = "Service level objectives each app is alarmed on: the share of requests answered 5xx (percent) and the p99 response time (seconds), each breached for 5 minutes."
  type = object({
    error_percent = optional(number, 1)
    p99_seconds   = optional(number, 1)
  })
  default = {}

  validation {
    condition     = var.slo.error_percent > 0 && var.slo.error_percent < 100 && var.slo.p99_seconds > 0
    error_message = "slo.error_percent must be between 0 and 100, and slo.p99_seconds positive."
  }
}
