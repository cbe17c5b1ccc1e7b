# Every value comes from platform.yaml through platform.auto.tfvars.json (JSON
# tfvars are data: never interpolated). Change platform.yaml, not that file.

variable "project" {
  description = "Project name (spec project.name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.project)) && length(var.project) >= 3 && length(var.project) <= 22
    error_message = "project must be a DNS label of 3-22 characters with single hyphens."
  }
}

variable "environment" {
  description = "Environment name (a key of spec environments)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be 2-10 lowercase letters and digits, starting with a letter."
  }
}

variable "tier" {
  description = "development, staging or production."
  type        = string

  validation {
    condition     = contains(["development", "staging", "production"], var.tier)
    error_message = "tier must be development, staging or production."
  }
}

variable "account_id" {
  description = "The environment's AWS account; the providers refuse any other."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of the environment."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[1-9]$", var.region))
    error_message = "region must be an AWS region such as ap-southeast-2."
  }
}

variable "domain" {
  description = "DNS name the environment serves on."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lowercase DNS name."
  }
}

variable "tags" {
  description = "Owner, CostCentre and Repository tags added to every resource."
  type = object({
    owner       = string
    cost_centre = string
    repository  = string
  })
}

variable "network" {
  description = "VPC range, NAT layout, and whether AWS services are reached through interface VPC endpoints (true) or through NAT (false)."
  type = object({
    vpc_cidr            = string
    nat_gateways        = string
    interface_endpoints = optional(bool, true)
  })
}

variable "deletion_protection" {
  description = "Deletion protection of the load balancer (the database has its own setting)."
  type        = bool
}

variable "cluster" {
  description = "EKS version and managed node group."
  type = object({
    kubernetes_version = string
    instance_types     = list(string)
    min_nodes          = number
    max_nodes          = number
    capacity_type      = string
  })
}

variable "database" {
  description = "RDS for MySQL settings; null for a platform without a database."
  type = object({
    engine_version           = string
    db_name                  = string
    instance_class           = string
    allocated_storage_gb     = number
    max_allocated_storage_gb = number
    multi_az                 = bool
    deletion_protection      = bool
    backup_retention_days    = number
    backup_window            = string
    maintenance_window       = string
    read_replicas            = number
    parameters               = map(string)
    # Read with defaults: a tfvars file rendered before these fields still plans.
    master_password_version = optional(number, 1)
    users                   = optional(list(string), [])
  })
  default = null

  validation {
    condition     = var.database == null || try(var.database.master_password_version >= 1 && floor(var.database.master_password_version) == var.database.master_password_version, false)
    error_message = "database.master_password_version must be a whole number, 1 or more (environments.<env>.database.masterPasswordVersion)."
  }
}

