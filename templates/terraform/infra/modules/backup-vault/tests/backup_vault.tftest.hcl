# Invariants of the backup-vault module, checked with a mocked AWS provider.

mock_provider "aws" {
  source = "../.mocks"
}

variables {
  name               = "acme-prod-copies"
  tier               = "production"
  min_retention_days = 35
  copy_accounts      = ["222222222222"]
}

run "recovery_points_are_encrypted_with_the_vaults_own_cmk" {
  command = apply

  assert {
    condition     = aws_backup_vault.this.kms_key_arn == aws_kms_key.this.arn && aws_kms_key.this.enable_key_rotation && aws_kms_key.this.deletion_window_in_days == 30
    error_message = "The vault encrypts recovery points with its own rotating customer-managed key."
  }
  assert {
    condition     = aws_kms_alias.this.name == "alias/acme-prod-copies" && aws_backup_vault.this.name == "acme-prod-copies" && aws_backup_vault.this.force_destroy == false
    error_message = "The vault and its key alias carry the vault's name, and a vault keeps its recovery points on destroy."
  }
}

run "production_locks_in_compliance_mode" {
  command = apply

  assert {
    condition     = output.lock_mode == "compliance" && length(aws_backup_vault_lock_configuration.governance) == 0 && aws_backup_vault_lock_configuration.compliance[0].changeable_for_days == 3
    error_message = "A production vault is locked in compliance mode, immutable after the 3-day cooling-off period."
  }
  assert {
    condition     = aws_backup_vault_lock_configuration.compliance[0].min_retention_days == 35 && aws_backup_vault_lock_configuration.compliance[0].max_retention_days == null && aws_backup_vault_lock_configuration.compliance[0].backup_vault_name == aws_backup_vault.this.name
    error_message = "The lock refuses recovery points kept for less than the retention, and caps nothing (a longer retention must stay possible)."
  }
}

run "other_tiers_lock_in_governance_mode" {
  command = apply
  variables {
    tier = "staging"
  }

  assert {
    condition     = output.lock_mode == "governance" && length(aws_backup_vault_lock_configuration.compliance) == 0 && aws_backup_vault_lock_configuration.governance[0].changeable_for_days == null && aws_backup_vault_lock_configuration.governance[0].min_retention_days == 35
    error_message = "Outside production tier the lock is in governance mode: same retention, but removable (compliance mode cannot be undone)."
  }
}

run "development_lock_is_governance_too" {
  command = plan
  variables {
    tier          = "development"
    force_destroy = true
  }

  assert {
    condition     = output.lock_mode == "governance" && length(aws_backup_vault_lock_configuration.compliance) == 0 && aws_backup_vault_lock_configuration.governance[0].changeable_for_days == null && aws_backup_vault.this.force_destroy
    error_message = "A development vault is locked in governance mode and may be destroyed with its recovery points."
  }
}

run "only_the_copy_accounts_may_copy_in" {
  command = apply

  assert {
    condition     = jsondecode(aws_backup_vault_policy.this[0].policy).Statement[0].Principal.AWS == ["arn:aws:iam::222222222222:root"] && jsondecode(aws_backup_vault_policy.this[0].policy).Statement[0].Action == "backup:CopyIntoBackupVault" && jsondecode(aws_backup_vault_policy.this[0].policy).Statement[0].Effect == "Allow" && length(jsondecode(aws_backup_vault_policy.this[0].policy).Statement) == 1
    error_message = "The vault policy lets only the copy accounts copy recovery points in, and grants nothing else."
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid == "AccountAdministers" ? s.Principal.AWS == "arn:aws:iam::111111111111:root" : s.Principal.AWS == ["arn:aws:iam::222222222222:root"]
    ]) && one([for s in jsondecode(aws_kms_key.this.policy).Statement : s.Condition.Bool["kms:GrantIsForAWSResource"] if s.Sid == "CopyAccountsGrantToAwsServicesOnly"]) == "true"
    error_message = "Only the account and the copy accounts use the key; the copy accounts may grant it to AWS services only."
  }
}

run "no_copy_accounts_no_policy" {
  command = plan
  variables {
    copy_accounts = []
  }

  assert {
    condition     = length(aws_backup_vault_policy.this) == 0 && length(jsondecode(aws_kms_key.this.policy).Statement) == 1
    error_message = "Without copy accounts nobody outside the account may copy in or use the key."
  }
}

run "refuses_a_cooling_off_shorter_than_aws_allows" {
  command = plan
  variables {
    changeable_for_days = 2
  }
  expect_failures = [var.changeable_for_days]
}

run "refuses_an_account_that_is_not_an_id" {
  command = plan
  variables {
    copy_accounts = ["acme"]
  }
  expect_failures = [var.copy_accounts]
}
