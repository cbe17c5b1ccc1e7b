# What the instance class admits, for the alarms: MySQL on RDS defaults max_connections to
# {DBInstanceClassMemory/12582880}, where DBInstanceClassMemory is the class's memory less
# what the OS and RDS keep. This small table gives the memory of the classes RDS offers
# for MySQL by family letter and size, and estimates the reserve on the safe side
# (max(10%, 384 MiB)): db.t4g.medium (4 GiB) comes out at 307 connections where RDS
# reports about 312, db.r6g.large (16 GiB) at 1228. A spec that sets max_connections (a
# number) is taken at its word. A class the table does not know needs max_connections in
# the spec's database.parameters or max_connections_alarm here.

locals {
  class_parts  = try(regex("^db\\.([a-z]+[0-9]*[a-z-]*)\\.([a-z0-9]+)$", var.instance_class), ["", ""])
  class_family = local.class_parts[0]
  class_size   = local.class_parts[1]
  # GiB per vCPU of the general-purpose (m), memory-optimised (r, x, z) families; the
  # x2ie* classes carry twice the x2g's.
  gib_per_vcpu = { m = 4, r = 8, x = startswith(local.class_family, "x2ie") ? 32 : 16, z = 8 }
  # vCPUs by size: large 2, xlarge 4, Nxlarge 4N.
  size_vcpus = local.class_size == "large" ? 2 : (local.class_size == "xlarge" ? 4 : try(tonumber(regex("^([0-9]+)xlarge$", local.class_size)[0]) * 4, null))
  # Burstable (t) classes by size, in GiB.
  burstable_gib = { micro = 1, small = 2, medium = 4, large = 8, xlarge = 16, "2xlarge" = 32 }
  memory_gib = (
    startswith(local.class_family, "t") ? lookup(local.burstable_gib, local.class_size, null) :
    try(local.gib_per_vcpu[substr(local.class_family, 0, 1)] * local.size_vcpus, null)
  )
  memory_bytes = local.memory_gib == null ? null : local.memory_gib * 1073741824
  default_max_connections = local.memory_bytes == null ? null : floor(
    (local.memory_bytes - max(local.memory_bytes / 10, 402653184)) / 12582880
  )
  # The spec's own max_connections wins when it is a number (not a formula).
  max_connections = try(tonumber(var.parameters["max_connections"]), local.default_max_connections)
  # Alarm at 80% of what MySQL admits, before clients are refused.
  connections_alarm = coalesce(var.max_connections_alarm, try(floor(local.max_connections * 0.8), null), -1)

  # RDS storage autoscaling adds storage when less than 10% of the allocation is free (and
  # 6 hours passed since the last change). Without autoscaling headroom the alarm fires at
  # 10% free; with it, at 5%: autoscaling did not keep up, or reached
  # max_allocated_storage_gb. Relative to allocated_storage_gb, the allocation Terraform
  # knows: after autoscaling grew the volume, the alarm keeps that many bytes in reserve.
  storage_autoscales    = var.max_allocated_storage_gb > var.allocated_storage_gb
  storage_alarm_percent = local.storage_autoscales ? 5 : 10
  storage_alarm_bytes   = var.allocated_storage_gb * 1073741824 * local.storage_alarm_percent / 100
}
