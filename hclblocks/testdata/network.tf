# Network layout for the shared platform account.
#
# Owned by the platform team. tfpilot manages only the regions between its
# markers (see the bottom of this file); everything else is edited by hand.

terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.5"
    }
  }

  backend "s3" {
    bucket         = "acme-platform-tfstate"
    key            = "network/terraform.tfstate"
    region         = "eu-west-1"
    dynamodb_table = "acme-platform-tflock"
    encrypt        = true
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.common_tags
  }
}

provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = local.common_tags
  }
}

variable "region" {
  type        = string
  description = "Primary region."
  default     = "eu-west-1"
}

variable "environment" {
  type = string
  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "The environment must be dev, staging or prod."
  }
}

variable "vpc_cidr" {
  type    = string
  default = "10.40.0.0/16"
}

variable "azs" {
  type    = list(string)
  default = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

variable "allowed_ingress" {
  description = "Ingress rules for the shared load balancer security group."
  type = list(object({
    port        = number
    protocol    = string
    cidr_blocks = list(string)
    description = optional(string, "managed")
  }))
  default = [
    { port = 443, protocol = "tcp", cidr_blocks = ["0.0.0.0/0"] },
    { port = 80, protocol = "tcp", cidr_blocks = ["0.0.0.0/0"], description = "redirect to https" },
  ]
}

locals {
  name_prefix = "acme-${var.environment}"

  common_tags = {
    Environment = var.environment
    ManagedBy   = "terraform"
    Repository  = "acme/infra-platform"
    CostCenter  = "platform-1234"
  }

  # One /20 public and one /20 private subnet per availability zone.
  public_subnets = {
    for idx, az in var.azs : az => cidrsubnet(var.vpc_cidr, 4, idx)
  }
  private_subnets = {
    for idx, az in var.azs : az => cidrsubnet(var.vpc_cidr, 4, idx + 8)
  }

  nat_gateway_azs = var.environment == "prod" ? var.azs : slice(var.azs, 0, 1)

  flow_log_format = join(" ", [
    "$${version}", "$${account-id}", "$${interface-id}", "$${srcaddr}",
    "$${dstaddr}", "$${srcport}", "$${dstport}", "$${protocol}",
    "$${packets}", "$${bytes}", "$${start}", "$${end}", "$${action}",
  ])
}

resource "aws_vpc" "main" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(local.common_tags, {
    Name = "${local.name_prefix}-vpc"
  })
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "${local.name_prefix}-igw" }
}

resource "aws_subnet" "public" {
  for_each = local.public_subnets

  vpc_id                  = aws_vpc.main.id
  availability_zone       = each.key
  cidr_block              = each.value
  map_public_ip_on_launch = true

  tags = {
    Name = "${local.name_prefix}-public-${each.key}"
    Tier = "public"
  }
}

resource "aws_subnet" "private" {
  for_each = local.private_subnets

  vpc_id            = aws_vpc.main.id
  availability_zone = each.key
  cidr_block        = each.value

  tags = {
    Name = "${local.name_prefix}-private-${each.key}"
    Tier = "private"
  }
}

resource "aws_eip" "nat" {
  for_each = toset(local.nat_gateway_azs)
  domain   = "vpc"
  tags     = { Name = "${local.name_prefix}-nat-${each.key}" }
}

resource "aws_nat_gateway" "main" {
  for_each      = aws_eip.nat
  allocation_id = each.value.id
  subnet_id     = aws_subnet.public[each.key].id

  depends_on = [aws_internet_gateway.main]
}

resource "aws_route_table" "private" {
  for_each = aws_subnet.private
  vpc_id   = aws_vpc.main.id

  route {
    cidr_block = "0.0.0.0/0"
    nat_gateway_id = try(
      aws_nat_gateway.main[each.key].id,
      aws_nat_gateway.main[local.nat_gateway_azs[0]].id,
    )
  }
}

resource "aws_route_table_association" "private" {
  for_each       = aws_subnet.private
  subnet_id      = each.value.id
  route_table_id = aws_route_table.private[each.key].id
}

resource "aws_security_group" "lb" {
  name        = "${local.name_prefix}-lb"
  description = "Shared load balancer"
  vpc_id      = aws_vpc.main.id

  dynamic "ingress" {
    for_each = var.allowed_ingress
    iterator = rule
    content {
      from_port   = rule.value.port
      to_port     = rule.value.port
      protocol    = rule.value.protocol
      cidr_blocks = rule.value.cidr_blocks
      description = rule.value.description
    }
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_flow_log" "vpc" {
  vpc_id               = aws_vpc.main.id
  traffic_type         = "ALL"
  log_destination_type = "s3"
  log_destination      = "arn:aws:s3:::acme-flow-logs/${var.environment}/"
  log_format           = local.flow_log_format
}

# tfpilot:begin/req-7f3a9c
module "s3_bucket_req_7f3a9c" {
  source  = "../../modules/s3-bucket"
  version = "1.4.2"

  bucket_name = "acme-dev-reports"
  versioning  = true
  tags = {
    owner = "data-team"
  }
}
# tfpilot:end/req-7f3a9c

output "vpc_id" {
  value = aws_vpc.main.id
}

output "private_subnet_ids" {
  value = [for s in aws_subnet.private : s.id]
}

output "public_subnet_ids" {
  description = "Public subnets, keyed by availability zone."
  value       = { for az, s in aws_subnet.public : az => s.id }
}

# tfpilot:begin/req-b21e04
module "sqs_queue_req_b21e04" {
  source = "../../modules/sqs-queue"

  queue_name                 = "acme-dev-ingest"
  visibility_timeout_seconds = 120
  dead_letter                = { enabled = true, max_receive_count = 5 }
}
# tfpilot:end/req-b21e04

resource "random_id" "suffix" {
  byte_length = 4
}
