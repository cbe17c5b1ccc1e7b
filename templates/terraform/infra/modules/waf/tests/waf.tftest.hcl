# Invariants of the WAF module, checked with a mocked AWS provider.

mock_provider "aws" {
  source = "../.mocks"
}

variables {
  name               = "acme-prod-alb"
  scope              = "REGIONAL"
  rate_limit         = 2000
  client_ip_header   = "X-Forwarded-For"
  kms_key_arn        = "arn:aws:kms:ap-southeast-2:111111111111:key/11111111-2222-3333-4444-555555555555"
  log_retention_days = 90
}

run "managed_rules_rate_limit_and_logging" {
  command = apply

  assert {
    condition = toset([for r in aws_wafv2_web_acl.this.rule : r.name]) == toset([
      "rate-limit-per-client-ip", "AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet",
      "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet",
    ])
    error_message = "Common, known bad inputs, SQL injection and IP reputation rule groups plus a rate rule are required."
  }
  assert {
    condition     = one([for r in aws_wafv2_web_acl.this.rule : r.statement[0].rate_based_statement[0].limit if r.name == "rate-limit-per-client-ip"]) == 2000
    error_message = "The rate limit comes from the spec."
  }
  assert {
    condition     = one([for r in aws_wafv2_web_acl.this.rule : r.statement[0].rate_based_statement[0].aggregate_key_type if r.name == "rate-limit-per-client-ip"]) == "FORWARDED_IP"
    error_message = "Behind CloudFront the rate limit counts the viewer's IP from X-Forwarded-For."
  }
  assert {
    condition     = aws_wafv2_web_acl_logging_configuration.this.resource_arn == aws_wafv2_web_acl.this.arn && startswith(aws_cloudwatch_log_group.this.name, "aws-waf-logs-")
    error_message = "The web ACL logs to an aws-waf-logs- log group."
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn && length(aws_wafv2_web_acl_logging_configuration.this.redacted_fields) == 2
    error_message = "WAF logs are encrypted and redact the Authorization and Cookie headers."
  }
}
