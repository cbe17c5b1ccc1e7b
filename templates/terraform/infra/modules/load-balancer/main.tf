# The Application Load Balancer that Terraform owns (ADR: Terraform-owned ALB plus
# TargetGroupBinding), reachable only through CloudFront (ADR: CloudFront VPC origin).
# It is internal, in the load-balancer subnets: it has no public address, and
# CloudFront reaches it through a VPC origin, network interfaces CloudFront places in
# those subnets. Its security group admits 443 from those interfaces' security group
# only, with a TLS 1.3 policy; there is no HTTP listener. It drops invalid headers,
# logs every request, runs a regional WAF, and has one target group per public
# container app (target type ip) that the AWS Load Balancer Controller fills with the
# app's pods.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region = data.aws_region.current.name
  # Regions launched before August 2022 deliver ALB access logs from a regional
  # Elastic Load Balancing account; newer ones from the log delivery service principal.
  elb_log_accounts = {
    "us-east-1"      = "127311923021", "us-east-2" = "033677994240", "us-west-1" = "027434742980",
    "us-west-2"      = "797873946194", "af-south-1" = "098369216593", "ap-east-1" = "754344448648",
    "ap-southeast-3" = "589379963580", "ap-south-1" = "718504428378", "ap-northeast-3" = "383597477331",
    "ap-northeast-2" = "600734575887", "ap-southeast-1" = "114774131450", "ap-southeast-2" = "783225319266",
    "ap-northeast-1" = "582318560864", "ca-central-1" = "985666609251", "eu-central-1" = "054676820928",
    "eu-west-1"      = "156460612806", "eu-west-2" = "652711504416", "eu-south-1" = "635631232127",
    "eu-west-3"      = "009996457667", "eu-north-1" = "897822967062", "me-south-1" = "076674570225",
    "sa-east-1"      = "507241528517",
  }
  log_writer = contains(keys(local.elb_log_accounts), local.region) ? {
    type = "AWS", identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.elb_log_accounts[local.region]}:root"]
    } : {
    type = "Service", identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
  }

  # Target group names are limited to 32 characters: long ones keep a readable
  # prefix and end in a hash of the full name, so they stay unique and stable.
  tg_names = {
    for app in keys(var.apps) : app => length("${var.name}-${app}") <= 32 ? "${var.name}-${app}" : "${substr("${var.name}-${app}", 0, 25)}-${substr(sha1("${var.name}-${app}"), 0, 6)}"
  }
  # Longest path first, so /api/admin wins over /api and / comes last.
  rule_order = [for key in sort([for app, a in var.apps : format("%03d-%s", 999 - length(a.path), app)]) : substr(key, 4, -1)]
  priority   = { for i, app in local.rule_order : app => 100 + i * 10 }
  ports      = toset([for a in values(var.apps) : tostring(a.port)])
  ssl_policy = var.tls_minimum_protocol == "TLSv1.3" ? "ELBSecurityPolicy-TLS13-1-3-2021-06" : "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

# --- Access logs ------------------------------------------------------------------

module "logs" {
  source = "../bucket"
  name   = "${var.name}-alb-logs-${data.aws_caller_identity.current.account_id}"
  # ALB access logs support only SSE-S3 (AES256) on the destination bucket.
  kms_key_arn       = null
  expire_after_days = var.log_retention_days
  force_destroy     = var.force_destroy_logs
  policy_statements = [{
    Sid       = "AlbAccessLogDelivery"
    Effect    = "Allow"
    Principal = { (local.log_writer.type) = local.log_writer.identifiers }
    Action    = "s3:PutObject"
    Resource  = "arn:${data.aws_partition.current.partition}:s3:::${var.name}-alb-logs-${data.aws_caller_identity.current.account_id}/alb/AWSLogs/${data.aws_caller_identity.current.account_id}/*"
  }]
}

# --- CloudFront's VPC origin: the only way in ---------------------------------------

