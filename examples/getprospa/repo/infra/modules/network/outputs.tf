output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "IPv4 range of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets (the NAT gateways only), in zone order."
  value       = [for az in var.availability_zones : aws_subnet.public[az].id]
}

output "load_balancer_subnet_ids" {
  description = "Load-balancer subnets (the internal ALB and CloudFront's VPC origin interfaces; no internet route), in zone order."
  value       = [for az in var.availability_zones : aws_subnet.load_balancer[az].id]
}

output "load_balancer_subnet_cidrs" {
  description = "IPv4 ranges of the load-balancer subnets, in zone order: the only sources of traffic to the pods from the load balancer (network policies and security groups name them)."
  value       = [for az in var.availability_zones : aws_subnet.load_balancer[az].cidr_block]
}

output "private_subnet_ids" {
  description = "Private subnets (cluster nodes and pods), in zone order."
  value       = [for az in var.availability_zones : aws_subnet.private[az].id]
}

output "isolated_subnet_ids" {
  description = "Isolated subnets without any internet route (database), in zone order."
  value       = [for az in var.availability_zones : aws_subnet.isolated[az].id]
}

output "isolated_subnet_cidrs" {
  description = "IPv4 ranges of the isolated subnets, in zone order: where the database is (network policies name them as the only database destination)."
  value       = [for az in var.availability_zones : aws_subnet.isolated[az].cidr_block]
}

output "nat_gateway_count" {
  description = "Number of NAT gateways."
  value       = length(aws_nat_gateway.this)
}

output "load_balancer_route_table_id" {
  description = "Route table of the load-balancer subnets (it has no default route)."
  value       = aws_route_table.load_balancer.id
}

output "isolated_route_table_id" {
  description = "Route table of the isolated subnets (it has no default route)."
  value       = aws_route_table.isolated.id
}

output "nat_public_ips" {
  description = "Public addresses of the NAT gateways, in zone order: everything the private subnets send to the internet comes from them (e.g. DigitalOcean's trusted sources for a migration)."
  value       = [for z in sort(keys(aws_eip.nat)) : aws_eip.nat[z].public_ip]
}
