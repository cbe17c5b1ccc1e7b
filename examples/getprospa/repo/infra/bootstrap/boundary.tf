# The permissions boundary of every role the platform creates: the three roles above and
# every role Terraform creates in the environment roots (the modules' permissions_boundary
# variable; the roots pass arn:...:policy/<project>-<env>-boundary).
#
# A boundary grants nothing: a role may do what its own policies allow AND the boundary
# allows. This one allows everything but:
#   - deleting databases, snapshots, automated backups, AWS Backup recovery points and
#     vaults, and KMS keys (scheduling deletion, disabling). A read replica stays
#     removable: an instance tagged platformgen.io/role = read-replica may be deleted, and
#     only instances named <project>-<env>-replica-* may carry that tag;
#   - deleting or rewriting the Terraform state's history;
#   - creating or updating a role or user without this boundary, removing it from one,
#     and changing, tagging or deleting this policy;
#   - changing the bootstrap's roles (their trust, policies or boundary).
# Tearing an environment down is therefore an account administrator's task, outside every
# role the platform made (docs/runbooks/new-environment.md).

locals {
  boundary_name  = "${local.name}-boundary"
  boundary_arn   = "arn:${local.partition}:iam::${local.account_id}:policy/${local.boundary_name}"
  replica_tag    = "platformgen.io/role"
  replica_marker = "read-replica"

  boundary_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "AllowWhatTheRolesOwnPoliciesAllow"
        Effect   = "Allow"
        Action   = "*"
        Resource = "*"
      },
      {
        Sid       = "KeepDatabasesButReadReplicas"
        Effect    = "Deny"
        Action    = "rds:DeleteDBInstance"
        Resource  = "*"
        Condition = { StringNotEquals = { "aws:ResourceTag/${local.replica_tag}" = local.replica_marker } }
      },
      {
        Sid         = "OnlyReplicasCarryTheReplicaTag"
        Effect      = "Deny"
        Action      = ["rds:AddTagsToResource", "rds:RemoveTagsFromResource"]
        NotResource = "arn:${local.partition}:rds:*:${local.account_id}:db:${local.name}-replica-*"
        Condition   = { "ForAnyValue:StringEquals" = { "aws:TagKeys" = [local.replica_tag] } }
      },
      {
        Sid    = "KeepSnapshotsAndBackups"
        Effect = "Deny"
        Action = [
          "backup:DeleteBackupVault", "backup:DeleteBackupVaultLockConfiguration", "backup:DeleteRecoveryPoint",
          "backup:DisassociateRecoveryPoint", "backup:DisassociateRecoveryPointFromParent", "backup:UpdateRecoveryPointLifecycle",
          "rds:DeleteDBCluster", "rds:DeleteDBClusterAutomatedBackup",
          "rds:DeleteDBInstanceAutomatedBackup", "rds:DeleteGlobalCluster",
        ]
        Resource = "*"
      },
      {
        # AWS Backup expires the snapshots it took with the role that took them; denied
        # that, they stay EXPIRED and billed. Only backup.amazonaws.com can assume that
        # role (modules/backup), and Vault Lock keeps them for their minimum retention.
        Sid       = "KeepSnapshotsButAwsBackupsExpiry"
        Effect    = "Deny"
        Action    = ["rds:DeleteDBClusterSnapshot", "rds:DeleteDBSnapshot"]
        Resource  = "*"
        Condition = { ArnNotEquals = { "aws:PrincipalArn" = "arn:${local.partition}:iam::${local.account_id}:role/${local.name}-aws-backup" } }
      },
      {
        Sid      = "KeepKeys"
        Effect   = "Deny"
        Action   = ["kms:DeleteImportedKeyMaterial", "kms:DisableKey", "kms:ScheduleKeyDeletion"]
        Resource = "*"
      },
      {
        Sid      = "KeepTheStateHistory"
        Effect   = "Deny"
        Action   = ["s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:DeleteObjectVersion", "s3:PutBucketPolicy", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration"]
        Resource = [local.bucket_arn, "${local.bucket_arn}/*"]
      },
      {
        Sid       = "NoRoleOrUserWithoutThisBoundary"
        Effect    = "Deny"
        Action    = ["iam:CreateRole", "iam:CreateUser", "iam:PutRolePermissionsBoundary", "iam:PutUserPermissionsBoundary"]
        Resource  = "*"
        Condition = { StringNotEquals = { "iam:PermissionsBoundary" = local.boundary_arn } }
      },
      {
        Sid      = "NoRemovingTheBoundary"
        Effect   = "Deny"
        Action   = ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"]
        Resource = "*"
      },
      {
        Sid      = "NoChangingTheBoundary"
        Effect   = "Deny"
        Action   = ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:TagPolicy", "iam:UntagPolicy"]
        Resource = local.boundary_arn
      },
      {
        Sid    = "NoChangingTheBootstrapRoles"
        Effect = "Deny"
        Action = [
          "iam:AttachRolePolicy", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary", "iam:DeleteRolePolicy",
          "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:TagRole",
          "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
        ]
        Resource = sort(values(local.role_arns))
      },
    ]
  }
}

resource "aws_iam_policy" "boundary" {
  name        = local.boundary_name
  description = "Permissions boundary of every role of ${local.name}: no deleting databases, snapshots, backups, keys or state history; no role without this boundary"
  policy      = jsonencode(local.boundary_policy)
}
