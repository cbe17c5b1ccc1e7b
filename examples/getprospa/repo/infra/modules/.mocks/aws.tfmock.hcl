# Shared values for `mock_provider "aws"` in every module's tests: the provider still
# validates ARNs and IDs on plan, so mocked resources get well-formed ones.

mock_data "aws_partition" {
  defaults = { partition = "aws" }
}

mock_data "aws_region" {
  defaults = { name = "ap-southeast-2" }
}

mock_data "aws_caller_identity" {
  defaults = { account_id = "111111111111" }
}

mock_data "aws_iam_policy_document" {
  defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
}

mock_data "aws_ec2_managed_prefix_list" {
  defaults = { id = "pl-0123456789abcdef0" }
}

mock_data "aws_canonical_user_id" {
  defaults = { id = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be" }
}

mock_resource "aws_iam_role" {
  defaults = { arn = "arn:aws:iam::111111111111:role/mock" }
}

mock_resource "aws_iam_policy" {
  defaults = { arn = "arn:aws:iam::111111111111:policy/mock" }
}

mock_resource "aws_kms_key" {
  defaults = { arn = "arn:aws:kms:ap-southeast-2:111111111111:key/11111111-2222-3333-4444-555555555555" }
}

mock_resource "aws_sns_topic" {
  defaults = { arn = "arn:aws:sns:ap-southeast-2:111111111111:mock" }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = { arn = "arn:aws:logs:ap-southeast-2:111111111111:log-group:mock" }
}

mock_resource "aws_s3_bucket" {
  defaults = { arn = "arn:aws:s3:::mock" }
}

mock_resource "aws_lb" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:ap-southeast-2:111111111111:loadbalancer/app/mock/0123456789abcdef"
    arn_suffix = "app/mock/0123456789abcdef"
    zone_id    = "Z1GM3OXH4ZPM65"
  }
}

mock_resource "aws_lb_target_group" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:ap-southeast-2:111111111111:targetgroup/mock/0123456789abcdef"
    arn_suffix = "targetgroup/mock/0123456789abcdef"
  }
}

mock_resource "aws_lb_listener" {
  defaults = { arn = "arn:aws:elasticloadbalancing:ap-southeast-2:111111111111:listener/app/mock/0123456789abcdef/0123456789abcdef" }
}

mock_resource "aws_acm_certificate" {
  defaults = { arn = "arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-3333-4444-555555555555" }
}

mock_resource "aws_acm_certificate_validation" {
  defaults = { certificate_arn = "arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-3333-4444-555555555555" }
}

mock_resource "aws_wafv2_web_acl" {
  defaults = { arn = "arn:aws:wafv2:us-east-1:111111111111:global/webacl/mock/11111111-2222-3333-4444-555555555555" }
}

mock_resource "aws_cloudfront_distribution" {
  defaults = {
    arn            = "arn:aws:cloudfront::111111111111:distribution/EMOCK"
    hosted_zone_id = "Z2FDTNDATAQYW2"
    domain_name    = "d111111abcdef8.cloudfront.net"
  }
}

mock_resource "aws_cloudfront_function" {
  defaults = { arn = "arn:aws:cloudfront::111111111111:function/mock" }
}

mock_resource "aws_eks_cluster" {
  defaults = { arn = "arn:aws:eks:ap-southeast-2:111111111111:cluster/mock" }
}

mock_resource "aws_iam_openid_connect_provider" {
  defaults = { arn = "arn:aws:iam::111111111111:oidc-provider/mock" }
}

mock_resource "aws_secretsmanager_secret" {
  defaults = { arn = "arn:aws:secretsmanager:ap-southeast-2:111111111111:secret:mock-AbCdEf" }
}

mock_resource "aws_launch_template" {
  defaults = { id = "lt-0123456789abcdef0", latest_version = 1 }
}

mock_resource "aws_security_group" {
  defaults = { id = "sg-0123456789abcdef0" }
}

mock_resource "aws_vpc" {
  defaults = { id = "vpc-0123456789abcdef0" }
}

mock_data "aws_eks_addon_version" {
  defaults = { version = "v1.0.0-eksbuild.1" }
}

mock_resource "aws_backup_vault" {
  defaults = { arn = "arn:aws:backup:ap-southeast-2:111111111111:backup-vault:mock" }
}

mock_resource "aws_backup_plan" {
  defaults = { arn = "arn:aws:backup:ap-southeast-2:111111111111:backup-plan:mock", id = "11111111-2222-3333-4444-555555555555" }
}

mock_resource "aws_db_instance" {
  defaults = {
    arn                = "arn:aws:rds:ap-southeast-2:111111111111:db:mock"
    master_user_secret = [{ secret_arn = "arn:aws:secretsmanager:ap-southeast-2:111111111111:secret:rds!db-mock-AbCdEf", kms_key_id = "", secret_status = "active" }]
  }
}

mock_resource "aws_sqs_queue" {
  defaults = {
    arn = "arn:aws:sqs:ap-southeast-2:111111111111:mock"
    url = "https://sqs.ap-southeast-2.amazonaws.com/111111111111/mock"
  }
}

mock_resource "aws_codebuild_project" {
  defaults = { arn = "arn:aws:codebuild:ap-southeast-2:111111111111:project/mock" }
}

mock_data "aws_secretsmanager_secret" {
  defaults = { arn = "arn:aws:secretsmanager:ap-southeast-2:111111111111:secret:source-mock-AbCdEf" }
}

mock_resource "aws_dms_certificate" {
  defaults = { certificate_arn = "arn:aws:dms:ap-southeast-2:111111111111:cert:MOCKCERT" }
}

mock_resource "aws_dms_replication_instance" {
  defaults = { replication_instance_arn = "arn:aws:dms:ap-southeast-2:111111111111:rep:MOCKREP" }
}

mock_resource "aws_dms_endpoint" {
  defaults = { endpoint_arn = "arn:aws:dms:ap-southeast-2:111111111111:endpoint:MOCKENDPOINT" }
}

mock_resource "aws_dms_replication_task" {
  defaults = { replication_task_arn = "arn:aws:dms:ap-southeast-2:111111111111:task:MOCKTASK" }
}
