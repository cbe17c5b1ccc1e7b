# CloudFront in front of everything public: static web apps from private S3 buckets
# through origin access control, container apps (the API) through a VPC origin to the
# internal load balancer over HTTPS, a us-east-1 WAF web ACL that rate-limits each
# viewer's API requests, a viewer certificate and alias records. Viewers get HTTPS
# only and the managed security headers.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # Managed CloudFront policies (fixed IDs, the same in every account).
  caching_optimized      = "658327ea-f89d-4fab-a63d-7e88639e58f6"
  caching_disabled       = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
  all_viewer_except_host = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
  security_headers       = "67f7725c-6f97-4210-82d7-5512b31e9d03"
  alb_origin             = "load-balancer"
  # TLSv1.2_2021 is the strictest viewer policy provider 5.100 accepts; CloudFront
  # negotiates TLS 1.3 with every viewer that offers it either way.
  viewer_security_policy = "TLSv1.2_2021"
  apps = merge(
    { for k, a in var.static_apps : k => { path = a.path, origin = "s3-${k}", static = true } },
    { for k, a in var.container_apps : k => { path = a.path, origin = local.alb_origin, static = false } },
  )
  # Bucket names and their regional domain names are known before the buckets exist,
  # so the distribution and the buckets' policies (which name the distribution) do not
  # depend on each other.
  logs_bucket   = "${var.name}-cdn-logs-${local.account_id}"
  static_bucket = { for k in keys(var.static_apps) : k => "${var.name}-${k}-${local.account_id}" }
  root_app      = one([for k, a in local.apps : k if a.path == "/"])
  # Longest path first: CloudFront takes the first matching behavior.
  ordered = [for key in sort([for k, a in local.apps : format("%03d-%s", 999 - length(a.path), k) if a.path != "/"]) : substr(key, 4, -1)]
  behaviors = flatten([
    for k in local.ordered : [
      { app = k, pattern = local.apps[k].path },
      { app = k, pattern = "${local.apps[k].path}/*" },
    ]
  ])
  default_app = local.root_app != null ? local.root_app : (length(var.container_apps) > 0 ? null : keys(var.static_apps)[0])

  # What the rate limit counts: every request CloudFront sends to the load balancer.
  # That is a container app's path and everything below it, except the static apps
  # nested there (they go to S3), and, without an app at /, every path no app claims
  # (the default behavior goes to the load balancer, which answers 404).
  static_paths = sort([for a in values(var.static_apps) : a.path])
  api_routes = merge(
    {
      for k, a in var.container_apps : k => {
        path   = a.path
        except = [for s in local.static_paths : s if a.path == "/" || startswith(s, "${a.path}/")]
      }
    },
    local.root_app == null && length(var.container_apps) > 0 ? { _other = { path = "/", except = local.static_paths } } : {},
  )
}

# --- Logs: standard logging needs an ACL-enabled bucket ---------------------------

module "logs" {
  source            = "../bucket"
  name              = local.logs_bucket
  kms_key_arn       = null
  acl_log_delivery  = true
  expire_after_days = var.log_retention_days
  force_destroy     = var.force_destroy_buckets
  # The static app buckets' server access logs land here too.
  policy_statements = [{
    Sid       = "S3ServerAccessLogs"
    Effect    = "Allow"
    Principal = { Service = "logging.s3.amazonaws.com" }
    Action    = "s3:PutObject"
    Resource  = "arn:${local.partition}:s3:::${local.logs_bucket}/*"
    Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
  }]
}

# --- Static web apps: private buckets read only by this distribution -------------

module "static" {
  for_each          = var.static_apps
  source            = "../bucket"
  name              = local.static_bucket[each.key]
  kms_key_arn       = var.kms_key_arn
  access_log_bucket = module.logs.log_target
  force_destroy     = var.force_destroy_buckets
  policy_statements = [{
    Sid       = "CloudFrontOriginAccessControlReads"
    Effect    = "Allow"
    Principal = { Service = "cloudfront.amazonaws.com" }
    Action    = "s3:GetObject"
    Resource  = "arn:${local.partition}:s3:::${local.static_bucket[each.key]}/*"
    Condition = { StringEquals = { "AWS:SourceArn" = aws_cloudfront_distribution.this.arn } }
  }]
}

