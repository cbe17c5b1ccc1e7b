# The roles of this account, decided in infra/docs/adr/0003-roles-and-permissions.md:
#
#   <name>-plan        reads what `terraform plan` and drift checks need: configuration,
#                      never data; the state; secretsmanager:GetRandomPassword. Trusted
#                      by CI (pull requests and the deploy branch, or, when protected,
#                      only the <env>-plan environment), by its CodeBuild project, and
#                      by the spec's read-only people.
#   <name>-platform    the platform executor: Terraform apply and the cluster add-ons.
#                      Trusted by the CodeBuild project <name>-apply and the spec's
#                      break-glass people; cluster admin through an EKS access entry.
#   <name>-app-deploy  the app-deploy executor (make deploy): reads the environment's
#                      outputs from state, describes the cluster and the images; in
#                      Kubernetes only the apps' namespaces. Trusted by the CodeBuild
#                      project <name>-deploy and the break-glass people.
#
#   <name>-ci          CI's one role for this environment: start and stop the two executor
#                      projects (modules/executors), read their logs and the
#                      environment's alarms (the bake gate). Nothing in EKS, no access
#                      entry, no executor role. Trusted ONLY by the delivering provider
#                      (spec pipelines.deliver): the GitHub environment <env>, the Bitbucket
#                      deployment environment of <env>, or the artifacts account's
#                      CodePipeline driver <project>-drive. The other providers run pull-request checks only.
#
# No CI system assumes an executor directly: CI starts the executors' CodeBuild projects
# and they run under the executor roles. Every role carries the permissions
# boundary (boundary.tf). Every policy is JSON written here (jsonencode), so
# tests/bootstrap.tftest.hcl parses exactly what IAM receives; none is AWS-managed.

locals {
  roles = merge(
    {
      plan       = "${local.name}-plan"
      platform   = "${local.name}-platform"
      app_deploy = "${local.name}-app-deploy"
    },
    # Only where the deliverer can be trusted (ci.tf): a role nobody may assume is not made.
    length(local.ci_trust) > 0 ? { ci = "${local.name}-ci" } : {},
  )
  role_arns = { for k, n in local.roles : k => "arn:${local.partition}:iam::${local.account_id}:role/${n}" }

  # The CodeBuild projects each role serves (generator/spec/naming.py, codebuild-project).
  codebuild_projects = {
    plan       = "${local.name}-plan"
    platform   = "${local.name}-apply"
    app_deploy = "${local.name}-deploy"
  }

  # A plan role that can read a secret, or plans production, is protected: CI reaches it
  # only from the protected <env>-plan environment, never from a pull request.
  protected_plan = local.env.tier == "production" || local.env.reads_master_secret

  # RDS cannot manage the master password of an instance with read replicas: Terraform
  # writes it write-only into this secret, and refreshing the secret's version reads it
  # (GetSecretValue). Only that secret, only where it exists.
  master_secret = "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:${local.name}-database-master-*"
  # The database kit, run by the platform executor in the VPC (make database-users-apply
  # after every apply, make database-run): it reads the master (break-glass, the RDS-managed
  # secret of this environment's primary, or the write-only one above) and reads and writes
  # the database users' secrets <project>/<env>/database/<user>. No other role reads them
  # but each app's own (modules/workloads).
  rds_managed_secrets   = "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:rds!db-*"
  primary_instance_arn  = "arn:${local.partition}:rds:${local.region}:${local.account_id}:db:${local.name}"
  database_user_secrets = "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:${var.project}/${var.environment}/database/*"
  # In a migration's target environment the kit also reads the DigitalOcean source's secret:
  # exactly that secret (Secrets Manager appends "-" and six characters to a name's ARN).
  migration_source_secret = local.env.migration_source_secret == null ? null : "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:${local.env.migration_source_secret}-??????"
  # The database kit's journals and reports (make database-kit-env: database/.runs/), kept
  # between builds so a cutover's --abort or --resume finds its journal: this environment's
  # state bucket, under database-runs/<env>/ (the bucket's policy: TLS only, KMS; versioned).
  database_runs_prefix  = "database-runs/${var.environment}/"
  database_runs_objects = "${local.bucket_arn}/${local.database_runs_prefix}*"
  state_objects         = "${local.bucket_arn}/envs/${var.environment}/*"
  state_file            = "${local.bucket_arn}/envs/${var.environment}/terraform.tfstate"
}

