# Per container app: its IAM role (<project>-<environment>-<app>)
# used by its pods through EKS Pod Identity and assumed by the External Secrets
# Operator for that app's secrets only, and the Secrets Manager secrets the spec
# references. Terraform creates the secrets empty: values are put by people or
# tools, never through Terraform, so no secret value enters state.
#
# The database users' secrets (<project>/<environment>/database/<logical user>) are
# created here empty too: `dbkit users apply` and `dbkit users rotate`, run by the
# platform executor (make database-users-apply), write them as
# {"engine","host","port","dbname","username","password"}. An app's role reads its own
# user's secret and its migrator's (the migration hook), never the master secret, which
# is break-glass: only the platform executor and people read it.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  secrets = toset(flatten([for a in values(var.apps) : a.secrets]))
  # The database users an app's pods and migration hook connect as (database/users.json).
  secret_arn_prefix = "arn:${data.aws_partition.current.partition}:secretsmanager:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:secret:"
  app_database_users = {
    for k, a in var.apps : k => a.database ? [k, "${k}-migrator"] : []
  }
}

# --- Registry: moved to the artifacts account ------------------------------------------

# The image repositories live in infra/artifacts (one registry every environment pulls
# from, infra/docs/adr/0008). Terraform forgets this account's old repositories without
# deleting them or their images: remove them by hand once no running pod uses them.
removed {
  from = aws_ecr_repository.app
  lifecycle {
    destroy = false
  }
}

removed {
  from = aws_ecr_lifecycle_policy.app
  lifecycle {
    destroy = false
  }
}

# --- Secrets (containers only; values never pass through Terraform) ------------------

resource "aws_secretsmanager_secret" "app" {
  #checkov:skip=CKV2_AWS_57:These hold third-party credentials put by people, which no rotation Lambda can renew; the database master secret is rotated by RDS.
  for_each                = local.secrets
  name                    = "${var.secret_prefix}${each.value}"
  description             = "Referenced by platform.yaml; put the value with the AWS CLI or console"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_days
}

# The database users' secrets: empty containers that `dbkit users apply|rotate` fills.
resource "aws_secretsmanager_secret" "database_user" {
  #checkov:skip=CKV2_AWS_57:Rotated by `dbkit users rotate` (alternating users, infra/docs/adr/0012), run by the platform executor inside the VPC; a Secrets Manager rotation Lambda would need its own path to the database and would break the alternation.
  for_each                = toset(var.database_users)
  name                    = "${var.secret_prefix}database/${each.value}"
  description             = "Database user ${each.value}: written by dbkit users apply/rotate (platform executor), never by Terraform"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_days
}

# --- App roles -------------------------------------------------------------------------

data "aws_iam_policy_document" "app_assume" {
  statement {
    sid     = "AppPodsThroughPodIdentity"
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }

  statement {
    sid     = "ExternalSecretsOperator"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = [var.external_secrets_role_arn]
    }
  }
}

resource "aws_iam_role" "app" {
  for_each             = var.apps
  name                 = "${var.name}-${each.key}"
  description          = "App ${each.key} of ${var.name}: its pods and its secrets"
  assume_role_policy   = data.aws_iam_policy_document.app_assume.json
  permissions_boundary = var.permissions_boundary
  max_session_duration = 3600
}

data "aws_iam_policy_document" "app" {
  for_each = var.apps

  statement {
    sid     = "ReadOwnSecrets"
    actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = concat(
      [for s in each.value.secrets : aws_secretsmanager_secret.app[s].arn],
      # Its own database user and its migrator (the hook's ExternalSecret), nothing else:
      # by name, with exactly the six characters Secrets Manager appends, so api's grant
      # never covers api-migrator's or another app's secret.
      [for u in local.app_database_users[each.key] : "${local.secret_arn_prefix}${var.secret_prefix}database/${u}-??????"],
      # Always a valid policy, even for an app without secrets.
      ["arn:${data.aws_partition.current.partition}:secretsmanager:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:secret:${var.secret_prefix}${each.key}/*"],
    )
  }

  statement {
    sid       = "DecryptThroughSecretsManagerOnly"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${data.aws_region.current.name}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "app" {
  for_each = var.apps
  name     = "read-own-secrets"
  role     = aws_iam_role.app[each.key].id
  policy   = data.aws_iam_policy_document.app[each.key].json
}

resource "aws_eks_pod_identity_association" "app" {
  for_each        = var.apps
  cluster_name    = var.cluster_name
  namespace       = each.key
  service_account = each.key
  role_arn        = aws_iam_role.app[each.key].arn
}

# The operator may assume exactly these roles (the apps', and the Datadog API key's),
# nothing else.
data "aws_iam_policy_document" "external_secrets" {
  statement {
    actions   = ["sts:AssumeRole"]
    resources = length(var.apps) + length(aws_iam_role.datadog_api_key) > 0 ? concat([for r in aws_iam_role.app : r.arn], aws_iam_role.datadog_api_key[*].arn) : ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:role/${var.name}-no-apps"]
  }
}

resource "aws_iam_role_policy" "external_secrets" {
  name   = "assume-app-roles"
  role   = var.external_secrets_role_name
  policy = data.aws_iam_policy_document.external_secrets.json
}
