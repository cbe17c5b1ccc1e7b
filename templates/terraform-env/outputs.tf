# `make deploy ENV=<env>` writes app_values to a values file for each app's chart
# (its `platform:` key, docs/contracts.md). Keys and shapes are a contract with the chart.
output "app_values" {
  description = "Per container app: what its Helm chart needs under `platform:` (docs/contracts.md)."
  value = {
    for k, a in local.container_apps : k => {
      imageRepository = "${local.registry}/${var.project}/${k}"
      roleArn         = module.workloads.role_arns[k]
      targetGroupArn  = a.public ? module.load_balancer[0].target_group_arns[k] : null
      databaseHost    = a.database && local.has_database ? module.database[0].address : null
      databasePort    = a.database && local.has_database ? module.database[0].port : null
      databaseName    = a.database && local.has_database ? module.database[0].db_name : null
      # The app's own database user and its migrator (the hook), never the master.
      databaseSecretArn         = a.database && local.has_database ? module.workloads.database_user_secret_arns[k] : null
      databaseMigratorSecretArn = a.database && local.has_database ? module.workloads.database_user_secret_arns["${k}-migrator"] : null
      secretPrefix              = local.secret_prefix
      # The NetworkPolicy's only sources (a public app) and database destinations.
      loadBalancerCidrs = a.public ? module.network.load_balancer_subnet_cidrs : null
      databaseCidrs     = a.database && local.has_database ? module.network.isolated_subnet_cidrs : null
    }
  }
}

output "static_sites" {
  description = "Per public static web app: the bucket its built assets go to and the distribution to invalidate."
  value = {
    for k, a in local.public_static : k => {
      bucket         = module.cdn[0].static_buckets[k]
      path           = a.path
      distributionId = module.cdn[0].distribution_id
    }
  }
}

output "cluster" {
  description = "What `make infra-addons` needs to install the controllers: cluster name, region, VPC, and Karpenter's queue and node role."
  value = {
    name                       = module.cluster.cluster_name
    region                     = var.region
    vpcId                      = module.network.vpc_id
    karpenterInterruptionQueue = module.karpenter.interruption_queue_name
    karpenterNodeRole          = module.karpenter.node_role_name
    # observability.provider datadog: the role the External Secrets Operator assumes to
    # read the agent's API key (infra/addons/datadog); null otherwise.
    datadogApiKeyRoleArn = module.workloads.datadog_api_key_role_arn
  }
}

output "load_balancer_subnets" {
  description = "The load-balancer subnet tier (the internal ALB and CloudFront's VPC origin interfaces): ids and ranges in zone order, for network rules that name traffic from the load balancer."
  value = {
    ids   = module.network.load_balancer_subnet_ids
    cidrs = module.network.load_balancer_subnet_cidrs
  }
}

output "name_servers" {
  description = "Name servers of the environment's zone: delegate the domain to them."
  value       = local.has_edge ? aws_route53_zone.this[0].name_servers : []
}

output "database" {
  description = "What the database kit needs inside the VPC (make database-users-apply, make database-run): the primary's address, port and schema, the master secret (break-glass: the platform executor and people only) and each database user's secret. null without a database."
  value = local.has_database ? {
    host            = module.database[0].address
    port            = module.database[0].port
    dbname          = module.database[0].db_name
    masterSecretArn = module.database[0].master_secret_arn
    userSecretArns  = module.workloads.database_user_secret_arns
  } : null
}

output "alarm_topic_arn" {
  description = "SNS topic of every alarm."
  value       = module.foundation.alarm_topic_arn
}

output "executors" {
  description = "The environment's executors by stage (apply, deploy): CodeBuild project and log group (make execute starts one and streams its log)."
  value = {
    for stage, project in module.executors.project_names : stage => {
      project  = project
      logGroup = module.executors.log_group_names[stage]
    }
  }
}

output "migration" {
  description = "The DMS migration (its target environment only, else null): the NAT addresses to add to DigitalOcean's trusted sources, the replication task to start after `dbkit schema copy`, and the dms user's secret."
  value = length(module.migration) == 0 ? null : {
    natAddresses       = module.network.nat_public_ips
    replicationTaskArn = module.migration[0].replication_task_arn
    targetSecretArn    = module.migration[0].target_secret_arn
  }
}
