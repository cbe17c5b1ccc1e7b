# Invariants of the CloudFront module, checked with a mocked AWS provider.

mock_provider "aws" {
  source = "../.mocks"
}

mock_provider "aws" {
  alias  = "us_east_1"
  source = "../.mocks"
}

# The provider computes DNS validation records from the domain; mocks need them given.
override_resource {
  target = aws_acm_certificate.viewer
  values = {
    arn = "arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-3333-4444-555555555555"
    domain_validation_options = [{
      domain_name           = "acme.example"
      resource_record_name  = "_0123456789abcdef.acme.example."
      resource_record_type  = "CNAME"
      resource_record_value = "_fedcba9876543210.acm-validations.aws."
    }]
  }
}

variables {
  name               = "acme-prod"
  domain             = "acme.example"
  zone_id            = "Z0123456789ABCDEFGHIJ"
  static_apps        = { web = { path = "/" } }
  container_apps     = { api = { path = "/api" } }
  origin_domain      = "origin.acme.example"
  vpc_origin_id      = "vo_0123456789abcdefghijkl"
  waf_rate_limit     = 2000
  kms_key_arn        = "arn:aws:kms:ap-southeast-2:111111111111:key/11111111-2222-3333-4444-555555555555"
  log_retention_days = 90
  alarm_emails       = ["oncall@acme.example"]
}

run "waf_protects_the_distribution" {
  command = apply

  assert {
    condition     = aws_cloudfront_distribution.this.web_acl_id == module.waf.arn
    error_message = "The us-east-1 web ACL must be attached to the distribution."
  }
}

# CloudFront's WAF metrics live in us-east-1, and alarms notify topics of their own
# region: the ACL's alarm goes to an encrypted us-east-1 topic that emails on-call.
run "the_cloudfront_acls_alarm_reaches_on_call_from_us_east_1" {
  command = apply

  assert {
    condition     = module.waf.blocked_alarm_arn != null && aws_sns_topic.alarms.kms_master_key_id == aws_kms_key.waf_logs.arn && length(aws_sns_topic_subscription.email) == 1
    error_message = "CloudFront's ACL alarms to a us-east-1 topic encrypted with the us-east-1 key, which emails the alarm addresses."
  }
  assert {
    condition     = length([for st in data.aws_iam_policy_document.waf_logs_key.statement : st if st.sid == "CloudWatchAlarmsPublishToTheEncryptedTopic"]) == 1
    error_message = "The us-east-1 key must let CloudWatch alarms publish to the encrypted topic."
  }
}

run "viewers_get_https_only" {
  command = apply

  assert {
    condition     = aws_cloudfront_distribution.this.default_cache_behavior[0].viewer_protocol_policy == "redirect-to-https" && alltrue([for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.viewer_protocol_policy == "redirect-to-https"])
    error_message = "Every behavior redirects HTTP to HTTPS."
  }
  assert {
    condition     = aws_cloudfront_distribution.this.viewer_certificate[0].minimum_protocol_version == "TLSv1.2_2021" && aws_cloudfront_distribution.this.viewer_certificate[0].ssl_support_method == "sni-only"
    error_message = "Viewers need TLS 1.2 or later."
  }
}

run "the_load_balancer_is_reached_through_its_vpc_origin_only" {
  command = apply

  assert {
    condition     = one([for o in aws_cloudfront_distribution.this.origin : o.vpc_origin_config[0].vpc_origin_id if o.origin_id == "load-balancer"]) == var.vpc_origin_id
    error_message = "The load balancer origin is its VPC origin."
  }
  assert {
    condition     = one([for o in aws_cloudfront_distribution.this.origin : o.domain_name if o.origin_id == "load-balancer"]) == var.origin_domain
    error_message = "CloudFront sends the certificate's name (SNI, Host), so TLS to the origin verifies."
  }
  assert {
    condition     = alltrue([for o in aws_cloudfront_distribution.this.origin : length(o.custom_origin_config) == 0])
    error_message = "No origin is a custom (internet) origin: nothing behind CloudFront has a public address."
  }
}

