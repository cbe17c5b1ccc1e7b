# Invariants of the cluster module, checked with a mocked AWS provider.

mock_provider "aws" {
  source = "../.mocks"
}

variables {
  name               = "acme-prod"
  kubernetes_version = "1.33"
  vpc_id             = "vpc-0123456789abcdef0"
  subnet_ids         = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
  kms_key_arn        = "arn:aws:kms:ap-southeast-2:111111111111:key/11111111-2222-3333-4444-555555555555"
  log_retention_days = 90
  instance_types     = ["m6i.large", "m6a.large"]
  min_nodes          = 3
  max_nodes          = 9
  cluster_admins = {
    platform      = "arn:aws:iam::111111111111:role/acme-prod-platform"
    break-glass-0 = "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/ap-southeast-2/AWSReservedSSO_BreakGlass_0123456789abcdef"
  }
  cluster_viewers      = { read-only-0 = "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/ap-southeast-2/AWSReservedSSO_ReadOnly_0123456789abcdef" }
  app_deployers        = { app-deploy = "arn:aws:iam::111111111111:role/acme-prod-app-deploy" }
  app_namespaces       = ["web", "api"]
  permissions_boundary = "arn:aws:iam::111111111111:policy/acme-prod-boundary"
}

run "the_api_endpoint_is_private" {
  command = apply

  assert {
    condition     = aws_eks_cluster.this.vpc_config[0].endpoint_public_access == false && aws_eks_cluster.this.vpc_config[0].endpoint_private_access == true
    error_message = "The Kubernetes API must be reachable only from inside the VPC."
  }
  assert {
    condition     = toset(aws_eks_cluster.this.vpc_config[0].subnet_ids) == toset(var.subnet_ids) && toset(aws_eks_node_group.this.subnet_ids) == toset(var.subnet_ids)
    error_message = "Control plane interfaces and nodes must sit in the given private subnets."
  }
}

run "secrets_are_encrypted_and_every_log_is_on" {
  command = apply

  assert {
    condition     = aws_eks_cluster.this.encryption_config[0].provider[0].key_arn == var.kms_key_arn && toset(aws_eks_cluster.this.encryption_config[0].resources) == toset(["secrets"])
    error_message = "Kubernetes secrets must be envelope-encrypted with the CMK."
  }
  assert {
    condition     = toset(aws_eks_cluster.this.enabled_cluster_log_types) == toset(["api", "audit", "authenticator", "controllerManager", "scheduler"]) && aws_cloudwatch_log_group.cluster.kms_key_id == var.kms_key_arn
    error_message = "Every control-plane log type goes to an encrypted log group."
  }
}

run "access_entries_not_aws_auth" {
  command = apply

  assert {
    condition     = aws_eks_cluster.this.access_config[0].authentication_mode == "API" && aws_eks_cluster.this.access_config[0].bootstrap_cluster_creator_admin_permissions == false
    error_message = "Access is granted only through EKS access entries (authentication mode API), never the aws-auth ConfigMap or an implicit creator admin."
  }
  assert {
    condition     = aws_eks_access_entry.admin["platform"].principal_arn == var.cluster_admins.platform && one(aws_eks_access_policy_association.admin["platform"].access_scope).type == "cluster" && endswith(aws_eks_access_policy_association.admin["platform"].policy_arn, "/AmazonEKSClusterAdminPolicy")
    error_message = "The platform executor (and each break-glass role) gets a cluster-admin access entry."
  }
}

