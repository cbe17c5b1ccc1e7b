# Terraform refuses to touch any account but the environment's own, and tags every
# resource it creates.
provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = local.tags
  }
}

# CloudFront's certificate and web ACL live in us-east-1.
provider "aws" {
  alias               = "us_east_1"
  region              = "us-east-1"
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = local.tags
  }
}

# The DR region of spec backup.region, where this account keeps copies of the database's
# snapshots; the environment's own region when there is none (then nothing uses it).
provider "aws" {
  alias               = "dr"
  region              = coalesce(try(var.backup.dr_region, null), var.region)
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = local.tags
  }
}
