output "kms_key_arn" {
  description = "ARN of the environment's customer-managed KMS key."
  value       = aws_kms_key.this.arn
}

output "alarm_topic_arn" {
  description = "ARN of the SNS topic every alarm of the environment notifies."
  value       = aws_sns_topic.alarms.arn
}
