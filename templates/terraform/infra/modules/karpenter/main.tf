# What Karpenter needs from AWS to add and remove nodes of one cluster
# (infra/docs/adr/0006-node-autoscaling.md): its controller's IAM role, reached through
# EKS Pod Identity (karpenter/karpenter), scoped to this cluster's instances, launch
# templates and instance profiles by the tags Karpenter puts on them; the IAM role of
# the nodes it starts, with the EKS access entry that lets them join; and the SQS queue
# that EventBridge fills with spot interruptions, rebalance recommendations, instance
# state changes and AWS Health events, so Karpenter drains a node before EC2 takes it.
# Modelled on terraform-aws-modules/eks//modules/karpenter (v21), with every role under
# the platform's permissions boundary and the queue refusing plain HTTP.
# `make infra-addons` installs the chart and infra/addons/karpenter-nodepool.yaml.

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  managed    = "arn:${local.partition}:iam::aws:policy"
  ec2        = "arn:${local.partition}:ec2:${local.region}"
  profiles   = "arn:${local.partition}:iam::${local.account_id}:instance-profile/*"
  cluster    = "arn:${local.partition}:eks:${local.region}:${local.account_id}:cluster/${var.cluster_name}"
  owned      = "kubernetes.io/cluster/${var.cluster_name}"

  # EventBridge rules that feed the interruption queue (Karpenter's interruption handling).
  events = {
    health = {
      description = "AWS Health events of EC2 instances"
      pattern     = { source = ["aws.health"], detail-type = ["AWS Health Event"] }
    }
    spot-interruption = {
      description = "EC2 Spot Instance interruption warnings"
      pattern     = { source = ["aws.ec2"], detail-type = ["EC2 Spot Instance Interruption Warning"] }
    }
    rebalance = {
      description = "EC2 instance rebalance recommendations"
      pattern     = { source = ["aws.ec2"], detail-type = ["EC2 Instance Rebalance Recommendation"] }
    }
    state-change = {
      description = "EC2 instance state-change notifications"
      pattern     = { source = ["aws.ec2"], detail-type = ["EC2 Instance State-change Notification"] }
    }
    capacity-reservation = {
      description = "EC2 capacity reservation interruption warnings"
      pattern     = { source = ["aws.ec2"], detail-type = ["EC2 Capacity Reservation Instance Interruption Warning"] }
    }
  }
}

# --- The controller: Pod Identity, karpenter/karpenter ------------------------------

