# Invariants of the load balancer module, checked with a mocked AWS provider.

mock_provider "aws" {
  source = "../.mocks"
}

# CloudFront creates this group with the VPC origin; the mock gives it an ID.
override_data {
  target = data.aws_security_group.cloudfront_vpc_origin
  values = {
    id = "sg-0cloudfrontvpcorig"
  }
}

# The provider computes DNS validation records from the domain; mocks need them given.
override_resource {
  target = aws_acm_certificate.origin
  values = {
    arn = "arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-3333-4444-555555555555"
    domain_validation_options = [{
      domain_name           = "origin.acme.example"
      resource_record_name  = "_0123456789abcdef.origin.acme.example."
      resource_record_type  = "CNAME"
      resource_record_value = "_fedcba9876543210.acm-validations.aws."
    }]
  }
}

variables {
  name                   = "acme-prod"
  origin_domain          = "origin.acme.example"
  zone_id                = "Z0123456789ABCDEFGHIJ"
  vpc_id                 = "vpc-0123456789abcdef0"
  subnet_ids             = ["subnet-00000000000000lba", "subnet-00000000000000lbb", "subnet-00000000000000lbc"]
  node_security_group_id = "sg-0000000000000node1"
  cluster_name           = "acme-prod"
  apps = {
    api    = { path = "/api", port = 8000, health_path = "/readyz" }
    portal = { path = "/", port = 8080, health_path = "/ready" }
  }
  deletion_protection  = true
  tls_minimum_protocol = "TLSv1.2"
  kms_key_arn          = "arn:aws:kms:ap-southeast-2:111111111111:key/11111111-2222-3333-4444-555555555555"
  log_retention_days   = 90
  alarm_topic_arn      = "arn:aws:sns:ap-southeast-2:111111111111:acme-prod-alarms"
}

run "waf_is_associated_with_the_alb" {
  command = apply

  assert {
    condition     = aws_wafv2_web_acl_association.alb.resource_arn == aws_lb.this.arn && aws_wafv2_web_acl_association.alb.web_acl_arn == module.waf.arn
    error_message = "The regional web ACL must be associated with the load balancer."
  }
}

run "alb_hardening" {
  command = apply

  assert {
    condition     = aws_lb.this.drop_invalid_header_fields && aws_lb.this.enable_deletion_protection
    error_message = "The ALB drops invalid headers and has deletion protection in production."
  }
  assert {
    condition     = aws_lb.this.access_logs[0].enabled && aws_lb.this.access_logs[0].bucket == module.logs.log_target
    error_message = "Access logs must be on."
  }
  assert {
    condition     = aws_lb_listener.https.ssl_policy == "ELBSecurityPolicy-TLS13-1-2-2021-06" && aws_lb_listener.https.protocol == "HTTPS" && aws_lb_listener.https.port == 443
    error_message = "HTTPS uses a TLS 1.3 security policy."
  }
}

run "the_alb_is_internal_in_the_load_balancer_subnets" {
  command = apply

  assert {
    condition     = aws_lb.this.internal == true
    error_message = "The ALB is internal: no public address, nothing on the internet can connect to it."
  }
  assert {
    condition     = toset(aws_lb.this.subnets) == toset(var.subnet_ids)
    error_message = "The ALB sits in the load-balancer subnets it is given, and nowhere else."
  }
}

run "unmatched_requests_get_the_default_404" {
  command = apply

  assert {
    condition     = aws_lb_listener.https.default_action[0].type == "fixed-response" && aws_lb_listener.https.default_action[0].fixed_response[0].status_code == "404"
    error_message = "The listener's default action answers 404 itself: only a path rule forwards to an app."
  }
  assert {
    condition     = alltrue([for r in aws_lb_listener_rule.app : r.listener_arn == aws_lb_listener.https.arn && r.action[0].type == "forward"])
    error_message = "Apps are reached through path rules on the HTTPS listener only."
  }
}

run "cloudfront_reaches_the_alb_through_its_vpc_origin_over_https" {
  command = apply

  assert {
    condition     = aws_cloudfront_vpc_origin.alb.vpc_origin_endpoint_config[0].arn == aws_lb.this.arn && output.vpc_origin_id == aws_cloudfront_vpc_origin.alb.id
    error_message = "The VPC origin points at this ALB, and its ID is the module's output for the distribution."
  }
  assert {
    condition     = aws_cloudfront_vpc_origin.alb.vpc_origin_endpoint_config[0].origin_protocol_policy == "https-only" && aws_cloudfront_vpc_origin.alb.vpc_origin_endpoint_config[0].https_port == 443 && aws_cloudfront_vpc_origin.alb.vpc_origin_endpoint_config[0].origin_ssl_protocols[0].items == toset(["TLSv1.2"])
    error_message = "CloudFront talks to the ALB over HTTPS only, TLS 1.2 or later."
  }
  assert {
    condition     = length(aws_cloudfront_vpc_origin.alb.vpc_origin_endpoint_config[0].name) <= 64
    error_message = "VPC origin names are at most 64 characters."
  }
}

run "tls13_only_when_asked" {
  command = plan
  variables {
    tls_minimum_protocol = "TLSv1.3"
    deletion_protection  = false
  }

  assert {
    condition     = aws_lb_listener.https.ssl_policy == "ELBSecurityPolicy-TLS13-1-3-2021-06" && aws_lb.this.enable_deletion_protection == false
    error_message = "TLSv1.3 selects the TLS 1.3-only policy; deletion protection follows the input."
  }
}