# CloudFront connects over HTTPS to origin_domain (the certificate's name) through
# network interfaces it creates in the load balancer's subnets. A VPC origin cannot
# change while a distribution uses it (hashicorp/terraform-provider-aws#40905): see
# infra/docs/adr for how to replace it.
resource "aws_cloudfront_vpc_origin" "alb" {
  vpc_origin_endpoint_config {
    name                   = "${var.name}-alb"
    arn                    = aws_lb.this.arn
    http_port              = 80
    https_port             = 443
    origin_protocol_policy = "https-only"

    origin_ssl_protocols {
      items    = ["TLSv1.2"]
      quantity = 1
    }
  }

  timeouts {
    create = "30m"
    delete = "30m"
  }
}

# The security group CloudFront puts on those interfaces. CloudFront creates it with
# the first VPC origin in the VPC, so it is read after the VPC origin exists (in the
# same apply on the first run).
data "aws_security_group" "cloudfront_vpc_origin" {
  vpc_id = var.vpc_id
  name   = "CloudFront-VPCOrigins-Service-SG"

  depends_on = [aws_cloudfront_vpc_origin.alb]
}

# --- Security groups: CloudFront's VPC origin -> ALB -> pods ------------------------------

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "Internal ALB of ${var.name}: HTTPS from CloudFront's VPC origin only"
  vpc_id      = var.vpc_id
  tags        = { Name = "${var.name}-alb" }
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  security_group_id            = aws_security_group.alb.id
  description                  = "HTTPS from CloudFront's VPC origin interfaces"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = data.aws_security_group.cloudfront_vpc_origin.id
}

resource "aws_vpc_security_group_egress_rule" "alb_to_pods" {
  for_each                     = local.ports
  security_group_id            = aws_security_group.alb.id
  description                  = "To the app pods on ${each.value}"
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
  referenced_security_group_id = var.node_security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "pods_from_alb" {
  for_each                     = local.ports
  security_group_id            = var.node_security_group_id
  description                  = "From the internal ALB on ${each.value}"
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
  referenced_security_group_id = aws_security_group.alb.id
}

# --- Certificate and DNS -------------------------------------------------------------

resource "aws_acm_certificate" "origin" {
  domain_name       = var.origin_domain
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "origin_validation" {
  # Static keys: the certificate has one name, known before apply.
  for_each        = { for o in [var.origin_domain] : o => one([for v in aws_acm_certificate.origin.domain_validation_options : v if v.domain_name == o]) }
  zone_id         = var.zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "origin" {
  certificate_arn         = aws_acm_certificate.origin.arn
  validation_record_fqdns = [for r in aws_route53_record.origin_validation : r.fqdn]
}

resource "aws_route53_record" "origin" {
  zone_id = var.zone_id
  name    = var.origin_domain
  type    = "A"

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = true
  }
}

# --- Load balancer -----------------------------------------------------------------

resource "aws_lb" "this" {
  #checkov:skip=CKV_AWS_150:Deletion protection is the spec's environments.<env>.deletionProtection: on by default in staging and production, off in development so it can be torn down.
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = true
  subnets                    = var.subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  desync_mitigation_mode     = "strictest"
  enable_deletion_protection = var.deletion_protection
  idle_timeout               = 60

  access_logs {
    bucket  = module.logs.log_target
    prefix  = "alb"
    enabled = true
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = local.ssl_policy
  certificate_arn   = aws_acm_certificate_validation.origin.certificate_arn

  # A request no app's path rule matches is answered here, never forwarded.
  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "Not found"
      status_code  = "404"
    }
  }
}

resource "aws_lb_target_group" "app" {
  #checkov:skip=CKV_AWS_378:TLS ends at the ALB; the hop to the pods stays inside the VPC, admitted only from the ALB's security group.
  for_each    = var.apps
  name        = local.tg_names[each.key]
  port        = each.value.port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = var.vpc_id

  deregistration_delay = var.health_check.deregistration_delay

  health_check {
    enabled             = true
    protocol            = "HTTP"
    path                = each.value.health_path
    port                = "traffic-port"
    matcher             = "200"
    interval            = var.health_check.interval
    timeout             = var.health_check.timeout
    healthy_threshold   = var.health_check.healthy_threshold
    unhealthy_threshold = var.health_check.unhealthy_threshold
  }

  tags = {
    App                      = each.key
    "platformgen.io/cluster" = var.cluster_name
  }
}

resource "aws_lb_listener_rule" "app" {
  for_each     = var.apps
  listener_arn = aws_lb_listener.https.arn
  priority     = local.priority[each.key]

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app[each.key].arn
  }

  condition {
    path_pattern {
      values = each.value.path == "/" ? ["/*"] : [each.value.path, "${each.value.path}/*"]
    }
  }
}