variable "backup" {
  description = "Where the daily database snapshots are copied (spec backup): the backup account (its vault in this region, infra/backup) and/or a DR region of this account, and how long copies are kept. null without a database."
  type = object({
    account_id          = optional(string)
    dr_region           = optional(string)
    copy_retention_days = number
  })
  default = null

  validation {
    condition     = var.backup == null || try(var.backup.account_id != null || var.backup.dr_region != null, false)
    error_message = "backup needs account_id or dr_region: a backup that stays in the account and region it protects is lost with them."
  }

  validation {
    condition     = var.backup == null || (try(var.backup.account_id, null) == null || can(regex("^[0-9]{12}$", var.backup.account_id)))
    error_message = "backup.account_id must be a 12-digit AWS account id."
  }

  validation {
    condition     = var.backup == null || (try(var.backup.dr_region, null) == null || can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[1-9]$", var.backup.dr_region)))
    error_message = "backup.dr_region must be an AWS region such as ap-southeast-4."
  }
}

variable "apps" {
  description = "The apps by name: kind, hosting (static or container), exposure, path, port, readiness path, database access and the secrets they read."
  type = map(object({
    kind        = string
    hosting     = string
    public      = bool
    path        = optional(string)
    port        = optional(number)
    health_path = optional(string)
    database    = bool
    secrets     = list(string)
  }))

  validation {
    condition     = alltrue([for k, a in var.apps : contains(["api", "web", "worker"], a.kind) && contains(["static", "container"], a.hosting)])
    error_message = "apps: kind must be api, web or worker, and hosting static or container."
  }

  validation {
    condition     = alltrue([for k, a in var.apps : a.hosting == "static" || (a.port != null && a.health_path != null)])
    error_message = "apps: container apps need a port and a readiness path."
  }

  validation {
    condition     = alltrue([for k, a in var.apps : !a.public || a.path != null])
    error_message = "apps: public apps need a path."
  }
}

variable "edge" {
  description = "WAF rate limit on the API, the managed rule groups' version overrides and trial modes, and the oldest TLS version at the edge."
  type = object({
    waf_rate_limit       = number
    tls_minimum_protocol = string
    waf_rule_groups = optional(map(object({
      version = optional(string)
      mode    = optional(string, "enforce")
    })), {})
  })
}

variable "observability" {
  description = "Where logs and metrics go (cloudwatch, or datadog with its site and API key secret), log retention in days and the addresses the alarm topic emails."
  type = object({
    provider           = optional(string, "cloudwatch")
    log_retention_days = number
    alarm_emails       = list(string)
    datadog = optional(object({
      site           = string
      api_key_secret = string
    }))
  })

  validation {
    condition     = contains(["cloudwatch", "datadog"], var.observability.provider) && (var.observability.provider == "datadog") == (var.observability.datadog != null)
    error_message = "observability.provider must be cloudwatch or datadog, and datadog (site and api_key_secret) is set exactly when it is datadog."
  }
}

variable "access" {
  description = "People with EKS access entries, by IAM role ARN (spec environments.<env>.access, e.g. IAM Identity Center permission-set roles): read_only may view every object but Secrets, break_glass is cluster admin."
  type = object({
    read_only   = list(string)
    break_glass = list(string)
  })
  default = { read_only = [], break_glass = [] }

  validation {
    condition     = alltrue([for arn in concat(var.access.read_only, var.access.break_glass) : can(regex("^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$", arn))])
    error_message = "access: read_only and break_glass hold IAM role ARNs (arn:aws:iam::<12 digits>:role/<path/>name), without wildcards."
  }

  validation {
    condition     = length(setintersection(var.access.read_only, var.access.break_glass)) == 0
    error_message = "access: a role ARN is either read_only or break_glass, not both (EKS gives a principal one access entry)."
  }
}

variable "artifacts" {
  description = "The artifacts account (infra/artifacts; spec artifacts.account, or the last production-tier environment's) and its region (spec project.region): every environment pulls the same images from its registry, by digest, and its executors build the source bundles of its bucket <project>-artifacts-<account>."
  type = object({
    account_id = string
    region     = string
  })

  validation {
    condition     = can(regex("^[0-9]{12}$", var.artifacts.account_id)) && can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[1-9]$", var.artifacts.region))
    error_message = "artifacts: account_id must be 12 digits and region an AWS region."
  }
}

variable "migration" {
  description = "The DMS migration from DigitalOcean (spec migration), set only in its target environment, null elsewhere: the source (schema, port, Secrets Manager secret name, TLS mode and the repository path of DigitalOcean's CA), the table selection, the replication instance and task settings, and the migration window (open: local_infile=1 on this environment's database)."
  type = object({
    source = object({
      database            = string
      port                = number
      secret_name         = string
      tls                 = string
      ca_certificate_path = string
    })
    tables = object({
      include = list(string)
      exclude = list(string)
    })
    dms = object({
      instance_class       = string
      allocated_storage_gb = number
      multi_az             = bool
      migration_type       = string
      lob_mode             = string
      lob_max_size_kb      = number
      validation           = bool
    })
    window = string
  })
  default = null

  validation {
    condition     = var.migration == null || contains(["closed", "open"], try(var.migration.window, ""))
    error_message = "migration.window must be closed or open."
  }

  validation {
    condition     = var.migration == null || (!startswith(try(var.migration.source.ca_certificate_path, ""), "/") && !contains(split("/", try(var.migration.source.ca_certificate_path, "")), ".."))
    error_message = "migration.source.ca_certificate_path must be a path inside the repository (no leading /, no ..)."
  }
}
