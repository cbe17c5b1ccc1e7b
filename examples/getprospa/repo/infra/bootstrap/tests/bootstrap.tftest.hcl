# Invariants of the account's roles and permissions boundary (roles.tf, boundary.tf),
# checked on the JSON documents IAM receives, with a mocked AWS provider.

mock_provider "aws" {
  source = "../modules/.mocks"
}

override_resource {
  target = aws_iam_policy.boundary
  values = { arn = "arn:aws:iam::333333333333:policy/acme-prod-boundary" }
}

variables {
  environment = "prod"
  project     = "acme"
  environments = {
    dev = { account_id = "111111111111", region = "ap-southeast-2", tier = "development" }
    # With read replicas: the plan refreshes the write-only master secret.
    staging = { account_id = "222222222222", region = "ap-southeast-2", tier = "staging", reads_master_secret = true }
    prod = {
      account_id          = "333333333333"
      region              = "ap-southeast-2"
      tier                = "production"
      reads_master_secret = true
      access = {
        read_only   = ["arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/ap-southeast-2/AWSReservedSSO_ReadOnly_0123456789abcdef"]
        break_glass = ["arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/ap-southeast-2/AWSReservedSSO_BreakGlass_fedcba9876543210"]
      }
    }
  }
  tags        = { owner = "platform", cost_centre = "acme", repository = "acme/acme-platform" }
  github      = { repository = "acme/acme-platform", branch = "main" }
  bitbucket   = { workspace = "acme", workspace_uuid = "{0d5c2b7e-8c1a-4f7e-9b3d-2a6f1e4c9d80}", repository_uuid = "{7f3e9a21-4b6c-4d8e-a1f2-93c5b7d0e6a4}", plan_environment_uuids = { prod = "{5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}" }, deploy_environment_uuids = { prod = "{9e8d7c6b-5a49-4382-b716-05f4e3d2c1b0}" } }
  delivery    = { provider = "github", artifacts_account_id = "999999999999", artifacts_region = "ap-southeast-2" }
  static_apps = ["web"]
}

run "no_ci_role_is_allowed_every_action" {
  command = apply

  assert {
    condition = alltrue(flatten([for k, p in aws_iam_role_policy.this : [
      for s in jsondecode(p.policy).Statement : s.Effect != "Allow" || !contains(flatten([try(s.Action, [])]), "*") && !can(s.NotAction)
    ]]))
    error_message = "No role of the account may be allowed Action \"*\": each has a policy written for its job, never AdministratorAccess."
  }
  assert {
    # Only the platform executor manages whole services, and only those the roots use, in
    # the environment's region (and us-east-1, where CloudFront, IAM and Route 53 answer).
    condition = alltrue(flatten([for k in ["plan", "app_deploy"] : [
      for s in jsondecode(aws_iam_role_policy.this[k].policy).Statement : [for a in flatten([s.Action]) : s.Effect != "Allow" || !endswith(a, ":*")]
    ]])) && alltrue([for s in jsondecode(aws_iam_role_policy.this["platform"].policy).Statement : s.Effect != "Allow" || !anytrue([for a in flatten([s.Action]) : endswith(a, ":*")]) || try(s.Condition.StringEquals["aws:RequestedRegion"], null) == ["ap-southeast-2", "us-east-1"]])
    error_message = "Whole-service actions (svc:*) belong to the platform executor only, held to the environment's region and us-east-1."
  }
}

