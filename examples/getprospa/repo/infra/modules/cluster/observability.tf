# Logs and metrics of the cluster and its apps (observability.provider cloudwatch, the
# default): the Amazon CloudWatch Observability add-on runs the CloudWatch agent
# (Container Insights, and the apps' /metrics scraped as Prometheus and sent to CloudWatch
# as embedded metric format) and Fluent Bit (every container's logs), both under the
# cloudwatch-agent service account, with Pod Identity (add-on 3.1.0 or later).
#
# Terraform creates the add-on's log groups first, encrypted with the environment's key
# and kept for the spec's retention; the agent's role may write to them but not create
# log groups, so nothing it sends lands in an unencrypted group that never expires.
#
# With observability.provider datadog the add-on is not installed: the Datadog agent
# (infra/addons/datadog/, `make addons`) ships logs and metrics instead.

locals {
  cloudwatch_observability = var.observability_provider == "cloudwatch"
  container_insights       = "/aws/containerinsights/${var.name}"
  # application: container logs (Fluent Bit); dataplane and host: node logs (on AL2023
  # nodes the add-on sends none by default, AWS documents); performance: Container
  # Insights; prometheus: the apps' scraped metrics (embedded metric format).
  container_insights_log_groups = local.cloudwatch_observability ? toset(["application", "dataplane", "host", "performance", "prometheus"]) : toset([])
  # The apps' metrics (templates/service observability.py) that become CloudWatch
  # metrics, by app namespace, route and status: request counts and latency sums and
  # counts (the histogram buckets stay in the log group, queryable with Logs Insights).
  prometheus_metric_declarations = [
    {
      source_labels    = ["job"]
      label_matcher    = "^platform-apps$"
      dimensions       = [["ClusterName", "Namespace"], ["ClusterName", "Namespace", "route", "status"]]
      metric_selectors = ["^http_requests_total$"]
    },
    {
      source_labels    = ["job"]
      label_matcher    = "^platform-apps$"
      dimensions       = [["ClusterName", "Namespace"], ["ClusterName", "Namespace", "route"]]
      metric_selectors = ["^http_request_duration_seconds_(sum|count)$", "^db_pool_connections_(in_use|idle)$"]
    },
  ]
  cloudwatch_observability_configuration = {
    containerLogs = { enabled = true }
    agent = {
      config = {
        logs = {
          metrics_collected = {
            kubernetes = { enhanced_container_insights = true }
            prometheus = {
              cluster_name           = var.name
              log_group_name         = "${local.container_insights}/prometheus"
              prometheus_config_path = "/etc/prometheusconfig/prometheus.yaml"
              emf_processor = {
                metric_namespace   = "ContainerInsights/Prometheus"
                metric_declaration = local.prometheus_metric_declarations
              }
            }
          }
        }
      }
      # The app pods' /metrics, on their port named http, in the app namespaces only.
      prometheus = {
        config = {
          global = { scrape_interval = "60s", scrape_timeout = "10s" }
          scrape_configs = [{
            job_name              = "platform-apps"
            metrics_path          = "/metrics"
            kubernetes_sd_configs = [{ role = "pod", namespaces = { names = sort(var.app_namespaces) } }]
            relabel_configs = [
              { source_labels = ["__meta_kubernetes_pod_container_port_name"], action = "keep", regex = "http" },
              { source_labels = ["__meta_kubernetes_pod_phase"], action = "drop", regex = "Pending|Succeeded|Failed" },
              { source_labels = ["__meta_kubernetes_namespace"], action = "replace", target_label = "Namespace" },
              { source_labels = ["__meta_kubernetes_pod_name"], action = "replace", target_label = "pod_name" },
            ]
          }]
        }
      }
    }
  }
}

resource "aws_cloudwatch_log_group" "container_insights" {
  #checkov:skip=CKV_AWS_338:Retention is the spec's observability.logRetentionDays (default 90 days); set 365 or more there where compliance asks for it.
  for_each          = local.container_insights_log_groups
  name              = "${local.container_insights}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# What CloudWatchAgentServerPolicy grants the agent, narrowed: metrics, the node and
# volume descriptions Container Insights reads, and log events into this cluster's
# Container Insights groups only (no CreateLogGroup, no retention changes).
data "aws_iam_policy_document" "cloudwatch_agent" {
  statement {
    sid       = "PublishMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringLike"
      variable = "cloudwatch:namespace"
      values   = ["ContainerInsights", "ContainerInsights/*"]
    }
  }

  statement {
    sid       = "DescribeNodesAndVolumes"
    actions   = ["ec2:DescribeVolumes", "ec2:DescribeTags"]
    resources = ["*"]
  }

  statement {
    sid     = "WriteThisClustersLogGroups"
    actions = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    resources = [
      "arn:${local.partition}:logs:*:${local.account_id}:log-group:${local.container_insights}/*",
      "arn:${local.partition}:logs:*:${local.account_id}:log-group:${local.container_insights}/*:log-stream:*",
    ]
  }
}

resource "aws_iam_role" "cloudwatch_agent" {
  count                = local.cloudwatch_observability ? 1 : 0
  name                 = "${var.name}-cloudwatch-agent"
  assume_role_policy   = data.aws_iam_policy_document.pod_identity_assume.json
  permissions_boundary = var.permissions_boundary
}

resource "aws_iam_role_policy" "cloudwatch_agent" {
  count  = local.cloudwatch_observability ? 1 : 0
  name   = "container-insights"
  role   = aws_iam_role.cloudwatch_agent[0].id
  policy = data.aws_iam_policy_document.cloudwatch_agent.json
}

data "aws_eks_addon_version" "cloudwatch_observability" {
  count              = local.cloudwatch_observability ? 1 : 0
  addon_name         = "amazon-cloudwatch-observability"
  kubernetes_version = aws_eks_cluster.this.version
  most_recent        = var.addons_most_recent
}

resource "aws_eks_addon" "cloudwatch_observability" {
  count                       = local.cloudwatch_observability ? 1 : 0
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "amazon-cloudwatch-observability"
  addon_version               = data.aws_eks_addon_version.cloudwatch_observability[0].version
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  configuration_values        = jsonencode(local.cloudwatch_observability_configuration)

  pod_identity_association {
    role_arn        = aws_iam_role.cloudwatch_agent[0].arn
    service_account = "cloudwatch-agent"
  }

  # The agent runs on the nodes; its log groups and permissions exist before it does.
  depends_on = [
    aws_eks_node_group.this,
    aws_eks_addon.before_nodes,
    aws_cloudwatch_log_group.container_insights,
    aws_iam_role_policy.cloudwatch_agent,
  ]
}
