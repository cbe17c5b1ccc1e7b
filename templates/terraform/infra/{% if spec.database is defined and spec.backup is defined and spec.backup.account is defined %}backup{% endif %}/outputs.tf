output "vault_arn" {
  description = "The vault the environment copies its database snapshots into (its backup plan's copy action names it)."
  value       = module.copies.arn
}

output "lock_mode" {
  description = "Vault Lock mode of that vault: compliance (production tier) or governance."
  value       = module.copies.lock_mode
}

output "state_bucket" {
  description = "Bucket of this root's state for the environment, in the backup account."
  value       = module.state.id
}
