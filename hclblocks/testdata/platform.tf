// Platform services: ECS cluster, shared ALB, DNS and the services that
// teams request through the portal. This file is indented with tabs and has
// no final newline on purpose; keep it that way.

locals {
	cluster_name = "acme-${var.environment}"
	services = {
		orders = {
			image    = "acme/orders:1.12.0"
			cpu      = 512
			memory   = 1024
			port     = 8080
			replicas = var.environment == "prod" ? 3 : 1
			env = {
				LOG_LEVEL = "info"
				DB_HOST   = "orders.db.internal"
			}
		}
		billing = {
			image    = "acme/billing:2.0.3"
			cpu      = 256
			memory   = 512
			port     = 9000
			replicas = 1
			env      = {}
		}
	}
	# Container definitions are rendered with a template directive.
	healthcheck_paths = { for name, svc in local.services : name => "/healthz" }
}

variable "environment" {
	type    = string
	default = "dev"
}

variable "zone_name" {
	type    = string
	default = "platform.acme.example"
}

resource "aws_ecs_cluster" "main" {
	name = local.cluster_name

	setting {
		name  = "containerInsights"
		value = "enabled"
	}
}

resource "aws_cloudwatch_log_group" "service" {
	for_each          = local.services
	name              = "/ecs/${local.cluster_name}/${each.key}"
	retention_in_days = 30
}

resource "aws_ecs_task_definition" "service" {
	for_each                 = local.services
	family                   = "${local.cluster_name}-${each.key}"
	requires_compatibilities = ["FARGATE"]
	network_mode             = "awsvpc"
	cpu                      = each.value.cpu
	memory                   = each.value.memory

	container_definitions = <<-JSON
		[
		  {
		    "name": "${each.key}",
		    "image": "${each.value.image}",
		    "essential": true,
		    "portMappings": [{"containerPort": ${each.value.port}}],
		    "environment": [
		%{ for k, v in each.value.env ~}
		      {"name": "${k}", "value": "${v}"},
		%{ endfor ~}
		      {"name": "SERVICE", "value": "${each.key}"}
		    ],
		    "logConfiguration": {
		      "logDriver": "awslogs",
		      "options": {
		        "awslogs-group": "${aws_cloudwatch_log_group.service[each.key].name}",
		        "awslogs-region": "eu-west-1",
		        "awslogs-stream-prefix": "ecs"
		      }
		    }
		  }
		]
	JSON
}

resource "aws_lb" "shared" {
	name               = "${local.cluster_name}-shared"
	load_balancer_type = "application"
	internal           = false
	security_groups    = [data.terraform_remote_state.network.outputs.lb_security_group_id]
	subnets            = data.terraform_remote_state.network.outputs.public_subnet_ids
}

data "terraform_remote_state" "network" {
	backend = "s3"
	config = {
		bucket = "acme-platform-tfstate"
		key    = "network/terraform.tfstate"
		region = "eu-west-1"
	}
}

resource "aws_lb_target_group" "service" {
	for_each    = local.services
	name        = substr("${local.cluster_name}-${each.key}", 0, 32)
	port        = each.value.port
	protocol    = "HTTP"
	target_type = "ip"
	vpc_id      = data.terraform_remote_state.network.outputs.vpc_id

	health_check {
		path                = local.healthcheck_paths[each.key]
		healthy_threshold   = 2
		unhealthy_threshold = 3
		matcher             = "200-299"
	}
}

resource "aws_lb_listener" "https" {
	load_balancer_arn = aws_lb.shared.arn
	port              = 443
	protocol          = "HTTPS"
	certificate_arn   = aws_acm_certificate.wildcard.arn

	default_action {
		type = "fixed-response"
		fixed_response {
			content_type = "text/plain"
			message_body = "not found"
			status_code  = "404"
		}
	}
}

