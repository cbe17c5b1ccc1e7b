# EKS with a private API endpoint only, envelope encryption of Kubernetes secrets
# with the environment's KMS key, every control-plane log type, EKS access entries
# (never the aws-auth ConfigMap), Pod Identity, and one managed node group in the
# private subnets whose nodes require IMDSv2 with a hop limit of 1 (pods cannot
# reach the node's instance credentials). The node group and the add-ons follow the
# cluster's Kubernetes version: a bump upgrades the control plane, then the add-ons
# (each at its version for the new Kubernetes version) and the nodes.

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  graviton   = can(regex("^[a-z]+[0-9]+g", var.instance_types[0]))
  ami_type   = local.graviton ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD"
  managed    = "arn:${local.partition}:iam::aws:policy"
  # Installed before the nodes join: networking, kube-proxy and Pod Identity.
  addons_before_nodes = ["vpc-cni", "kube-proxy", "eks-pod-identity-agent"]
  # The VPC CNI enforces NetworkPolicy (its node agent, vpc-cni 1.14 and later): without
  # it the charts' policies are accepted and do nothing (infra/docs/adr/0005).
  addon_configuration = {
    vpc-cni = jsonencode({ enableNetworkPolicy = "true" })
  }
}

# --- Control plane -------------------------------------------------------------

data "aws_iam_policy_document" "cluster_assume" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name                 = "${var.name}-cluster"
  assume_role_policy   = data.aws_iam_policy_document.cluster_assume.json
  permissions_boundary = var.permissions_boundary
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "${local.managed}/AmazonEKSClusterPolicy"
}

resource "aws_cloudwatch_log_group" "cluster" {
  #checkov:skip=CKV_AWS_338:Retention is the spec's observability.logRetentionDays (default 90 days); set 365 or more there where compliance asks for it.
  # EKS writes control-plane logs here; creating it first sets retention and encryption.
  name              = "/aws/eks/${var.name}/cluster"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_eks_cluster" "this" {
  name     = var.name
  version  = var.kubernetes_version
  role_arn = aws_iam_role.cluster.arn

  enabled_cluster_log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

  vpc_config {
    subnet_ids              = var.subnet_ids
    endpoint_private_access = true
    endpoint_public_access  = false
  }

  access_config {
    authentication_mode                         = "API"
    bootstrap_cluster_creator_admin_permissions = false
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = var.kms_key_arn
    }
  }

  upgrade_policy {
    support_type = "STANDARD"
  }

  depends_on = [aws_iam_role_policy_attachment.cluster, aws_cloudwatch_log_group.cluster]
}

# --- Who may use the Kubernetes API: EKS access entries ---------------------------
# (never the aws-auth ConfigMap; infra/docs/adr/0003-roles-and-permissions.md)

locals {
  access_policy = "arn:${local.partition}:eks::aws:cluster-access-policy"
  # The Kubernetes group of the app-deploy executor: infra/addons/app-deployer.yaml binds
  # it, in each app namespace, to what the access policy lacks (the controllers' CRDs).
  app_deployer_group = "platformgen:app-deployers"
}

# Cluster admins: the platform executor and the break-glass people.
resource "aws_eks_access_entry" "admin" {
  for_each      = var.cluster_admins
  cluster_name  = aws_eks_cluster.this.name
  principal_arn = each.value
  type          = "STANDARD"
}

resource "aws_eks_access_policy_association" "admin" {
  for_each      = var.cluster_admins
  cluster_name  = aws_eks_cluster.this.name
  principal_arn = aws_eks_access_entry.admin[each.key].principal_arn
  policy_arn    = "${local.access_policy}/AmazonEKSClusterAdminPolicy"

  access_scope {
    type = "cluster"
  }
}

# Read-only people: every object but Secrets (AmazonEKSViewPolicy has no secrets).
resource "aws_eks_access_entry" "viewer" {
  for_each      = var.cluster_viewers
  cluster_name  = aws_eks_cluster.this.name
  principal_arn = each.value
  type          = "STANDARD"
}