resource "aws_cloudfront_origin_access_control" "static" {
  count                             = length(var.static_apps) > 0 ? 1 : 0
  name                              = "${var.name}-static"
  description                       = "CloudFront reads the static app buckets of ${var.name} with SigV4"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

# Single-page apps: a path without a file extension is a client-side route and gets
# the app's index.html. The prefix enters the code as a JSON string literal.
resource "aws_cloudfront_function" "spa" {
  for_each = var.static_apps
  name     = "${var.name}-${each.key}-spa"
  runtime  = "cloudfront-js-2.0"
  comment  = "Client-side routes of ${each.key} get its index.html"
  publish  = true
  code     = <<-JS
    var INDEX = ${jsonencode(each.value.path == "/" ? "/index.html" : "${each.value.path}/index.html")};
    function handler(event) {
      var request = event.request;
      var last = request.uri.split('/').pop();
      if (last === '' || last.indexOf('.') === -1) {
        request.uri = INDEX;
      }
      return request;
    }
  JS
}

# --- Certificate, WAF (us-east-1) -----------------------------------------------------

resource "aws_acm_certificate" "viewer" {
  provider          = aws.us_east_1
  domain_name       = var.domain
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "viewer_validation" {
  # Static keys: the certificate has one name, known before apply.
  for_each        = { for o in [var.domain] : o => one([for v in aws_acm_certificate.viewer.domain_validation_options : v if v.domain_name == o]) }
  zone_id         = var.zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "viewer" {
  provider                = aws.us_east_1
  certificate_arn         = aws_acm_certificate.viewer.arn
  validation_record_fqdns = [for r in aws_route53_record.viewer_validation : r.fqdn]
}

data "aws_iam_policy_document" "waf_logs_key" {
  #checkov:skip=CKV_AWS_109:A KMS key policy's Resource "*" means this key only; the account statement delegates access to IAM (the AWS default key policy).
  #checkov:skip=CKV_AWS_111:A KMS key policy's Resource "*" means this key only; the account statement delegates access to IAM (the AWS default key policy).
  #checkov:skip=CKV_AWS_356:A KMS key policy's Resource "*" means this key only; the account statement delegates access to IAM (the AWS default key policy).
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncryptsTheWafLogGroup"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.us-east-1.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:us-east-1:${local.account_id}:log-group:*"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublishToTheEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "waf_logs" {
  provider                = aws.us_east_1
  description             = "${var.name}: CloudFront WAF logs and alarms (us-east-1)"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.waf_logs_key.json
}

# The rate limit lives here: CloudFront's ACL sees each viewer's own address. It
# counts API requests only, so static assets never use up a client's budget (and
# many phones behind one carrier address can load the web app).
module "waf" {
  source               = "../waf"
  providers            = { aws = aws.us_east_1 }
  name                 = "${var.name}-cdn"
  scope                = "CLOUDFRONT"
  rate_limit           = length(local.api_routes) > 0 ? var.waf_rate_limit : null
  rate_limit_routes    = local.api_routes
  managed_rule_groups  = ["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet"]
  rule_group_overrides = var.waf_rule_group_overrides
  kms_key_arn          = aws_kms_key.waf_logs.arn
  log_retention_days   = var.log_retention_days
  alarm_topic_arn      = aws_sns_topic.alarms.arn
}

# CloudWatch alarms notify topics of their own region only, and CloudFront's WAF metrics
# live in us-east-1: its alarms notify this topic there, encrypted with the us-east-1
# key, which emails the same addresses as the environment's alarm topic.
resource "aws_sns_topic" "alarms" {
  provider          = aws.us_east_1
  name              = "${var.name}-cdn-alarms"
  kms_master_key_id = aws_kms_key.waf_logs.arn
}

data "aws_iam_policy_document" "alarms" {
  statement {
    sid       = "CloudWatchAlarmsOfThisAccount"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  provider = aws.us_east_1
  arn      = aws_sns_topic.alarms.arn
  policy   = data.aws_iam_policy_document.alarms.json
}

resource "aws_sns_topic_subscription" "email" {
  provider  = aws.us_east_1
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# --- Distribution ---------------------------------------------------------------------

resource "aws_cloudfront_distribution" "this" {
  #checkov:skip=CKV_AWS_374:Viewers (web and mobile apps) may be anywhere; a geo policy is a business rule to add as a WAF rule, not a default.
  #checkov:skip=CKV_AWS_310:The origins live in one region; origin failover needs a second region's origin, which the platform does not run.
  #checkov:skip=CKV2_AWS_46:False positive: every S3 origin gets origin_access_control_id in the dynamic origin block (asserted by tests/cdn.tftest.hcl).
  #checkov:skip=CKV2_AWS_32:False positive: every behavior, default and ordered (dynamic), sets the managed SecurityHeadersPolicy (asserted by tests).
  enabled             = true
  comment             = "${var.name}: public entry point"
  aliases             = [var.domain]
  is_ipv6_enabled     = true
  http_version        = "http2and3"
  price_class         = "PriceClass_All"
  web_acl_id          = module.waf.arn
  default_root_object = local.root_app != null && try(local.apps[local.root_app].static, false) ? "index.html" : null

  dynamic "origin" {
    for_each = var.static_apps
    content {
      origin_id                = "s3-${origin.key}"
      domain_name              = "${local.static_bucket[origin.key]}.s3.${data.aws_region.current.name}.amazonaws.com"
      origin_access_control_id = aws_cloudfront_origin_access_control.static[0].id
    }
  }

  # The internal load balancer, through its VPC origin (HTTPS to origin_domain, the
  # name on the load balancer's certificate). It has no address on the internet.
  dynamic "origin" {
    for_each = var.vpc_origin_id == null ? [] : [var.vpc_origin_id]
    content {
      origin_id   = local.alb_origin
      domain_name = var.origin_domain
      vpc_origin_config {
        vpc_origin_id            = origin.value
        origin_read_timeout      = 30
        origin_keepalive_timeout = 5
      }
    }
  }

  default_cache_behavior {
    target_origin_id           = local.default_app == null ? local.alb_origin : local.apps[local.default_app].origin
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = local.default_app != null && try(local.apps[local.default_app].static, false) ? ["GET", "HEAD", "OPTIONS"] : ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = local.default_app != null && try(local.apps[local.default_app].static, false) ? local.caching_optimized : local.caching_disabled
    origin_request_policy_id   = local.default_app != null && try(local.apps[local.default_app].static, false) ? null : local.all_viewer_except_host
    response_headers_policy_id = local.security_headers

    dynamic "function_association" {
      for_each = local.default_app != null && try(local.apps[local.default_app].static, false) ? [aws_cloudfront_function.spa[local.default_app].arn] : []
      content {
        event_type   = "viewer-request"
        function_arn = function_association.value
      }
    }
  }

  dynamic "ordered_cache_behavior" {
    for_each = local.behaviors
    iterator = b
    content {
      path_pattern               = b.value.pattern
      target_origin_id           = local.apps[b.value.app].origin
      viewer_protocol_policy     = "redirect-to-https"
      allowed_methods            = local.apps[b.value.app].static ? ["GET", "HEAD", "OPTIONS"] : ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
      cached_methods             = ["GET", "HEAD"]
      compress                   = true
      cache_policy_id            = local.apps[b.value.app].static ? local.caching_optimized : local.caching_disabled
      origin_request_policy_id   = local.apps[b.value.app].static ? null : local.all_viewer_except_host
      response_headers_policy_id = local.security_headers

      dynamic "function_association" {
        for_each = local.apps[b.value.app].static ? [aws_cloudfront_function.spa[b.value.app].arn] : []
        content {
          event_type   = "viewer-request"
          function_arn = function_association.value
        }
      }
    }
  }

  logging_config {
    bucket          = module.logs.log_target_domain_name
    prefix          = "cloudfront/"
    include_cookies = false
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = aws_acm_certificate_validation.viewer.certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = local.viewer_security_policy
  }

  lifecycle {
    precondition {
      condition     = length(local.apps) > 0
      error_message = "The distribution needs at least one public app."
    }
    precondition {
      condition     = length(var.container_apps) == 0 || (var.origin_domain != null && var.vpc_origin_id != null)
      error_message = "Public container apps need the load balancer's VPC origin (vpc_origin_id) and its name (origin_domain)."
    }
  }
}

resource "aws_route53_record" "alias" {
  for_each = toset(["A", "AAAA"])
  zone_id  = var.zone_id
  name     = var.domain
  type     = each.value

  alias {
    name                   = aws_cloudfront_distribution.this.domain_name
    zone_id                = aws_cloudfront_distribution.this.hosted_zone_id
    evaluate_target_health = false
  }
}
