# The account's security baseline (spec accountBaseline): CloudTrail over every region,
# GuardDuty, AWS Config and Security Hub, from modules/account-baseline. With
# accountBaseline: organization, an AWS Organization (or Control Tower) provides them from
# its own accounts, and this account creates none (docs/architecture.md says what it must
# provide).
module "baseline" {
  count              = var.account_baseline == "platform" ? 1 : 0
  source             = "../modules/account-baseline"
  name               = local.name
  account_id         = local.account_id
  log_retention_days = var.log_retention_days
  # The trail's and Config's roles carry the boundary like every role of the platform.
  permissions_boundary = aws_iam_policy.boundary.arn
}
