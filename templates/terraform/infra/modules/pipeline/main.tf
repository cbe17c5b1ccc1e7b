# CodePipeline V2 in the artifacts account (infra/artifacts calls this module when spec
# pipelines.providers lists codepipeline). infra/docs/adr/0011-codepipeline-driver.md
# explains the design; docs/runbooks/codepipeline-connection.md completes the connection.
#
#   <project>-<host>   the CodeConnections connection to GitHub or Bitbucket (PENDING until completed)
#   <project>-checks   pull requests into the deploy branch: make lint test build platform-check
#   <project>-release  pushes to the deploy branch (only where CodePipeline delivers)
#
# A connection Terraform creates stays PENDING: no pipeline can read the repository until
# a person completes it in the console (the runbook). The checks build <project>-checks runs
# as <project>-checks-build, which reaches no environment. The release pipeline runs make
# build publish bundle in <project>-publish as the publisher <project>-publish, then per
# environment in promotion order: a manual approval where the environment has one, make
# execute STAGE=apply, make execute STAGE=deploy RELEASE=<commit> and make bake, in the
# builds <project>-release-apply, -deploy and -bake, as the driver <project>-drive, which
# may only assume each environment's CI role <project>-<env>-ci.
#
# Every build runs a buildspec of the repository (pipelines/codebuild/*.yml) whose commands
# are make targets, on a full clone of the pipeline's commit (CODEBUILD_CLONE_REF: the
# make targets read the git SHA). Each role may do what its pipeline or build needs and no
# more, under the artifacts account's permissions boundary. Pipeline artifacts are in the
# artifact bucket under the artifacts key; the build logs under a key of their own.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
  iam        = "arn:${local.partition}:iam::${local.account_id}"
  bucket_arn = "arn:${local.partition}:s3:::${var.artifact_bucket}"

  connection_provider = { github = "GitHub", bitbucket = "Bitbucket" }[var.repository_host]

  pipelines = merge(
    { checks = "${var.project}-checks" },
    var.delivers ? { release = "${var.project}-release" } : {},
  )
  # CodePipeline writes a pipeline's artifacts under the first 20 characters of its name.
  artifact_prefixes = { for k, name in local.pipelines : k => "${local.bucket_arn}/${substr(name, 0, min(20, length(name)))}/*" }

  # The build projects: which pipeline runs each, its role and buildspec, and whether it
  # runs Docker. make build builds the container images (docker build in the build's own
  # Docker daemon), and make test starts the test database in a container: CodeBuild runs a
  # Docker daemon only in privileged mode. The driver's builds start other builds and
  # never run a container, so they are not privileged.
  builds = merge(
    {
      checks = {
        pipeline    = "checks"
        role        = "checks"
        buildspec   = "checks"
        privileged  = true
        compute     = "BUILD_GENERAL1_MEDIUM"
        timeout     = 60
        description = "Pull-request checks of ${var.project}: make lint test build platform-check"
      }
    },
    var.delivers ? {
      publish = {
        pipeline    = "release"
        role        = "publish"
        buildspec   = "publish"
        privileged  = true
        compute     = "BUILD_GENERAL1_MEDIUM"
        timeout     = 60
        description = "Publish build of ${var.project}: make build publish bundle (the publisher)"
      }
      release-apply = {
        pipeline    = "release"
        role        = "drive"
        buildspec   = "apply"
        privileged  = false
        compute     = "BUILD_GENERAL1_SMALL"
        timeout     = 240
        description = "Starts an environment's platform executor: make execute STAGE=apply (the driver)"
      }
      release-deploy = {
        pipeline    = "release"
        role        = "drive"
        buildspec   = "deploy"
        privileged  = false
        compute     = "BUILD_GENERAL1_SMALL"
        timeout     = 120
        description = "Starts an environment's app-deploy executor: make execute STAGE=deploy (the driver)"
      }
      release-bake = {
        pipeline    = "release"
        role        = "drive"
        buildspec   = "bake"
        privileged  = false
        compute     = "BUILD_GENERAL1_SMALL"
        timeout     = 480
        description = "An environment's bake period: make bake (the driver)"
      }
    } : {},
  )
  build_names = { for k, b in local.builds : k => "${var.project}-${k}" }
  log_groups  = { for k, b in local.builds : k => "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/codebuild/${var.project}-${k}" }
  build_arns  = { for k, b in local.builds : k => "arn:${local.partition}:codebuild:${local.region}:${local.account_id}:project/${var.project}-${k}" }

  # Roles made here (the publisher is modules/artifacts'): each pipeline's, the checks
  # build's and the driver's.
  roles = merge(
    { checks-pipeline = "${var.project}-checks-pipeline", checks = "${var.project}-checks-build" },
    var.delivers ? { release-pipeline = "${var.project}-release-pipeline", drive = "${var.project}-drive" } : {},
  )
  ci_roles = [for e in var.environments : "arn:${local.partition}:iam::${e.account_id}:role/${var.project}-${e.name}-ci"]
}

