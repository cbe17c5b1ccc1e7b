# observability.provider datadog: the Datadog agent (infra/addons/datadog) reads its API
# key from the Secrets Manager secret the spec names (observability.datadog.apiKeySecret),
# through the External Secrets Operator, which assumes this role for it. The role may
# read that one secret only; the key never enters a file, a value or Terraform state.

locals {
  datadog = var.datadog_api_key_secret != null
}

resource "aws_iam_role" "datadog_api_key" {
  count                = local.datadog ? 1 : 0
  name                 = "${var.name}-datadog-api-key"
  description          = "The Datadog agent's API key secret of ${var.name}, read by the External Secrets Operator"
  assume_role_policy   = data.aws_iam_policy_document.app_assume.json
  permissions_boundary = var.permissions_boundary
  max_session_duration = 3600
}

data "aws_iam_policy_document" "datadog_api_key" {
  statement {
    sid     = "ReadTheDatadogApiKey"
    actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    # Secrets Manager appends a hyphen and six characters to a secret's ARN.
    resources = ["arn:${data.aws_partition.current.partition}:secretsmanager:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:secret:${coalesce(var.datadog_api_key_secret, "none")}-??????"]
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

resource "aws_iam_role_policy" "datadog_api_key" {
  count  = local.datadog ? 1 : 0
  name   = "read-datadog-api-key"
  role   = aws_iam_role.datadog_api_key[0].id
  policy = data.aws_iam_policy_document.datadog_api_key.json
}
