# The artifacts account's part of delivery (infra/docs/adr/0008): what is built once per
# commit and promoted, unchanged, through every environment.
#
#   <project>/<app>              one ECR repository per container app: immutable tags, scan
#                                on push, encrypted with the artifacts key. Each
#                                environment's nodes and executors pull from it, by their
#                                role ARNs (the repository policy); nothing else may.
#   <project>-artifacts-<account> the artifact bucket, encrypted with the artifacts key:
#                                source/<sha>.zip (the source bundle the executors fetch
#                                and build), releases/<sha>.json (the digests of a
#                                release), static/<app>/<sha>/ (a static web app's files,
#                                make publish), pipeline/ (CodePipeline's own artifacts).
#                                The platform executors read source/ only; the app-deploy
#                                executors source/, releases/ and static/ (make deploy).
#   alias/<project>-artifacts    that key (repositories and bucket).
#   alias/<project>-image-signing the cosign signing key (ECC_NIST_P256, sign and verify
#                                only; the private key never leaves KMS).
#   <project>-publish            the publisher: only the delivering CI system, only from
#                                the deploy branch, may push images, sign them and write
#                                bundles and release manifests. With CodePipeline delivering
#                                it is the pipeline's role.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
  iam        = "arn:${local.partition}:iam::${local.account_id}"
  bucket     = "${var.project}-artifacts-${local.account_id}"
  bucket_arn = "arn:${local.partition}:s3:::${local.bucket}"

  # Who in each environment may use what is here, by role ARN (created by the
  # environment's bootstrap and root, possibly after this root: the principals are the
  # accounts, narrowed by aws:PrincipalArn, so a policy never names a missing role).
  env_role = { for e, v in var.environments : e => "arn:${local.partition}:iam::${v.account_id}:role/${var.project}-${e}" }
  accounts = sort(distinct([for v in values(var.environments) : "arn:${local.partition}:iam::${v.account_id}:root"]))
  nodes    = sort(flatten([for e, r in local.env_role : ["${r}-node", "${r}-karpenter-node"]]))
  executors = {
    platform   = sort([for e, r in local.env_role : "${r}-platform"])
    app_deploy = sort([for e, r in local.env_role : "${r}-app-deploy"])
  }
  all_executors = sort(concat(local.executors.platform, local.executors.app_deploy))
  pullers       = sort(concat(local.nodes, local.all_executors))
}

# --- Keys ------------------------------------------------------------------------------

resource "aws_kms_key" "artifacts" {
  description             = "${var.project}: image repositories and the artifact bucket"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # A key policy's Resource "*" is this key. The account statement delegates to IAM
        # (the AWS default key policy): the publisher's policy grants it what it uses.
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Principal = { AWS = "${local.iam}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # ECR decrypts layers through its own grant; this lets the pullers' requests through
        # ECR, and nothing else, use the key (infra/docs/adr/0008).
        Sid       = "EnvironmentsPullImagesThroughEcr"
        Effect    = "Allow"
        Principal = { AWS = local.accounts }
        Action    = ["kms:Decrypt", "kms:DescribeKey"]
        Resource  = "*"
        Condition = {
          StringEquals = { "kms:ViaService" = "ecr.${local.region}.amazonaws.com" }
          ArnEquals    = { "aws:PrincipalArn" = local.pullers }
        }
      },
      {
        Sid       = "ExecutorsReadBundlesThroughS3"
        Effect    = "Allow"
        Principal = { AWS = local.accounts }
        Action    = "kms:Decrypt"
        Resource  = "*"
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" }
          ArnEquals    = { "aws:PrincipalArn" = local.all_executors }
        }
      },
    ]
  })
}

resource "aws_kms_alias" "artifacts" {
  name          = "alias/${var.project}-artifacts"
  target_key_id = aws_kms_key.artifacts.key_id
}

resource "aws_kms_key" "signing" {
  #checkov:skip=CKV_AWS_7:KMS rotates symmetric keys only; an asymmetric signing key is rotated by creating a new key and re-signing (infra/docs/adr/0011).
  description              = "${var.project}: cosign signatures of the images"
  customer_master_key_spec = "ECC_NIST_P256"
  key_usage                = "SIGN_VERIFY"
  enable_key_rotation      = false
  deletion_window_in_days  = 30
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
        # make deploy (the app-deploy executor) verifies each digest's signature before
        # helm runs: the public key only, never kms:Sign. The platform executor deploys
        # no image and needs none of it.
        Sid       = "AppDeployVerifies"
        Effect    = "Allow"
        Principal = { AWS = local.accounts }
        Action    = ["kms:GetPublicKey", "kms:DescribeKey", "kms:Verify"]
        Resource  = "*"
        Condition = { ArnEquals = { "aws:PrincipalArn" = local.executors.app_deploy } }
      },
    ]
  })
}

