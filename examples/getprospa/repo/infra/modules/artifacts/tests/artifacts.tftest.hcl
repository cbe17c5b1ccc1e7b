# Invariants of the artifacts module, checked with a mocked AWS provider. The policies are
# jsonencode()d here, so these runs parse exactly what AWS receives.

mock_provider "aws" {
  source = "../.mocks"

  mock_data "aws_caller_identity" {
    defaults = { account_id = "999999999999" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
}

variables {
  project = "acme"
  apps    = ["api", "worker"]
  environments = {
    dev  = { account_id = "111111111111" }
    prod = { account_id = "333333333333" }
  }
  deliver = {
    provider          = "github"
    branch            = "main"
    github_repository = "AcmeCorp/acme-platform"
  }
  create_oidc_provider = true
  access_log_bucket    = "acme-artifacts-logs-999999999999"
  permissions_boundary = "arn:aws:iam::999999999999:policy/acme-artifacts-boundary"
}

run "tags_are_immutable_scanned_and_encrypted" {
  command = apply

  assert {
    condition     = alltrue([for r in aws_ecr_repository.app : r.image_tag_mutability == "IMMUTABLE" && r.image_scanning_configuration[0].scan_on_push])
    error_message = "Image tags are immutable and every push is scanned."
  }
  assert {
    condition     = alltrue([for r in aws_ecr_repository.app : r.encryption_configuration[0].encryption_type == "KMS" && r.encryption_configuration[0].kms_key == aws_kms_key.artifacts.arn])
    error_message = "Repositories are encrypted with the artifacts key."
  }
  assert {
    condition     = aws_ecr_repository.app["api"].name == "acme/api" && length(aws_ecr_lifecycle_policy.app) == 2 && length(aws_ecr_repository_policy.app) == 2
    error_message = "Repositories are <project>/<app>, each with a lifecycle policy and a repository policy."
  }
  assert {
    condition     = alltrue([for p in aws_ecr_lifecycle_policy.app : alltrue([for r in jsondecode(p.policy).rules : r.selection.tagStatus == "tagged"])])
    error_message = "Lifecycle rules expire tagged images only: an untagged image is an index's platform manifest or a referrer that a release needs."
  }
}

run "the_bucket_uses_kms" {
  command = apply

  assert {
    condition     = output.bucket_encryption.algorithm == "aws:kms" && output.bucket_encryption.key == aws_kms_key.artifacts.arn
    error_message = "The artifact bucket encrypts with the artifacts key (SSE-KMS)."
  }
  assert {
    condition     = aws_kms_key.artifacts.enable_key_rotation && aws_kms_alias.artifacts.name == "alias/acme-artifacts"
    error_message = "The artifacts key rotates; its alias is alias/<project>-artifacts."
  }
}

run "the_signing_key_signs_and_never_leaves_kms" {
  command = plan

  assert {
    condition     = aws_kms_key.signing.customer_master_key_spec == "ECC_NIST_P256" && aws_kms_key.signing.key_usage == "SIGN_VERIFY" && aws_kms_alias.signing.name == "alias/acme-image-signing"
    error_message = "The signing key is an ECC_NIST_P256 SIGN_VERIFY key, alias/<project>-image-signing."
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_kms_key.signing.policy).Statement : s.Sid == "AccountAdministers" || (
        length(setintersection(toset(flatten([s.Action])), toset(["kms:Sign", "kms:*"]))) == 0
      )
    ])
    error_message = "Only the account (through IAM: the publisher) may sign; the environments may only read the public key and verify."
  }
  assert {
    condition     = one([for s in jsondecode(aws_kms_key.signing.policy).Statement : s.Condition.ArnEquals["aws:PrincipalArn"] if s.Sid != "AccountAdministers"]) == ["arn:aws:iam::111111111111:role/acme-dev-app-deploy", "arn:aws:iam::333333333333:role/acme-prod-app-deploy"]
    error_message = "Only the app-deploy executors (make deploy runs cosign verify) use the signing key's public half."
  }
}