# --- The connection ----------------------------------------------------------------------

resource "aws_codestarconnections_connection" "this" {
  name          = "${var.project}-${var.repository_host}"
  provider_type = local.connection_provider
}

locals {
  connection = {
    arn    = aws_codestarconnections_connection.this.arn
    name   = aws_codestarconnections_connection.this.name
    status = aws_codestarconnections_connection.this.connection_status
  }
}

# --- Logs: one group per build, under a key that only CloudWatch Logs uses -----------------

resource "aws_kms_key" "logs" {
  description             = "${var.project}: logs of the pipeline builds"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "${local.iam}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncryptsTheBuildLogs"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = { ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/codebuild/${var.project}-*" } }
      },
    ]
  })
}

resource "aws_kms_alias" "logs" {
  name          = "alias/${var.project}-pipeline-logs"
  target_key_id = aws_kms_key.logs.key_id
}

resource "aws_cloudwatch_log_group" "build" {
  #checkov:skip=CKV_AWS_338:Retention is the spec's observability.logRetentionDays (default 90 days); set 365 or more there where compliance asks for it.
  for_each          = local.builds
  name              = "/aws/codebuild/${var.project}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

# --- Roles ---------------------------------------------------------------------------------

resource "aws_iam_role" "this" {
  for_each = local.roles
  name     = each.value
  description = {
    checks-pipeline  = "The pull-request pipeline ${var.project}-checks"
    checks           = "The pull-request build ${var.project}-checks: nothing outside its pipeline"
    release-pipeline = "The release pipeline ${var.project}-release"
    drive            = "The driver of ${var.project}-release: assumes each environment's CI role, nothing else"
  }[each.key]
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = endswith(each.key, "pipeline") ? "ThePipeline" : "TheBuildProjects"
      Effect    = "Allow"
      Principal = { Service = endswith(each.key, "pipeline") ? "codepipeline.amazonaws.com" : "codebuild.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnEquals = { "aws:SourceArn" = endswith(each.key, "pipeline") ? [
          "arn:${local.partition}:codepipeline:${local.region}:${local.account_id}:${local.pipelines[trimsuffix(each.key, "-pipeline")]}"
        ] : sort([for k, b in local.builds : local.build_arns[k] if b.role == each.key]) }
      }
    }]
  })
  permissions_boundary = var.permissions_boundary
  max_session_duration = 3600
}

