# Invariants of the network module, checked with a mocked AWS provider.

mock_provider "aws" {
  source = "../.mocks"
}

variables {
  name                 = "acme-prod"
  vpc_cidr             = "10.30.0.0/16"
  availability_zones   = ["ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"]
  nat_gateways         = "perAz"
  kms_key_arn          = "arn:aws:kms:ap-southeast-2:111111111111:key/11111111-2222-3333-4444-555555555555"
  log_retention_days   = 90
  permissions_boundary = "arn:aws:iam::111111111111:policy/acme-prod-boundary"
}

run "four_tiers_over_three_zones" {
  command = apply

  assert {
    condition     = length(aws_subnet.public) == 3 && length(aws_subnet.load_balancer) == 3 && length(aws_subnet.private) == 3 && length(aws_subnet.isolated) == 3
    error_message = "Each tier needs one subnet per zone."
  }
  assert {
    condition     = alltrue([for s in aws_subnet.public : s.map_public_ip_on_launch == false])
    error_message = "Nothing launched in a public subnet gets a public address by default."
  }
  assert {
    # Two ranges overlap when their network addresses agree at the shorter prefix.
    condition = alltrue(flatten([
      for i, a in concat([for s in aws_subnet.public : s.cidr_block], [for s in aws_subnet.load_balancer : s.cidr_block], [for s in aws_subnet.private : s.cidr_block], [for s in aws_subnet.isolated : s.cidr_block]) : [
        for j, b in concat([for s in aws_subnet.public : s.cidr_block], [for s in aws_subnet.load_balancer : s.cidr_block], [for s in aws_subnet.private : s.cidr_block], [for s in aws_subnet.isolated : s.cidr_block]) :
        i == j || cidrhost("${cidrhost(a, 0)}/${min(tonumber(split("/", a)[1]), tonumber(split("/", b)[1]))}", 0) != cidrhost("${cidrhost(b, 0)}/${min(tonumber(split("/", a)[1]), tonumber(split("/", b)[1]))}", 0)
      ]
    ]))
    error_message = "Subnet ranges must not overlap."
  }
  assert {
    condition     = output.load_balancer_subnet_cidrs == [for az in var.availability_zones : aws_subnet.load_balancer[az].cidr_block] && output.load_balancer_subnet_ids == [for az in var.availability_zones : aws_subnet.load_balancer[az].id]
    error_message = "The load-balancer subnets' ids and ranges are outputs, in zone order."
  }
  assert {
    condition     = output.isolated_subnet_cidrs == [for az in var.availability_zones : aws_subnet.isolated[az].cidr_block] && output.isolated_subnet_ids == [for az in var.availability_zones : aws_subnet.isolated[az].id]
    error_message = "The isolated (database) subnets' ids and ranges are outputs, in zone order: network policies name them as the only database destination."
  }
}

run "the_load_balancer_tier_is_its_own_and_private" {
  command = apply

  assert {
    condition     = alltrue([for s in aws_subnet.load_balancer : s.tags["Tier"] == "load-balancer" && s.map_public_ip_on_launch == false])
    error_message = "Load-balancer subnets are a tier of their own and give out no public address."
  }
  assert {
    condition     = alltrue([for a in aws_route_table_association.load_balancer : a.route_table_id == aws_route_table.load_balancer.id]) && length(aws_route_table_association.load_balancer) == 3
    error_message = "Every load-balancer subnet uses the load-balancer route table."
  }
  assert {
    condition     = alltrue([for r in aws_route.private_nat : r.route_table_id != aws_route_table.load_balancer.id]) && aws_route.public_internet.route_table_id != aws_route_table.load_balancer.id && !contains(aws_vpc_endpoint.s3.route_table_ids, aws_route_table.load_balancer.id)
    error_message = "The load-balancer subnets have no route out of the VPC: CloudFront reaches the internal ALB through its VPC origin, inside the VPC."
  }
  assert {
    condition     = alltrue([for s in aws_subnet.public : !contains(keys(s.tags), "kubernetes.io/role/elb")])
    error_message = "No subnet is tagged for internet-facing load balancers."
  }
}

run "the_smallest_vpc_still_fits_an_alb" {
  command = apply
  variables {
    vpc_cidr = "10.30.0.0/20"
  }

  assert {
    condition     = alltrue([for s in aws_subnet.load_balancer : tonumber(split("/", s.cidr_block)[1]) <= 27])
    error_message = "An ALB needs subnets of at least /27 (8 free addresses), even in a /20 VPC."
  }
}