run "pulls_only_by_the_environments_roles" {
  command = apply

  assert {
    condition = alltrue([for p in aws_ecr_repository_policy.app : alltrue([
      for s in jsondecode(p.policy).Statement :
      s.Effect == "Allow" && length(s.Condition.ArnEquals["aws:PrincipalArn"]) > 0
      && alltrue([for a in flatten([s.Action]) : contains(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:DescribeImages"], a)])
    ])])
    error_message = "A repository policy only lets named roles read images: no push, no delete, no statement without aws:PrincipalArn."
  }
  assert {
    condition = toset(jsondecode(aws_ecr_repository_policy.app["api"].policy).Statement[0].Condition.ArnEquals["aws:PrincipalArn"]) == toset([
      "arn:aws:iam::111111111111:role/acme-dev-node", "arn:aws:iam::111111111111:role/acme-dev-karpenter-node",
      "arn:aws:iam::111111111111:role/acme-dev-platform", "arn:aws:iam::111111111111:role/acme-dev-app-deploy",
      "arn:aws:iam::333333333333:role/acme-prod-node", "arn:aws:iam::333333333333:role/acme-prod-karpenter-node",
      "arn:aws:iam::333333333333:role/acme-prod-platform", "arn:aws:iam::333333333333:role/acme-prod-app-deploy",
    ])
    error_message = "Each environment's nodes and executors pull, and nothing else."
  }
  assert {
    condition     = toset(jsondecode(aws_ecr_repository_policy.app["api"].policy).Statement[0].Principal.AWS) == toset(["arn:aws:iam::111111111111:root", "arn:aws:iam::333333333333:root"])
    error_message = "The principals are the environments' accounts."
  }
  assert {
    condition     = toset(jsondecode(aws_ecr_repository_policy.app["api"].policy).Statement[1].Condition.ArnEquals["aws:PrincipalArn"]) == toset(["arn:aws:iam::111111111111:role/acme-dev-app-deploy", "arn:aws:iam::333333333333:role/acme-prod-app-deploy"])
    error_message = "Only the app-deploy executors describe images."
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_kms_key.artifacts.policy).Statement : s.Sid == "AccountAdministers" || (
        try(length(s.Condition.ArnEquals["aws:PrincipalArn"]) > 0 && length(s.Condition.StringEquals["kms:ViaService"]) > 0, false)
        && alltrue([for a in flatten([s.Action]) : contains(["kms:Decrypt", "kms:DescribeKey"], a)])
      )
    ])
    error_message = "The environments may only decrypt with the artifacts key, through ECR or S3, as named roles."
  }
}

run "only_the_executors_read_bundles" {
  command = plan

  assert {
    condition = alltrue([
      for s in local.bucket_statements : s.Effect == "Allow" && length(setsubtract(toset(flatten([s.Action])), toset(["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"]))) == 0
    ])
    error_message = "The environments' executors may only read from the bucket."
  }
  assert {
    condition = jsonencode(one([for s in local.bucket_statements : [s.Resource, s.Condition] if s.Sid == "ExecutorsReadBundles"])) == jsonencode(["arn:aws:s3:::acme-artifacts-999999999999/source/*", { ArnEquals = { "aws:PrincipalArn" = [
      "arn:aws:iam::111111111111:role/acme-dev-app-deploy", "arn:aws:iam::111111111111:role/acme-dev-platform",
      "arn:aws:iam::333333333333:role/acme-prod-app-deploy", "arn:aws:iam::333333333333:role/acme-prod-platform",
    ] } }])
    error_message = "Every environment's two executors read the source bundles (their buildspec fetches them)."
  }
  assert {
    # make deploy: the release manifest (release.sh fetch) and the static files of a
    # release (deploy-static.sh syncs static/<app>/<sha>/, listing the prefix).
    condition = jsonencode([for s in local.bucket_statements : [s.Sid, s.Resource, try(s.Condition.StringLike, null)] if jsonencode(s.Condition.ArnEquals["aws:PrincipalArn"]) == jsonencode(["arn:aws:iam::111111111111:role/acme-dev-app-deploy", "arn:aws:iam::333333333333:role/acme-prod-app-deploy"])]) == jsonencode([
      ["AppDeployReadsReleasesAndStaticFiles", ["arn:aws:s3:::acme-artifacts-999999999999/releases/*", "arn:aws:s3:::acme-artifacts-999999999999/static/*"], null],
      ["AppDeployListsStaticFiles", "arn:aws:s3:::acme-artifacts-999999999999", { "s3:prefix" = ["static/*"] }],
    ])
    error_message = "Only the app-deploy executors read the release manifests and the static files (and list only static/)."
  }
  assert {
    condition     = length([for s in local.bucket_statements : s if contains(s.Condition.ArnEquals["aws:PrincipalArn"], "arn:aws:iam::111111111111:role/acme-dev-platform") && s.Sid != "ExecutorsReadBundles"]) == 0
    error_message = "The platform executors read only the source bundles."
  }
}

run "the_publisher_writes_bundles_releases_and_static_files" {
  command = apply

  assert {
    condition = toset(one([for s in jsondecode(aws_iam_role_policy.publisher[0].policy).Statement : s.Resource if contains(flatten([s.Action]), "s3:PutObject")])) == toset([
      "arn:aws:s3:::acme-artifacts-999999999999/source/*", "arn:aws:s3:::acme-artifacts-999999999999/releases/*",
      "arn:aws:s3:::acme-artifacts-999999999999/static/*", "arn:aws:s3:::acme-artifacts-999999999999/pipeline/*",
    ])
    error_message = "make publish and make bundle write source/, releases/ and static/ (and CodePipeline pipeline/), nothing else."
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.publisher[0].policy).Statement : [s.Resource, s.Condition] if s.Action == "s3:ListBucket"]) == ["arn:aws:s3:::acme-artifacts-999999999999", { StringLike = { "s3:prefix" = ["static/*"] } }]
    error_message = "publish-static.sh lists only static/ (an earlier upload of the commit)."
  }
}

