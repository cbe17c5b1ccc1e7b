output "address" {
  description = "Host name of the primary instance (resolves to private addresses only)."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "MySQL port."
  value       = aws_db_instance.this.port
}

output "db_name" {
  description = "Name of the application schema."
  value       = aws_db_instance.this.db_name
}

output "master_secret_arn" {
  description = "ARN of the Secrets Manager secret with the master username and password: RDS-managed without read replicas, Terraform-written (write-only) with them."
  value       = local.rds_managed ? aws_db_instance.this.master_user_secret[0].secret_arn : aws_secretsmanager_secret.master[0].arn
}

output "replica_addresses" {
  description = "Host names of the read replicas."
  value       = [for r in aws_db_instance.replica : r.address]
}

output "security_group_id" {
  description = "Security group of the database."
  value       = aws_security_group.this.id
}

output "instance_id" {
  description = "Identifier of the primary instance."
  value       = aws_db_instance.this.identifier
}

output "arn" {
  description = "ARN of the primary instance (AWS Backup selects it by this ARN)."
  value       = aws_db_instance.this.arn
}

output "subnet_group_name" {
  description = "Name of the DB subnet group (the isolated subnets); restore tests restore into it."
  value       = aws_db_subnet_group.this.name
}