run "only_cloudfronts_vpc_origin_reaches_the_alb_and_only_the_alb_reaches_pods" {
  command = apply

  assert {
    condition     = aws_vpc_security_group_ingress_rule.alb_https.referenced_security_group_id == data.aws_security_group.cloudfront_vpc_origin.id && aws_vpc_security_group_ingress_rule.alb_https.from_port == 443 && aws_vpc_security_group_ingress_rule.alb_https.to_port == 443
    error_message = "443 on the ALB admits CloudFront's VPC origin interfaces (their security group) only."
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.alb_https.cidr_ipv4 == null && aws_vpc_security_group_ingress_rule.alb_https.cidr_ipv6 == null && aws_vpc_security_group_ingress_rule.alb_https.prefix_list_id == null
    error_message = "No address range, not even CloudFront's global prefix list (every distribution of every customer uses it), is admitted."
  }
  assert {
    condition     = data.aws_security_group.cloudfront_vpc_origin.name == "CloudFront-VPCOrigins-Service-SG" && data.aws_security_group.cloudfront_vpc_origin.vpc_id == var.vpc_id
    error_message = "The admitted group is the one CloudFront creates for VPC origins in this VPC."
  }
  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.pods_from_alb : r.security_group_id == var.node_security_group_id && r.referenced_security_group_id == aws_security_group.alb.id && r.cidr_ipv4 == null])
    error_message = "Pods admit the ALB's security group only, on the app ports."
  }
  assert {
    condition     = toset(keys(aws_vpc_security_group_ingress_rule.pods_from_alb)) == toset(["8000", "8080"])
    error_message = "One rule per app port."
  }
}

run "the_regional_acl_does_not_rate_limit_forgeable_addresses" {
  command = apply

  assert {
    condition     = module.waf.rule_names == ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet"]
    error_message = "Behind CloudFront the ACL sees CloudFront's addresses only: content rules stay, the rate limit and the IP reputation list belong to CloudFront's ACL."
  }
}

run "one_ip_target_group_per_app_with_fast_health_checks" {
  command = apply

  assert {
    condition     = alltrue([for tg in aws_lb_target_group.app : tg.target_type == "ip" && tg.health_check[0].interval == 5 && tg.health_check[0].healthy_threshold == 2 && tg.deregistration_delay == "30"])
    error_message = "Target groups are type ip with 5 s x 2 health checks and 30 s draining."
  }
  assert {
    condition     = aws_lb_target_group.app["api"].health_check[0].path == "/readyz" && aws_lb_target_group.app["portal"].health_check[0].path == "/ready"
    error_message = "Each target group checks its app's readiness path."
  }
  assert {
    condition     = alltrue([for tg in aws_lb_target_group.app : tg.tags["platformgen.io/cluster"] == var.cluster_name && length(tg.name) <= 32])
    error_message = "Target groups carry the cluster tag the controller's IAM policy requires, and fit the 32-character limit."
  }
  assert {
    condition     = aws_lb_listener_rule.app["api"].priority < aws_lb_listener_rule.app["portal"].priority
    error_message = "Longer paths are matched before the catch-all /."
  }
}

# Each app is alarmed on its SLOs through its own target group: 5xx answers as a share
# of its requests (metric math), and the p99 response time; the regional ACL alarms on
# its blocked share. All notify the alarm topic.
run "each_app_is_alarmed_on_its_error_rate_and_p99" {
  command = apply

  assert {
    condition = alltrue([
      for app, a in aws_cloudwatch_metric_alarm.target_5xx_rate : a.threshold == 1 && a.alarm_actions == toset([var.alarm_topic_arn]) && length([
        for q in a.metric_query : q if length(q.metric) > 0 && try(one(q.metric).dimensions["TargetGroup"] == aws_lb_target_group.app[app].arn_suffix, false)
      ]) == 2 && length([for q in a.metric_query : q if try(q.return_data == true && strcontains(q.expression, "FILL(errors, 0) / requests"), false)]) == 1
    ]) && toset(keys(aws_cloudwatch_metric_alarm.target_5xx_rate)) == toset(["api", "portal"])
    error_message = "Each app's 5xx alarm divides its target group's 5xx answers by its requests and fires above 1%."
  }
  assert {
    condition = alltrue([
      for app, a in aws_cloudwatch_metric_alarm.target_p99 : a.extended_statistic == "p99" && a.metric_name == "TargetResponseTime" && a.threshold == 1 && a.dimensions["TargetGroup"] == aws_lb_target_group.app[app].arn_suffix && a.alarm_actions == toset([var.alarm_topic_arn])
    ]) && length(aws_cloudwatch_metric_alarm.target_p99) == 2
    error_message = "Each app's p99 response time alarm reads its own target group and fires above 1 s."
  }
  assert {
    condition     = module.waf.blocked_alarm_arn != null
    error_message = "The regional ACL alarms on its blocked share."
  }
}

run "long_names_are_hash_truncated" {
  command = plan
  variables {
    name = "a23456789012345678901z-live"
    apps = { w2345678901234567890123z = { path = "/w", port = 8000, health_path = "/readyz" } }
  }

  assert {
    condition     = length(aws_lb_target_group.app["w2345678901234567890123z"].name) == 32
    error_message = "Long target group names are cut to 32 characters with a hash suffix."
  }
}

run "refuses_a_name_over_the_alb_limit" {
  command = plan
  variables {
    # <project>-<environment> at its longest (22 + 1 + 10): one over the ALB's 32.
    name = "a23456789012345678901z-livelive12"
  }
  expect_failures = [var.name]
}

run "refuses_duplicate_paths" {
  command = plan
  variables {
    apps = {
      a = { path = "/api", port = 8000, health_path = "/readyz" }
      b = { path = "/api", port = 8001, health_path = "/readyz" }
    }
  }
  expect_failures = [var.apps]
}
