output "controller_role_arn" {
  description = "IAM role of the Karpenter controller (Pod Identity, karpenter/karpenter)."
  value       = aws_iam_role.controller.arn
}

output "node_role_name" {
  description = "IAM role of the nodes Karpenter starts: infra/addons/karpenter-nodepool.yaml's EC2NodeClass names it."
  value       = aws_iam_role.node.name
}

output "node_role_arn" {
  description = "ARN of the IAM role of the nodes Karpenter starts."
  value       = aws_iam_role.node.arn
}

output "interruption_queue_name" {
  description = "SQS queue of interruption events (the chart's settings.interruptionQueue)."
  value       = aws_sqs_queue.interruptions.name
}
