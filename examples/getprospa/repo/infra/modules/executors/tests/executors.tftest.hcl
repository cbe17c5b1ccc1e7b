# Invariants of the executors module, checked with a mocked AWS provider.

mock_provider "aws" {
  source = "../.mocks"
}

variables {
  name                      = "acme-prod"
  environment               = "prod"
  vpc_id                    = "vpc-0123456789abcdef0"
  subnet_ids                = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
  cluster_security_group_id = "sg-00000000000000c1a"
  platform_role_arn         = "arn:aws:iam::111111111111:role/acme-prod-platform"
  app_deploy_role_arn       = "arn:aws:iam::111111111111:role/acme-prod-app-deploy"
  artifacts_bucket          = "acme-artifacts-999999999999"
  artifacts_region          = "eu-west-1" # not the environment's region: the builds fetch across regions
  kms_key_arn               = "arn:aws:kms:ap-southeast-2:111111111111:key/11111111-2222-3333-4444-555555555555"
  log_retention_days        = 90
}

run "two_executors_each_with_its_own_role" {
  command = plan

  assert {
    condition     = toset(keys(aws_codebuild_project.this)) == toset(["apply", "deploy"]) && aws_codebuild_project.this["apply"].name == "acme-prod-apply" && aws_codebuild_project.this["deploy"].name == "acme-prod-deploy"
    error_message = "Each environment has exactly two executors: <name>-apply and <name>-deploy."
  }
  assert {
    condition     = aws_codebuild_project.this["apply"].service_role == var.platform_role_arn && aws_codebuild_project.this["deploy"].service_role == var.app_deploy_role_arn
    error_message = "apply runs as the platform executor, deploy as the (namespace-scoped) app-deploy executor; never the other way round."
  }
}

run "builds_run_in_the_private_subnets" {
  command = apply

  assert {
    condition     = alltrue([for p in aws_codebuild_project.this : toset(one(p.vpc_config).subnets) == toset(var.subnet_ids) && one(p.vpc_config).vpc_id == var.vpc_id && one(p.vpc_config).security_group_ids == toset([aws_security_group.this.id])])
    error_message = "Every build runs in the given private subnets, behind the executors' security group."
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.cluster_api.referenced_security_group_id == var.cluster_security_group_id && alltrue([for r in [aws_vpc_security_group_egress_rule.cluster_api, aws_vpc_security_group_egress_rule.https] : r.from_port == 443 && r.to_port == 443 && r.ip_protocol == "tcp"])
    error_message = "The executors send only HTTPS: to the cluster's API and to AWS APIs."
  }
}

run "without_a_database_no_mysql_path" {
  command = plan

  assert {
    condition     = length(aws_vpc_security_group_egress_rule.database) == 0
    error_message = "Without a database the executors send nothing but HTTPS."
  }
}

run "the_executors_reach_only_the_database_on_its_port" {
  command = apply
  variables {
    database_access            = true
    database_security_group_id = "sg-00000000000000db1"
  }

  assert {
    condition     = one(aws_vpc_security_group_egress_rule.database).referenced_security_group_id == "sg-00000000000000db1" && one(aws_vpc_security_group_egress_rule.database).cidr_ipv4 == null
    error_message = "MySQL goes to the database's security group only, never to an address range."
  }
  assert {
    condition     = one(aws_vpc_security_group_egress_rule.database).from_port == 3306 && one(aws_vpc_security_group_egress_rule.database).to_port == 3306 && one(aws_vpc_security_group_egress_rule.database).ip_protocol == "tcp"
    error_message = "The executors reach the database on its port only."
  }
}

run "without_a_migration_no_path_to_a_source" {
  command = plan

  assert {
    condition     = length(aws_vpc_security_group_egress_rule.migration_source) == 0
    error_message = "Outside a migration's target environment the executors reach no DigitalOcean source."
  }
}

run "the_migration_target_reaches_the_source_port_only" {
  command = apply
  variables {
    migration_source_port = 25060
  }

  assert {
    condition     = one(aws_vpc_security_group_egress_rule.migration_source).from_port == 25060 && one(aws_vpc_security_group_egress_rule.migration_source).to_port == 25060 && one(aws_vpc_security_group_egress_rule.migration_source).ip_protocol == "tcp"
    error_message = "The platform executor reaches the migration source on its port only (TCP)."
  }
  assert {
    condition     = length([for r in [aws_vpc_security_group_egress_rule.cluster_api, aws_vpc_security_group_egress_rule.https, one(aws_vpc_security_group_egress_rule.migration_source)] : r if r.from_port != 443 && r.from_port != 25060]) == 0
    error_message = "The migration adds the source's port and nothing else."
  }
}

run "the_migration_source_port_is_a_port" {
  command = plan
  variables {
    migration_source_port = 0
  }
  expect_failures = [var.migration_source_port]
}

run "database_access_needs_the_database_group" {
  command = plan
  variables {
    database_access = true
  }
  expect_failures = [aws_vpc_security_group_egress_rule.database]
}

