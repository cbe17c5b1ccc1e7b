terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Partial configuration: `make` passes backend.tfbackend (the environment's state
  # bucket, created by infra/bootstrap). S3-native locking; no DynamoDB table.
  backend "s3" {}
}