run "plan_role_reads_configuration_never_data" {
  command = apply

  variables {
    environment = "dev"
  }

  assert {
    # Every action allowed on every resource is matched against the data reads: none may
    # cover one (s3:Get* would cover s3:GetObject).
    condition = alltrue(flatten([for s in jsondecode(aws_iam_role_policy.this["plan"].policy).Statement : [
      for a in flatten([s.Action]) : [
        for d in concat(local.data_read_actions, local.secret_value_actions, local.object_read_actions) :
        !can(regex("^${replace(replace(a, ".", "\\."), "*", ".*")}$", d))
      ] if s.Effect == "Allow" && try(s.Resource, null) == "*"
    ]]))
    error_message = "The plan role must not read data: no object, secret value, item, log event or image is covered by what it may do everywhere."
  }
  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.this["plan"].policy).Statement :
      s.Effect != "Allow" || (!contains(flatten([s.Action]), "s3:GetObject") || try(s.Resource, null) == "arn:aws:s3:::acme-dev-tfstate-111111111111/envs/dev/*")
      && !anytrue([for a in flatten([s.Action]) : startswith(a, "secretsmanager:GetSecret")])
    ])
    error_message = "The plan role reads objects of its environment's state only, and no secret value where no write-only secret exists."
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this["plan"].policy).Statement : s if s.Effect == "Deny" && s.Sid == "NoSecretValues" && try(s.Resource, null) == "*" && contains(flatten([s.Action]), "secretsmanager:GetSecretValue")]) == 1 && length([for s in jsondecode(aws_iam_role_policy.this["plan"].policy).Statement : s if s.Effect == "Deny" && contains(flatten([s.Action]), "rds-data:*") && contains(flatten([s.Action]), "logs:GetLogEvents") && contains(flatten([s.Action]), "dynamodb:Scan")]) == 1
    error_message = "Data reads are denied explicitly, so no later policy can grant them to the plan role."
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this["plan"].policy).Statement : s if s.Effect == "Allow" && flatten([s.Action]) == ["secretsmanager:GetRandomPassword"] && try(s.Resource, null) == "*"]) == 1
    error_message = "The plan role needs secretsmanager:GetRandomPassword: the ephemeral master password is generated at plan time."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this["plan"].policy).Statement : [try(s.Resource, null), try(s.Condition.StringEquals["kms:ViaService"], null)] if s.Effect == "Allow" && contains(flatten([s.Action]), "kms:Decrypt")] == [[aws_kms_key.state.arn, "s3.ap-southeast-2.amazonaws.com"]]
    error_message = "The plan role decrypts with the state key only, and only through S3."
  }
}

run "dev_plan_role_trusts_pull_requests" {
  command = apply

  variables {
    environment = "dev"
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role.this["plan"].assume_role_policy).Statement : try(s.Condition.StringEquals["token.actions.githubusercontent.com:sub"], null) if s.Sid == "GitHubWorkflows"] == [[
      "repo:acme/acme-platform:pull_request", "repo:acme/acme-platform:ref:refs/heads/main",
    ]]
    error_message = "A development plan role trusts the repository's pull requests and its deploy branch."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role.this["plan"].assume_role_policy).Statement : try(s.Condition.StringLike["api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc:sub"], null) if s.Sid == "BitbucketPipelines"] == [["{7f3e9a21-4b6c-4d8e-a1f2-93c5b7d0e6a4}:*"]]
    error_message = "A development plan role trusts the repository's Bitbucket steps."
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role.this["plan"].assume_role_policy).Statement : s if can(s.Principal.AWS)]) == 0
    error_message = "Without read-only people in the spec, no person may assume the plan role."
  }
}

run "prod_plan_role_trusts_only_the_protected_environment" {
  command = apply

  assert {
    condition = [for s in jsondecode(aws_iam_role.this["plan"].assume_role_policy).Statement : try(s.Condition.StringEquals, null) if s.Sid == "GitHubWorkflows"] == [{
      "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"
      "token.actions.githubusercontent.com:sub" = ["repo:acme/acme-platform:environment:prod-plan"]
    }]
    error_message = "Production's plan role trusts exactly the repository's protected prod-plan environment (StringEquals), never a pull request."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role.this["plan"].assume_role_policy).Statement : try(s.Condition.StringLike["api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc:sub"], null) if s.Sid == "BitbucketPipelines"] == [["{7f3e9a21-4b6c-4d8e-a1f2-93c5b7d0e6a4}:{5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}:*"]]
    error_message = "Production's plan role trusts only Bitbucket steps of the deployment environment named for its plans."
  }
  assert {
    condition     = !strcontains(aws_iam_role.this["plan"].assume_role_policy, "pull_request") && !strcontains(aws_iam_role.this["plan"].assume_role_policy, "refs/heads")
    error_message = "No pull request or branch may assume production's plan role."
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role.this["plan"].assume_role_policy).Statement : try(s.Condition.ArnEquals["aws:PrincipalArn"], null) if s.Sid == "ReadOnlyPeople"] == [[
      "arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/ap-southeast-2/AWSReservedSSO_ReadOnly_0123456789abcdef",
    ]]
    error_message = "The read-only people of the spec may assume the plan role, by exact role ARN."
  }
}