run "the_app_deployer_administers_only_the_app_namespaces" {
  command = apply

  assert {
    condition     = one(aws_eks_access_policy_association.app_deployer["app-deploy"].access_scope).type == "namespace" && toset(one(aws_eks_access_policy_association.app_deployer["app-deploy"].access_scope).namespaces) == toset(["api", "web"]) && endswith(aws_eks_access_policy_association.app_deployer["app-deploy"].policy_arn, "/AmazonEKSAdminPolicy")
    error_message = "The app-deploy executor is admin of the app namespaces only (AmazonEKSAdminPolicy, namespace scope), never of the cluster."
  }
  assert {
    condition     = aws_eks_access_entry.app_deployer["app-deploy"].kubernetes_groups == toset(["platformgen:app-deployers"]) && length(aws_eks_access_policy_association.admin) == 2 && !contains(values(var.cluster_admins), var.app_deployers["app-deploy"])
    error_message = "The app-deploy executor is in the group each app namespace binds to the controllers' resources, and is no cluster admin."
  }
  assert {
    condition     = one(aws_eks_access_policy_association.viewer["read-only-0"].access_scope).type == "cluster" && endswith(aws_eks_access_policy_association.viewer["read-only-0"].policy_arn, "/AmazonEKSViewPolicy")
    error_message = "Read-only people view the cluster without Secrets (AmazonEKSViewPolicy)."
  }
}

run "without_container_apps_the_app_deployer_gets_no_entry" {
  command = apply

  variables {
    app_namespaces = []
  }

  assert {
    condition     = length(aws_eks_access_entry.app_deployer) == 0 && length(aws_eks_access_policy_association.app_deployer) == 0
    error_message = "With no app namespace the app-deploy executor gets no access at all (a namespace scope cannot be empty)."
  }
}

run "refuses_a_principal_in_two_entries" {
  command = plan

  variables {
    cluster_viewers = { read-only-0 = "arn:aws:iam::111111111111:role/acme-prod-platform" }
  }

  expect_failures = [var.app_deployers]
}

run "every_role_carries_the_boundary" {
  command = apply

  assert {
    condition     = alltrue([for r in [aws_iam_role.cluster, aws_iam_role.node, aws_iam_role.load_balancer_controller, aws_iam_role.external_secrets] : r.permissions_boundary == var.permissions_boundary])
    error_message = "Every role of the cluster module carries the permissions boundary."
  }
}

run "nodes_require_imdsv2_with_hop_limit_one" {
  command = apply

  assert {
    condition     = aws_launch_template.node.metadata_options[0].http_tokens == "required" && aws_launch_template.node.metadata_options[0].http_put_response_hop_limit == 1
    error_message = "Nodes must require IMDSv2 with a hop limit of 1, so pods cannot take the node's credentials."
  }
  assert {
    condition     = aws_launch_template.node.block_device_mappings[0].ebs[0].encrypted == "true"
    error_message = "Node volumes must be encrypted."
  }
  assert {
    condition     = aws_eks_node_group.this.ami_type == "AL2023_x86_64_STANDARD" && aws_eks_node_group.this.scaling_config[0].min_size == 3 && aws_eks_node_group.this.scaling_config[0].max_size == 9
    error_message = "The node group follows the instance architecture and size bounds."
  }
}

run "node_security_group_admits_no_address_range" {
  command = apply

  assert {
    condition     = aws_vpc_security_group_ingress_rule.node_from_node.referenced_security_group_id == aws_security_group.node.id && aws_vpc_security_group_ingress_rule.node_from_node.cidr_ipv4 == null
    error_message = "Nodes admit only their own security group (the ALB and control plane add theirs)."
  }
}

run "network_policy_is_enforced" {
  command = apply

  assert {
    condition     = try(jsondecode(aws_eks_addon.before_nodes["vpc-cni"].configuration_values).enableNetworkPolicy, null) == "true"
    error_message = "The vpc-cni add-on must enforce NetworkPolicy (enableNetworkPolicy = \"true\"): without it the charts' policies do nothing."
  }
}

run "the_database_path_has_its_own_security_group" {
  command = apply
  # A state of its own, so the groups are created with the ids below.
  state_key = "database_path"

  override_resource {
    target = aws_security_group.node
    values = { id = "sg-00000000000000node" }
  }
  override_resource {
    target = aws_security_group.database_clients
    values = { id = "sg-000000000dbclients" }
  }

  assert {
    condition     = output.database_client_security_group_id == aws_security_group.database_clients.id && output.database_client_security_group_id != output.node_security_group_id
    error_message = "The database's clients are a security group of their own, not the node group."
  }
  assert {
    condition     = contains(aws_launch_template.node.vpc_security_group_ids, aws_security_group.database_clients.id) && contains(aws_launch_template.node.vpc_security_group_ids, aws_security_group.node.id)
    error_message = "The nodes carry the database clients' group (pods on the primary interface use the node's groups)."
  }
}