# --- WAF -----------------------------------------------------------------------------

# Every request here came through CloudFront and its web ACL, which rate-limits the
# viewer's address. This ACL sees only CloudFront's addresses, and X-Forwarded-For is
# written by the client, so it has no rate limit and no IP reputation list: it
# inspects content again, in case CloudFront's ACL is in count mode or detached.
module "waf" {
  source               = "../waf"
  name                 = "${var.name}-alb"
  scope                = "REGIONAL"
  managed_rule_groups  = ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet"]
  rule_group_overrides = var.waf_rule_group_overrides
  kms_key_arn          = var.kms_key_arn
  log_retention_days   = var.log_retention_days
  alarm_topic_arn      = var.alarm_topic_arn
}

resource "aws_wafv2_web_acl_association" "alb" {
  resource_arn = aws_lb.this.arn
  web_acl_arn  = module.waf.arn
}

# --- Alarms --------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "elb_5xx" {
  alarm_name          = "${var.name}-alb-5xx"
  alarm_description   = "${var.name}: the load balancer itself answered 5xx more than 10 times a minute for 5 minutes"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_ELB_5XX_Count"
  statistic           = "Sum"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 10
  period              = 60
  evaluation_periods  = 5
  treat_missing_data  = "notBreaching"
  dimensions          = { LoadBalancer = aws_lb.this.arn_suffix }
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "unhealthy" {
  for_each            = var.apps
  alarm_name          = "${var.name}-${each.key}-no-healthy-targets"
  alarm_description   = "${var.name}: app ${each.key} has no healthy target for 3 minutes"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  statistic           = "Minimum"
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  period              = 60
  evaluation_periods  = 3
  treat_missing_data  = "breaching"
  dimensions = {
    LoadBalancer = aws_lb.this.arn_suffix
    TargetGroup  = aws_lb_target_group.app[each.key].arn_suffix
  }
  alarm_actions = [var.alarm_topic_arn]
  ok_actions    = [var.alarm_topic_arn]
}

# SLO alarms per app, on what its pods answered through the load balancer: the share of
# 5xx answers (errors / requests, once there are 20 requests a minute to judge by) and
# the p99 response time, each for 5 minutes in a row. A database outage shows here
# (the pods stay ready and answer 503): these alarms, not deregistration, report it.
resource "aws_cloudwatch_metric_alarm" "target_5xx_rate" {
  for_each            = var.apps
  alarm_name          = "${var.name}-${each.key}-5xx-rate"
  alarm_description   = "${var.name}: app ${each.key} answered more than ${var.slo.error_percent}% of its requests with 5xx for 5 minutes"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.slo.error_percent
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]

  metric_query {
    id          = "error_percent"
    expression  = "IF(requests >= 20, 100 * FILL(errors, 0) / requests, 0)"
    label       = "5xx answers of ${each.key} (%)"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = { LoadBalancer = aws_lb.this.arn_suffix, TargetGroup = aws_lb_target_group.app[each.key].arn_suffix }
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = { LoadBalancer = aws_lb.this.arn_suffix, TargetGroup = aws_lb_target_group.app[each.key].arn_suffix }
      period      = 60
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "target_p99" {
  for_each            = var.apps
  alarm_name          = "${var.name}-${each.key}-p99-latency"
  alarm_description   = "${var.name}: app ${each.key}'s p99 response time was above ${var.slo.p99_seconds} s for 5 minutes"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  extended_statistic  = "p99"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.slo.p99_seconds
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  treat_missing_data  = "notBreaching"
  dimensions = {
    LoadBalancer = aws_lb.this.arn_suffix
    TargetGroup  = aws_lb_target_group.app[each.key].arn_suffix
  }
  alarm_actions = [var.alarm_topic_arn]
  ok_actions    = [var.alarm_topic_arn]
}
