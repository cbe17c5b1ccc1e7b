# Invariants of the workloads module, checked with a mocked AWS provider.

mock_provider "aws" {
  source = "../.mocks"
}

variables {
  name                       = "acme-prod"
  secret_prefix              = "acme/prod/"
  cluster_name               = "acme-prod"
  external_secrets_role_name = "acme-prod-external-secrets"
  external_secrets_role_arn  = "arn:aws:iam::111111111111:role/acme-prod-external-secrets"
  apps = {
    api    = { database = true, secrets = ["api/auth", "shared/smtp"] }
    worker = { database = false, secrets = ["shared/smtp"] }
  }
  database_users       = ["api", "api-migrator", "readonly", "dms"]
  kms_key_arn          = "arn:aws:kms:ap-southeast-2:111111111111:key/11111111-2222-3333-4444-555555555555"
  permissions_boundary = "arn:aws:iam::111111111111:policy/acme-prod-boundary"
}

run "one_role_per_app_named_by_the_contract" {
  command = apply

  assert {
    condition     = aws_iam_role.app["api"].name == "acme-prod-api" && aws_iam_role.app["worker"].name == "acme-prod-worker"
    error_message = "App roles are named <project>-<environment>-<app> (docs/contracts.md)."
  }
  assert {
    condition     = aws_eks_pod_identity_association.app["api"].namespace == "api" && aws_eks_pod_identity_association.app["api"].service_account == "api"
    error_message = "Pods of an app use its role through Pod Identity, in the app's namespace and service account."
  }
}

run "apps_read_only_their_own_secrets" {
  command = plan

  assert {
    condition     = toset(keys(aws_secretsmanager_secret.app)) == toset(["api/auth", "shared/smtp"]) && aws_secretsmanager_secret.app["api/auth"].name == "acme/prod/api/auth"
    error_message = "Every referenced secret exists once, under the environment's prefix."
  }
  assert {
    condition     = alltrue([for s in aws_secretsmanager_secret.app : s.kms_key_id == var.kms_key_arn])
    error_message = "Secrets are encrypted with the CMK."
  }
}

run "the_database_users_secrets_are_empty_encrypted_and_named_by_the_contract" {
  command = plan

  assert {
    condition     = toset([for s in aws_secretsmanager_secret.database_user : s.name]) == toset(["acme/prod/database/api", "acme/prod/database/api-migrator", "acme/prod/database/readonly", "acme/prod/database/dms"])
    error_message = "Every database user has its secret <project>/<environment>/database/<user> (docs/contracts.md)."
  }
  assert {
    condition     = alltrue([for s in aws_secretsmanager_secret.database_user : s.kms_key_id == var.kms_key_arn && s.recovery_window_in_days == var.secret_recovery_days])
    error_message = "The database users' secrets are encrypted with the CMK and keep the recovery window of every other secret."
  }
}

run "apps_read_only_their_own_database_users" {
  command = plan

  override_data {
    target = data.aws_iam_policy_document.app["worker"]
    values = { json = "{}" }
  }

  assert {
    condition = toset([for r in flatten([for s in data.aws_iam_policy_document.app["api"].statement : s.resources]) : r if strcontains(r, ":secret:acme/prod/database/")]) == toset([
      "arn:aws:secretsmanager:ap-southeast-2:111111111111:secret:acme/prod/database/api-??????",
      "arn:aws:secretsmanager:ap-southeast-2:111111111111:secret:acme/prod/database/api-migrator-??????",
    ])
    error_message = "An app with the database reads its own user's secret and its migrator's, by exact name, and no other database user's."
  }
  assert {
    condition     = !anytrue([for r in flatten([for s in data.aws_iam_policy_document.app["api"].statement : s.resources]) : strcontains(r, "rds!") || strcontains(r, "database-master")])
    error_message = "No app reads the master secret: it is break-glass only."
  }
  assert {
    condition     = !anytrue([for r in flatten([for s in data.aws_iam_policy_document.app["worker"].statement : s.resources]) : strcontains(r, "/database/")])
    error_message = "An app without the database reads no database user's secret."
  }
  assert {
    condition     = alltrue([for s in flatten([for d in data.aws_iam_policy_document.app : d.statement]) : !contains(s.resources, "*")])
    error_message = "No app policy grants a wildcard resource."
  }
}

run "an_app_with_the_database_needs_its_users" {
  command = plan
  variables {
    database_users = ["readonly"]
  }
  expect_failures = [var.database_users]
}

run "no_app_may_take_the_database_users_prefix" {
  command = plan
  variables {
    apps = {
      database = { database = false, secrets = [] }
      web      = { database = false, secrets = ["database/api"] }
    }
  }
  expect_failures = [var.apps]
}

run "the_operator_assumes_exactly_the_app_roles" {
  command = apply

  assert {
    condition     = aws_iam_role_policy.external_secrets.role == var.external_secrets_role_name && toset(data.aws_iam_policy_document.external_secrets.statement[0].resources) == toset([for r in aws_iam_role.app : r.arn]) && data.aws_iam_policy_document.external_secrets.statement[0].actions == toset(["sts:AssumeRole"])
    error_message = "The External Secrets Operator may assume the app roles and nothing else."
  }
}

run "every_role_carries_the_boundary" {
  command = apply

  assert {
    condition     = length(aws_iam_role.app) == 2 && alltrue([for r in aws_iam_role.app : r.permissions_boundary == var.permissions_boundary])
    error_message = "Every app role carries the permissions boundary."
  }
}

# observability.provider datadog: the operator may read the Datadog API key through a
# role of its own, which reads that one secret and nothing else.
run "datadog_reads_only_its_api_key" {
  command = apply
  variables {
    datadog_api_key_secret = "acme/prod/datadog-api-key"
  }

  assert {
    condition     = one(aws_iam_role.datadog_api_key).permissions_boundary == var.permissions_boundary && one(aws_iam_role.datadog_api_key).name == "acme-prod-datadog-api-key"
    error_message = "The Datadog API key role carries the boundary."
  }
  assert {
    condition = one([for s in data.aws_iam_policy_document.datadog_api_key.statement : s.resources if s.sid == "ReadTheDatadogApiKey"]) == toset([
      "arn:aws:secretsmanager:ap-southeast-2:111111111111:secret:acme/prod/datadog-api-key-??????",
    ])
    error_message = "The role reads the spec's Datadog API key secret only."
  }
  assert {
    condition     = contains(one(data.aws_iam_policy_document.external_secrets.statement).resources, one(aws_iam_role.datadog_api_key).arn)
    error_message = "The External Secrets Operator may assume the Datadog API key role."
  }
}

run "without_datadog_no_api_key_role" {
  command = plan

  assert {
    condition     = length(aws_iam_role.datadog_api_key) == 0
    error_message = "Without Datadog there is no Datadog role."
  }
}
