# The artifacts account: what every environment runs, built once per commit and promoted
# unchanged (infra/docs/adr/0008), applied once for the project (make infra-artifacts, with
# credentials of the artifacts account) before any environment's first deploy:
#   - the image repositories, the artifact bucket, its key, the cosign signing key and the
#     publisher role (modules/artifacts);
#   - this root's own state bucket, KMS-encrypted, versioned and access-logged, and the
#     log bucket of both buckets.
# Without spec artifacts.account this is the last production-tier environment's account:
# its infra/bootstrap runs first (it creates the CI system's OIDC provider used here).

data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  name      = "${var.project}-artifacts"
  # An environment's account already has the OIDC providers of its bootstrap.
  # modules/artifacts' bucket.
  artifact_bucket_arn = "arn:${local.partition}:s3:::${var.project}-artifacts-${var.account_id}"
  dedicated           = !contains([for e in values(var.environments) : e.account_id], var.account_id)
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
      identifiers = ["arn:${local.partition}:iam::${var.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "state" {
  description             = "${local.name}: Terraform state of the artifacts account"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.state_key.json
}

resource "aws_kms_alias" "state" {
  name          = "alias/${local.name}-state"
  target_key_id = aws_kms_key.state.key_id
}

module "access_logs" {
  source = "../modules/bucket"
  name   = "${local.name}-logs-${var.account_id}"
  # S3 server access logs can only be delivered to an SSE-S3 bucket.
  kms_key_arn       = null
  expire_after_days = 365
  force_destroy     = var.force_destroy_state
  policy_statements = [{
    Sid       = "S3ServerAccessLogs"
    Effect    = "Allow"
    Principal = { Service = "logging.s3.amazonaws.com" }
    Action    = "s3:PutObject"
    Resource  = "arn:${local.partition}:s3:::${local.name}-logs-${var.account_id}/*"
    Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
  }]
}

module "state" {
  source                 = "../modules/bucket"
  name                   = "${local.name}-state-${var.account_id}"
  kms_key_arn            = aws_kms_key.state.arn
  access_log_bucket      = module.access_logs.log_target
  noncurrent_expire_days = 365
  force_destroy          = var.force_destroy_state
}

# --- The boundary of the roles here --------------------------------------------------

# The publisher may do what its own policy allows AND this allows: the delivery services
# only, and never delete or loosen what this root keeps (images, repositories and their
# policies, keys, the buckets), nor touch IAM.
resource "aws_iam_policy" "boundary" {
  #checkov:skip=CKV_AWS_289:A permissions boundary grants nothing: the Allow bounds the services, the role's own policy names the resources.
  #checkov:skip=CKV_AWS_290:A permissions boundary grants nothing: the Allow bounds the services, the role's own policy names the resources.
  #checkov:skip=CKV_AWS_355:A permissions boundary grants nothing: the Allow bounds the services, the role's own policy names the resources.
  #checkov:skip=CKV_AWS_287:ecr:GetAuthorizationToken is how the publisher logs in to push; the token is usable only with the repositories' own permissions.
  name        = "${local.name}-boundary"
  description = "Permissions boundary of the roles of ${local.name}"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "DeliveryServicesOnly"
        Effect = "Allow"
        Action = [
          "ecr:*", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey", "kms:GetPublicKey", "kms:Sign",
          "sts:AssumeRole", "codebuild:*", "codepipeline:*", "codeconnections:UseConnection",
          "codestar-connections:UseConnection", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
        ]
        Resource = "*"
      },
      {
        Sid      = "TheArtifactBucketOnly"
        Effect   = "Allow"
        Action   = ["s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:PutObject"]
        Resource = [local.artifact_bucket_arn, "${local.artifact_bucket_arn}/*"]
      },
      {
        Sid    = "KeepWhatIsPublished"
        Effect = "Deny"
        Action = [
          "ecr:BatchDeleteImage", "ecr:DeleteLifecyclePolicy", "ecr:DeleteRepository", "ecr:DeleteRepositoryPolicy",
          "ecr:PutImageTagMutability", "ecr:PutLifecyclePolicy", "ecr:SetRepositoryPolicy", "ecr:PutRegistryPolicy",
          "ecr:DeleteRegistryPolicy", "ecr:PutReplicationConfiguration",
        ]
        Resource = "*"
      },
      { Sid = "NoIam", Effect = "Deny", Action = "iam:*", Resource = "*" },
    ]
  })
}

# --- Registry, bucket, keys, publisher --------------------------------------------------

module "artifacts" {
  source = "../modules/artifacts"

  project              = var.project
  apps                 = var.apps
  environments         = { for k, e in var.environments : k => { account_id = e.account_id } }
  deliver              = var.deliver
  create_oidc_provider = local.dedicated
  access_log_bucket    = module.access_logs.log_target
  images_kept          = var.images_kept
  force_destroy        = var.force_destroy_state
  permissions_boundary = aws_iam_policy.boundary.arn
}

# --- AWS CodePipeline (spec pipelines.providers lists codepipeline) -----------------------

module "pipeline" {
  source = "../modules/pipeline"
  count  = var.codepipeline == null ? 0 : 1

  project              = var.project
  repository_host      = var.codepipeline.repository_host
  repository           = var.codepipeline.repository
  branch               = var.codepipeline.branch
  delivers             = var.codepipeline.delivers
  environments         = var.codepipeline.environments
  log_retention_days   = var.codepipeline.log_retention_days
  artifact_bucket      = module.artifacts.bucket
  kms_key_arn          = module.artifacts.kms_key_arn
  publisher_role_arn   = var.codepipeline.delivers ? module.artifacts.publisher_role_arn : null
  permissions_boundary = aws_iam_policy.boundary.arn
}
