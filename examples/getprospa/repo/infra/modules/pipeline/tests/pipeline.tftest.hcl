# Invariants of the pipeline module, checked with a mocked AWS provider. The policies and
# the action configurations are jsonencode()d here, so these runs parse what AWS receives.

mock_provider "aws" {
  source = "../.mocks"

  mock_data "aws_caller_identity" {
    defaults = { account_id = "999999999999" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_codestarconnections_connection" {
    defaults = { arn = "arn:aws:codeconnections:ap-southeast-2:999999999999:connection/0d5c2b7e-8c1a-4f7e-9b3d-2a6f1e4c9d80", connection_status = "PENDING" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:ap-southeast-2:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab" }
  }
}

variables {
  project         = "acme"
  repository_host = "github"
  repository      = "AcmeCorp/acme-platform"
  branch          = "main"
  delivers        = true
  environments = [
    { name = "dev", account_id = "111111111111", approval = false },
    { name = "staging", account_id = "222222222222", approval = false },
    { name = "prod", account_id = "333333333333", approval = true },
  ]
  artifact_bucket      = "acme-artifacts-999999999999"
  kms_key_arn          = "arn:aws:kms:ap-southeast-2:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  publisher_role_arn   = "arn:aws:iam::999999999999:role/acme-publish"
  permissions_boundary = "arn:aws:iam::999999999999:policy/acme-artifacts-boundary"
}

run "pipelines_are_v2_from_the_connection" {
  command = apply

  assert {
    condition     = aws_codepipeline.release[0].pipeline_type == "V2" && aws_codepipeline.checks.pipeline_type == "V2"
    error_message = "Both pipelines are V2 (triggers with filters, execution modes)."
  }
  assert {
    condition     = aws_codestarconnections_connection.this.provider_type == "GitHub" && aws_codestarconnections_connection.this.name == "acme-github"
    error_message = "The connection is <project>-<host> to the repository's host."
  }
  assert {
    condition = alltrue([for p in [aws_codepipeline.release[0], aws_codepipeline.checks] :
      p.stage[0].action[0].provider == "CodeStarSourceConnection" &&
      p.stage[0].action[0].configuration.ConnectionArn == aws_codestarconnections_connection.this.arn &&
      p.stage[0].action[0].configuration.BranchName == "main" &&
      p.stage[0].action[0].configuration.FullRepositoryId == "AcmeCorp/acme-platform" &&
    p.stage[0].action[0].configuration.OutputArtifactFormat == "CODEBUILD_CLONE_REF"])
    error_message = "Each pipeline's source is the connection on the deploy branch, as a full clone (the make targets read the git SHA)."
  }
  assert {
    condition = (
      length(aws_codepipeline.release[0].trigger) == 1 && length(aws_codepipeline.release[0].trigger[0].git_configuration[0].pull_request) == 0 &&
      aws_codepipeline.release[0].trigger[0].git_configuration[0].push[0].branches[0].includes == tolist(["main"])
    )
    error_message = "The release pipeline starts on pushes to the deploy branch only, never on a pull request."
  }
  assert {
    condition = (
      length(aws_codepipeline.checks.trigger[0].git_configuration[0].push) == 0 &&
      aws_codepipeline.checks.trigger[0].git_configuration[0].pull_request[0].branches[0].includes == tolist(["main"])
    )
    error_message = "The checks pipeline starts on pull requests into the deploy branch only."
  }
  assert {
    condition = alltrue([for p in [aws_codepipeline.release[0], aws_codepipeline.checks] :
    one(p.artifact_store).location == "acme-artifacts-999999999999" && one(p.artifact_store).encryption_key[0].type == "KMS" && one(p.artifact_store).encryption_key[0].id == var.kms_key_arn])
    error_message = "Pipeline artifacts are in the artifact bucket under the artifacts key."
  }
}

run "promotion_follows_the_order_with_approvals_where_configured" {
  command = apply

  assert {
    condition     = [for s in aws_codepipeline.release[0].stage : s.name] == ["Source", "Publish", "Promote-dev", "Promote-staging", "Promote-prod"]
    error_message = "Source, Publish, then one stage per environment in promotion order."
  }
  assert {
    condition     = aws_codepipeline.release[0].stage[1].action[0].configuration.ProjectName == "acme-publish"
    error_message = "The publish stage runs the publish build."
  }
  assert {
    condition = (
      [for a in aws_codepipeline.release[0].stage[2].action : a.name] == ["Apply", "Deploy", "Bake"] &&
      [for a in aws_codepipeline.release[0].stage[4].action : a.name] == ["Approve", "Apply", "Deploy", "Bake"] &&
      aws_codepipeline.release[0].stage[4].action[0].provider == "Manual" &&
      [for a in aws_codepipeline.release[0].stage[4].action : a.run_order] == [1, 2, 3, 4]
    )
    error_message = "A manual approval comes first exactly where the environment has one; apply, deploy and bake follow in turn."
  }
  assert {
    condition = alltrue(flatten([for s in slice(aws_codepipeline.release[0].stage, 2, 5) : [for a in s.action : a.provider == "Manual" || try(
      a.configuration.ProjectName == { Apply = "acme-release-apply", Deploy = "acme-release-deploy", Bake = "acme-release-bake" }[a.name] &&
      aws_codebuild_project.this[trimprefix(a.configuration.ProjectName, "acme-")].source[0].buildspec == "pipelines/codebuild/${lower(a.name)}.yml",
    false)]]))
    error_message = "Apply, deploy and bake run their own build projects, each with its own buildspec (pipelines/codebuild/<action>.yml)."
  }
  assert {
    condition = alltrue(flatten([for s in slice(aws_codepipeline.release[0].stage, 2, 5) : [for a in s.action : a.provider == "Manual" || try(
      contains(jsondecode(a.configuration.EnvironmentVariables), { name = "ENV", value = trimprefix(s.name, "Promote-"), type = "PLAINTEXT" }) &&
      contains(jsondecode(a.configuration.EnvironmentVariables), { name = "AWS_PROFILE", value = "${trimprefix(s.name, "Promote-")}-ci", type = "PLAINTEXT" }),
    false)]]))
    error_message = "Each action of an environment's stage names that environment and its CI role's profile."
  }
}

run "roles_are_least_privilege" {
  command = apply

  assert {
    condition     = jsondecode(aws_iam_role_policy.this["drive"].policy).Statement[4].Resource == ["arn:aws:iam::111111111111:role/acme-dev-ci", "arn:aws:iam::222222222222:role/acme-staging-ci", "arn:aws:iam::333333333333:role/acme-prod-ci"]
    error_message = "The driver may assume each environment's CI role, and no other role."
  }
  assert {
    condition     = alltrue([for k, p in aws_iam_role_policy.this : !strcontains(p.policy, "sts:AssumeRole") if k != "drive"])
    error_message = "Only the driver assumes a role."
  }
  assert {
    condition     = alltrue([for r in aws_iam_role.this : r.permissions_boundary == var.permissions_boundary])
    error_message = "Every role here carries the artifacts account's permissions boundary."
  }
  assert {
    condition     = alltrue([for p in aws_iam_role_policy.this : !strcontains(p.policy, "\"*\"")])
    error_message = "No policy here grants on every resource."
  }
  assert {
    condition     = jsondecode(aws_iam_role.this["drive"].assume_role_policy).Statement[0].Condition.ArnEquals["aws:SourceArn"] == ["arn:aws:codebuild:ap-southeast-2:999999999999:project/acme-release-apply", "arn:aws:codebuild:ap-southeast-2:999999999999:project/acme-release-bake", "arn:aws:codebuild:ap-southeast-2:999999999999:project/acme-release-deploy"]
    error_message = "The driver is trusted by its three build projects only."
  }
  assert {
    condition     = alltrue([for k, p in aws_codebuild_project.this : p.environment[0].privileged_mode == contains(["checks", "publish"], k)])
    error_message = "Only the builds that run Docker (checks, publish) are privileged."
  }
  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.build : g.kms_key_id == aws_kms_key.logs.arn])
    error_message = "Every build log group is KMS-encrypted."
  }
}

run "checks_only_when_codepipeline_does_not_deliver" {
  command = apply

  variables {
    delivers           = false
    repository_host    = "bitbucket"
    publisher_role_arn = null
  }

  assert {
    condition     = length(aws_codepipeline.release) == 0 && keys(aws_codebuild_project.this) == ["checks"] && !contains(keys(aws_iam_role.this), "drive")
    error_message = "Without delivering, only the checks pipeline exists: no release, no driver."
  }
  assert {
    condition     = aws_codestarconnections_connection.this.provider_type == "Bitbucket"
    error_message = "A Bitbucket repository gets a Bitbucket connection."
  }
}

run "a_repeated_environment_is_refused" {
  command = plan

  variables {
    environments = [
      { name = "dev", account_id = "111111111111", approval = false },
      { name = "dev", account_id = "111111111111", approval = true },
    ]
  }
  expect_failures = [var.environments]
}