locals {
  # What every build reads: its pipeline's input artifact (a reference to the commit) and
  # the repository through the connection (the full clone); what it writes: its log.
  build_statements = { for role in distinct([for b in values(local.builds) : b.role]) : role => [
    {
      Sid      = "WriteItsLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = sort(flatten([for k, b in local.builds : [local.log_groups[k], "${local.log_groups[k]}:*"] if b.role == role]))
    },
    {
      Sid      = "ReadItsPipelineArtifacts"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:GetObjectVersion"]
      Resource = sort(distinct([for b in values(local.builds) : local.artifact_prefixes[b.pipeline] if b.role == role]))
    },
    {
      Sid       = "DecryptThemThroughS3"
      Effect    = "Allow"
      Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource  = var.kms_key_arn
      Condition = { StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" } }
    },
    {
      Sid      = "CloneTheRepository"
      Effect   = "Allow"
      Action   = ["codeconnections:UseConnection", "codestar-connections:UseConnection"]
      Resource = local.connection.arn
    },
  ] }

  policies = merge(
    { for k, name in local.pipelines : "${k}-pipeline" => [
      {
        Sid      = "ItsArtifacts"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
        Resource = local.artifact_prefixes[k]
      },
      {
        Sid      = "TheArtifactBucket"
        Effect   = "Allow"
        Action   = ["s3:GetBucketLocation", "s3:GetBucketVersioning"]
        Resource = local.bucket_arn
      },
      {
        Sid       = "EncryptThemThroughS3"
        Effect    = "Allow"
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = var.kms_key_arn
        Condition = { StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" } }
      },
      {
        Sid      = "ReadTheRepository"
        Effect   = "Allow"
        Action   = ["codeconnections:UseConnection", "codestar-connections:UseConnection"]
        Resource = local.connection.arn
      },
      {
        Sid      = "RunItsBuilds"
        Effect   = "Allow"
        Action   = ["codebuild:BatchGetBuilds", "codebuild:StartBuild"]
        Resource = sort([for b, build in local.builds : local.build_arns[b] if build.pipeline == k])
      },
    ] },
    { checks = local.build_statements["checks"] },
    var.delivers ? {
      drive = concat(local.build_statements["drive"], [
        { Sid = "AssumeTheEnvironmentsCiRoles", Effect = "Allow", Action = "sts:AssumeRole", Resource = local.ci_roles },
      ])
    } : {},
  )
}

resource "aws_iam_role_policy" "this" {
  for_each = local.roles
  name     = each.key
  role     = aws_iam_role.this[each.key].id
  policy   = jsonencode({ Version = "2012-10-17", Statement = local.policies[each.key] })
}

# The publisher's build: its log, its pipeline's artifacts and the clone, added to the
# publisher's own policy (modules/artifacts: push, sign, write bundles).
resource "aws_iam_role_policy" "publish_build" {
  count  = var.delivers ? 1 : 0
  name   = "publish-build"
  role   = element(split("/", var.publisher_role_arn), length(split("/", var.publisher_role_arn)) - 1)
  policy = jsonencode({ Version = "2012-10-17", Statement = local.build_statements["publish"] })

  lifecycle {
    precondition {
      condition     = var.publisher_role_arn != null
      error_message = "publisher_role_arn is required when CodePipeline delivers: the publish build runs as the publisher."
    }
  }
}

locals {
  build_roles = merge(
    { for k, _ in local.roles : k => aws_iam_role.this[k].arn },
    var.delivers ? { publish = var.publisher_role_arn } : {},
  )
}

# --- Build projects ------------------------------------------------------------------------

resource "aws_codebuild_project" "this" {
  #checkov:skip=CKV_AWS_316:Only <project>-checks and <project>-publish are privileged: make build builds the container images and make test starts the test database, and CodeBuild runs a Docker daemon only in privileged mode. Their roles reach no environment.
  for_each       = local.builds
  name           = local.build_names[each.key]
  description    = each.value.description
  service_role   = local.build_roles[each.value.role]
  build_timeout  = each.value.timeout
  queued_timeout = 60
  encryption_key = var.kms_key_arn

  source {
    type      = "CODEPIPELINE"
    buildspec = "pipelines/codebuild/${each.value.buildspec}.yml"
  }

  artifacts {
    type = "CODEPIPELINE"
  }

  environment {
    type                        = "LINUX_CONTAINER"
    compute_type                = each.value.compute
    image                       = var.image
    image_pull_credentials_type = "CODEBUILD"
    privileged_mode             = each.value.privileged
  }

  logs_config {
    cloudwatch_logs {
      status     = "ENABLED"
      group_name = aws_cloudwatch_log_group.build[each.key].name
    }
    s3_logs {
      status = "DISABLED"
    }
  }

  depends_on = [aws_iam_role_policy.this, aws_iam_role_policy.publish_build]
}

# --- Pipelines -----------------------------------------------------------------------------

locals {
  source_configuration = {
    ConnectionArn        = local.connection.arn
    FullRepositoryId     = var.repository
    BranchName           = var.branch
    OutputArtifactFormat = "CODEBUILD_CLONE_REF"
  }

  # The release pipeline's promotion, one stage per environment in promotion order: its
  # approval first where it has one, then apply, deploy and bake, each after the last.
  promotion = [for e in var.environments : {
    name = "Promote-${e.name}"
    actions = concat(
      e.approval ? [{ name = "Approve", kind = "approval", build = null, variables = [] }] : [],
      [
        { name = "Apply", kind = "build", build = "release-apply", variables = [] },
        { name = "Deploy", kind = "build", build = "release-deploy", variables = [{ name = "RELEASE", value = "#{SourceVariables.CommitId}", type = "PLAINTEXT" }] },
        { name = "Bake", kind = "build", build = "release-bake", variables = [] },
      ],
    )
    environment = e.name
  }]
}

resource "aws_codepipeline" "checks" {
  name           = local.pipelines.checks
  role_arn       = aws_iam_role.this["checks-pipeline"].arn
  pipeline_type  = "V2"
  execution_mode = "PARALLEL"

  artifact_store {
    type     = "S3"
    location = var.artifact_bucket
    encryption_key {
      id   = var.kms_key_arn
      type = "KMS"
    }
  }

  stage {
    name = "Source"
    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "CodeStarSourceConnection"
      version          = "1"
      output_artifacts = ["source"]
      namespace        = "SourceVariables"
      configuration    = local.source_configuration
    }
  }

  stage {
    name = "Check"
    action {
      name            = "Check"
      category        = "Build"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      input_artifacts = ["source"]
      configuration   = { ProjectName = aws_codebuild_project.this["checks"].name }
    }
  }

  # Pull requests into the deploy branch, opened or updated; never a push.
  trigger {
    provider_type = "CodeStarSourceConnection"
    git_configuration {
      source_action_name = "Source"
      pull_request {
        events = ["OPEN", "UPDATED"]
        branches {
          includes = [var.branch]
        }
      }
    }
  }

  depends_on = [aws_iam_role_policy.this]
}

resource "aws_codepipeline" "release" {
  count          = var.delivers ? 1 : 0
  name           = local.pipelines.release
  role_arn       = aws_iam_role.this["release-pipeline"].arn
  pipeline_type  = "V2"
  execution_mode = "QUEUED"

  artifact_store {
    type     = "S3"
    location = var.artifact_bucket
    encryption_key {
      id   = var.kms_key_arn
      type = "KMS"
    }
  }

  stage {
    name = "Source"
    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "CodeStarSourceConnection"
      version          = "1"
      output_artifacts = ["source"]
      namespace        = "SourceVariables"
      configuration    = local.source_configuration
    }
  }

  stage {
    name = "Publish"
    action {
      name            = "Publish"
      category        = "Build"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      input_artifacts = ["source"]
      configuration   = { ProjectName = aws_codebuild_project.this["publish"].name }
    }
  }

  dynamic "stage" {
    for_each = local.promotion
    content {
      name = stage.value.name
      dynamic "action" {
        for_each = stage.value.actions
        content {
          name            = action.value.name
          category        = action.value.kind == "approval" ? "Approval" : "Build"
          owner           = "AWS"
          provider        = action.value.kind == "approval" ? "Manual" : "CodeBuild"
          version         = "1"
          run_order       = action.key + 1
          input_artifacts = action.value.kind == "approval" ? [] : ["source"]
          configuration = action.value.kind == "approval" ? {
            CustomData = "Approve the deploy of ${var.project} to ${stage.value.environment} (commit #{SourceVariables.CommitId})."
            } : {
            ProjectName = aws_codebuild_project.this[action.value.build].name
            # ENV names the environment; AWS_PROFILE the profile of pipelines/codebuild/aws-config
            # that assumes its CI role <project>-<env>-ci.
            EnvironmentVariables = jsonencode(concat([
              { name = "ENV", value = stage.value.environment, type = "PLAINTEXT" },
              { name = "AWS_PROFILE", value = "${stage.value.environment}-ci", type = "PLAINTEXT" },
            ], action.value.variables))
          }
        }
      }
    }
  }

  # Pushes to the deploy branch only.
  trigger {
    provider_type = "CodeStarSourceConnection"
    git_configuration {
      source_action_name = "Source"
      push {
        branches {
          includes = [var.branch]
        }
      }
    }
  }

  depends_on = [aws_iam_role_policy.this]
}