resource "aws_eks_access_policy_association" "viewer" {
  for_each      = var.cluster_viewers
  cluster_name  = aws_eks_cluster.this.name
  principal_arn = aws_eks_access_entry.viewer[each.key].principal_arn
  policy_arn    = "${local.access_policy}/AmazonEKSViewPolicy"

  access_scope {
    type = "cluster"
  }
}

# The app-deploy executor: admin of the app namespaces only, nothing cluster-wide.
resource "aws_eks_access_entry" "app_deployer" {
  for_each          = length(var.app_namespaces) > 0 ? var.app_deployers : {}
  cluster_name      = aws_eks_cluster.this.name
  principal_arn     = each.value
  type              = "STANDARD"
  kubernetes_groups = [local.app_deployer_group]
}

resource "aws_eks_access_policy_association" "app_deployer" {
  for_each      = length(var.app_namespaces) > 0 ? var.app_deployers : {}
  cluster_name  = aws_eks_cluster.this.name
  principal_arn = aws_eks_access_entry.app_deployer[each.key].principal_arn
  policy_arn    = "${local.access_policy}/AmazonEKSAdminPolicy"

  access_scope {
    type       = "namespace"
    namespaces = sort(var.app_namespaces)
  }
}

# --- Nodes --------------------------------------------------------------------------

data "aws_iam_policy_document" "node_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  name                 = "${var.name}-node"
  assume_role_policy   = data.aws_iam_policy_document.node_assume.json
  permissions_boundary = var.permissions_boundary
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset([
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
  ])
  role       = aws_iam_role.node.name
  policy_arn = "${local.managed}/${each.value}"
}

# The nodes' own security group: the database and the load balancer admit this
# group, never an address range. The cluster's primary security group (EKS-managed)
# is attached too, so nodes and control plane keep talking.
resource "aws_security_group" "node" {
  name        = "${var.name}-node"
  description = "EKS nodes and pods of ${var.name}"
  vpc_id      = var.vpc_id
  tags        = { Name = "${var.name}-node" }
}

resource "aws_vpc_security_group_ingress_rule" "node_from_node" {
  security_group_id            = aws_security_group.node.id
  description                  = "Node to node and pod to pod"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.node.id
}

resource "aws_vpc_security_group_egress_rule" "node_https" {
  security_group_id = aws_security_group.node.id
  description       = "HTTPS to AWS APIs (endpoints) and the internet through NAT"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "node_to_node" {
  security_group_id            = aws_security_group.node.id
  description                  = "Node to node and pod to pod"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.node.id
}

# The database admits this group only, never the node group as such
# (infra/docs/adr/0005-network-policy-and-the-database-path.md). It carries no rule: it
# names who may open a connection to MySQL. Every node carries it, so which pods use
# that path is the charts' NetworkPolicy egress (enforced by the VPC CNI): only an app
# with the database may reach the database subnets on its port.
resource "aws_security_group" "database_clients" {
  name        = "${var.name}-database-clients"
  description = "Database clients of ${var.name}: the only group the database admits"
  vpc_id      = var.vpc_id
  tags        = { Name = "${var.name}-database-clients", "platformgen.io/role" = "database-clients" }
}

resource "aws_launch_template" "node" {
  name_prefix            = "${var.name}-node-"
  update_default_version = true
  vpc_security_group_ids = [aws_security_group.node.id, aws_security_group.database_clients.id, aws_eks_cluster.this.vpc_config[0].cluster_security_group_id]

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = var.node_disk_gb
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  monitoring {
    enabled = true
  }

  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "${var.name}-node" }
  }
}

