terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Partial configuration: artifacts.tfbackend names this root's state bucket in the
  # artifacts account. The first run uses local state (make infra-artifacts FIRST=1 writes
  # a backend override); the state then moves into the bucket it created.
  backend "s3" {}
}