# --- Who may assume each role ---------------------------------------------------------

locals {
  github_plan_subjects = var.github == null ? [] : (
    local.protected_plan
    ? ["repo:${var.github.repository}:environment:${var.environment}-plan"]
    : ["repo:${var.github.repository}:pull_request", "repo:${var.github.repository}:ref:refs/heads/${var.github.branch}"]
  )

  # Bitbucket's subject is {repository}[:{deployment environment}]:{step}: a protected
  # plan role trusts only steps of the deployment environment named for it.
  bitbucket_plan_environment = try(var.bitbucket.plan_environment_uuids[var.environment], null)
  bitbucket_plan_subjects = !local.bitbucket_ready ? [] : (
    local.protected_plan
    ? (local.bitbucket_plan_environment == null ? [] : ["${var.bitbucket.repository_uuid}:${local.bitbucket_plan_environment}:*"])
    : ["${var.bitbucket.repository_uuid}:*"]
  )

  github_trust = [for provider in aws_iam_openid_connect_provider.github : {
    Sid       = "GitHubWorkflows"
    Effect    = "Allow"
    Principal = { Federated = provider.arn }
    Action    = "sts:AssumeRoleWithWebIdentity"
    Condition = {
      StringEquals = {
        "${local.github_host}:aud" = "sts.amazonaws.com"
        "${local.github_host}:sub" = local.github_plan_subjects
      }
    }
  }]

  bitbucket_trust = [for provider in aws_iam_openid_connect_provider.bitbucket : {
    Sid       = "BitbucketPipelines"
    Effect    = "Allow"
    Principal = { Federated = provider.arn }
    Action    = "sts:AssumeRoleWithWebIdentity"
    Condition = {
      StringEquals = { "${local.bitbucket_host}:aud" = "ari:cloud:bitbucket::workspace/${trim(var.bitbucket.workspace_uuid, "{}")}" }
      StringLike   = { "${local.bitbucket_host}:sub" = local.bitbucket_plan_subjects }
    }
  } if length(local.bitbucket_plan_subjects) > 0]

  codebuild_trust = { for role, project in local.codebuild_projects : role => [{
    Sid       = "CodeBuildProject"
    Effect    = "Allow"
    Principal = { Service = "codebuild.amazonaws.com" }
    Action    = "sts:AssumeRole"
    Condition = {
      StringEquals = {
        "aws:SourceAccount" = local.account_id
        "aws:SourceArn"     = "arn:${local.partition}:codebuild:${local.region}:${local.account_id}:project/${project}"
      }
    }
  }] }

  # People by exact role ARN (aws:PrincipalArn), so a recreated SSO role with the same
  # ARN keeps working; the principal is each ARN's account.
  people = {
    plan       = local.env.access.read_only
    platform   = local.env.access.break_glass
    app_deploy = local.env.access.break_glass
  }
  people_trust = { for role, arns in local.people : role => [for _ in range(length(arns) > 0 ? 1 : 0) : {
    Sid       = role == "plan" ? "ReadOnlyPeople" : "BreakGlassPeople"
    Effect    = "Allow"
    Principal = { AWS = sort(distinct([for arn in arns : "arn:${split(":", arn)[1]}:iam::${split(":", arn)[4]}:root"])) }
    Action    = ["sts:AssumeRole", "sts:SetSourceIdentity"]
    Condition = { ArnEquals = { "aws:PrincipalArn" = sort(arns) } }
  }] }

  trust = {
    plan       = concat(local.github_trust, local.bitbucket_trust, local.codebuild_trust.plan, local.people_trust.plan)
    platform   = concat(local.codebuild_trust.platform, local.people_trust.platform)
    app_deploy = concat(local.codebuild_trust.app_deploy, local.people_trust.app_deploy)
    ci         = local.ci_trust
  }
}

resource "aws_iam_role" "this" {
  for_each             = local.roles
  name                 = each.value
  description          = { plan = "Plans and drift checks of ${local.name}: configuration and state, no data", platform = "Platform executor of ${local.name}: Terraform apply and cluster add-ons", app_deploy = "App-deploy executor of ${local.name}: make deploy into the app namespaces", ci = "CI of ${local.name} (${var.delivery.provider}): starts the executors and reads their logs, nothing else" }[each.key]
  assume_role_policy   = jsonencode({ Version = "2012-10-17", Statement = local.trust[each.key] })
  permissions_boundary = aws_iam_policy.boundary.arn
  max_session_duration = 3600
}