run "a_plan_role_that_reads_a_secret_is_protected" {
  command = apply

  variables {
    environment = "staging"
    bitbucket   = { workspace = "acme", workspace_uuid = "{0d5c2b7e-8c1a-4f7e-9b3d-2a6f1e4c9d80}", repository_uuid = "{7f3e9a21-4b6c-4d8e-a1f2-93c5b7d0e6a4}" }
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role.this["plan"].assume_role_policy).Statement : try(s.Condition.StringEquals["token.actions.githubusercontent.com:sub"], null) if s.Sid == "GitHubWorkflows"] == [["repo:acme/acme-platform:environment:staging-plan"]]
    error_message = "A plan role that reads the write-only master secret trusts only its protected environment, never pull requests."
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role.this["plan"].assume_role_policy).Statement : s if s.Sid == "BitbucketPipelines"]) == 0
    error_message = "Without the UUID of its Bitbucket deployment environment, a protected plan role trusts no Bitbucket step."
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.this["plan"].policy).Statement : try(s.Resource, null) if s.Effect == "Allow" && contains(flatten([s.Action]), "secretsmanager:GetSecretValue")] == [
      "arn:aws:secretsmanager:ap-southeast-2:222222222222:secret:acme-staging-database-master-*",
    ]
    error_message = "The plan role may read the one write-only master secret a refresh reads, nothing else."
  }
}

run "the_platform_executor_reads_only_the_databases_secrets" {
  command = apply

  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this["platform"].policy).Statement : toset(s.NotResource) if s.Effect == "Deny" && contains(flatten([s.Action]), "secretsmanager:GetSecretValue") && can(s.NotResource)]) == toset([
      "arn:aws:secretsmanager:ap-southeast-2:333333333333:secret:acme-prod-database-master-*",
      "arn:aws:secretsmanager:ap-southeast-2:333333333333:secret:rds!db-*",
      "arn:aws:secretsmanager:ap-southeast-2:333333333333:secret:acme/prod/database/*",
    ])
    error_message = "The platform executor reads no secret value but the master's and the database users' (the database kit), never an app's third-party secrets."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this["platform"].policy).Statement : s.Condition if s.Sid == "NoOtherDatabasesMasterSecret" && s.Effect == "Deny" && try(s.Resource, "") == "arn:aws:secretsmanager:ap-southeast-2:333333333333:secret:rds!db-*"]) == { StringNotEquals = { "secretsmanager:ResourceTag/aws:rds:primaryDBInstanceArn" = "arn:aws:rds:ap-southeast-2:333333333333:db:acme-prod" } }
    error_message = "Of the RDS-managed secrets, the platform executor reads only its own environment's primary's."
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this["plan"].policy).Statement : s if s.Effect == "Allow" && contains(flatten([s.Action]), "secretsmanager:GetSecretValue") && strcontains(jsonencode(try(s.Resource, "")), "/database/")]) == 0
    error_message = "The plan role never reads a database user's secret."
  }
}

run "the_migration_target_reads_exactly_its_source_secret" {
  command = apply
  variables {
    environments = {
      dev = { account_id = "111111111111", region = "ap-southeast-2", tier = "development" }
      prod = {
        account_id              = "333333333333"
        region                  = "ap-southeast-2"
        tier                    = "production"
        migration_source_secret = "acme/migration/digitalocean-source"
      }
    }
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.this["platform"].policy).Statement : { actions = toset(flatten([s.Action])), resource = s.Resource } if s.Effect == "Allow" && strcontains(jsonencode(try(s.Resource, "")), "acme/migration/")] == [{
      actions  = toset(["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"])
      resource = "arn:aws:secretsmanager:ap-southeast-2:333333333333:secret:acme/migration/digitalocean-source-??????"
    }]
    error_message = "The migration target's platform executor may describe and read the source's secret, exactly that name (plus Secrets Manager's six-character suffix), and nothing else with it."
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this["platform"].policy).Statement : toset(s.NotResource) if s.Effect == "Deny" && contains(flatten([s.Action]), "secretsmanager:GetSecretValue") && can(s.NotResource)]) == toset([
      "arn:aws:secretsmanager:ap-southeast-2:333333333333:secret:acme-prod-database-master-*",
      "arn:aws:secretsmanager:ap-southeast-2:333333333333:secret:rds!db-*",
      "arn:aws:secretsmanager:ap-southeast-2:333333333333:secret:acme/prod/database/*",
      "arn:aws:secretsmanager:ap-southeast-2:333333333333:secret:acme/migration/digitalocean-source-??????",
    ])
    error_message = "The deny on secret values spares the migration source's secret and nothing more."
  }
}

