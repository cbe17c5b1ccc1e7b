# Invariants of the WAF module, checked with a mocked AWS provider.

mock_provider "aws" {
  source = "../.mocks"
}

# CloudFront's ACL: it sees the viewer's own address, so the rate limit lives here.
variables {
  name       = "acme-prod-cdn"
  scope      = "CLOUDFRONT"
  rate_limit = 2000
  rate_limit_routes = {
    api    = { path = "/api", except = ["/api/docs"] }
    _other = { path = "/", except = ["/app", "/api/docs", "/assets", "/help"] }
  }
  managed_rule_groups = [
    "AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet",
  ]
  kms_key_arn        = "arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555"
  log_retention_days = 90
  alarm_topic_arn    = "arn:aws:sns:us-east-1:111111111111:acme-prod-cdn-alarms"
}

run "managed_rules_rate_limit_and_logging" {
  command = apply

  assert {
    condition = toset([for r in aws_wafv2_web_acl.this.rule : r.name]) == toset([
      "route-api", "route_other", "rate-limit-api-per-client-ip", "AWSManagedRulesAmazonIpReputationList",
      "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet",
    ])
    error_message = "Common, known bad inputs, SQL injection and IP reputation rule groups, the API route labels and a rate rule are required."
  }
  assert {
    condition     = one([for r in aws_wafv2_web_acl.this.rule : r.statement[0].rate_based_statement[0].limit if r.name == "rate-limit-api-per-client-ip"]) == 2000
    error_message = "The rate limit comes from the spec."
  }
  assert {
    condition     = aws_wafv2_web_acl_logging_configuration.this.resource_arn == aws_wafv2_web_acl.this.arn && startswith(aws_cloudwatch_log_group.this.name, "aws-waf-logs-")
    error_message = "The web ACL logs to an aws-waf-logs- log group."
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn && length(aws_wafv2_web_acl_logging_configuration.this.redacted_fields) == 2
    error_message = "WAF logs are encrypted and redact the Authorization and Cookie headers."
  }
  assert {
    condition     = length(distinct([for r in aws_wafv2_web_acl.this.rule : r.priority])) == length(aws_wafv2_web_acl.this.rule)
    error_message = "Every rule has its own priority."
  }
}

run "the_rate_limit_counts_a_key_the_client_cannot_forge" {
  command = apply

  assert {
    condition     = one([for r in aws_wafv2_web_acl.this.rule : r.statement[0].rate_based_statement[0].aggregate_key_type if r.name == "rate-limit-api-per-client-ip"]) == "IP"
    error_message = "The rate limit counts the connection's source address (the viewer's, at CloudFront), never a forwarded-IP header the client writes."
  }
  assert {
    condition     = alltrue([for r in aws_wafv2_web_acl.this.rule : length(r.statement[0].rate_based_statement[0].forwarded_ip_config) == 0 if length(r.statement[0].rate_based_statement) > 0])
    error_message = "No forwarded-IP configuration: X-Forwarded-For is written by the client."
  }
}

run "the_rate_limit_counts_only_api_requests" {
  command = apply

  assert {
    condition     = one([for r in aws_wafv2_web_acl.this.rule : r.statement[0].rate_based_statement[0].scope_down_statement[0].label_match_statement[0].key if r.name == "rate-limit-api-per-client-ip"]) == "platformgen:api"
    error_message = "The rate rule is scoped down to requests labelled as API routes."
  }
  assert {
    condition     = alltrue([for r in aws_wafv2_web_acl.this.rule : length(r.action[0].count) == 1 && [for l in r.rule_label : l.name] == ["platformgen:api"] if startswith(r.name, "route")])
    error_message = "Route rules only count and label; they never block."
  }
  assert {
    condition     = one([for r in aws_wafv2_web_acl.this.rule : r.priority if r.name == "rate-limit-api-per-client-ip"]) > max([for r in aws_wafv2_web_acl.this.rule : r.priority if startswith(r.name, "route")]...)
    error_message = "Route labels are added before the rate rule reads them."
  }
  assert {
    condition = one([for r in aws_wafv2_web_acl.this.rule : r.statement[0].and_statement[0].statement[0].regex_match_statement[0].regex_string if r.name == "route-api"]) == "^/api(?:/|$)" && one([
      for r in aws_wafv2_web_acl.this.rule : r.statement[0].and_statement[0].statement[1].not_statement[0].statement[0].regex_match_statement[0].regex_string if r.name == "route-api"
    ]) == "^(?:/api/docs)(?:/|$)"
    error_message = "An API route matches its prefix exactly or below it, except the static apps nested under it."
  }
  assert {
    condition     = length(one([for r in aws_wafv2_web_acl.this.rule : r.statement[0].and_statement[0].statement if r.name == "route_other"])) == 3
    error_message = "Excluded paths are matched three to a pattern: four static paths make two NOT statements."
  }
}

run "a_route_without_nested_static_apps_is_one_pattern" {
  command = apply
  variables {
    rate_limit_routes = { api = { path = "/api", except = [] } }
  }

  assert {
    condition     = one([for r in aws_wafv2_web_acl.this.rule : r.statement[0].regex_match_statement[0].regex_string if r.name == "route-api"]) == "^/api(?:/|$)"
    error_message = "A route with nothing nested is a single regex match."
  }
}