# Before these roles, the plan role was aws_iam_role.plan (same name): keep it, in place.
# The old <name>-deploy role with AdministratorAccess is destroyed by the next bootstrap.
moved {
  from = aws_iam_role.plan
  to   = aws_iam_role.this["plan"]
}

# --- What each role may do -------------------------------------------------------------

locals {
  # Describe, list and get-configuration actions of every service the environment roots
  # manage (platform_services below). None returns data: no object, secret value, item,
  # log event, image layer or request sample.
  plan_read_actions = [
    "acm:DescribeCertificate", "acm:GetCertificate", "acm:ListCertificates", "acm:ListTagsForCertificate",
    "backup:Describe*", "backup:GetBackupPlan", "backup:GetBackupSelection", "backup:GetBackupVaultAccessPolicy", "backup:GetBackupVaultNotifications", "backup:GetRestoreTestingPlan", "backup:GetRestoreTestingSelection", "backup:List*",
    "cloudfront:Describe*", "cloudfront:Get*", "cloudfront:List*",
    "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
    "codebuild:BatchGetProjects",
    "dms:DescribeCertificates", "dms:DescribeEndpoints", "dms:DescribeEventSubscriptions", "dms:DescribeReplicationInstances", "dms:DescribeReplicationSubnetGroups", "dms:DescribeReplicationTasks", "dms:ListTagsForResource",
    "ec2:Describe*", "ec2:GetManagedPrefixListEntries",
    "ecr:DescribeImages", "ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource",
    "eks:Describe*", "eks:List*",
    "elasticloadbalancing:Describe*",
    "events:DescribeRule", "events:ListTagsForResource", "events:ListTargetsByRule",
    "iam:Get*", "iam:List*",
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListResourceTags",
    "logs:DescribeLogGroups", "logs:DescribeResourcePolicies", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
    "rds:Describe*", "rds:ListTagsForResource",
    "route53:Get*", "route53:List*",
    "s3:GetAccelerateConfiguration", "s3:GetBucket*", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration", "s3:ListAllMyBuckets", "s3:ListBucket",
    "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy", "secretsmanager:ListSecrets",
    "sns:GetSubscriptionAttributes", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic", "sns:ListTagsForResource",
    "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags",
    "wafv2:Describe*", "wafv2:GetLoggingConfiguration", "wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:List*",
  ]

  # Data: refused to the plan role and the platform executor even if a later policy
  # granted it (an explicit deny wins).
  data_read_actions = [
    "dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:GetRecords", "dynamodb:Query", "dynamodb:Scan",
    "ec2:GetConsoleOutput", "ec2:GetConsoleScreenshot", "ec2:GetPasswordData",
    "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
    "kinesis:GetRecords",
    "logs:FilterLogEvents", "logs:GetLogEvents", "logs:GetLogRecord", "logs:GetQueryResults", "logs:StartLiveTail", "logs:StartQuery",
    "rds-data:*", "rds-db:connect", "rds:DownloadCompleteDBLogFile", "rds:DownloadDBLogFilePortion",
    "sqs:ReceiveMessage",
    "wafv2:GetSampledRequests",
  ]

  secret_value_actions = ["secretsmanager:BatchGetSecretValue", "secretsmanager:GetSecretValue"]
  object_read_actions  = ["s3:GetObject", "s3:GetObjectVersion"]

  # Refuse data everywhere; `except_master_secret` keeps the one write-only secret a
  # Terraform refresh reads (see master_secret).
  no_data_reads = {
    for except_master_secret in [false, true] : tostring(except_master_secret) => [
      { Sid = "NoDataReads", Effect = "Deny", Action = local.data_read_actions, Resource = "*" },
      { Sid = "NoObjectsButTheStateAndBundles", Effect = "Deny", Action = local.object_read_actions, NotResource = ["${local.bucket_arn}/*", local.source_bundles] },
      merge(
        { Sid = "NoSecretValues", Effect = "Deny", Action = local.secret_value_actions },
        except_master_secret ? { NotResource = local.master_secret } : { Resource = "*" },
      ),
    ]
  }

  # The platform executor's secret values: the master secrets and the database users'
  # secrets, nothing else; an RDS-managed secret only of this environment's primary
  # (RDS tags the secret it manages with aws:rds:primaryDBInstanceArn).
  database_kit_secrets = concat([
    { Sid = "NoSecretValuesButTheDatabasesOwn", Effect = "Deny", Action = local.secret_value_actions, NotResource = compact([local.master_secret, local.rds_managed_secrets, local.database_user_secrets, local.migration_source_secret]) },
    {
      Sid       = "NoOtherDatabasesMasterSecret"
      Effect    = "Deny"
      Action    = local.secret_value_actions
      Resource  = local.rds_managed_secrets
      Condition = { StringNotEquals = { "secretsmanager:ResourceTag/aws:rds:primaryDBInstanceArn" = local.primary_instance_arn } }
    },
    {
      Sid      = "DatabaseKitSecrets"
      Effect   = "Allow"
      Action   = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]
      Resource = [local.rds_managed_secrets, local.database_user_secrets]
    },
    ], [for arn in compact([local.migration_source_secret]) : {
      # Read only: the source's credentials are the migration's, never rotated from here.
      Sid      = "ReadTheMigrationSourceSecret"
      Effect   = "Allow"
      Action   = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
      Resource = arn
  }])

  database_runs = [
    { Sid = "KeepTheDatabaseRuns", Effect = "Allow", Action = ["s3:GetObject", "s3:PutObject"], Resource = local.database_runs_objects },
    {
      Sid       = "ListTheDatabaseRuns"
      Effect    = "Allow"
      Action    = "s3:ListBucket"
      Resource  = local.bucket_arn
      Condition = { StringLike = { "s3:prefix" = ["${local.database_runs_prefix}*"] } }
    },
  ]

  read_master_secret = [
    {
      Sid      = "RefreshTheWriteOnlyMasterSecret"
      Effect   = "Allow"
      Action   = "secretsmanager:GetSecretValue"
      Resource = local.master_secret
    },
    {
      Sid      = "DecryptTheWriteOnlyMasterSecret"
      Effect   = "Allow"
      Action   = "kms:Decrypt"
      Resource = "arn:${local.partition}:kms:${local.region}:${local.account_id}:key/*"
      Condition = {
        StringEquals = { "kms:ViaService" = "secretsmanager.${local.region}.amazonaws.com" }
        StringLike   = { "kms:EncryptionContext:SecretARN" = local.master_secret }
      }
    },
  ]

  state_key_via_s3 = { StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" } }

  plan_policy = {
    Version = "2012-10-17"
    Statement = concat(
      [
        { Sid = "ReadConfiguration", Effect = "Allow", Action = local.plan_read_actions, Resource = "*" },
        { Sid = "ReadPublicParameters", Effect = "Allow", Action = ["ssm:GetParameter", "ssm:GetParameters"], Resource = "arn:${local.partition}:ssm:*:*:parameter/aws/service/*" },
        { Sid = "ReadState", Effect = "Allow", Action = "s3:GetObject", Resource = local.state_objects },
        { Sid = "TakeAndReleaseTheLock", Effect = "Allow", Action = ["s3:PutObject", "s3:DeleteObject"], Resource = "${local.state_objects}.tflock" },
        { Sid = "StateKey", Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey"], Resource = aws_kms_key.state.arn, Condition = local.state_key_via_s3 },
        { Sid = "EphemeralPasswords", Effect = "Allow", Action = "secretsmanager:GetRandomPassword", Resource = "*" },
      ],
      [for s in local.read_master_secret : s if local.env.reads_master_secret],
      local.no_data_reads[tostring(local.env.reads_master_secret)],
    )
  }

  # Every AWS service the environment roots manage (IAM apart, below). A module that
  # manages a new service adds it here: tests/test_terraform_modules.py checks the
  # modules' resource types against this list.
  platform_services = [
    "acm", "backup", "backup-storage", "cloudfront", "cloudwatch", "codebuild", "dms", "ec2", "ecr", "eks",
    "elasticloadbalancing", "events", "kms", "logs", "rds", "route53", "s3", "secretsmanager", "sns",
    "sqs", "wafv2",
  ]

  # AWS-managed policies the modules attach to the roles they create. Attaching any
  # other (AdministratorAccess, ...) is refused.
  attachable_policy_names = [
    "AmazonEC2ContainerRegistryPullOnly", "AmazonEKSClusterPolicy", "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy", "AmazonSSMManagedInstanceCore", "service-role/*",
  ]
  attachable_policies = [for p in local.attachable_policy_names : "arn:${local.partition}:iam::aws:policy/${p}"]

  # The environment's roles, and the two account roles AWS DMS requires by exact name
  # (modules/migration creates them in a migration's target environment).
  platform_roles = [
    "arn:${local.partition}:iam::${local.account_id}:role/${local.name}-*",
    "arn:${local.partition}:iam::${local.account_id}:role/dms-vpc-role",
    "arn:${local.partition}:iam::${local.account_id}:role/dms-cloudwatch-logs-role",
  ]

  platform_policy = {
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid       = "ManageThePlatformServices"
          Effect    = "Allow"
          Action    = [for s in local.platform_services : "${s}:*"]
          Resource  = "*"
          Condition = { StringEquals = { "aws:RequestedRegion" = distinct([local.region, "us-east-1"]) } }
        },
        { Sid = "ReadIam", Effect = "Allow", Action = ["iam:Get*", "iam:List*"], Resource = "*" },
        {
          Sid       = "CreateRolesOnlyWithTheBoundary"
          Effect    = "Allow"
          Action    = ["iam:CreateRole", "iam:PutRolePermissionsBoundary"]
          Resource  = local.platform_roles
          Condition = { StringEquals = { "iam:PermissionsBoundary" = aws_iam_policy.boundary.arn } }
        },
        {
          Sid    = "ManageThePlatformsRoles"
          Effect = "Allow"
          Action = [
            "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PassRole",
            "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy",
            "iam:UpdateRole", "iam:UpdateRoleDescription",
          ]
          Resource = local.platform_roles
        },
        {
          Sid       = "AttachOnlyTheModulesManagedPolicies"
          Effect    = "Allow"
          Action    = "iam:AttachRolePolicy"
          Resource  = local.platform_roles
          Condition = { ArnLike = { "iam:PolicyARN" = local.attachable_policies } }
        },
        {
          Sid      = "ServiceLinkedRoles"
          Effect   = "Allow"
          Action   = "iam:CreateServiceLinkedRole"
          Resource = "arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/*"
        },
        { Sid = "EphemeralPasswords", Effect = "Allow", Action = "secretsmanager:GetRandomPassword", Resource = "*" },
      ],
      local.executor_statements.apply,
      local.read_master_secret,
      [for s in local.no_data_reads["true"] : s if s.Sid != "NoSecretValues"],
      local.database_kit_secrets,
      local.database_runs,
    )
  }

  app_deploy_policy = {
    Version = "2012-10-17"
    Statement = concat(
      [
        { Sid = "FindTheCluster", Effect = "Allow", Action = "eks:DescribeCluster", Resource = "arn:${local.partition}:eks:${local.region}:${local.account_id}:cluster/${local.name}" },
        # The images live in the artifacts account's registry (infra/artifacts): find them,
        # and read their signatures (make deploy verifies each digest before helm runs).
        { Sid = "FindTheImages", Effect = "Allow", Action = ["ecr:BatchGetImage", "ecr:DescribeImages", "ecr:DescribeRepositories", "ecr:GetDownloadUrlForLayer", "ecr:ListImages"], Resource = "arn:${local.partition}:ecr:${var.delivery.artifacts_region}:${var.delivery.artifacts_account_id}:repository/${var.project}/*" },
        { Sid = "RegistryLogin", Effect = "Allow", Action = "ecr:GetAuthorizationToken", Resource = "*" },
        { Sid = "ListTheState", Effect = "Allow", Action = "s3:ListBucket", Resource = local.bucket_arn },
        { Sid = "ReadTheOutputs", Effect = "Allow", Action = "s3:GetObject", Resource = local.state_file },
        { Sid = "StateKey", Effect = "Allow", Action = "kms:Decrypt", Resource = aws_kms_key.state.arn, Condition = local.state_key_via_s3 },
      ],
      local.static_site_statements,
      local.executor_statements.deploy,
      local.release_reads,
    )
  }

  policies = merge(
    {
      plan       = { name = "terraform-plan", document = local.plan_policy }
      platform   = { name = "platform-executor", document = local.platform_policy }
      app_deploy = { name = "app-deploy", document = local.app_deploy_policy }
    },
    contains(keys(local.roles), "ci") ? { ci = { name = "start-executors", document = local.ci_policy } } : {},
  )
}