run "other_environments_never_read_the_migration_source" {
  command = apply
  variables {
    environment = "dev"
    environments = {
      dev = { account_id = "111111111111", region = "ap-southeast-2", tier = "development" }
      prod = {
        account_id              = "333333333333"
        region                  = "ap-southeast-2"
        tier                    = "production"
        migration_source_secret = "acme/migration/digitalocean-source"
      }
    }
    bitbucket = null
  }

  assert {
    condition     = !strcontains(aws_iam_role_policy.this["platform"].policy, "acme/migration/")
    error_message = "Only the migration's target environment's platform executor may read the source's secret."
  }
}

run "the_database_runs_stay_under_their_prefix" {
  command = apply

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this["platform"].policy).Statement : s.Resource if s.Sid == "KeepTheDatabaseRuns"] == ["arn:aws:s3:::acme-prod-tfstate-333333333333/database-runs/prod/*"]
    error_message = "The database kit keeps its journals and reports in the environment's state bucket under database-runs/<env>/ only."
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this["platform"].policy).Statement : s.Condition if s.Sid == "ListTheDatabaseRuns"] == [{ StringLike = { "s3:prefix" = ["database-runs/prod/*"] } }]
    error_message = "The database kit lists only its own prefix of the state bucket."
  }
}

run "executors_trust_their_codebuild_project_and_break_glass_people" {
  command = apply

  assert {
    condition = [for s in jsondecode(aws_iam_role.this["platform"].assume_role_policy).Statement : try(s.Condition, null) if s.Sid == "CodeBuildProject"] == [{
      StringEquals = { "aws:SourceAccount" = "333333333333", "aws:SourceArn" = "arn:aws:codebuild:ap-southeast-2:333333333333:project/acme-prod-apply" }
    }] && [for s in jsondecode(aws_iam_role.this["app_deploy"].assume_role_policy).Statement : try(s.Condition.StringEquals["aws:SourceArn"], null) if s.Sid == "CodeBuildProject"] == ["arn:aws:codebuild:ap-southeast-2:333333333333:project/acme-prod-deploy"]
    error_message = "Each executor is the service role of its own CodeBuild project only (aws:SourceArn and aws:SourceAccount)."
  }
  assert {
    condition     = alltrue([for k in ["platform", "app_deploy"] : [for s in jsondecode(aws_iam_role.this[k].assume_role_policy).Statement : s.Sid] == ["CodeBuildProject", "BreakGlassPeople"]]) && alltrue([for k in ["platform", "app_deploy"] : [for s in jsondecode(aws_iam_role.this[k].assume_role_policy).Statement : try(s.Condition.ArnEquals["aws:PrincipalArn"], null) if s.Sid == "BreakGlassPeople"] == [["arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/ap-southeast-2/AWSReservedSSO_BreakGlass_fedcba9876543210"]]])
    error_message = "Besides their CodeBuild project, only the break-glass people may assume the executors: no CI system directly."
  }
}

run "every_role_carries_the_boundary" {
  command = apply

  assert {
    condition     = alltrue([for r in aws_iam_role.this : r.permissions_boundary == aws_iam_policy.boundary.arn])
    error_message = "Every role of the account carries the permissions boundary."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this["platform"].policy).Statement : try(s.Condition.StringEquals["iam:PermissionsBoundary"], null) if s.Sid == "CreateRolesOnlyWithTheBoundary"]) == aws_iam_policy.boundary.arn && one([for s in jsondecode(aws_iam_role_policy.this["platform"].policy).Statement : flatten([s.Action]) if s.Sid == "CreateRolesOnlyWithTheBoundary"]) == ["iam:CreateRole", "iam:PutRolePermissionsBoundary"]
    error_message = "The platform executor may create roles only with the boundary."
  }
}

