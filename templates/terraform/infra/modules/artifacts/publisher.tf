# The publisher <project>-publish: the one identity that may put anything here. Only the
# delivering CI system (spec pipelines.deliver) assumes it, and only from the deploy branch:
#   github        the workflow of the deploy branch: sub repo:<org>/<repo>:ref:refs/heads/<branch>
#                 (https://docs.github.com/en/actions/reference/security/oidc#example-subject-claims);
#   bitbucket     steps of the first environment's deployment environment:
#                 sub {repository UUID}:{deployment environment UUID}:{step UUID}
#                 (https://support.atlassian.com/bitbucket-cloud/docs/integrate-pipelines-with-resource-servers-using-oidc/);
#                 Bitbucket restricts which branches deploy there (Deployments settings);
#   codepipeline  the build project <project>-publish of the release pipeline in this
#                 account (modules/pipeline): the publish build runs as this role. The
#                 pipeline has its own role, and the driver <project>-drive, not this
#                 role, assumes each environment's CI role (infra/docs/adr/0011).
# The other providers only check pull requests: none of them is trusted here. Until the
# delivering provider's trust can be written (Bitbucket's UUIDs unknown), there is no
# publisher, and nothing can publish.

locals {
  github_host    = "token.actions.githubusercontent.com"
  bitbucket      = var.deliver.bitbucket
  bitbucket_host = local.bitbucket == null ? "" : "api.bitbucket.org/2.0/workspaces/${local.bitbucket.workspace}/pipelines-config/identity/oidc"
  oidc_host      = { github = local.github_host, bitbucket = local.bitbucket_host, codepipeline = "" }[var.deliver.provider]
  oidc_audience = {
    github       = "sts.amazonaws.com"
    bitbucket    = local.bitbucket == null ? "" : "ari:cloud:bitbucket::workspace/${trim(local.bitbucket.workspace_uuid, "{}")}"
    codepipeline = ""
  }[var.deliver.provider]

  publisher_ready = {
    github       = true
    bitbucket    = try(local.bitbucket.workspace_uuid != "" && local.bitbucket.repository_uuid != "" && local.bitbucket.environment_uuid != "", false)
    codepipeline = true
  }[var.deliver.provider]
  uses_oidc = var.deliver.provider != "codepipeline" && local.publisher_ready

  oidc_provider_arn = local.uses_oidc ? (
    var.create_oidc_provider ? aws_iam_openid_connect_provider.deliver[0].arn : "${local.iam}:oidc-provider/${local.oidc_host}"
  ) : null

  publish_project_arn = "arn:${local.partition}:codebuild:${local.region}:${local.account_id}:project/${var.project}-publish"

  publisher_trust = {
    github = [{
      Sid       = "GitHubDeployBranch"
      Effect    = "Allow"
      Principal = { Federated = local.oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.github_host}:aud" = "sts.amazonaws.com"
          "${local.github_host}:sub" = "repo:${coalesce(var.deliver.github_repository, "-/-")}:ref:refs/heads/${var.deliver.branch}"
        }
      }
    }]
    bitbucket = [{
      Sid       = "BitbucketPublishingDeployment"
      Effect    = "Allow"
      Principal = { Federated = local.oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = { "${local.bitbucket_host}:aud" = local.oidc_audience }
        StringLike   = { "${local.bitbucket_host}:sub" = try("${local.bitbucket.repository_uuid}:${local.bitbucket.environment_uuid}:*", "") }
      }
    }]
    codepipeline = [
      {
        Sid       = "ThePublishProject"
        Effect    = "Allow"
        Principal = { Service = "codebuild.amazonaws.com" }
        Action    = "sts:AssumeRole"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id, "aws:SourceArn" = local.publish_project_arn } }
      },
    ]
  }[var.deliver.provider]
}

resource "aws_iam_openid_connect_provider" "deliver" {
  count          = local.uses_oidc && var.create_oidc_provider ? 1 : 0
  url            = "https://${local.oidc_host}"
  client_id_list = [local.oidc_audience]
}

resource "aws_iam_role" "publisher" {
  count                = local.publisher_ready ? 1 : 0
  name                 = "${var.project}-publish"
  description          = "Publisher of ${var.project}: pushes and signs images, writes source bundles and release manifests (${var.deliver.provider} only)"
  assume_role_policy   = jsonencode({ Version = "2012-10-17", Statement = local.publisher_trust })
  permissions_boundary = var.permissions_boundary
  max_session_duration = 3600
}

locals {
  publisher_policy = {
    Version = "2012-10-17"
    Statement = concat(
      [for s in [
        { Sid = "RegistryLogin", Effect = "Allow", Action = "ecr:GetAuthorizationToken", Resource = "*" },
        {
          Sid    = "PushOnceToTheseRepositories"
          Effect = "Allow"
          Action = [
            "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:DescribeImages",
            "ecr:DescribeRepositories", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
          ]
          Resource = sort([for r in aws_ecr_repository.app : r.arn])
        },
      ] : s if length(var.apps) > 0],
      [
        { Sid = "SignWithTheImageKey", Effect = "Allow", Action = ["kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"], Resource = aws_kms_key.signing.arn },
        {
          # make publish uploads static/<app>/<sha>/ (delivery/publish-static.sh); make
          # bundle source/<sha>.zip and releases/<sha>.json, reading an existing object
          # back to compare (delivery/release.sh).
          Sid      = "WriteBundlesReleasesStaticFilesAndPipelineArtifacts"
          Effect   = "Allow"
          Action   = ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"]
          Resource = ["${local.bucket_arn}/source/*", "${local.bucket_arn}/releases/*", "${local.bucket_arn}/static/*", "${local.bucket_arn}/pipeline/*"]
        },
        {
          # publish-static.sh lists static/<app>/<sha>/ to find an earlier upload of the
          # commit, and syncs it back to compare.
          Sid       = "ListStaticFiles"
          Effect    = "Allow"
          Action    = "s3:ListBucket"
          Resource  = local.bucket_arn
          Condition = { StringLike = { "s3:prefix" = ["static/*"] } }
        },
        {
          Sid       = "UseTheArtifactsKeyThroughS3AndEcr"
          Effect    = "Allow"
          Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
          Resource  = aws_kms_key.artifacts.arn
          Condition = { StringEquals = { "kms:ViaService" = ["ecr.${local.region}.amazonaws.com", "s3.${local.region}.amazonaws.com"] } }
        },
      ],
    )
  }
}

resource "aws_iam_role_policy" "publisher" {
  count  = local.publisher_ready ? 1 : 0
  name   = "publish"
  role   = aws_iam_role.publisher[0].id
  policy = jsonencode(local.publisher_policy)
}
