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
  description = "Requests per client IP (the connection's source address) per 5 minutes to the rate_limit_routes before the rate-based rule blocks; null: no rate-based rule (an ACL behind CloudFront sees only CloudFront's addresses)."
  type        = number
  default     = null

  validation {
    condition     = var.rate_limit == null || (try(var.rate_limit >= 100, false) && try(var.rate_limit <= 2000000000, false))
    error_message = "rate_limit must be null or between 100 and 2000000000."
  }
}

variable "rate_limit_routes" {
  description = "The requests the rate limit counts, by route: an app name (or _other, for paths no app claims) to the URL path prefix CloudFront sends to a container app and the nested path prefixes it sends elsewhere (static apps). Required with rate_limit."
  type = map(object({
    path   = string
    except = list(string)
  }))
  default = {}

  validation {
    condition = alltrue([
      for k, r in var.rate_limit_routes : (can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", k)) || k == "_other") && can(regex("^/([a-z0-9][a-z0-9/-]*)?$", r.path)) && alltrue([
        for e in r.except : can(regex("^/[a-z0-9][a-z0-9/-]*$", e)) && (r.path == "/" || startswith(e, "${r.path}/"))
      ])
    ])
    error_message = "rate_limit_routes: keys are app names or _other; paths start with / and hold only a-z, 0-9, - and /; each except path lies below its route's path."
  }
}

variable "managed_rule_groups" {
  description = "The AWS managed rule groups this ACL runs, in order."
  type        = list(string)

  validation {
    condition     = length(var.managed_rule_groups) > 0 && alltrue([for g in var.managed_rule_groups : contains(["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet"], g)])
    error_message = "managed_rule_groups: AWSManagedRulesAmazonIpReputationList, AWSManagedRulesCommonRuleSet, AWSManagedRulesKnownBadInputsRuleSet or AWSManagedRulesSQLiRuleSet."
  }
}

variable "rule_group_versions" {
  description = "The static version each versioned managed rule group is pinned to, so AWS never changes what blocks without a reviewed plan. The IP reputation list is not versioned. Check a version with `aws wafv2 list-available-managed-rule-group-versions --vendor-name AWS --name <group> --scope REGIONAL`."
  type        = map(string)
  default = {
    AWSManagedRulesCommonRuleSet         = "Version_1.21"
    AWSManagedRulesKnownBadInputsRuleSet = "Version_1.25"
    AWSManagedRulesSQLiRuleSet           = "Version_2.3"
  }

  validation {
    condition     = alltrue([for v in values(var.rule_group_versions) : can(regex("^Version_[0-9]+\\.[0-9]+$", v))])
    error_message = "rule_group_versions: static versions such as Version_1.21."
  }
}

variable "rule_group_overrides" {
  description = "Per managed rule group, from the spec (edge.waf.managedRuleGroups): another static version, and mode count to trial it (matches are logged and labelled, nothing is blocked) before enforce."
  type = map(object({
    version = optional(string)
    mode    = optional(string, "enforce")
  }))
  default = {}

  validation {
    condition     = alltrue([for k, o in var.rule_group_overrides : contains(["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet"], k) && contains(["enforce", "count"], o.mode) && (o.version == null || (k != "AWSManagedRulesAmazonIpReputationList" && can(regex("^Version_[0-9]+\\.[0-9]+$", coalesce(o.version, "-")))))])
    error_message = "rule_group_overrides: keys are the managed rule groups, mode is enforce or count, versions look like Version_1.21 (the IP reputation list has none)."
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

variable "alarm_topic_arn" {
  description = "SNS topic, in the ACL's region (us-east-1 for CLOUDFRONT), that the blocked-requests alarm notifies."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:sns:", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN."
  }
}

variable "blocked_percent_alarm" {
  description = "Alarm when the ACL blocks more than this share (percent) of its requests for 5 minutes (at 100 requests a minute or more)."
  type        = number
  default     = 5

  validation {
    condition     = var.blocked_percent_alarm > 0 && var.blocked_percent_alarm < 100
    error_message = "blocked_percent_alarm must be a percentage between 0 and 100."
  }
}