resource "aws_kms_alias" "signing" {
  name          = "alias/${var.project}-image-signing"
  target_key_id = aws_kms_key.signing.key_id
}

# --- The artifact bucket ---------------------------------------------------------------

locals {
  # Each environment's executors fetch with their own roles (the buildspec's pre_build:
  # aws s3 cp of source/<sha>.zip); make deploy, in the app-deploy executor, also reads
  # the release manifest and syncs the static files of a release (listing their prefix).
  bucket_statements = [
    {
      Sid       = "ExecutorsReadBundles"
      Effect    = "Allow"
      Principal = { AWS = local.accounts }
      Action    = ["s3:GetObject", "s3:GetObjectVersion"]
      Resource  = "${local.bucket_arn}/source/*"
      Condition = { ArnEquals = { "aws:PrincipalArn" = local.all_executors } }
    },
    {
      Sid       = "AppDeployReadsReleasesAndStaticFiles"
      Effect    = "Allow"
      Principal = { AWS = local.accounts }
      Action    = ["s3:GetObject", "s3:GetObjectVersion"]
      Resource  = ["${local.bucket_arn}/releases/*", "${local.bucket_arn}/static/*"]
      Condition = { ArnEquals = { "aws:PrincipalArn" = local.executors.app_deploy } }
    },
    {
      Sid       = "AppDeployListsStaticFiles"
      Effect    = "Allow"
      Principal = { AWS = local.accounts }
      Action    = "s3:ListBucket"
      Resource  = local.bucket_arn
      Condition = { ArnEquals = { "aws:PrincipalArn" = local.executors.app_deploy }, StringLike = { "s3:prefix" = ["static/*"] } }
    },
  ]
}

module "bucket" {
  source                 = "../bucket"
  name                   = local.bucket
  kms_key_arn            = aws_kms_key.artifacts.arn
  access_log_bucket      = var.access_log_bucket
  noncurrent_expire_days = 90
  force_destroy          = var.force_destroy
  policy_statements      = local.bucket_statements
}

# --- Image repositories ----------------------------------------------------------------

resource "aws_ecr_repository" "app" {
  for_each             = toset(var.apps)
  name                 = "${var.project}/${each.key}"
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.artifacts.arn
  }
}

resource "aws_ecr_repository_policy" "app" {
  for_each   = aws_ecr_repository.app
  repository = each.value.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "EnvironmentsPull"
        Effect    = "Allow"
        Principal = { AWS = local.accounts }
        Action    = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
        Condition = { ArnEquals = { "aws:PrincipalArn" = local.pullers } }
      },
      {
        # make deploy resolves and checks digests (and their signatures) before helm runs.
        Sid       = "AppDeployFindsImages"
        Effect    = "Allow"
        Principal = { AWS = local.accounts }
        Action    = "ecr:DescribeImages"
        Condition = { ArnEquals = { "aws:PrincipalArn" = local.executors.app_deploy } }
      },
    ]
  })
}

# Only tagged images expire, oldest first beyond images_kept: the releases (tags are git
# SHAs) and cosign's signatures and attestations (tags sha256-<digest>.sig/.att), three
# tagged images per release. Untagged images are never expired: with immutable tags they
# are the platform manifests of an image index, or OCI referrers, and expiring them
# breaks the tagged image that needs them (ECR lifecycle rules count indexes, signatures
# and their children alike: https://github.com/aws/containers-roadmap/issues/2613).
resource "aws_ecr_lifecycle_policy" "app" {
  for_each   = aws_ecr_repository.app
  repository = each.value.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Keep the newest ${var.images_kept} tagged images (releases, signatures, attestations)"
        selection    = { tagStatus = "tagged", tagPatternList = ["*"], countType = "imageCountMoreThan", countNumber = var.images_kept }
        action       = { type = "expire" }
      },
    ]
  })
}