data "aws_iam_policy_document" "controller_assume" {
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

resource "aws_iam_role" "controller" {
  name                 = "${var.name}-karpenter"
  description          = "Karpenter controller of ${var.cluster_name} (Pod Identity, karpenter/karpenter)"
  assume_role_policy   = data.aws_iam_policy_document.controller_assume.json
  permissions_boundary = var.permissions_boundary
}

data "aws_iam_policy_document" "controller" {
  statement {
    sid     = "LaunchFromImagesSnapshotsSubnetsAndGroups"
    actions = ["ec2:RunInstances", "ec2:CreateFleet"]
    resources = [
      "arn:${local.partition}:ec2:${local.region}::image/*",
      "arn:${local.partition}:ec2:${local.region}::snapshot/*",
      "${local.ec2}:*:security-group/*",
      "${local.ec2}:*:subnet/*",
      "${local.ec2}:*:capacity-reservation/*",
      "${local.ec2}:*:placement-group/*",
    ]
  }

  statement {
    sid       = "LaunchFromThisClustersLaunchTemplates"
    actions   = ["ec2:RunInstances", "ec2:CreateFleet"]
    resources = ["${local.ec2}:*:launch-template/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${local.owned}"
      values   = ["owned"]
    }
    condition {
      test     = "StringLike"
      variable = "aws:ResourceTag/karpenter.sh/nodepool"
      values   = ["*"]
    }
  }

  statement {
    sid     = "CreateOnlyTaggedForThisCluster"
    actions = ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"]
    resources = [
      "${local.ec2}:*:fleet/*",
      "${local.ec2}:*:instance/*",
      "${local.ec2}:*:volume/*",
      "${local.ec2}:*:network-interface/*",
      "${local.ec2}:*:launch-template/*",
      "${local.ec2}:*:spot-instances-request/*",
      "${local.ec2}:*:capacity-reservation/*",
    ]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${local.owned}"
      values   = ["owned"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/eks:eks-cluster-name"
      values   = [var.cluster_name]
    }
    condition {
      test     = "StringLike"
      variable = "aws:RequestTag/karpenter.sh/nodepool"
      values   = ["*"]
    }
  }

  statement {
    sid     = "TagOnCreation"
    actions = ["ec2:CreateTags"]
    resources = [
      "${local.ec2}:*:fleet/*",
      "${local.ec2}:*:instance/*",
      "${local.ec2}:*:volume/*",
      "${local.ec2}:*:network-interface/*",
      "${local.ec2}:*:launch-template/*",
      "${local.ec2}:*:spot-instances-request/*",
    ]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${local.owned}"
      values   = ["owned"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/eks:eks-cluster-name"
      values   = [var.cluster_name]
    }
    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["RunInstances", "CreateFleet", "CreateLaunchTemplate"]
    }
    condition {
      test     = "StringLike"
      variable = "aws:RequestTag/karpenter.sh/nodepool"
      values   = ["*"]
    }
  }

  statement {
    sid       = "TagThisClustersInstances"
    actions   = ["ec2:CreateTags"]
    resources = ["${local.ec2}:*:instance/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${local.owned}"
      values   = ["owned"]
    }
    condition {
      test     = "StringLike"
      variable = "aws:ResourceTag/karpenter.sh/nodepool"
      values   = ["*"]
    }
    condition {
      test     = "StringEqualsIfExists"
      variable = "aws:RequestTag/eks:eks-cluster-name"
      values   = [var.cluster_name]
    }
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]
    }
  }

  statement {
    sid       = "DeleteOnlyThisClustersInstancesAndTemplates"
    actions   = ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"]
    resources = ["${local.ec2}:*:instance/*", "${local.ec2}:*:launch-template/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${local.owned}"
      values   = ["owned"]
    }
    condition {
      test     = "StringLike"
      variable = "aws:ResourceTag/karpenter.sh/nodepool"
      values   = ["*"]
    }
  }

  statement {
    sid = "ReadInThisRegion"
    actions = [
      "ec2:DescribeAvailabilityZones",
      "ec2:DescribeCapacityReservations",
      "ec2:DescribeImages",
      "ec2:DescribeInstanceStatus",
      "ec2:DescribeInstanceTypeOfferings",
      "ec2:DescribeInstanceTypes",
      "ec2:DescribeInstances",
      "ec2:DescribeLaunchTemplates",
      "ec2:DescribePlacementGroups",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSpotPriceHistory",
      "ec2:DescribeSubnets",
    ]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [local.region]
    }
  }

  statement {
    sid       = "ReadAmiParameters"
    actions   = ["ssm:GetParameter"]
    resources = ["arn:${local.partition}:ssm:${local.region}::parameter/aws/service/*"]
  }

  statement {
    sid       = "ReadPrices"
    actions   = ["pricing:GetProducts"]
    resources = ["*"]
  }

  statement {
    sid       = "ReadZonalShifts"
    actions   = ["arc-zonal-shift:GetManagedResource"]
    resources = [local.cluster]
  }

  statement {
    sid       = "ReadInterruptions"
    actions   = ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"]
    resources = [aws_sqs_queue.interruptions.arn]
  }

  statement {
    sid       = "PassOnlyTheNodeRoleToEc2"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.node.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ec2.amazonaws.com"]
    }
  }

  statement {
    sid       = "CreateThisClustersInstanceProfiles"
    actions   = ["iam:CreateInstanceProfile"]
    resources = [local.profiles]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${local.owned}"
      values   = ["owned"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/eks:eks-cluster-name"
      values   = [var.cluster_name]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/topology.kubernetes.io/region"
      values   = [local.region]
    }
    condition {
      test     = "StringLike"
      variable = "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass"
      values   = ["*"]
    }
  }

  statement {
    sid       = "TagThisClustersInstanceProfiles"
    actions   = ["iam:TagInstanceProfile"]
    resources = [local.profiles]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${local.owned}"
      values   = ["owned"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/topology.kubernetes.io/region"
      values   = [local.region]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${local.owned}"
      values   = ["owned"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/eks:eks-cluster-name"
      values   = [var.cluster_name]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/topology.kubernetes.io/region"
      values   = [local.region]
    }
    condition {
      test     = "StringLike"
      variable = "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass"
      values   = ["*"]
    }
    condition {
      test     = "StringLike"
      variable = "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass"
      values   = ["*"]
    }
  }

  statement {
    sid       = "ManageThisClustersInstanceProfiles"
    actions   = ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"]
    resources = [local.profiles]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/${local.owned}"
      values   = ["owned"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/topology.kubernetes.io/region"
      values   = [local.region]
    }
    condition {
      test     = "StringLike"
      variable = "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass"
      values   = ["*"]
    }
  }

  statement {
    sid       = "ReadInstanceProfiles"
    actions   = ["iam:GetInstanceProfile"]
    resources = [local.profiles]
  }

  statement {
    sid       = "ListInstanceProfiles"
    actions   = ["iam:ListInstanceProfiles"]
    resources = ["*"]
  }

  statement {
    sid       = "FindTheApiServer"
    actions   = ["eks:DescribeCluster"]
    resources = [local.cluster]
  }
}

