# A VPC over three zones with four subnet tiers:
#   public        - the NAT gateways only; routes to the internet gateway
#   load-balancer - the internal ALB and the network interfaces of CloudFront's VPC
#                   origin; no route to the internet (CloudFront reaches them inside
#                   the VPC), so network rules can name the load balancer by range
#   private       - the cluster nodes and pods; routes out through NAT only
#   isolated      - the database; no route to the internet at all
# Flow logs record every accepted and rejected connection. The S3 gateway endpoint
# (free) always keeps S3 traffic, image layers included, inside the VPC; interface
# endpoints (billed per zone-hour, optional) do the same for registry, STS, secrets,
# logs, KMS, Pod Identity and CodeBuild traffic (the executors, modules/executors).

data "aws_region" "current" {}

locals {
  zones  = { for i, az in var.availability_zones : az => i }
  prefix = tonumber(split("/", var.vpc_cidr)[1])
  # The first three quarters of the range are the private subnets (pods need the
  # addresses); the last quarter holds eight /(prefix+5) blocks: three public, one
  # split in four for the load-balancer tier (three used: a /27 in a /20 VPC, the
  # smallest subnet an ALB accepts), three isolated and one spare.
  private_cidrs       = { for az, i in local.zones : az => cidrsubnet(var.vpc_cidr, 2, i) }
  public_cidrs        = { for az, i in local.zones : az => cidrsubnet(var.vpc_cidr, 5, 24 + i) }
  load_balancer_cidrs = { for az, i in local.zones : az => cidrsubnet(var.vpc_cidr, 7, 27 * 4 + i) }
  isolated_cidrs      = { for az, i in local.zones : az => cidrsubnet(var.vpc_cidr, 5, 28 + i) }
  nat_zones           = var.nat_gateways == "perAz" ? var.availability_zones : [var.availability_zones[0]]
  # Private subnets route through the NAT gateway of their own zone when there is one.
  nat_for_zone = { for az in var.availability_zones : az => contains(local.nat_zones, az) ? az : local.nat_zones[0] }
}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = var.name }
}

# The default security group allows nothing, so nothing can use it by accident.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-default-deny" }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = var.name }
}

resource "aws_subnet" "public" {
  for_each          = local.public_cidrs
  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = each.value
  # Nothing launched here gets a public address by default; the NAT gateways get theirs explicitly.
  map_public_ip_on_launch = false

  # No kubernetes.io/role/elb tag: nothing internet-facing is ever placed here.
  tags = {
    Name = "${var.name}-public-${each.key}"
    Tier = "public"
  }
}

resource "aws_subnet" "load_balancer" {
  for_each                = local.load_balancer_cidrs
  vpc_id                  = aws_vpc.this.id
  availability_zone       = each.key
  cidr_block              = each.value
  map_public_ip_on_launch = false

  tags = {
    Name                              = "${var.name}-load-balancer-${each.key}"
    Tier                              = "load-balancer"
    "kubernetes.io/role/internal-elb" = "1"
  }
}

resource "aws_subnet" "private" {
  for_each          = local.private_cidrs
  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = each.value

  tags = {
    Name = "${var.name}-private-${each.key}"
    Tier = "private"
  }
}

resource "aws_subnet" "isolated" {
  for_each          = local.isolated_cidrs
  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = each.value

  tags = {
    Name = "${var.name}-isolated-${each.key}"
    Tier = "isolated"
  }
}

resource "aws_eip" "nat" {
  for_each = toset(local.nat_zones)
  domain   = "vpc"
  tags     = { Name = "${var.name}-nat-${each.key}" }

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  for_each      = toset(local.nat_zones)
  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.public[each.key].id
  tags          = { Name = "${var.name}-${each.key}" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-public" }
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  for_each       = aws_subnet.public
  subnet_id      = each.value.id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "private" {
  for_each = local.zones
  vpc_id   = aws_vpc.this.id
  tags     = { Name = "${var.name}-private-${each.key}" }
}

resource "aws_route" "private_nat" {
  for_each               = local.zones
  route_table_id         = aws_route_table.private[each.key].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[local.nat_for_zone[each.key]].id
}

resource "aws_route_table_association" "private" {
  for_each       = aws_subnet.private
  subnet_id      = each.value.id
  route_table_id = aws_route_table.private[each.key].id
}

# The load-balancer subnets route inside the VPC only: the internal ALB answers
# CloudFront's VPC origin and reaches the pods, and needs nothing beyond the VPC.
resource "aws_route_table" "load_balancer" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-load-balancer" }
}

resource "aws_route_table_association" "load_balancer" {
  for_each       = aws_subnet.load_balancer
  subnet_id      = each.value.id
  route_table_id = aws_route_table.load_balancer.id
}

# Isolated subnets get a route table with no default route: the database cannot reach the internet.
resource "aws_route_table" "isolated" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-isolated" }
}

resource "aws_route_table_association" "isolated" {
  for_each       = aws_subnet.isolated
  subnet_id      = each.value.id
  route_table_id = aws_route_table.isolated.id
}

# --- Flow logs ---------------------------------------------------------------

resource "aws_cloudwatch_log_group" "flow_logs" {
  #checkov:skip=CKV_AWS_338:Retention is the spec's observability.logRetentionDays (default 90 days); set 365 or more there where compliance asks for it.
  name              = "/aws/vpc/${var.name}/flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

data "aws_iam_policy_document" "flow_logs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "flow_logs" {
  name                 = "${var.name}-flow-logs"
  assume_role_policy   = data.aws_iam_policy_document.flow_logs_assume.json
  permissions_boundary = var.permissions_boundary
}

data "aws_iam_policy_document" "flow_logs" {
  statement {
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogGroups",
      "logs:DescribeLogStreams",
    ]
    resources = ["${aws_cloudwatch_log_group.flow_logs.arn}:*"]
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs.json
}

resource "aws_flow_log" "this" {
  vpc_id                   = aws_vpc.this.id
  traffic_type             = "ALL"
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn             = aws_iam_role.flow_logs.arn
  max_aggregation_interval = 60
}

# --- VPC endpoints -------------------------------------------------------------

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = concat([for rt in aws_route_table.private : rt.id], [aws_route_table.isolated.id])
  tags              = { Name = "${var.name}-s3" }
}

locals {
  interface_endpoints = length(var.interface_endpoints) > 0
}

resource "aws_security_group" "endpoints" {
  count       = local.interface_endpoints ? 1 : 0
  name        = "${var.name}-vpc-endpoints"
  description = "Interface VPC endpoints: HTTPS from inside the VPC only"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name}-vpc-endpoints" }
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_https" {
  count             = local.interface_endpoints ? 1 : 0
  security_group_id = aws_security_group.endpoints[0].id
  description       = "HTTPS from the VPC"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = aws_vpc.this.cidr_block
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = toset(var.interface_endpoints)
  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.${each.value}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = [for s in aws_subnet.private : s.id]
  security_group_ids  = [aws_security_group.endpoints[0].id]
  tags                = { Name = "${var.name}-${each.value}" }
}

# Before the endpoints became optional, the group and its rule had no count.
moved {
  from = aws_security_group.endpoints
  to   = aws_security_group.endpoints[0]
}

moved {
  from = aws_vpc_security_group_ingress_rule.endpoints_https
  to   = aws_vpc_security_group_ingress_rule.endpoints_https[0]
}