run "isolated_subnets_have_no_internet_route" {
  command = apply

  assert {
    condition     = alltrue([for r in aws_route.private_nat : r.route_table_id != aws_route_table.isolated.id]) && aws_route.public_internet.route_table_id != aws_route_table.isolated.id
    error_message = "No default route may point the isolated (database) subnets at the internet."
  }
  assert {
    condition     = alltrue([for a in aws_route_table_association.isolated : a.route_table_id == aws_route_table.isolated.id])
    error_message = "Every isolated subnet uses the route table without a default route."
  }
  assert {
    condition     = alltrue([for r in aws_route.private_nat : r.nat_gateway_id != null && r.gateway_id == null])
    error_message = "Private subnets reach the internet only through NAT."
  }
}

run "production_has_a_nat_gateway_per_zone" {
  command = apply

  assert {
    condition     = length(aws_nat_gateway.this) == 3 && length(distinct([for r in aws_route.private_nat : r.nat_gateway_id])) == 3
    error_message = "perAz must give each zone its own NAT gateway."
  }
}

run "development_shares_one_nat_gateway" {
  command = apply
  variables {
    nat_gateways = "single"
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && output.nat_gateway_count == 1
    error_message = "single must create exactly one NAT gateway."
  }
}

run "flow_logs_record_everything_encrypted" {
  command = apply

  assert {
    condition     = aws_flow_log.this.traffic_type == "ALL" && aws_flow_log.this.log_destination == aws_cloudwatch_log_group.flow_logs.arn
    error_message = "Flow logs must record all traffic to the flow log group."
  }
  assert {
    condition     = aws_cloudwatch_log_group.flow_logs.kms_key_id == var.kms_key_arn && aws_cloudwatch_log_group.flow_logs.retention_in_days == 90
    error_message = "The flow log group must be encrypted with the CMK and keep the spec's retention."
  }
}

run "endpoints_keep_aws_traffic_inside_the_vpc" {
  command = apply

  assert {
    condition     = toset(keys(aws_vpc_endpoint.interface)) == toset(["ecr.api", "ecr.dkr", "sts", "secretsmanager", "logs", "kms", "eks-auth", "codebuild"]) && aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway"
    error_message = "S3, ECR, STS, Secrets Manager, CloudWatch Logs, KMS and EKS Auth need VPC endpoints."
  }
  assert {
    condition     = alltrue([for e in aws_vpc_endpoint.interface : e.private_dns_enabled])
    error_message = "Interface endpoints need private DNS, or clients resolve the public endpoints."
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.endpoints_https[0].cidr_ipv4 == var.vpc_cidr && aws_vpc_security_group_ingress_rule.endpoints_https[0].from_port == 443
    error_message = "The endpoints admit HTTPS from the VPC only, never 0.0.0.0/0."
  }
  assert {
    condition     = alltrue([for e in aws_vpc_endpoint.interface : toset(e.subnet_ids) == toset([for s in aws_subnet.private : s.id]) && e.security_group_ids == toset([aws_security_group.endpoints[0].id])])
    error_message = "Every interface endpoint sits in the private subnet of each zone, behind the endpoints' security group."
  }
}

run "without_interface_endpoints_only_the_free_gateway_stays" {
  command = apply
  variables {
    interface_endpoints = []
  }

  assert {
    condition     = length(aws_vpc_endpoint.interface) == 0 && length(aws_security_group.endpoints) == 0 && length(aws_vpc_security_group_ingress_rule.endpoints_https) == 0
    error_message = "No interface endpoint (nor their security group) when the environment does without them."
  }
  assert {
    condition     = aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway" && length(aws_vpc_endpoint.s3.route_table_ids) == 4
    error_message = "The S3 gateway endpoint is free: it stays on every private route table and the isolated one."
  }
  assert {
    condition     = length(aws_route.private_nat) == 3
    error_message = "Without endpoints the private subnets reach AWS services through NAT."
  }
}

run "null_means_the_default_services" {
  command = plan
  variables {
    interface_endpoints = null
  }

  assert {
    condition     = length(aws_vpc_endpoint.interface) == 8
    error_message = "null must mean the module's default list of services."
  }
}

run "the_default_security_group_allows_nothing" {
  command = apply

  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "The default security group must have no rules."
  }
}

run "refuses_a_tiny_vpc" {
  command = plan
  variables {
    vpc_cidr = "10.30.0.0/24"
  }
  expect_failures = [var.vpc_cidr]
}

run "refuses_two_zones" {
  command = plan
  variables {
    availability_zones = ["ap-southeast-2a", "ap-southeast-2b"]
  }
  expect_failures = [var.availability_zones]
}

run "every_role_carries_the_boundary" {
  command = apply

  assert {
    condition     = aws_iam_role.flow_logs.permissions_boundary == var.permissions_boundary
    error_message = "The flow logs' role carries the permissions boundary."
  }
}