run "boundary_denies_deletes_and_tampering" {
  command = apply

  assert {
    condition     = [for s in jsondecode(aws_iam_policy.boundary.policy).Statement : s.Sid if s.Effect == "Allow"] == ["AllowWhatTheRolesOwnPoliciesAllow"]
    error_message = "The boundary's only Allow is the cap itself; every other statement denies."
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_policy.boundary.policy).Statement : s if s.Sid == "KeepDatabasesButReadReplicas"]) == {
      Sid       = "KeepDatabasesButReadReplicas", Effect = "Deny", Action = "rds:DeleteDBInstance", Resource = "*"
      Condition = { StringNotEquals = { "aws:ResourceTag/platformgen.io/role" = "read-replica" } }
    }
    error_message = "Deleting a database instance is denied unless it carries the read-replica tag."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_policy.boundary.policy).Statement : try(s.NotResource, null) if s.Sid == "OnlyReplicasCarryTheReplicaTag" && s.Effect == "Deny"]) == "arn:aws:rds:*:333333333333:db:acme-prod-replica-*"
    error_message = "Only instances named as read replicas may be tagged (or untagged) as one, so the primary cannot be made deletable."
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_policy.boundary.policy).Statement : s if s.Sid == "KeepSnapshotsButAwsBackupsExpiry"]) == {
      Sid       = "KeepSnapshotsButAwsBackupsExpiry", Effect = "Deny", Action = ["rds:DeleteDBClusterSnapshot", "rds:DeleteDBSnapshot"], Resource = "*"
      Condition = { ArnNotEquals = { "aws:PrincipalArn" = "arn:aws:iam::333333333333:role/acme-prod-aws-backup" } }
    }
    error_message = "Deleting a snapshot is denied to every role but AWS Backup's own, which expires the snapshots it took."
  }
  assert {
    condition = length(setsubtract([
      "rds:DeleteDBCluster", "rds:DeleteDBInstanceAutomatedBackup",
      "backup:DeleteRecoveryPoint", "backup:DeleteBackupVault", "backup:DeleteBackupVaultLockConfiguration",
      "kms:ScheduleKeyDeletion", "kms:DisableKey",
    ], flatten([for s in jsondecode(aws_iam_policy.boundary.policy).Statement : flatten([s.Action]) if s.Effect == "Deny" && try(s.Resource, null) == "*" && !can(s.Condition)]))) == 0
    error_message = "Deleting snapshots, backups, recovery points, vaults and KMS keys is denied without condition."
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_policy.boundary.policy).Statement : try(s.Condition, null) if s.Sid == "NoRoleOrUserWithoutThisBoundary" && s.Effect == "Deny" && contains(flatten([s.Action]), "iam:CreateRole") && contains(flatten([s.Action]), "iam:PutRolePermissionsBoundary")]) == {
      StringNotEquals = { "iam:PermissionsBoundary" = "arn:aws:iam::333333333333:policy/${aws_iam_policy.boundary.name}" }
    }
    error_message = "Creating a role (or putting a boundary) without this boundary is denied; the condition names this policy's own ARN."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_policy.boundary.policy).Statement : try(s.Resource, null) if s.Sid == "NoChangingTheBoundary" && s.Effect == "Deny" && contains(flatten([s.Action]), "iam:CreatePolicyVersion") && contains(flatten([s.Action]), "iam:DeletePolicy") && contains(flatten([s.Action]), "iam:SetDefaultPolicyVersion")]) == "arn:aws:iam::333333333333:policy/${aws_iam_policy.boundary.name}" && length([for s in jsondecode(aws_iam_policy.boundary.policy).Statement : s if s.Effect == "Deny" && try(s.Resource, null) == "*" && contains(flatten([s.Action]), "iam:DeleteRolePermissionsBoundary")]) == 1
    error_message = "The boundary cannot be changed, deleted or detached from a role."
  }
  assert {
    condition     = toset(one([for s in jsondecode(aws_iam_policy.boundary.policy).Statement : try(s.Resource, null) if s.Sid == "NoChangingTheBootstrapRoles" && s.Effect == "Deny" && contains(flatten([s.Action]), "iam:UpdateAssumeRolePolicy") && contains(flatten([s.Action]), "iam:PutRolePolicy")])) == toset([for r in aws_iam_role.this : "arn:aws:iam::333333333333:role/${r.name}"])
    error_message = "No role under the boundary may change the bootstrap's roles (their trust, policies or boundary)."
  }
}

run "policies_fit_iam_size_limits" {
  command = apply

  assert {
    # IAM counts characters without white space: 10,240 for a role's inline policies,
    # 6,144 for a managed policy.
    condition     = alltrue([for p in aws_iam_role_policy.this : length(replace(p.policy, "/\\s/", "")) <= 10240]) && length(replace(aws_iam_policy.boundary.policy, "/\\s/", "")) <= 6144
    error_message = "A policy is over IAM's size limit."
  }
}

# --- The CI role: only the deliverer, only the executors ---------------------------------

