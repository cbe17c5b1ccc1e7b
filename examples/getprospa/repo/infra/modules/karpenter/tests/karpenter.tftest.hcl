# Invariants of the karpenter module, checked with a mocked AWS provider.

mock_provider "aws" {
  source = "../.mocks"
}

variables {
  name                 = "acme-prod"
  cluster_name         = "acme-prod"
  permissions_boundary = "arn:aws:iam::111111111111:policy/acme-prod-boundary"
}

run "controller_through_pod_identity" {
  command = apply

  assert {
    condition     = aws_eks_pod_identity_association.controller.namespace == "karpenter" && aws_eks_pod_identity_association.controller.service_account == "karpenter" && aws_eks_pod_identity_association.controller.role_arn == aws_iam_role.controller.arn && aws_eks_pod_identity_association.controller.cluster_name == "acme-prod"
    error_message = "Karpenter's service account (karpenter/karpenter) must get its role through EKS Pod Identity."
  }
  assert {
    condition     = toset(one(data.aws_iam_policy_document.controller_assume.statement[0].principals).identifiers) == toset(["pods.eks.amazonaws.com"]) && toset(data.aws_iam_policy_document.controller_assume.statement[0].actions) == toset(["sts:AssumeRole", "sts:TagSession"]) && toset(one(data.aws_iam_policy_document.controller_assume.statement[0].condition).values) == toset(["111111111111"])
    error_message = "Only EKS Pod Identity of this account may assume the controller's role (no IRSA, no other principal)."
  }
}

run "every_role_carries_the_boundary" {
  command = apply

  assert {
    condition     = alltrue([for r in [aws_iam_role.controller, aws_iam_role.node] : r.permissions_boundary == var.permissions_boundary])
    error_message = "Every role of the module carries the platform's permissions boundary."
  }
}

run "the_controller_acts_only_on_this_clusters_resources" {
  command = apply

  # Every statement that creates, tags or deletes instances, launch templates or instance
  # profiles names this cluster's ownership tag.
  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.controller.statement :
      anytrue([for c in s.condition : endswith(c.variable, "/kubernetes.io/cluster/acme-prod") && toset(c.values) == toset(["owned"])])
      if length(setintersection(toset(s.actions), toset(["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate", "ec2:CreateTags", "ec2:CreateLaunchTemplate", "iam:CreateInstanceProfile", "iam:TagInstanceProfile", "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"]))) > 0
    ])
    error_message = "Karpenter may create, tag and delete only instances, launch templates and instance profiles tagged as this cluster's."
  }
  assert {
    condition     = toset(one([for s in data.aws_iam_policy_document.controller.statement : s.resources if contains(s.actions, "iam:PassRole")])) == toset([aws_iam_role.node.arn]) && toset(one([for s in data.aws_iam_policy_document.controller.statement : one(s.condition).values if contains(s.actions, "iam:PassRole")])) == toset(["ec2.amazonaws.com"])
    error_message = "Karpenter may pass only its node role, and only to EC2."
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.controller.statement : !contains(s.actions, "*") && alltrue([for a in s.actions : !endswith(a, ":*")])])
    error_message = "The controller's policy names its actions; no wildcard action."
  }
}

run "nodes_join_through_an_access_entry" {
  command = apply

  assert {
    condition     = aws_eks_access_entry.node.type == "EC2_LINUX" && aws_eks_access_entry.node.principal_arn == aws_iam_role.node.arn
    error_message = "The nodes Karpenter starts join through an EC2_LINUX access entry of their own role (never aws-auth)."
  }
  assert {
    condition     = toset([for a in aws_iam_role_policy_attachment.node : a.policy_arn]) == toset(["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly", "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"])
    error_message = "Karpenter's nodes get the node policies the managed node group's have, and nothing more."
  }
}

run "interruptions_reach_karpenter_over_tls_only" {
  command = apply

  assert {
    condition     = length(aws_cloudwatch_event_target.interruptions) == 5 && alltrue([for t in aws_cloudwatch_event_target.interruptions : t.arn == aws_sqs_queue.interruptions.arn])
    error_message = "Spot interruptions, rebalance recommendations, state changes, capacity reservation interruptions and AWS Health events all go to the interruption queue."
  }
  assert {
    condition     = toset([for r in aws_cloudwatch_event_rule.interruptions : jsondecode(r.event_pattern)["detail-type"][0]]) == toset(["AWS Health Event", "EC2 Spot Instance Interruption Warning", "EC2 Instance Rebalance Recommendation", "EC2 Instance State-change Notification", "EC2 Capacity Reservation Instance Interruption Warning"])
    error_message = "The rules match the five event types Karpenter handles."
  }
  assert {
    condition     = aws_sqs_queue.interruptions.sqs_managed_sse_enabled == true && aws_sqs_queue.interruptions.message_retention_seconds == 300
    error_message = "The queue is encrypted and keeps messages for five minutes."
  }
  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.queue.statement : s.effect == "Deny" && anytrue([for c in s.condition : c.variable == "aws:SecureTransport" && toset(c.values) == toset(["false"])])])
    error_message = "The queue refuses every request without TLS."
  }
  assert {
    condition     = toset(one([for s in data.aws_iam_policy_document.controller.statement : s.resources if contains(s.actions, "sqs:ReceiveMessage")])) == toset([aws_sqs_queue.interruptions.arn])
    error_message = "Karpenter reads its own interruption queue only."
  }
}
