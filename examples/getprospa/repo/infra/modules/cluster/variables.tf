variable "name" {
  description = "Name of the cluster and prefix of its resources: <project>-<environment>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,32}$", var.name))
    error_message = "name must be a lowercase DNS label of 3-33 characters (<project>-<environment>)."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane, the nodes and the add-ons, for example 1.35. A bump upgrades the control plane, then the add-ons and the nodes."
  type        = string

  validation {
    condition     = can(regex("^1\\.3[0-9]$", var.kubernetes_version))
    error_message = "kubernetes_version must be a Kubernetes minor version from 1.30, such as 1.33 (the charts' preStop uses the kubelet's sleep action, new in 1.30)."
  }
}

variable "vpc_id" {
  description = "ID of the VPC the cluster runs in."
  type        = string

  validation {
    condition     = can(regex("^vpc-", var.vpc_id))
    error_message = "vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Private subnets (one per zone) for the control plane's network interfaces and the nodes. Never public subnets."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for s in var.subnet_ids : can(regex("^subnet-", s))])
    error_message = "subnet_ids must list at least two subnet IDs (subnet-...)."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts Kubernetes secrets (envelope encryption) and the control-plane log group."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Retention of the control-plane log group, in days (a value CloudWatch Logs accepts)."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts, e.g. 90 or 365."
  }
}

variable "instance_types" {
  description = "EC2 instance types of the managed node group, all of one CPU architecture."
  type        = list(string)

  validation {
    condition = length(var.instance_types) >= 1 && alltrue([for t in var.instance_types : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", t))]) && length(distinct([
      for t in var.instance_types : can(regex("^[a-z]+[0-9]+g", t))
    ])) == 1
    error_message = "instance_types must be EC2 instance types of one architecture (all Graviton or all x86)."
  }
}

variable "capacity_type" {
  description = "ON_DEMAND or SPOT nodes."
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "SPOT"], var.capacity_type)
    error_message = "capacity_type must be ON_DEMAND or SPOT."
  }
}

variable "min_nodes" {
  description = "Fewest nodes of the node group."
  type        = number

  validation {
    condition     = var.min_nodes >= 1 && var.min_nodes <= 450 && floor(var.min_nodes) == var.min_nodes
    error_message = "min_nodes must be a whole number from 1 to 450."
  }
}

variable "max_nodes" {
  description = "Most nodes of the node group; at least min_nodes."
  type        = number

  validation {
    condition     = var.max_nodes >= 1 && var.max_nodes <= 450 && floor(var.max_nodes) == var.max_nodes
    error_message = "max_nodes must be a whole number from 1 to 450."
  }
}

variable "node_disk_gb" {
  description = "Size of each node's encrypted gp3 root volume in GiB."
  type        = number
  default     = 50

  validation {
    condition     = var.node_disk_gb >= 20 && var.node_disk_gb <= 1000
    error_message = "node_disk_gb must be between 20 and 1000."
  }
}

variable "cluster_admins" {
  description = "IAM role ARNs given cluster admin (AmazonEKSClusterAdminPolicy, cluster scope) through EKS access entries, never the aws-auth ConfigMap, by a static label: the platform executor and the break-glass people, e.g. { platform = \"arn:aws:iam::111111111111:role/x-dev-platform\" }."
  type        = map(string)

  validation {
    condition     = alltrue([for arn in values(var.cluster_admins) : can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/", arn))])
    error_message = "cluster_admins values must be IAM role ARNs."
  }
}

variable "cluster_viewers" {
  description = "IAM role ARNs that may read the cluster (AmazonEKSViewPolicy, cluster scope: no Secrets), by a static label: the read-only people."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for arn in values(var.cluster_viewers) : can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/", arn))])
    error_message = "cluster_viewers values must be IAM role ARNs."
  }
}

variable "app_deployers" {
  description = "IAM role ARNs that deploy the apps (the app-deploy executor), by a static label: AmazonEKSAdminPolicy scoped to app_namespaces, and the Kubernetes group platformgen:app-deployers, which each app namespace binds to the controllers' resources (TargetGroupBinding, ExternalSecret, SecretStore)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for arn in values(var.app_deployers) : can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/", arn))])
    error_message = "app_deployers values must be IAM role ARNs."
  }

  validation {
    # EKS keeps one access entry per principal.
    condition     = length(distinct(concat(values(var.cluster_admins), values(var.cluster_viewers), values(var.app_deployers)))) == length(concat(values(var.cluster_admins), values(var.cluster_viewers), values(var.app_deployers)))
    error_message = "A role ARN may appear once across cluster_admins, cluster_viewers and app_deployers: EKS gives each principal one access entry."
  }
}

variable "app_namespaces" {
  description = "The app namespaces app_deployers administer (one per container app). Empty: the app deployers get no access entry."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for n in var.app_namespaces : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", n)) && !startswith(n, "kube-") && !contains(["default", "external-secrets"], n)])
    error_message = "app_namespaces must be DNS labels, never a namespace of Kubernetes or of the platform (kube-*, default, external-secrets)."
  }
}

variable "permissions_boundary" {
  description = "ARN of the permissions boundary every IAM role of the module carries (infra/bootstrap: arn:aws:iam::<account>:policy/<project>-<environment>-boundary)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:iam::[0-9]{12}:policy/[A-Za-z0-9+=,.@_/-]+$", var.permissions_boundary))
    error_message = "permissions_boundary must be an IAM managed policy ARN."
  }
}

variable "addons_most_recent" {
  description = "Install each add-on's newest version for the cluster's Kubernetes version instead of the version EKS marks as its default (the tested pairing)."
  type        = bool
  default     = false
}

variable "observability_provider" {
  description = "Where the cluster's logs and metrics go (spec observability.provider): cloudwatch installs the Amazon CloudWatch Observability add-on with its encrypted log groups; datadog leaves it out (the Datadog agent in infra/addons/datadog ships them)."
  type        = string
  default     = "cloudwatch"

  validation {
    condition     = contains(["cloudwatch", "datadog"], var.observability_provider)
    error_message = "observability_provider must be cloudwatch or datadog."
  }
}