resource "aws_lb_listener_rule" "service" {
	for_each     = local.services
	listener_arn = aws_lb_listener.https.arn
	priority     = 100 + index(keys(local.services), each.key)

	action {
		type             = "forward"
		target_group_arn = aws_lb_target_group.service[each.key].arn
	}

	condition {
		host_header {
			values = ["${each.key}.${var.zone_name}"]
		}
	}
}

# tfpilot:begin/req-0001
module "rds_postgres_req_0001" {
  source  = "../../modules/rds-postgres"
  version = "3.1.0"

  identifier        = "orders-dev"
  instance_class    = "db.t4g.medium"
  allocated_storage = 50
  multi_az          = false
  parameters = {
    "log_min_duration_statement" = "500"
    "shared_preload_libraries"   = "pg_stat_statements"
  }
}
# tfpilot:end/req-0001

resource "aws_ecs_service" "service" {
	for_each        = local.services
	name            = each.key
	cluster         = aws_ecs_cluster.main.id
	task_definition = aws_ecs_task_definition.service[each.key].arn
	desired_count   = each.value.replicas
	launch_type     = "FARGATE"

	network_configuration {
		subnets         = data.terraform_remote_state.network.outputs.private_subnet_ids
		security_groups = [aws_security_group.service[each.key].id]
	}

	load_balancer {
		target_group_arn = aws_lb_target_group.service[each.key].arn
		container_name   = each.key
		container_port   = each.value.port
	}

	dynamic "deployment_circuit_breaker" {
		for_each = var.environment == "prod" ? [1] : []
		content {
			enable   = true
			rollback = true
		}
	}
}

resource "aws_security_group" "service" {
	for_each = local.services
	name     = "${local.cluster_name}-${each.key}"
	vpc_id   = data.terraform_remote_state.network.outputs.vpc_id

	ingress {
		from_port       = each.value.port
		to_port         = each.value.port
		protocol        = "tcp"
		security_groups = [data.terraform_remote_state.network.outputs.lb_security_group_id]
	}

	egress {
		from_port   = 0
		to_port     = 0
		protocol    = "-1"
		cidr_blocks = ["0.0.0.0/0"]
	}
}

resource "aws_acm_certificate" "wildcard" {
	domain_name       = "*.${var.zone_name}"
	validation_method = "DNS"

	lifecycle {
		create_before_destroy = true
	}
}

data "aws_route53_zone" "main" {
	name = var.zone_name
}

resource "aws_route53_record" "validation" {
	for_each = {
		for dvo in aws_acm_certificate.wildcard.domain_validation_options : dvo.domain_name => {
			name   = dvo.resource_record_name
			record = dvo.resource_record_value
			type   = dvo.resource_record_type
		}
	}
	zone_id         = data.aws_route53_zone.main.zone_id
	name            = each.value.name
	type            = each.value.type
	records         = [each.value.record]
	ttl             = 60
	allow_overwrite = true
}

resource "aws_route53_record" "service" {
	for_each = local.services
	zone_id  = data.aws_route53_zone.main.zone_id
	name     = "${each.key}.${var.zone_name}"
	type     = "A"

	alias {
		name                   = aws_lb.shared.dns_name
		zone_id                = aws_lb.shared.zone_id
		evaluate_target_health = true
	}
}

resource "aws_appautoscaling_target" "service" {
	for_each           = { for k, v in local.services : k => v if v.replicas > 1 }
	max_capacity       = each.value.replicas * 4
	min_capacity       = each.value.replicas
	resource_id        = "service/${aws_ecs_cluster.main.name}/${each.key}"
	scalable_dimension = "ecs:service:DesiredCount"
	service_namespace  = "ecs"
}

output "service_urls" {
	value = { for k in keys(local.services) : k => "https://${k}.${var.zone_name}" }
}

# tfpilot:begin/req-0002
module "redis_req_0002" {
  source = "../../modules/elasticache-redis"

  name            = "sessions-dev"
  node_type       = "cache.t4g.small"
  num_cache_nodes = 1
}
# tfpilot:end/req-0002