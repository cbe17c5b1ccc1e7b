terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Partial configuration: <env>.tfbackend names the environment's state bucket in the
  # backup account. The first run uses local state (make infra-backup ENV=<env> FIRST=1
  # writes a backend override); the state then moves into the bucket it created.
  backend "s3" {}
}
