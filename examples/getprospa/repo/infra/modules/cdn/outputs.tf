output "distribution_id" {
  description = "ID of the CloudFront distribution (for cache invalidations after a static deploy)."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_arn" {
  description = "ARN of the CloudFront distribution."
  value       = aws_cloudfront_distribution.this.arn
}

output "domain_name" {
  description = "CloudFront domain name of the distribution."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "static_buckets" {
  description = "Bucket of each static web app (deploy its built assets under the app's path)."
  value       = { for k, m in module.static : k => m.id }
}

output "web_acl_arn" {
  description = "ARN of the CloudFront (us-east-1) web ACL."
  value       = module.waf.arn
}
