# An AWS WAF web ACL: AWS managed rule groups at pinned versions, an optional
# per-client-IP rate limit scoped to the requests that reach the API, and logging to
# an encrypted CloudWatch log group (the Authorization header and cookies redacted).
#
# The rate limit counts the connection's source IP (aggregate key IP), which a client
# cannot forge. That is the viewer's own address only where the ACL sees the viewer:
# on CloudFront. Behind CloudFront every request comes from CloudFront, and any
# forwarded-IP header is written by the client, so an ACL there must not rate-limit
# (rate_limit = null).
#
# Scope: `rate_limit_routes` names the URL path prefixes CloudFront sends to the
# container apps. A count-only rule per route labels matching requests
# (platformgen:api); the rate-based rule counts and blocks labelled requests only, so
# static assets never use up a client's budget.

locals {
  metric = replace(var.name, "-", "")
  label  = "platformgen:api"

  # The version each versioned AWS managed rule group is pinned to (the IP reputation
  # list is not versioned); a spec override (edge.waf.managedRuleGroups) wins.
  overrides = { for name in var.managed_rule_groups : name => lookup(var.rule_group_overrides, name, { version = null, mode = null }) }
  groups = [
    for name in var.managed_rule_groups : {
      name    = name
      version = name == "AWSManagedRulesAmazonIpReputationList" ? null : coalesce(local.overrides[name].version, var.rule_group_versions[name])
      count   = local.overrides[name].mode == "count"
    }
  ]

  # A route matches its path exactly or anything below it ("/" matches every path),
  # except the paths of static apps nested under it, which CloudFront sends to S3.
  # Regexes hold at most three paths (WAF limits a pattern's length and branches).
  # Route keys are app names, or _other for paths no app claims (an underscore keeps
  # its rule name apart from every app's).
  route_rules = var.rate_limit == null ? [] : [
    for key in keys(var.rate_limit_routes) : {
      name    = "route${startswith(key, "_") ? "" : "-"}${key}"
      metric  = "${local.metric}Route${startswith(key, "_") ? "" : "-"}${key}"
      include = var.rate_limit_routes[key].path == "/" ? "^/" : "^${var.rate_limit_routes[key].path}(?:/|$)"
      exclude = [for chunk in chunklist(sort(var.rate_limit_routes[key].except), 3) : "^(?:${join("|", chunk)})(?:/|$)"]
    }
  ]
}

resource "aws_wafv2_web_acl" "this" {
  name        = var.name
  description = var.rate_limit == null ? "${var.name}: AWS managed rules" : "${var.name}: AWS managed rules and a rate limit on the API"
  scope       = var.scope

  default_action {
    allow {}
  }

  # Labels requests CloudFront routes to a container app; never blocks.
  dynamic "rule" {
    for_each = local.route_rules
    iterator = route
    content {
      name     = route.value.name
      priority = route.key

      action {
        count {}
      }

      rule_label {
        name = local.label
      }

      statement {
        dynamic "regex_match_statement" {
          for_each = length(route.value.exclude) == 0 ? [route.value.include] : []
          content {
            regex_string = regex_match_statement.value
            field_to_match {
              uri_path {}
            }
            text_transformation {
              priority = 0
              type     = "NONE"
            }
          }
        }

        dynamic "and_statement" {
          for_each = length(route.value.exclude) > 0 ? [route.value] : []
          content {
            statement {
              regex_match_statement {
                regex_string = and_statement.value.include
                field_to_match {
                  uri_path {}
                }
                text_transformation {
                  priority = 0
                  type     = "NONE"
                }
              }
            }

            dynamic "statement" {
              for_each = and_statement.value.exclude
              content {
                not_statement {
                  statement {
                    regex_match_statement {
                      regex_string = statement.value
                      field_to_match {
                        uri_path {}
                      }
                      text_transformation {
                        priority = 0
                        type     = "NONE"
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = route.value.metric
        sampled_requests_enabled   = true
      }
    }
  }

  dynamic "rule" {
    for_each = var.rate_limit == null ? [] : [var.rate_limit]
    content {
      name     = "rate-limit-api-per-client-ip"
      priority = length(local.route_rules)

      action {
        block {}
      }

      statement {
        rate_based_statement {
          limit              = rule.value
          aggregate_key_type = "IP"

          scope_down_statement {
            label_match_statement {
              scope = "LABEL"
              key   = local.label
            }
          }
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "${local.metric}RateLimit"
        sampled_requests_enabled   = true
      }
    }
  }

  dynamic "rule" {
    for_each = local.groups
    iterator = group
    content {
      name     = group.value.name
      priority = length(local.route_rules) + (var.rate_limit == null ? 0 : 1) + group.key

      # count: the group's matches are logged and labelled, nothing is blocked (trial).
      override_action {
        dynamic "none" {
          for_each = group.value.count ? [] : [1]
          content {}
        }
        dynamic "count" {
          for_each = group.value.count ? [1] : []
          content {}
        }
      }

      statement {
        managed_rule_group_statement {
          vendor_name = "AWS"
          name        = group.value.name
          version     = group.value.version
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "${local.metric}${group.value.name}"
        sampled_requests_enabled   = true
      }
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = local.metric
    sampled_requests_enabled   = true
  }

  lifecycle {
    precondition {
      condition     = var.rate_limit == null || length(var.rate_limit_routes) > 0
      error_message = "A rate limit needs rate_limit_routes: the requests it counts."
    }
  }
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the spec's observability.logRetentionDays (default 90 days); set 365 or more there where compliance asks for it.
  # WAF requires the aws-waf-logs- prefix.
  name              = "aws-waf-logs-${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  resource_arn            = aws_wafv2_web_acl.this.arn
  log_destination_configs = [aws_cloudwatch_log_group.this.arn]

  redacted_fields {
    single_header {
      name = "authorization"
    }
  }

  redacted_fields {
    single_header {
      name = "cookie"
    }
  }
}

# --- Alarm: the share of requests the ACL blocks ---------------------------------------
# Bots are blocked all day; a jump in the blocked share is an attack, or a managed rule
# that started blocking real clients (a false positive after a rule group update). WAF
# publishes its metrics by the ACL's metric name, Rule ALL, and (except for CloudFront)
# the region, in the ACL's own region: for CloudFront that is us-east-1, so the topic
# must be in us-east-1 too.

data "aws_region" "current" {}

locals {
  waf_dimensions = merge(
    { WebACL = local.metric, Rule = "ALL" },
    var.scope == "REGIONAL" ? { Region = data.aws_region.current.name } : {},
  )
}

resource "aws_cloudwatch_metric_alarm" "blocked" {
  alarm_name          = "${var.name}-waf-blocked"
  alarm_description   = "${var.name}: the web ACL blocked more than ${var.blocked_percent_alarm}% of at least 100 requests a minute for 5 minutes (an attack, or a rule blocking real clients: see its log group)"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.blocked_percent_alarm
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]

  metric_query {
    id          = "blocked_percent"
    expression  = "IF(allowed + blocked >= 100, 100 * blocked / (allowed + blocked), 0)"
    label       = "Blocked requests (%)"
    return_data = true
  }

  metric_query {
    id = "blocked"
    metric {
      namespace   = "AWS/WAFV2"
      metric_name = "BlockedRequests"
      dimensions  = local.waf_dimensions
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id = "allowed"
    metric {
      namespace   = "AWS/WAFV2"
      metric_name = "AllowedRequests"
      dimensions  = local.waf_dimensions
      period      = 60
      stat        = "Sum"
    }
  }
}