run "ci_role_trusts_only_the_github_environment_of_its_env" {
  command = apply

  assert {
    condition = [for s in jsondecode(aws_iam_role.this["ci"].assume_role_policy).Statement : [s.Sid, s.Action, s.Condition.StringEquals]] == [["GitHubDeployEnvironment", "sts:AssumeRoleWithWebIdentity", {
      "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"
      "token.actions.githubusercontent.com:sub" = "repo:acme/acme-platform:environment:prod"
    }]]
    error_message = "When GitHub delivers, the CI role trusts only jobs of the GitHub environment named for its environment (repo:ORG/REPO:environment:<env>), and nothing else: no Bitbucket step, no AWS principal."
  }
  assert {
    condition     = aws_iam_role.this["ci"].name == "acme-prod-ci" && aws_iam_role.this["ci"].permissions_boundary == aws_iam_policy.boundary.arn && aws_iam_role_policy.this["ci"].name == "start-executors"
    error_message = "The CI role is <name>-ci, under the boundary, with its one policy."
  }
}

run "ci_role_trusts_only_the_bitbucket_deployment_environment" {
  command = apply

  variables {
    delivery = { provider = "bitbucket", artifacts_account_id = "999999999999", artifacts_region = "ap-southeast-2" }
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role.this["ci"].assume_role_policy).Statement : [s.Sid, s.Condition]] == [["BitbucketDeploymentEnvironment", {
      StringEquals = { "api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc:aud" = "ari:cloud:bitbucket::workspace/0d5c2b7e-8c1a-4f7e-9b3d-2a6f1e4c9d80" }
      StringLike   = { "api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc:sub" = "{7f3e9a21-4b6c-4d8e-a1f2-93c5b7d0e6a4}:{9e8d7c6b-5a49-4382-b716-05f4e3d2c1b0}:*" }
    }]]
    error_message = "When Bitbucket delivers, the CI role trusts only steps of the deployment environment named for its environment ({repository}:{deployment environment}:{step}), never the plan environment or any step."
  }
}

run "no_ci_role_without_a_deployment_environment_to_trust" {
  command = apply

  variables {
    environment = "staging"
    delivery    = { provider = "bitbucket", artifacts_account_id = "999999999999", artifacts_region = "ap-southeast-2" }
  }

  assert {
    condition     = !contains(keys(aws_iam_role.this), "ci") && !contains(keys(aws_iam_role_policy.this), "ci")
    error_message = "Without a Bitbucket deployment environment for the environment nobody may assume a CI role, so none is made."
  }
}

run "ci_role_trusts_only_the_artifacts_accounts_pipeline" {
  command = apply

  variables {
    delivery = { provider = "codepipeline", artifacts_account_id = "999999999999", artifacts_region = "ap-southeast-2" }
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role.this["ci"].assume_role_policy).Statement : [s.Sid, s.Principal, s.Action, s.Condition]] == [["ArtifactsAccountPipelineDriver", { AWS = "arn:aws:iam::999999999999:root" }, "sts:AssumeRole", {
      ArnEquals = { "aws:PrincipalArn" = "arn:aws:iam::999999999999:role/acme-drive" }
    }]]
    error_message = "When CodePipeline delivers, the CI role trusts only the artifacts account's pipeline driver, by exact ARN (not the publisher)."
  }
}

run "ci_role_can_only_start_its_executors" {
  command = apply

  assert {
    condition = toset(flatten([for s in jsondecode(aws_iam_role_policy.this["ci"].policy).Statement : s.Action if s.Effect == "Allow"])) == toset([
      "codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild", "logs:FilterLogEvents", "logs:GetLogEvents", "cloudwatch:DescribeAlarms",
    ])
    error_message = "The CI role may start, watch and stop builds, read their logs and the alarms: nothing else (no eks:*, no sts:AssumeRole, no iam:PassRole)."
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this["ci"].policy).Statement : s.Resource if s.Sid == "StartTheExecutors"]) == [
      "arn:aws:codebuild:ap-southeast-2:333333333333:project/acme-prod-apply", "arn:aws:codebuild:ap-southeast-2:333333333333:project/acme-prod-deploy",
    ]
    error_message = "The CI role starts only its own environment's two executors."
  }
  assert {
    condition     = toset(one([for s in jsondecode(aws_iam_role_policy.this["ci"].policy).Statement : s.Resource if s.Sid == "StreamTheirLogs"])) == toset(["arn:aws:logs:ap-southeast-2:333333333333:log-group:/aws/codebuild/acme-prod-apply", "arn:aws:logs:ap-southeast-2:333333333333:log-group:/aws/codebuild/acme-prod-apply:*", "arn:aws:logs:ap-southeast-2:333333333333:log-group:/aws/codebuild/acme-prod-deploy", "arn:aws:logs:ap-southeast-2:333333333333:log-group:/aws/codebuild/acme-prod-deploy:*"])
    error_message = "The CI role reads only its executors' log groups."
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this["ci"].policy).Statement : s if s.Effect == "Deny" && s.Sid == "NothingElse" && s.Resource == "*" && toset(try(s.NotAction, [])) == toset(["codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild", "logs:FilterLogEvents", "logs:GetLogEvents", "cloudwatch:DescribeAlarms"])]) == 1
    error_message = "Anything but those actions is denied to the CI role, whatever is attached to it later: nothing in EKS, no role to assume."
  }
}

