output "arn" {
  description = "ARN of the load balancer."
  value       = aws_lb.this.arn
}

output "dns_name" {
  description = "DNS name of the load balancer."
  value       = aws_lb.this.dns_name
}

output "origin_domain" {
  description = "Host name CloudFront uses to reach the load balancer over HTTPS (SNI, Host and the certificate's name)."
  value       = aws_route53_record.origin.fqdn
}

output "vpc_origin_id" {
  description = "ID of CloudFront's VPC origin for the load balancer (the distribution's origin)."
  value       = aws_cloudfront_vpc_origin.alb.id
}

output "security_group_id" {
  description = "Security group of the load balancer."
  value       = aws_security_group.alb.id
}

output "target_group_arns" {
  description = "Target group ARN of each public container app (the chart's TargetGroupBinding)."
  value       = { for app, tg in aws_lb_target_group.app : app => tg.arn }
}

output "web_acl_arn" {
  description = "ARN of the regional web ACL on the load balancer."
  value       = module.waf.arn
}

output "access_log_bucket" {
  description = "Bucket of the access logs."
  value       = module.logs.id
}