run "pod_identity_for_the_controllers" {
  command = apply

  assert {
    condition     = contains(keys(aws_eks_addon.before_nodes), "eks-pod-identity-agent")
    error_message = "The Pod Identity agent add-on must be installed."
  }
  assert {
    condition     = aws_eks_pod_identity_association.load_balancer_controller.namespace == "kube-system" && aws_eks_pod_identity_association.load_balancer_controller.service_account == "aws-load-balancer-controller" && aws_eks_pod_identity_association.external_secrets.namespace == "external-secrets"
    error_message = "The load balancer controller and External Secrets Operator get their roles through Pod Identity."
  }
}

run "nodes_and_addons_follow_the_kubernetes_version" {
  command = plan

  override_data {
    target = data.aws_eks_addon_version.this["coredns"]
    values = { version = "v1.12.1-eksbuild.2" }
  }
  override_data {
    target = data.aws_eks_addon_version.this["vpc-cni"]
    values = { version = "v1.19.5-eksbuild.1" }
  }

  assert {
    condition     = aws_eks_node_group.this.version == "1.33"
    error_message = "The node group must run the cluster's Kubernetes version, or a version bump upgrades only the control plane."
  }
  assert {
    condition     = alltrue([for k, v in data.aws_eks_addon_version.this : v.kubernetes_version == "1.33" && v.addon_name == k])
    error_message = "Each add-on's version must be resolved for the cluster's Kubernetes version."
  }
  assert {
    condition     = aws_eks_addon.coredns.addon_version == "v1.12.1-eksbuild.2" && aws_eks_addon.before_nodes["vpc-cni"].addon_version == "v1.19.5-eksbuild.1" && alltrue([for k, a in aws_eks_addon.before_nodes : a.addon_version == data.aws_eks_addon_version.this[k].version])
    error_message = "Every add-on must be installed at the version resolved for the cluster's Kubernetes version."
  }
}

# Applied on the state the runs above left at 1.33. The add-on versions depend on the
# cluster, so Terraform reads them after the control plane has moved.
run "a_version_bump_moves_nodes_and_addons" {
  command = apply
  variables {
    kubernetes_version = "1.34"
  }

  override_data {
    target = data.aws_eks_addon_version.this["coredns"]
    values = { version = "v1.12.4-eksbuild.1" }
  }
  override_data {
    target = data.aws_eks_addon_version.this["kube-proxy"]
    values = { version = "v1.34.0-eksbuild.2" }
  }

  assert {
    condition     = aws_eks_cluster.this.version == "1.34" && aws_eks_node_group.this.version == "1.34"
    error_message = "A Kubernetes version bump must move the control plane and the nodes."
  }
  assert {
    condition     = alltrue([for v in values(data.aws_eks_addon_version.this) : v.kubernetes_version == "1.34"]) && aws_eks_addon.coredns.addon_version == "v1.12.4-eksbuild.1" && aws_eks_addon.before_nodes["kube-proxy"].addon_version == "v1.34.0-eksbuild.2"
    error_message = "A Kubernetes version bump must move every add-on to its version for the new Kubernetes version."
  }
  assert {
    condition     = alltrue([for v in values(data.aws_eks_addon_version.this) : v.most_recent == false])
    error_message = "Add-ons take the version EKS marks as the default for the Kubernetes version unless addons_most_recent says otherwise."
  }
}

run "graviton_nodes_get_the_arm_ami" {
  command = apply
  variables {
    instance_types = ["m7g.large"]
  }

  assert {
    condition     = aws_eks_node_group.this.ami_type == "AL2023_ARM_64_STANDARD"
    error_message = "Graviton instance types need the ARM AMI."
  }
}