run "ci_role_cannot_override_what_an_executor_runs" {
  command = apply

  assert {
    condition = alltrue([for key in ["codebuild:source.buildspec", "codebuild:environment.image", "codebuild:serviceRole", "codebuild:environment.privilegedMode", "codebuild:environment.registryCredential", "codebuild:logsConfig", "codebuild:secondarySources"] :
      length([for s in jsondecode(aws_iam_role_policy.this["ci"].policy).Statement : s if s.Effect == "Deny" && try(s.Action, null) == "codebuild:StartBuild" && s.Resource == "*" && try(s.Condition, null) == { Null = { (key) = "false" } }]) == 1
    ])
    error_message = "StartBuild is refused when it overrides the buildspec, image, service role, privileged mode, registry credential, logs or adds a source."
  }
  assert {
    # The executors fetch their bundle themselves (NO_SOURCE): no source override at all,
    # neither the source as a whole nor its location, and no build output.
    condition = alltrue([for key in ["codebuild:source", "codebuild:source.location", "codebuild:source.auth.type", "codebuild:source.insecureSsl", "codebuild:artifacts", "codebuild:secondaryArtifacts"] :
      length([for s in jsondecode(aws_iam_role_policy.this["ci"].policy).Statement : s if s.Effect == "Deny" && try(s.Action, null) == "codebuild:StartBuild" && s.Resource == "*" && try(s.Condition, null) == { Null = { (key) = "false" } }]) == 1
    ])
    error_message = "StartBuild is refused when it overrides the source in any way (location included) or names build output."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this["ci"].policy).Statement : [s.Resource, s.Condition] if s.Sid == "ApplyTakesOnlyTheCommitAndKitArguments" && s.Effect == "Deny"]) == ["arn:aws:codebuild:ap-southeast-2:333333333333:project/acme-prod-apply", { "ForAnyValue:StringNotLike" = { "codebuild:environment.environmentVariables.name" = ["SOURCE_COMMIT", "DBKIT_ARGS"] } }]
    error_message = "The platform executor takes only SOURCE_COMMIT (the bundle to fetch) and DBKIT_ARGS (make database-run); ENV and the bucket are its own."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this["ci"].policy).Statement : [s.Resource, s.Condition] if s.Sid == "DeployTakesOnlyTheCommitAndDigests" && s.Effect == "Deny"]) == ["arn:aws:codebuild:ap-southeast-2:333333333333:project/acme-prod-deploy", { "ForAnyValue:StringNotLike" = { "codebuild:environment.environmentVariables.name" = ["SOURCE_COMMIT", "IMAGE_DIGEST", "IMAGE_DIGEST_*", "RELEASE"] } }]
    error_message = "The app-deploy executor takes only SOURCE_COMMIT, IMAGE_DIGEST, IMAGE_DIGEST_<APP> and RELEASE."
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this["ci"].policy).Statement : s if s.Effect == "Deny" && contains(flatten([try(s.Action, [])]), "codebuild:StartBuild") && can(s.Condition.StringNotLike)]) == 0
    error_message = "No source location is allowed, not even one in the artifacts bucket: the buildspec fetches the bundle."
  }
}