resource "aws_eks_node_group" "this" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = "${var.name}-default"
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = var.subnet_ids
  ami_type        = local.ami_type
  capacity_type   = var.capacity_type
  instance_types  = var.instance_types
  # The nodes follow the control plane: a version bump upgrades the control plane first
  # (this references it), then rolls the nodes onto that version's AMI, one at a time.
  version = aws_eks_cluster.this.version

  scaling_config {
    min_size     = var.min_nodes
    max_size     = var.max_nodes
    desired_size = var.min_nodes
  }

  update_config {
    max_unavailable = 1
  }

  launch_template {
    id      = aws_launch_template.node.id
    version = aws_launch_template.node.latest_version
  }

  lifecycle {
    # The autoscaler owns the current size; Terraform owns the bounds.
    ignore_changes = [scaling_config[0].desired_size]

    precondition {
      condition     = var.max_nodes >= var.min_nodes
      error_message = "max_nodes must be at least min_nodes."
    }
  }

  depends_on = [aws_iam_role_policy_attachment.node]
}

# --- Add-ons --------------------------------------------------------------------

# Each add-on's version for the cluster's Kubernetes version, as terraform-aws-modules/eks
# resolves them: bumping kubernetes_version moves the add-ons too, after the control
# plane. most_recent = false takes the version EKS marks as the default for that
# Kubernetes version (its tested pairing); addons_most_recent = true takes the newest.
data "aws_eks_addon_version" "this" {
  for_each           = toset(concat(local.addons_before_nodes, ["coredns"]))
  addon_name         = each.value
  kubernetes_version = aws_eks_cluster.this.version
  most_recent        = var.addons_most_recent
}

resource "aws_eks_addon" "before_nodes" {
  for_each                    = toset(local.addons_before_nodes)
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.value
  addon_version               = data.aws_eks_addon_version.this[each.value].version
  configuration_values        = lookup(local.addon_configuration, each.value, null)
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
}

resource "aws_eks_addon" "coredns" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "coredns"
  addon_version               = data.aws_eks_addon_version.this["coredns"].version
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"

  # CoreDNS needs nodes to schedule on.
  depends_on = [aws_eks_node_group.this]
}

# --- Controllers installed by `make infra-addons`: IAM through Pod Identity ---------

data "aws_iam_policy_document" "pod_identity_assume" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# The AWS Load Balancer Controller only binds pods to the target groups Terraform
# made (TargetGroupBinding): it may describe, and register and deregister targets of
# this cluster's target groups. It cannot create or delete load balancers.
data "aws_iam_policy_document" "load_balancer_controller" {
  statement {
    sid = "Describe"
    actions = [
      "ec2:DescribeAvailabilityZones",
      "ec2:DescribeInstances",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcs",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTags",
      "elasticloadbalancing:DescribeTargetGroupAttributes",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "BindPodsToThisClustersTargetGroups"
    actions   = ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"]
    resources = ["arn:${local.partition}:elasticloadbalancing:*:${local.account_id}:targetgroup/*/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/platformgen.io/cluster"
      values   = [var.name]
    }
  }
}

resource "aws_iam_role" "load_balancer_controller" {
  name                 = "${var.name}-aws-load-balancer-controller"
  assume_role_policy   = data.aws_iam_policy_document.pod_identity_assume.json
  permissions_boundary = var.permissions_boundary
}

resource "aws_iam_role_policy" "load_balancer_controller" {
  name   = "target-group-binding"
  role   = aws_iam_role.load_balancer_controller.id
  policy = data.aws_iam_policy_document.load_balancer_controller.json
}

resource "aws_eks_pod_identity_association" "load_balancer_controller" {
  cluster_name    = aws_eks_cluster.this.name
  namespace       = "kube-system"
  service_account = "aws-load-balancer-controller"
  role_arn        = aws_iam_role.load_balancer_controller.arn
}

# The External Secrets Operator reads no secret itself: each app's SecretStore makes
# it assume that app's role (modules/workloads grants exactly those roles).
resource "aws_iam_role" "external_secrets" {
  name                 = "${var.name}-external-secrets"
  assume_role_policy   = data.aws_iam_policy_document.pod_identity_assume.json
  permissions_boundary = var.permissions_boundary
}

resource "aws_eks_pod_identity_association" "external_secrets" {
  cluster_name    = aws_eks_cluster.this.name
  namespace       = "external-secrets"
  service_account = "external-secrets"
  role_arn        = aws_iam_role.external_secrets.arn
}
