# Invariants of the load balancer module, checked with a mocked AWS provider.

mock_provider "aws" {
  source = "../.mocks"
}

# The web ACL has its own module and tests; here only its ARN matters.
override_module {
  target = module.waf
  outputs = {
    arn            = "arn:aws:wafv2:us-east-1:111111111111:regional/webacl/acme-prod-alb/11111111-2222-3333-4444-555555555555"
    log_group_name = "aws-waf-logs-mock"
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
  subnet_ids             = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
  node_security_group_id = "sg-0000000000000node1"
  cluster_name           = "acme-prod"
  apps = {
    api    = { path = "/api", port = 8000, health_path = "/readyz" }
    portal = { path = "/", port = 8080, health_path = "/ready" }
  }
  deletion_protection  = true
  tls_minimum_protocol = "TLSv1.2"
  waf_rate_limit       = 2000
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
    condition     = aws_lb.this.drop_invalid_header_fields && aws_lb.this.enable_deletion_protection && aws_lb.this.internal == false
    error_message = "The public ALB drops invalid headers and has deletion protection in production."
  }
  assert {
    condition     = aws_lb.this.access_logs[0].enabled && aws_lb.this.access_logs[0].bucket == module.logs.log_target
    error_message = "Access logs must be on."
  }
  assert {
    condition     = aws_lb_listener.https.ssl_policy == "ELBSecurityPolicy-TLS13-1-2-2021-06" && aws_lb_listener.https.protocol == "HTTPS"
    error_message = "HTTPS uses a TLS 1.3 security policy."
  }
  assert {
    condition     = aws_lb_listener.http.default_action[0].type == "redirect" && aws_lb_listener.http.default_action[0].redirect[0].protocol == "HTTPS"
    error_message = "HTTP only redirects to HTTPS."
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

run "only_cloudfront_reaches_the_alb_and_only_the_alb_reaches_pods" {
  command = apply

  assert {
    condition     = aws_vpc_security_group_ingress_rule.alb_https.prefix_list_id == data.aws_ec2_managed_prefix_list.cloudfront.id && aws_vpc_security_group_ingress_rule.alb_https.cidr_ipv4 == null && aws_vpc_security_group_ingress_rule.alb_https.from_port == 443
    error_message = "443 on the ALB admits CloudFront's origin-facing ranges only."
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.alb_http.cidr_ipv4 == null && aws_vpc_security_group_ingress_rule.alb_http.from_port == 80 && aws_vpc_security_group_ingress_rule.alb_http.to_port == 80
    error_message = "Besides 443, the ALB admits only 80 (redirected), and never from 0.0.0.0/0."
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