run "only_the_deliverer_from_the_deploy_branch_publishes" {
  command = apply

  assert {
    condition     = length(jsondecode(aws_iam_role.publisher[0].assume_role_policy).Statement) == 1
    error_message = "The publisher trusts exactly one statement: the delivering provider."
  }
  assert {
    condition     = jsondecode(aws_iam_role.publisher[0].assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == "repo:AcmeCorp/acme-platform:ref:refs/heads/main"
    error_message = "GitHub publishes only from the deploy branch's workflows."
  }
  assert {
    condition     = jsondecode(aws_iam_role.publisher[0].assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    error_message = "The token's audience is STS."
  }
  assert {
    condition     = aws_iam_role.publisher[0].permissions_boundary == var.permissions_boundary
    error_message = "The publisher carries the permissions boundary."
  }
  assert {
    condition     = aws_iam_openid_connect_provider.deliver[0].url == "https://token.actions.githubusercontent.com" && aws_iam_role.publisher[0].name == "acme-publish"
    error_message = "A dedicated artifacts account gets the delivering provider's OIDC provider; the role is <project>-publish."
  }
  assert {
    condition     = !contains(flatten([for s in jsondecode(aws_iam_role_policy.publisher[0].policy).Statement : s.Action]), "sts:AssumeRole")
    error_message = "Only CodePipeline's publisher starts executors (through the CI roles)."
  }
}

run "the_publisher_pushes_signs_and_writes_nothing_else" {
  command = apply

  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.publisher[0].policy).Statement : alltrue([
      for a in flatten([s.Action]) : !can(regex("(\\*|Delete|Policy|Lifecycle|Tag)", a))
    ])])
    error_message = "The publisher has no wildcard action and cannot delete or change policies, lifecycle rules or tags."
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.publisher[0].policy).Statement : s.Resource != "*" || s.Action == "ecr:GetAuthorizationToken"])
    error_message = "Every publisher statement names its resources (ECR login excepted)."
  }
}

run "bitbucket_publishes_from_its_deployment_environment" {
  command = plan

  variables {
    deliver = {
      provider = "bitbucket"
      branch   = "main"
      bitbucket = {
        workspace        = "acme"
        workspace_uuid   = "{11111111-2222-3333-4444-555555555555}"
        repository_uuid  = "{21111111-2222-3333-4444-555555555555}"
        environment_uuid = "{31111111-2222-3333-4444-555555555555}"
      }
    }
    create_oidc_provider = false
  }

  assert {
    condition     = jsondecode(aws_iam_role.publisher[0].assume_role_policy).Statement[0].Condition.StringLike["api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc:sub"] == "{21111111-2222-3333-4444-555555555555}:{31111111-2222-3333-4444-555555555555}:*"
    error_message = "Bitbucket publishes only from steps of the publishing deployment environment."
  }
  assert {
    condition     = jsondecode(aws_iam_role.publisher[0].assume_role_policy).Statement[0].Principal.Federated == "arn:aws:iam::999999999999:oidc-provider/api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc" && length(aws_iam_openid_connect_provider.deliver) == 0
    error_message = "In an environment's account the bootstrap's OIDC provider is used, not created twice."
  }
}

run "bitbucket_without_its_uuids_has_no_publisher" {
  command = plan

  variables {
    deliver = {
      provider  = "bitbucket"
      branch    = "main"
      bitbucket = { workspace = "acme", workspace_uuid = "", repository_uuid = "", environment_uuid = "" }
    }
  }

  assert {
    condition     = length(aws_iam_role.publisher) == 0 && length(aws_iam_openid_connect_provider.deliver) == 0
    error_message = "Without the UUIDs nothing may publish."
  }
}

run "codepipeline_publishes_through_its_publish_build" {
  command = apply

  variables {
    deliver = { provider = "codepipeline", branch = "main" }
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role.publisher[0].assume_role_policy).Statement : [s.Principal, s.Condition.StringEquals["aws:SourceArn"]]] == [[{ Service = "codebuild.amazonaws.com" }, "arn:aws:codebuild:ap-southeast-2:999999999999:project/acme-publish"]]
    error_message = "With CodePipeline delivering, only the publish build project of this account assumes the publisher: not the pipeline, not an OIDC provider."
  }
  assert {
    condition     = !strcontains(aws_iam_role_policy.publisher[0].policy, "sts:AssumeRole")
    error_message = "The publisher assumes no role: the driver (modules/pipeline) starts the executors through the CI roles."
  }
  assert {
    condition     = length(aws_iam_openid_connect_provider.deliver) == 0
    error_message = "CodePipeline needs no OIDC provider."
  }
}

run "no_container_apps_no_repositories" {
  command = apply

  variables {
    apps = []
  }

  assert {
    condition     = length(aws_ecr_repository.app) == 0 && !contains([for s in jsondecode(aws_iam_role_policy.publisher[0].policy).Statement : s.Sid], "RegistryLogin")
    error_message = "Without container apps there are no repositories and no registry access; the bucket and keys remain."
  }
  assert {
    condition     = output.bucket_encryption.algorithm == "aws:kms"
    error_message = "The bucket exists for every platform (the executors' source bundles)."
  }
}