run "executors_can_run_in_the_vpc_from_the_bundle" {
  command = apply

  assert {
    condition = alltrue([for k, stage in { platform = "apply", app_deploy = "deploy" } : length([for s in jsondecode(aws_iam_role_policy.this[k].policy).Statement : s if s.Effect == "Allow" && (
      (s.Sid == "WriteTheBuildLog" && try(s.Resource, null) == "arn:aws:logs:ap-southeast-2:333333333333:log-group:/aws/codebuild/acme-prod-${stage}:*") ||
      (s.Sid == "ReadTheSourceBundles" && try(s.Resource, null) == "arn:aws:s3:::acme-artifacts-999999999999/source/*") ||
      (s.Sid == "OnlyCodeBuildUsesThem" && try(s.Condition, null) == { StringEquals = { "ec2:AuthorizedService" = "codebuild.amazonaws.com" } }) ||
      (s.Sid == "BuildNetworkInterfaces" && contains(flatten([s.Action]), "ec2:CreateNetworkInterface")) ||
      (s.Sid == "DecryptTheSourceBundles" && try(startswith(s.Resource, "arn:aws:kms:ap-southeast-2:999999999999:key/"), false))
    )]) == 5])
    error_message = "Each executor writes its build log, reads the source bundles (and their key) in the artifacts account, and makes its build's network interfaces for CodeBuild only."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this["platform"].policy).Statement : s.NotResource if s.Sid == "NoObjectsButTheStateAndBundles"]) == ["arn:aws:s3:::acme-prod-tfstate-333333333333/*", "arn:aws:s3:::acme-artifacts-999999999999/source/*"]
    error_message = "The platform executor reads no object but the state and the source bundles."
  }
}

# make deploy (the app-deploy executor) reads the release manifest and the static files
# make publish wrote to the artifacts bucket, and verifies each image's cosign signature
# with the signing key's public half; the platform executor needs none of it.
run "app_deployer_reads_releases_static_files_and_verifies_signatures" {
  command = apply

  variables {
    delivery = { provider = "github", artifacts_account_id = "999999999999", artifacts_region = "eu-west-1" }
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this["app_deploy"].policy).Statement : s.Resource if s.Sid == "ReadReleasesAndStaticFiles" && s.Effect == "Allow" && toset(flatten([s.Action])) == toset(["s3:GetObject", "s3:GetObjectVersion"])]) == ["arn:aws:s3:::acme-artifacts-999999999999/releases/*", "arn:aws:s3:::acme-artifacts-999999999999/static/*"]
    error_message = "The app-deploy executor reads the release manifests and the published static files of the artifacts bucket, nothing else there but the bundles."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this["app_deploy"].policy).Statement : [s.Action, s.Resource, s.Condition] if s.Sid == "ListTheStaticFiles" && s.Effect == "Allow"]) == ["s3:ListBucket", "arn:aws:s3:::acme-artifacts-999999999999", { StringLike = { "s3:prefix" = ["static/*"] } }]
    error_message = "The app-deploy executor lists only the static files' prefix (aws s3 sync lists it)."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this["app_deploy"].policy).Statement : [s.Resource, s.Condition] if s.Sid == "DecryptTheSourceBundles" && s.Effect == "Allow" && s.Action == "kms:Decrypt"]) == ["arn:aws:kms:eu-west-1:999999999999:key/*", { StringEquals = { "kms:ViaService" = "s3.eu-west-1.amazonaws.com" } }]
    error_message = "The artifacts key decrypts the bucket's objects for the executors only through S3, in the artifacts region."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this["app_deploy"].policy).Statement : [toset(flatten([s.Action])), s.Resource, s.Condition] if s.Sid == "VerifyImageSignatures" && s.Effect == "Allow"]) == [toset(["kms:DescribeKey", "kms:GetPublicKey", "kms:Verify"]), "arn:aws:kms:eu-west-1:999999999999:key/*", { "ForAnyValue:StringEquals" = { "kms:ResourceAliases" = "alias/acme-image-signing" } }]
    error_message = "The app-deploy executor verifies signatures with the key aliased alias/<project>-image-signing (never kms:Sign)."
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this["platform"].policy).Statement : s if s.Effect == "Allow" && (contains(flatten([s.Action]), "kms:GetPublicKey") || contains(flatten([try(s.Resource, [])]), "arn:aws:s3:::acme-artifacts-999999999999/releases/*") || contains(flatten([try(s.Resource, [])]), "arn:aws:s3:::acme-artifacts-999999999999/static/*"))]) == 0
    error_message = "The platform executor reads only the source bundles of the artifacts bucket."
  }
}

run "app_deployer_reads_images_from_the_artifacts_registry_and_syncs_static_sites" {
  command = apply

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this["app_deploy"].policy).Statement : s.Resource if s.Sid == "FindTheImages"]) == "arn:aws:ecr:ap-southeast-2:999999999999:repository/acme/*"
    error_message = "The app-deploy executor finds the images (and their signatures) in the artifacts account's registry."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this["app_deploy"].policy).Statement : s.Resource if s.Sid == "SyncTheStaticSites"]) == ["arn:aws:s3:::acme-prod-web-333333333333/*"]
    error_message = "The app-deploy executor writes only the static apps' buckets."
  }
}
