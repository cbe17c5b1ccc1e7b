# Bootstrap of one environment's AWS account, run once per environment before its
# first apply (make infra-bootstrap ENV=<name>):
#   - the Terraform state bucket: versioned, KMS-encrypted, TLS only, access-logged;
#     Terraform locks state with S3-native lock files (use_lockfile), no DynamoDB;
#   - the GitHub and Bitbucket OIDC identity providers;
#   - <project>-<env>-deploy, assumable only by deploy jobs of this repository for
#     this environment, and <project>-<env>-plan, a read-only role for plans on pull
#     requests and drift checks;
#   - the account's security baseline (baseline.tf).

data "aws_partition" "current" {}

locals {
  env        = var.environments[var.environment]
  name       = "${var.project}-${var.environment}"
  partition  = data.aws_partition.current.partition
  account_id = local.env.account_id
  bucket     = "${local.name}-tfstate-${local.env.account_id}"
  managed    = "arn:${local.partition}:iam::aws:policy"

  github_host     = "token.actions.githubusercontent.com"
  bitbucket_ready = var.bitbucket != null && try(var.bitbucket.workspace_uuid != "" && var.bitbucket.repository_uuid != "", false)
  bitbucket_host  = var.bitbucket == null ? "" : "api.bitbucket.org/2.0/workspaces/${var.bitbucket.workspace}/pipelines-config/identity/oidc"
}

# --- State -------------------------------------------------------------------------

data "aws_iam_policy_document" "state_key" {
  #checkov:skip=CKV_AWS_109:A KMS key policy's Resource "*" means this key only; the account statement delegates access to IAM (the AWS default key policy).
  #checkov:skip=CKV_AWS_111:A KMS key policy's Resource "*" means this key only; the account statement delegates access to IAM (the AWS default key policy).
  #checkov:skip=CKV_AWS_356:A KMS key policy's Resource "*" means this key only; the account statement delegates access to IAM (the AWS default key policy).
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "state" {
  description             = "${local.name}: Terraform state"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.state_key.json
}

resource "aws_kms_alias" "state" {
  name          = "alias/${local.name}-tfstate"
  target_key_id = aws_kms_key.state.key_id
}

module "state_access_logs" {
  source = "../modules/bucket"
  name   = "${local.name}-tfstate-logs-${local.account_id}"
  # S3 server access logs can only be delivered to an SSE-S3 bucket.
  kms_key_arn       = null
  expire_after_days = 365
  force_destroy     = var.force_destroy_state
  policy_statements = [{
    Sid       = "S3ServerAccessLogs"
    Effect    = "Allow"
    Principal = { Service = "logging.s3.amazonaws.com" }
    Action    = "s3:PutObject"
    Resource  = "arn:${local.partition}:s3:::${local.name}-tfstate-logs-${local.account_id}/*"
    Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
  }]
}

module "state" {
  source                 = "../modules/bucket"
  name                   = local.bucket
  kms_key_arn            = aws_kms_key.state.arn
  access_log_bucket      = module.state_access_logs.log_target
  noncurrent_expire_days = 365
  force_destroy          = var.force_destroy_state
}

# --- OIDC identity providers ---------------------------------------------------------

resource "aws_iam_openid_connect_provider" "github" {
  count          = var.github == null ? 0 : 1
  url            = "https://${local.github_host}"
  client_id_list = ["sts.amazonaws.com"]
}

resource "aws_iam_openid_connect_provider" "bitbucket" {
  count          = local.bitbucket_ready ? 1 : 0
  url            = "https://${local.bitbucket_host}"
  client_id_list = ["ari:cloud:bitbucket::workspace/${trim(var.bitbucket.workspace_uuid, "{}")}"]
}

# --- Roles -------------------------------------------------------------------------

# Who may assume each role: GitHub by token subject (deploy: jobs of this
# environment; plan: pull requests and the deploy branch), Bitbucket by repository.
locals {
  github_subjects = var.github == null ? {} : {
    deploy = ["repo:${var.github.repository}:environment:${var.environment}"]
    plan = [
      "repo:${var.github.repository}:pull_request",
      "repo:${var.github.repository}:ref:refs/heads/${var.github.branch}",
    ]
  }
}

data "aws_iam_policy_document" "trust" {
  for_each = toset(["deploy", "plan"])

  dynamic "statement" {
    for_each = aws_iam_openid_connect_provider.github
    content {
      sid     = "GitHubWorkflows"
      actions = ["sts:AssumeRoleWithWebIdentity"]
      principals {
        type        = "Federated"
        identifiers = [statement.value.arn]
      }
      condition {
        test     = "StringEquals"
        variable = "${local.github_host}:aud"
        values   = ["sts.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "${local.github_host}:sub"
        values   = local.github_subjects[each.key]
      }
    }
  }

  dynamic "statement" {
    for_each = aws_iam_openid_connect_provider.bitbucket
    content {
      sid     = "BitbucketPipelinesOfThisRepository"
      actions = ["sts:AssumeRoleWithWebIdentity"]
      principals {
        type        = "Federated"
        identifiers = [statement.value.arn]
      }
      condition {
        test     = "StringEquals"
        variable = "${local.bitbucket_host}:aud"
        values   = ["ari:cloud:bitbucket::workspace/${trim(var.bitbucket.workspace_uuid, "{}")}"]
      }
      condition {
        test     = "StringLike"
        variable = "${local.bitbucket_host}:sub"
        values   = ["${var.bitbucket.repository_uuid}:*"]
      }
    }
  }

  # Without any pipeline provider the role is still valid, assumable by nobody.
  statement {
    sid     = "NobodyElse"
    effect  = "Deny"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
  }
}

# Deploys create and change everything in the environment's account, IAM included,
# so the role holds AdministratorAccess; the account is the boundary, and only deploy
# jobs of this repository's environment (with its protection rules) can assume it.
resource "aws_iam_role" "deploy" {
  name                 = "${local.name}-deploy"
  description          = "Pipelines deploy ${local.name}"
  assume_role_policy   = data.aws_iam_policy_document.trust["deploy"].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "deploy" {
  role       = aws_iam_role.deploy.name
  policy_arn = "${local.managed}/AdministratorAccess"
}

resource "aws_iam_role" "plan" {
  name                 = "${local.name}-plan"
  description          = "Read-only plans and drift checks of ${local.name}"
  assume_role_policy   = data.aws_iam_policy_document.trust["plan"].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "plan" {
  role       = aws_iam_role.plan.name
  policy_arn = "${local.managed}/ReadOnlyAccess"
}

data "aws_iam_policy_document" "plan_state" {
  statement {
    sid       = "ReadState"
    actions   = ["s3:ListBucket", "s3:GetObject"]
    resources = [module.state.arn, "${module.state.arn}/*"]
  }

  statement {
    sid       = "TakeAndReleaseTheLock"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${module.state.arn}/*.tflock"]
  }

  statement {
    sid       = "DecryptState"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.state.arn]
  }
}

resource "aws_iam_role_policy" "plan_state" {
  name   = "terraform-state"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan_state.json
}
