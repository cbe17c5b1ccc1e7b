output "arn" {
  description = "ARN of the web ACL."
  value       = aws_wafv2_web_acl.this.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the web ACL's logs."
  value       = aws_cloudwatch_log_group.this.name
}

output "rule_names" {
  description = "Names of the web ACL's rules, in priority order."
  value       = [for r in sort([for r in aws_wafv2_web_acl.this.rule : format("%05d %s", r.priority, r.name)]) : substr(r, 6, -1)]
}

output "rate_limit_routes" {
  description = "The routes the rate limit counts (empty without a rate limit)."
  value       = var.rate_limit == null ? {} : var.rate_limit_routes
}

output "blocked_alarm_arn" {
  description = "ARN of the blocked-share alarm."
  value       = aws_cloudwatch_metric_alarm.blocked.arn
}