run "the_rate_limit_counts_the_api_only" {
  command = apply
  variables {
    static_apps    = { web = { path = "/" }, docs = { path = "/api/docs" } }
    container_apps = { api = { path = "/api" }, admin = { path = "/api/docs/admin" } }
  }

  assert {
    condition = jsonencode(module.waf.rate_limit_routes) == jsonencode({
      admin = { except = [], path = "/api/docs/admin" }
      api   = { except = ["/api/docs"], path = "/api" }
    })
    error_message = "Each container app's path is counted, without the static apps nested under it (a container nested under those counts again)."
  }
  assert {
    condition     = contains(module.waf.rule_names, "rate-limit-api-per-client-ip") && contains(module.waf.rule_names, "AWSManagedRulesAmazonIpReputationList")
    error_message = "CloudFront's ACL holds the rate limit and the IP reputation list: it sees each viewer's own address."
  }
}

run "without_an_app_at_the_root_unclaimed_paths_count_too" {
  command = apply
  variables {
    static_apps    = { site = { path = "/site" } }
    container_apps = { api = { path = "/api" } }
  }

  assert {
    condition     = jsonencode(module.waf.rate_limit_routes["_other"]) == jsonencode({ except = ["/site"], path = "/" })
    error_message = "With no app at /, CloudFront's default behavior goes to the load balancer: those requests count, the static site's do not."
  }
}

run "static_apps_are_private_buckets_read_through_oac" {
  command = apply

  assert {
    condition     = alltrue([for o in aws_cloudfront_distribution.this.origin : length(o.vpc_origin_config) > 0 || o.origin_access_control_id == aws_cloudfront_origin_access_control.static[0].id])
    error_message = "S3 origins are read through origin access control."
  }
  assert {
    condition     = aws_cloudfront_origin_access_control.static[0].signing_behavior == "always" && aws_cloudfront_origin_access_control.static[0].origin_access_control_origin_type == "s3"
    error_message = "Origin access control signs every request."
  }
  assert {
    condition     = length(module.static) == 1 && output.static_buckets["web"] == module.static["web"].id
    error_message = "Each static app has its own bucket."
  }
}

run "api_paths_go_uncached_to_the_load_balancer" {
  command = apply

  assert {
    condition     = toset([for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.path_pattern]) == toset(["/api", "/api/*"])
    error_message = "/api and /api/* are routed to the API."
  }
  assert {
    condition     = alltrue([for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.target_origin_id == "load-balancer" && b.cache_policy_id == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"])
    error_message = "API behaviors go to the load balancer with caching disabled."
  }
  assert {
    condition     = aws_cloudfront_distribution.this.default_cache_behavior[0].target_origin_id == "s3-web" && aws_cloudfront_distribution.this.default_root_object == "index.html"
    error_message = "The web app at / is the default behavior."
  }
}

run "logs_and_alias_records" {
  command = apply

  assert {
    condition     = length(aws_cloudfront_distribution.this.logging_config) == 1 && toset(keys(aws_route53_record.alias)) == toset(["A", "AAAA"])
    error_message = "Access logs are on and the domain points at the distribution (IPv4 and IPv6)."
  }
}

run "container_apps_need_the_load_balancer" {
  command = plan
  variables {
    vpc_origin_id = null
  }
  expect_failures = [aws_cloudfront_distribution.this]
}

run "static_only" {
  command = plan
  variables {
    container_apps = {}
    origin_domain  = null
    vpc_origin_id  = null
    static_apps    = { site = { path = "/" }, docs = { path = "/docs" } }
  }

  assert {
    condition     = length(aws_cloudfront_distribution.this.origin) == 2
    error_message = "Static-only platforms have no load balancer origin."
  }
  assert {
    condition     = length(module.waf.rate_limit_routes) == 0 && !contains(module.waf.rule_names, "rate-limit-api-per-client-ip")
    error_message = "Without an API there is nothing to rate-limit: cached static assets are not counted."
  }
}
