terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Partial configuration. The first run of an environment uses local state (make
  # writes a backend override); the state then moves into the bucket it created.
  # See docs/runbooks/new-environment.md.
  backend "s3" {}
}
