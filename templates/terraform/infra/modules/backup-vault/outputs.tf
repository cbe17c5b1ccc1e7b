output "name" {
  description = "Name of the vault."
  value       = aws_backup_vault.this.name
}

output "arn" {
  description = "ARN of the vault: a backup plan's copy action targets it."
  value       = aws_backup_vault.this.arn
}

output "kms_key_arn" {
  description = "ARN of the vault's customer-managed KMS key."
  value       = aws_kms_key.this.arn
}

output "lock_mode" {
  description = "Vault Lock mode: compliance (production tier) or governance."
  value       = local.lock_mode
}