resource "aws_iam_role_policy" "controller" {
  name   = "karpenter-controller"
  role   = aws_iam_role.controller.id
  policy = data.aws_iam_policy_document.controller.json
}

resource "aws_eks_pod_identity_association" "controller" {
  cluster_name    = var.cluster_name
  namespace       = "karpenter"
  service_account = "karpenter"
  role_arn        = aws_iam_role.controller.arn
}

# --- The nodes Karpenter starts ---------------------------------------------------------

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
  name                 = "${var.name}-karpenter-node"
  description          = "Nodes Karpenter starts for ${var.cluster_name}"
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

# Nodes join with an EC2_LINUX access entry (never the aws-auth ConfigMap).
resource "aws_eks_access_entry" "node" {
  cluster_name  = var.cluster_name
  principal_arn = aws_iam_role.node.arn
  type          = "EC2_LINUX"
}

# --- Interruptions: EventBridge -> SQS -> Karpenter --------------------------------------

resource "aws_sqs_queue" "interruptions" {
  name = "${var.name}-karpenter"
  # Karpenter acts on a message within seconds; an older one describes a node already gone.
  message_retention_seconds = 300
  # SSE-SQS: EventBridge can write to it without a grant on a customer managed key.
  sqs_managed_sse_enabled = true
}

data "aws_iam_policy_document" "queue" {
  statement {
    sid       = "EventBridgeWrites"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.interruptions.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com", "sqs.amazonaws.com"]
    }
  }

  statement {
    sid       = "DenyPlainHttp"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.interruptions.arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "interruptions" {
  queue_url = aws_sqs_queue.interruptions.url
  policy    = data.aws_iam_policy_document.queue.json
}

resource "aws_cloudwatch_event_rule" "interruptions" {
  for_each      = local.events
  name          = "${var.name}-karpenter-${each.key}"
  description   = "Karpenter interruption handling of ${var.cluster_name}: ${each.value.description}"
  event_pattern = jsonencode(each.value.pattern)
}

resource "aws_cloudwatch_event_target" "interruptions" {
  for_each  = local.events
  rule      = aws_cloudwatch_event_rule.interruptions[each.key].name
  target_id = "karpenter-interruption-queue"
  arn       = aws_sqs_queue.interruptions.arn
}
