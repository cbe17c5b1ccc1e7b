# Terraform refuses to touch any account but the backup account, works in the
# environment's region, and tags every resource it creates.
provider "aws" {
  region              = local.env.region
  allowed_account_ids = [var.backup_account_id]

  default_tags {
    tags = {
      Project     = var.project
      Environment = var.environment
      Tier        = local.env.tier
      Owner       = var.tags.owner
      CostCentre  = var.tags.cost_centre
      Repository  = var.tags.repository
      ManagedBy   = "terraform"
    }
  }
}