run "the_cluster_api_admits_the_executors" {
  command = apply

  assert {
    condition     = aws_vpc_security_group_ingress_rule.cluster_api_from_executors.security_group_id == var.cluster_security_group_id && aws_vpc_security_group_ingress_rule.cluster_api_from_executors.referenced_security_group_id == aws_security_group.this.id
    error_message = "The cluster's security group admits the executors' group: the only path to the private API endpoint."
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.cluster_api_from_executors.from_port == 443 && aws_vpc_security_group_ingress_rule.cluster_api_from_executors.to_port == 443 && aws_vpc_security_group_ingress_rule.cluster_api_from_executors.ip_protocol == "tcp"
    error_message = "The cluster admits the executors on 443 only."
  }
}

run "fixed_buildspec_image_and_no_privilege" {
  command = plan

  assert {
    condition     = alltrue([for k, p in aws_codebuild_project.this : one(p.source).buildspec == file("${path.module}/buildspecs/${k}.yml")])
    error_message = "Each project's buildspec is the module's file for its stage."
  }
  assert {
    condition     = alltrue([for p in aws_codebuild_project.this : one(p.environment).privileged_mode == false && startswith(one(p.environment).image, "aws/codebuild/") && one(p.environment).image_pull_credentials_type == "CODEBUILD" && length(one(p.environment).registry_credential) == 0])
    error_message = "Builds run a CodeBuild-managed image, never privileged, with no registry credential."
  }
  assert {
    condition     = alltrue([for p in aws_codebuild_project.this : [for v in one(p.environment).environment_variable : "${v.name}=${v.value}"] == ["ARTIFACTS_BUCKET=acme-artifacts-999999999999", "ARTIFACTS_REGION=eu-west-1", "ENV=prod"]])
    error_message = "The project sets its own environment (ENV) and where its bundles are (ARTIFACTS_BUCKET, ARTIFACTS_REGION), nothing else."
  }
  assert {
    condition     = alltrue([for p in aws_codebuild_project.this : p.concurrent_build_limit == 1 && one(p.artifacts).type == "NO_ARTIFACTS"])
    error_message = "One build at a time per executor, and no build output."
  }
}

# CodeBuild's own S3 source reads only a bucket of the build's region (CodeBuild user
# guide, Troubleshooting, "The bucket you are attempting to access must be addressed using
# the specified endpoint"): the projects take no CodeBuild source, and the buildspec
# fetches the bundle of SOURCE_COMMIT from the artifacts bucket in the artifacts region.
run "the_bundle_is_fetched_from_the_artifacts_region" {
  command = plan

  assert {
    condition     = alltrue([for p in aws_codebuild_project.this : one(p.source).type == "NO_SOURCE" && one(p.source).location == null && length(p.secondary_sources) == 0])
    error_message = "The executors take no CodeBuild source (an S3 source cannot be in another region): the buildspec fetches the bundle."
  }
  assert {
    condition     = alltrue([for p in aws_codebuild_project.this : contains([for v in one(p.environment).environment_variable : "${v.name}=${v.value}"], "ARTIFACTS_REGION=${var.artifacts_region}") && contains([for v in one(p.environment).environment_variable : "${v.name}=${v.value}"], "ARTIFACTS_BUCKET=${var.artifacts_bucket}")])
    error_message = "Each project names the artifacts bucket and its region, which the buildspec fetches from."
  }
  assert {
    condition = alltrue([for k, p in aws_codebuild_project.this : alltrue([
      strcontains(one(p.source).buildspec, "pre_build:"),
      strcontains(one(p.source).buildspec, "=~ ^[0-9a-f]{40}$ ]]"),
      strcontains(one(p.source).buildspec, "aws s3 cp --only-show-errors --region \"$ARTIFACTS_REGION\" \"s3://$ARTIFACTS_BUCKET/source/$SOURCE_COMMIT.zip\""),
      strcontains(one(p.source).buildspec, "rm -rf \"$BUNDLE_DIR\""),
      strcontains(one(p.source).buildspec, "build:\n    commands:\n      - cd \"$BUNDLE_DIR\"\n"),
    ])])
    error_message = "The buildspec checks SOURCE_COMMIT is a full SHA, fetches source/<sha>.zip with --region ARTIFACTS_REGION into a fresh directory, and builds there."
  }
}

run "logs_are_encrypted" {
  command = plan

  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.this : g.kms_key_id == var.kms_key_arn && g.retention_in_days == var.log_retention_days])
    error_message = "The executors' log groups are encrypted with the environment's key and expire."
  }
  assert {
    condition     = alltrue([for k, p in aws_codebuild_project.this : one(one(p.logs_config).cloudwatch_logs).status == "ENABLED" && one(one(p.logs_config).cloudwatch_logs).group_name == "/aws/codebuild/acme-prod-${k}" && one(one(p.logs_config).s3_logs).status == "DISABLED"])
    error_message = "Each build logs to its encrypted log group only (no S3 log copy)."
  }
}

run "the_roles_must_be_the_executors" {
  command = plan

  variables {
    app_deploy_role_arn = "arn:aws:iam::111111111111:role/acme-prod-platform"
  }

  expect_failures = [var.app_deploy_role_arn]
}
