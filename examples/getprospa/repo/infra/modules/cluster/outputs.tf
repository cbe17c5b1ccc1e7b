output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = aws_eks_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = aws_eks_cluster.this.arn
}

output "cluster_endpoint" {
  description = "Private endpoint of the Kubernetes API (reachable only from inside the VPC)."
  value       = aws_eks_cluster.this.endpoint
}

output "node_security_group_id" {
  description = "Security group of the nodes and pods; the load balancer reaches the pods through it. The database admits database_client_security_group_id instead."
  value       = aws_security_group.node.id
}

output "database_client_security_group_id" {
  description = "The group the database admits on its port, and no other: every node carries it; the charts' NetworkPolicy egress decides which pods use it."
  value       = aws_security_group.database_clients.id
}

output "node_role_arn" {
  description = "IAM role of the nodes."
  value       = aws_iam_role.node.arn
}

output "load_balancer_controller_role_arn" {
  description = "IAM role of the AWS Load Balancer Controller (Pod Identity, kube-system/aws-load-balancer-controller)."
  value       = aws_iam_role.load_balancer_controller.arn
}

output "external_secrets_role_name" {
  description = "Name of the External Secrets Operator's IAM role (Pod Identity, external-secrets/external-secrets)."
  value       = aws_iam_role.external_secrets.name
}

output "external_secrets_role_arn" {
  description = "ARN of the External Secrets Operator's IAM role."
  value       = aws_iam_role.external_secrets.arn
}

output "cluster_security_group_id" {
  description = "The security group EKS made for the control plane's network interfaces (the private API endpoint); the nodes carry it. The executors reach the API through a rule added to it (modules/executors)."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}
