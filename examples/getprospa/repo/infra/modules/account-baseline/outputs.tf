output "trail_arn" {
  description = "ARN of the account's CloudTrail trail (every region)."
  value       = aws_cloudtrail.this.arn
}

output "trail_bucket" {
  description = "Bucket of the trail's and AWS Config's log files."
  value       = module.bucket.id
}

output "guardduty_detector_id" {
  description = "ID of the account's GuardDuty detector in this region."
  value       = aws_guardduty_detector.this.id
}
