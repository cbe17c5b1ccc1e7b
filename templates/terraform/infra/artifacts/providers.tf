# Terraform refuses to touch any account but the artifacts account, works in the
# project's region, and tags every resource it creates.
provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      Project     = var.project
      Environment = "artifacts"
      Owner       = var.tags.owner
      CostCentre  = var.tags.cost_centre
      Repository  = var.tags.repository
      ManagedBy   = "terraform"
    }
  }
}