resource "aws_iam_role_policy" "this" {
  for_each = local.policies
  name     = each.value.name
  role     = aws_iam_role.this[each.key].id
  policy   = jsonencode(each.value.document)
}

# --- What the executors need to run as CodeBuild builds in the VPC ----------------------

locals {
  # The artifacts account's bucket (infra/artifacts, in the artifacts region) holds the
  # source bundle of each commit (source/<sha>.zip), which both executors fetch (their
  # buildspec's pre_build), and what make publish wrote for make deploy: the release
  # manifests (releases/<sha>.json) and the static web apps' files (static/<app>/<sha>/).
  # Its bucket and key policies admit the executor roles to the same prefixes.
  artifacts_bucket     = "${var.project}-artifacts-${var.delivery.artifacts_account_id}"
  artifacts_bucket_arn = "arn:${local.partition}:s3:::${local.artifacts_bucket}"
  source_bundles       = "${local.artifacts_bucket_arn}/source/*"
  artifacts_keys       = "arn:${local.partition}:kms:${var.delivery.artifacts_region}:${var.delivery.artifacts_account_id}:key/*"
  signing_alias        = "alias/${var.project}-image-signing"
  executor_stages      = { apply = "platform", deploy = "app_deploy" }
  executor_log_groups = {
    for stage in keys(local.executor_stages) : stage => "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/codebuild/${local.name}-${stage}"
  }

  executor_statements = { for stage in keys(local.executor_stages) : stage => [
    {
      Sid      = "WriteTheBuildLog"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "${local.executor_log_groups[stage]}:*"
    },
    {
      Sid      = "ReadTheSourceBundles"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:GetObjectVersion"]
      Resource = local.source_bundles
    },
    {
      Sid       = "DecryptTheSourceBundles"
      Effect    = "Allow"
      Action    = "kms:Decrypt"
      Resource  = local.artifacts_keys
      Condition = { StringEquals = { "kms:ViaService" = "s3.${var.delivery.artifacts_region}.amazonaws.com" } }
    },
    # CodeBuild in a VPC: the network interfaces of each build (CodeBuild user guide,
    # "Allow CodeBuild access to AWS services required to create a VPC network interface":
    # https://docs.aws.amazon.com/codebuild/latest/userguide/auth-and-access-control-iam-identity-based-access-control.html#customer-managed-policies-example-create-vpc-network-interface).
    {
      Sid    = "BuildNetworkInterfaces"
      Effect = "Allow"
      Action = [
        "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeDhcpOptions",
        "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
      ]
      Resource = "*"
    },
    {
      Sid       = "OnlyCodeBuildUsesThem"
      Effect    = "Allow"
      Action    = "ec2:CreateNetworkInterfacePermission"
      Resource  = "arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"
      Condition = { StringEquals = { "ec2:AuthorizedService" = "codebuild.amazonaws.com" } }
    },
  ] }

  # What make deploy reads beyond the bundle (the app-deploy executor only): the release
  # manifest of RELEASE (delivery/release.sh fetch), the static apps' files that commit
  # published (delivery/deploy-static.sh: aws s3 sync of static/<app>/<sha>/, which lists
  # the prefix), and the signing key's public half (delivery/verify-image.sh: cosign
  # verify --key awskms:///...alias/<project>-image-signing). KMS authorizes a request by
  # alias against the key it names, so the key is matched by its alias
  # (kms:ResourceAliases: https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-resource-aliases).
  release_reads = [
    {
      Sid      = "ReadReleasesAndStaticFiles"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:GetObjectVersion"]
      Resource = ["${local.artifacts_bucket_arn}/releases/*", "${local.artifacts_bucket_arn}/static/*"]
    },
    {
      Sid       = "ListTheStaticFiles"
      Effect    = "Allow"
      Action    = "s3:ListBucket"
      Resource  = local.artifacts_bucket_arn
      Condition = { StringLike = { "s3:prefix" = ["static/*"] } }
    },
    {
      Sid       = "VerifyImageSignatures"
      Effect    = "Allow"
      Action    = ["kms:DescribeKey", "kms:GetPublicKey", "kms:Verify"]
      Resource  = local.artifacts_keys
      Condition = { "ForAnyValue:StringEquals" = { "kms:ResourceAliases" = local.signing_alias } }
    },
  ]

  # The public static web apps (modules/cdn: bucket <name>-<app>-<account>, behind the
  # distribution): make deploy syncs each app's build to its bucket and invalidates.
  static_buckets = [for app in var.static_apps : "arn:${local.partition}:s3:::${local.name}-${app}-${local.account_id}"]
  static_site_statements = [for s in [
    { Sid = "ListTheStaticSites", Effect = "Allow", Action = "s3:ListBucket", Resource = local.static_buckets },
    { Sid = "SyncTheStaticSites", Effect = "Allow", Action = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], Resource = [for b in local.static_buckets : "${b}/*"] },
    {
      Sid       = "EncryptTheStaticSites"
      Effect    = "Allow"
      Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource  = "arn:${local.partition}:kms:${local.region}:${local.account_id}:key/*"
      Condition = { StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" } }
    },
    { Sid = "InvalidateTheDistribution", Effect = "Allow", Action = ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"], Resource = "arn:${local.partition}:cloudfront::${local.account_id}:distribution/*" },
  ] : s if length(var.static_apps) > 0]
}

# --- The CI role: start the executors, nothing else ---------------------------------------

locals {
  # Who delivers (spec pipelines.deliver) is the only one trusted; the claim formats:
  #   GitHub: a job with `environment: <env>` gets the subject repo:ORG/REPO:environment:<env>
  #     (GitHub Docs, OpenID Connect reference, "Example subject claims":
  #     https://docs.github.com/en/actions/reference/security/oidc#example-subject-claims).
  #   Bitbucket: the subject is {repository UUID}[:{deployment environment UUID}]:{step UUID},
  #     the audience ari:cloud:bitbucket::workspace/<workspace UUID> (Atlassian, "Deploy on
  #     AWS using Bitbucket Pipelines OpenID Connect":
  #     https://support.atlassian.com/bitbucket-cloud/docs/deploy-on-aws-using-bitbucket-pipelines-openid-connect/):
  #     only steps of the deployment environment named for <env> (pipelines.bitbucket.deployEnvironments).
  #   CodePipeline: the artifacts account's driver <project>-drive, the role of the release
  #     pipeline's apply, deploy and bake builds (infra/artifacts, modules/pipeline), which
  #     assume this role to run make execute and make bake (infra/docs/adr/0011).
  bitbucket_deploy_environment = try(var.bitbucket.deploy_environment_uuids[var.environment], null)
  pipeline_role                = "arn:${local.partition}:iam::${var.delivery.artifacts_account_id}:role/${var.project}-drive"

  ci_trust = concat(
    [for provider in aws_iam_openid_connect_provider.github : {
      Sid       = "GitHubDeployEnvironment"
      Effect    = "Allow"
      Principal = { Federated = provider.arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.github_host}:aud" = "sts.amazonaws.com"
          "${local.github_host}:sub" = "repo:${var.github.repository}:environment:${var.environment}"
        }
      }
    } if var.delivery.provider == "github"],
    [for provider in aws_iam_openid_connect_provider.bitbucket : {
      Sid       = "BitbucketDeploymentEnvironment"
      Effect    = "Allow"
      Principal = { Federated = provider.arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = { "${local.bitbucket_host}:aud" = "ari:cloud:bitbucket::workspace/${trim(var.bitbucket.workspace_uuid, "{}")}" }
        StringLike   = { "${local.bitbucket_host}:sub" = "${var.bitbucket.repository_uuid}:${local.bitbucket_deploy_environment}:*" }
      }
    } if var.delivery.provider == "bitbucket" && local.bitbucket_deploy_environment != null],
    [for _ in range(var.delivery.provider == "codepipeline" ? 1 : 0) : {
      Sid       = "ArtifactsAccountPipelineDriver"
      Effect    = "Allow"
      Principal = { AWS = "arn:${local.partition}:iam::${var.delivery.artifacts_account_id}:root" }
      Action    = "sts:AssumeRole"
      Condition = { ArnEquals = { "aws:PrincipalArn" = local.pipeline_role } }
    }],
  )

  ci_projects = { for stage in keys(local.executor_stages) : stage => "arn:${local.partition}:codebuild:${local.region}:${local.account_id}:project/${local.name}-${stage}" }
  ci_actions  = ["cloudwatch:DescribeAlarms", "codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild", "logs:FilterLogEvents", "logs:GetLogEvents"]

  # StartBuild overrides the CI role may not pass (AWS CodeBuild condition keys, Service
  # Authorization Reference: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodebuild.html,
  # and the CodeBuild user guide's "AWS CodeBuild condition keys"). Each key is present
  # only when the request sets that override, so `Null = false` refuses it. The executors
  # take no CodeBuild source (NO_SOURCE: their buildspec fetches the bundle SOURCE_COMMIT
  # names), so every source override is refused: codebuild:source (the source as a
  # whole), its location, auth, buildspec and insecureSsl, secondary sources, and any
  # artifacts. IAM has no key for timeoutInMinutesOverride,
  # queuedTimeoutInMinutesOverride, sourceVersion, sourceTypeOverride on its own,
  # debugSessionEnabled or an environment variable's type: those cannot be refused (see
  # ADR 0009: a source type or version changes nothing the buildspec runs, which builds
  # only in the bundle it fetched; the executor roles have no ssmmessages:*, so no debug
  # session can connect; a variable of type SECRETS_MANAGER or PARAMETER_STORE resolves
  # with the executor's role, which reads neither).
  refused_overrides = [
    "codebuild:artifacts", "codebuild:cache", "codebuild:environment.certificate", "codebuild:environment.computeType",
    "codebuild:environment.fleet.fleetArn", "codebuild:environment.image", "codebuild:environment.imagePullCredentialsType",
    "codebuild:environment.privilegedMode", "codebuild:environment.registryCredential", "codebuild:environment.type",
    "codebuild:logsConfig", "codebuild:secondaryArtifacts", "codebuild:secondarySources", "codebuild:serviceRole",
    "codebuild:source", "codebuild:source.auth.resource", "codebuild:source.auth.type", "codebuild:source.buildspec",
    "codebuild:source.insecureSsl", "codebuild:source.location",
  ]

  # The only environment variables CI may pass, by project: the commit whose bundle the
  # build fetches, and for the app-deploy executor the digests (or the release) to deploy.
  # Never PATH, BASH_ENV, MAKEFLAGS, ENV, ARTIFACTS_BUCKET, ARTIFACTS_REGION or BUNDLE_DIR,
  # which would change what runs or where it comes from.
  # DBKIT_ARGS: make database-run (STAGE=database) runs the database kit on the platform
  # executor; its buildspec splits the arguments without a shell and refuses a hook command.
  ci_variables = {
    apply  = ["SOURCE_COMMIT", "DBKIT_ARGS"]
    deploy = ["SOURCE_COMMIT", "IMAGE_DIGEST", "IMAGE_DIGEST_*", "RELEASE"]
  }

  ci_policy = {
    Version = "2012-10-17"
    Statement = concat(
      [
        { Sid = "StartTheExecutors", Effect = "Allow", Action = ["codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"], Resource = values(local.ci_projects) },
        { Sid = "StreamTheirLogs", Effect = "Allow", Action = ["logs:FilterLogEvents", "logs:GetLogEvents"], Resource = flatten([for g in values(local.executor_log_groups) : [g, "${g}:*"]]) },
        {
          # The bake gate (make bake) reads the environment's alarms; CloudFront's are in us-east-1.
          Sid       = "ReadTheAlarms"
          Effect    = "Allow"
          Action    = "cloudwatch:DescribeAlarms"
          Resource  = "*"
          Condition = { StringEquals = { "aws:RequestedRegion" = distinct([local.region, "us-east-1"]) } }
        },
        # Whatever else is ever attached to this role: nothing in EKS, no role to assume or
        # pass, no other service.
        { Sid = "NothingElse", Effect = "Deny", NotAction = local.ci_actions, Resource = "*" },
      ],
      [for key in local.refused_overrides : {
        Sid       = "NoOverride${replace(trimprefix(key, "codebuild:"), "/[^A-Za-z0-9]/", "")}"
        Effect    = "Deny"
        Action    = "codebuild:StartBuild"
        Resource  = "*"
        Condition = { Null = { (key) = "false" } }
      }],
      [for stage, names in local.ci_variables : {
        Sid       = "${title(stage)}TakesOnly${stage == "apply" ? "TheCommitAndKitArguments" : "TheCommitAndDigests"}"
        Effect    = "Deny"
        Action    = "codebuild:StartBuild"
        Resource  = local.ci_projects[stage]
        Condition = { "ForAnyValue:StringNotLike" = { "codebuild:environment.environmentVariables.name" = names } }
      }],
    )
  }
}
