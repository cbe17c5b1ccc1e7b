output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "IPv4 range of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets (load balancer, NAT gateways), in zone order."
  value       = [for az in var.availability_zones : aws_subnet.public[az].id]
}

output "private_subnet_ids" {
  description = "Private subnets (cluster nodes and pods), in zone order."
  value       = [for az in var.availability_zones : aws_subnet.private[az].id]
}

output "isolated_subnet_ids" {
  description = "Isolated subnets without any internet route (database), in zone order."
  value       = [for az in var.availability_zones : aws_subnet.isolated[az].id]
}

output "nat_gateway_count" {
  description = "Number of NAT gateways."
  value       = length(aws_nat_gateway.this)
}

output "isolated_route_table_id" {
  description = "Route table of the isolated subnets (it has no default route)."
  value       = aws_route_table.isolated.id
}