run "managed_rule_groups_are_pinned" {
  command = apply

  assert {
    condition     = alltrue([for r in aws_wafv2_web_acl.this.rule : can(regex("^Version_[0-9]+\\.[0-9]+$", r.statement[0].managed_rule_group_statement[0].version)) if length(r.statement[0].managed_rule_group_statement) > 0 && r.name != "AWSManagedRulesAmazonIpReputationList"])
    error_message = "Every versioned managed rule group runs a pinned static version, never the default AWS may move."
  }
  assert {
    condition     = one([for r in aws_wafv2_web_acl.this.rule : r.statement[0].managed_rule_group_statement[0].version if r.name == "AWSManagedRulesCommonRuleSet"]) == var.rule_group_versions["AWSManagedRulesCommonRuleSet"]
    error_message = "Without an override a group runs the pinned version."
  }
  assert {
    condition     = alltrue([for r in aws_wafv2_web_acl.this.rule : length(r.override_action[0].none) == 1 && length(r.override_action[0].count) == 0 if length(r.statement[0].managed_rule_group_statement) > 0])
    error_message = "Managed rule groups enforce their rules unless the spec trials them in count mode."
  }
}

run "a_new_version_is_trialled_in_count_mode" {
  command = apply
  variables {
    rule_group_overrides = {
      AWSManagedRulesCommonRuleSet = { version = "Version_1.22", mode = "count" }
    }
  }

  assert {
    condition     = one([for r in aws_wafv2_web_acl.this.rule : r.statement[0].managed_rule_group_statement[0].version if r.name == "AWSManagedRulesCommonRuleSet"]) == "Version_1.22"
    error_message = "The spec's version replaces the pin."
  }
  assert {
    condition     = one([for r in aws_wafv2_web_acl.this.rule : length(r.override_action[0].count) if r.name == "AWSManagedRulesCommonRuleSet"]) == 1 && one([for r in aws_wafv2_web_acl.this.rule : length(r.override_action[0].none) if r.name == "AWSManagedRulesSQLiRuleSet"]) == 1
    error_message = "Only the group on trial counts; the others keep enforcing."
  }
}

run "behind_cloudfront_there_is_no_rate_limit" {
  command = apply
  variables {
    name                = "acme-prod-alb"
    scope               = "REGIONAL"
    rate_limit          = null
    rate_limit_routes   = {}
    managed_rule_groups = ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet"]
  }

  assert {
    condition     = alltrue([for r in aws_wafv2_web_acl.this.rule : length(r.statement[0].rate_based_statement) == 0]) && length(aws_wafv2_web_acl.this.rule) == 3
    error_message = "An ACL that sees only CloudFront's addresses has no rate-based rule and no route labels."
  }
}

run "refuses_an_unversioned_pin" {
  command = plan
  variables {
    rule_group_overrides = {
      AWSManagedRulesAmazonIpReputationList = { version = "Version_1.0" }
    }
  }
  expect_failures = [var.rule_group_overrides]
}

run "refuses_a_rate_limit_without_routes" {
  command = plan
  variables {
    rate_limit_routes = {}
  }
  expect_failures = [aws_wafv2_web_acl.this]
}

# The blocked share alarm reads the ACL's own metrics: by its metric name and Rule ALL,
# with the region only for a regional ACL (CloudFront's have none), and notifies the
# topic it was given (in the ACL's region).
run "the_blocked_share_alarms_on_the_acls_own_metrics" {
  command = apply
  assert {
    condition = alltrue([
      for q in aws_cloudwatch_metric_alarm.blocked.metric_query : one(q.metric).dimensions == tomap({ WebACL = aws_wafv2_web_acl.this.visibility_config[0].metric_name, Rule = "ALL" }) if length(q.metric) > 0
    ]) && length([for q in aws_cloudwatch_metric_alarm.blocked.metric_query : q if length(q.metric) > 0]) == 2
    error_message = "CloudFront's ACL publishes BlockedRequests and AllowedRequests by its metric name and Rule ALL, without a Region dimension."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.blocked.alarm_actions == toset([var.alarm_topic_arn]) && aws_cloudwatch_metric_alarm.blocked.threshold == 5
    error_message = "The alarm notifies the topic it was given when more than 5% of requests are blocked."
  }
}

run "a_regional_acls_alarm_names_its_region" {
  command = apply
  variables {
    name            = "acme-prod-alb"
    scope           = "REGIONAL"
    rate_limit      = null
    alarm_topic_arn = "arn:aws:sns:ap-southeast-2:111111111111:acme-prod-alarms"
    kms_key_arn     = "arn:aws:kms:ap-southeast-2:111111111111:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition = alltrue([
      for q in aws_cloudwatch_metric_alarm.blocked.metric_query : one(q.metric).dimensions == tomap({ WebACL = "acmeprodalb", Rule = "ALL", Region = "ap-southeast-2" }) if length(q.metric) > 0
    ])
    error_message = "A regional ACL publishes its metrics with its region."
  }
}