run "refuses_mixed_architectures" {
  command = plan
  variables {
    instance_types = ["m6i.large", "m7g.large"]
  }
  expect_failures = [var.instance_types]
}

run "refuses_max_below_min" {
  command = plan
  variables {
    max_nodes = 2
  }
  expect_failures = [aws_eks_node_group.this]
}

# 1.29 and older have no preStop sleep action (the charts' drain pause) and no EKS
# standard support: refused, as the spec schema refuses them.
run "refuses_kubernetes_before_1_30" {
  command = plan
  variables {
    kubernetes_version = "1.29"
  }
  expect_failures = [var.kubernetes_version]
}

# --- Observability (observability.tf) ------------------------------------------------

# The CloudWatch Observability add-on ships container logs and metrics, with Pod Identity
# for its agent (a role under the boundary that may write only to the Container Insights
# log groups Terraform created, encrypted and with the spec's retention), and scrapes the
# apps' /metrics in the app namespaces.
run "cloudwatch_observability_ships_logs_and_metrics_to_encrypted_groups" {
  command = apply

  assert {
    condition = toset([for g in aws_cloudwatch_log_group.container_insights : g.name]) == toset([
      for t in ["application", "dataplane", "host", "performance", "prometheus"] : "/aws/containerinsights/acme-prod/${t}"
    ]) && alltrue([for g in aws_cloudwatch_log_group.container_insights : g.kms_key_id == var.kms_key_arn && g.retention_in_days == var.log_retention_days])
    error_message = "The add-on's log groups must exist before it, encrypted with the environment's key and kept for the spec's retention."
  }
  assert {
    condition     = aws_eks_addon.cloudwatch_observability[0].addon_name == "amazon-cloudwatch-observability" && one(aws_eks_addon.cloudwatch_observability[0].pod_identity_association).service_account == "cloudwatch-agent" && one(aws_eks_addon.cloudwatch_observability[0].pod_identity_association).role_arn == aws_iam_role.cloudwatch_agent[0].arn
    error_message = "The add-on's cloudwatch-agent service account gets its role through Pod Identity."
  }
  assert {
    condition     = aws_iam_role.cloudwatch_agent[0].permissions_boundary == var.permissions_boundary
    error_message = "The agent's role carries the permissions boundary."
  }
  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.cloudwatch_agent.statement : !anytrue([for a in s.actions : contains(["logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:*", "*"], a)])
      ]) && one([for s in data.aws_iam_policy_document.cloudwatch_agent.statement : s.resources if contains(s.actions, "logs:PutLogEvents")]) == toset([
      "arn:aws:logs:*:111111111111:log-group:/aws/containerinsights/acme-prod/*",
      "arn:aws:logs:*:111111111111:log-group:/aws/containerinsights/acme-prod/*:log-stream:*",
    ])
    error_message = "The agent may write log events to this cluster's Container Insights groups only, and never create a log group (it would be unencrypted and never expire)."
  }
  assert {
    condition = jsondecode(aws_eks_addon.cloudwatch_observability[0].configuration_values).containerLogs.enabled == true && [
      for c in jsondecode(aws_eks_addon.cloudwatch_observability[0].configuration_values).agent.prometheus.config.scrape_configs : c.kubernetes_sd_configs[0].namespaces.names
    ] == [["api", "web"]] && jsondecode(aws_eks_addon.cloudwatch_observability[0].configuration_values).agent.config.logs.metrics_collected.prometheus.log_group_name == "/aws/containerinsights/acme-prod/prometheus"
    error_message = "Container logs must be on, and the agent must scrape the app namespaces' /metrics into the encrypted prometheus log group."
  }
}

run "datadog_leaves_the_cloudwatch_add_on_out" {
  command = plan
  variables {
    observability_provider = "datadog"
  }

  assert {
    condition     = length(aws_eks_addon.cloudwatch_observability) == 0 && length(aws_iam_role.cloudwatch_agent) == 0 && length(aws_cloudwatch_log_group.container_insights) == 0
    error_message = "With observability.provider datadog the Datadog agent ships logs and metrics: no CloudWatch add-on, role or log groups."
  }
}
