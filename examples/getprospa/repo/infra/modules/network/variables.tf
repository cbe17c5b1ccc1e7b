variable "name" {
  description = "Prefix of every resource name: <project>-<environment>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,32}$", var.name))
    error_message = "name must be a lowercase DNS label of 3-33 characters (<project>-<environment>)."
  }
}

variable "vpc_cidr" {
  description = "IPv4 range of the VPC, /16 to /20. Split into three zones of public, load-balancer, private and isolated subnets."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be an IPv4 CIDR block from /16 to /20."
  }
}

variable "availability_zones" {
  description = "Exactly three availability zones of the region, one per subnet of each tier."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) == 3 && length(distinct(var.availability_zones)) == 3
    error_message = "availability_zones must list three different zones."
  }
}

variable "nat_gateways" {
  description = "single: one NAT gateway for all zones (cheaper); perAz: one per zone (survives a zone failure)."
  type        = string

  validation {
    condition     = contains(["single", "perAz"], var.nat_gateways)
    error_message = "nat_gateways must be single or perAz."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the flow log group."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Retention of the VPC flow log group, in days (a value CloudWatch Logs accepts)."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts, e.g. 90 or 365."
  }
}

variable "interface_endpoints" {
  description = "AWS services reached through interface VPC endpoints in the private subnets, so their traffic never leaves the VPC; null means the default list. Each costs per zone-hour: an empty list sends that traffic through NAT instead (the endpoints' security group then goes too)."
  type        = list(string)
  default     = ["ecr.api", "ecr.dkr", "sts", "secretsmanager", "logs", "kms", "eks-auth", "codebuild"]
  nullable    = false

  validation {
    condition     = alltrue([for s in var.interface_endpoints : can(regex("^[a-z0-9.-]+$", s))])
    error_message = "interface_endpoints must be service short names such as ecr.api or sts."
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
