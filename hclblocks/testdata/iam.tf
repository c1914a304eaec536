/*
  IAM for the CI runners and the application roles.

  Note for humans: tfpilot markers look like this, and only lines that are
  exactly a marker at the top level count:
# tfpilot:begin/req-in-block-comment
# tfpilot:end/req-in-block-comment
*/

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  ci_repositories = [
    "acme/infra-platform",
    "acme/service-orders",
    "acme/service-billing",
  ]

  app_roles = {
    orders = {
      buckets = ["acme-orders-dev", "acme-orders-archive"]
      queues  = ["orders-in", "orders-dlq"]
    }
    billing = {
      buckets = ["acme-billing-exports"]
      queues  = []
    }
  }
}

resource "aws_iam_openid_connect_provider" "github" {
  url             = "https://token.actions.githubusercontent.com"
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1"]
}

resource "aws_iam_role" "ci" {
  name = "github-actions-ci"

  # The trust policy is kept as a heredoc on purpose: reviewers diff it.
  assume_role_policy = <<EOT
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Federated": "${aws_iam_openid_connect_provider.github.arn}"
      },
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringLike": {
          "token.actions.githubusercontent.com:sub": ${jsonencode([for r in local.ci_repositories : "repo:${r}:*"])}
        }
      }
    }
  ]
}
EOT
}

resource "aws_iam_role_policy" "ci_state" {
  name = "terraform-state"
  role = aws_iam_role.ci.id

  policy = <<-POLICY
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Sid": "State",
          "Effect": "Allow",
          "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
          "Resource": "arn:${local.partition}:s3:::acme-platform-tfstate/*"
        },
        {
          "Sid": "Lock",
          "Effect": "Allow",
          "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
          "Resource": "arn:${local.partition}:dynamodb:*:${local.account_id}:table/acme-platform-tflock"
        }
      ]
    }
  POLICY
}

resource "aws_iam_role" "app" {
  for_each = local.app_roles

  name = "app-${each.key}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

data "aws_iam_policy_document" "app" {
  for_each = local.app_roles

  dynamic "statement" {
    for_each = length(each.value.buckets) > 0 ? [1] : []
    content {
      sid     = "Buckets"
      actions = ["s3:GetObject", "s3:PutObject", "s3:ListBucket"]
      resources = flatten([
        for b in each.value.buckets : [
          "arn:${local.partition}:s3:::${b}",
          "arn:${local.partition}:s3:::${b}/*",
        ]
      ])
    }
  }

  dynamic "statement" {
    for_each = each.value.queues
    iterator = queue
    content {
      sid       = "Queue${title(replace(queue.value, "-", ""))}"
      actions   = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"]
      resources = ["arn:${local.partition}:sqs:*:${local.account_id}:${queue.value}"]

      dynamic "condition" {
        for_each = endswith(queue.value, "-dlq") ? [1] : []
        content {
          test     = "StringEquals"
          variable = "aws:PrincipalTag/team"
          values   = [each.key]
        }
      }
    }
  }
}

resource "aws_iam_role_policy" "app" {
  for_each = data.aws_iam_policy_document.app
  name     = "app"
  role     = aws_iam_role.app[each.key].id
  policy   = each.value.json
}

resource "aws_ssm_parameter" "runbook" {
  name = "/platform/runbooks/iam"
  type = "String"
  # A heredoc whose lines look like markers; they are string content.
  value = <<EOT
Steps when a request is stuck:
# tfpilot:begin/req-inside-heredoc
1. Find the request id in the portal.
2. Check the workflow run.
# tfpilot:end/req-inside-heredoc
%{ for r in local.ci_repositories ~}
- ${r}
%{ endfor ~}
EOT
}

resource "aws_iam_user" "break_glass" {
  name = "break-glass" # tfpilot:begin/req-trailing-comment
  path = "/emergency/"
  tags = {
    # tfpilot:end/req-trailing-comment
    purpose = "incident response only"
  }
}

# tfpilot:begin/req-c4d5e6
module "iam_role_req_c4d5e6" {
  source = "../../modules/iam-role"

  role_name = "reports-reader"
  policy_statements = [
    {
      actions   = ["s3:GetObject"]
      resources = ["arn:aws:s3:::acme-dev-reports/*"]
    },
  ]
}
# tfpilot:end/req-c4d5e6

# Comment lines that are close to markers but are not markers:
# tfpilot:begin/<request-id> starts a region and
# tfpilot:end/<request-id> ends it.
#tfpilot:begin/req-nospace
# tfpilot:begin/req-x extra words
# TFPILOT:BEGIN/req-upper

resource "aws_iam_account_password_policy" "strict" {
  minimum_password_length        = 16
  require_lowercase_characters   = true
  require_numbers                = true
  require_uppercase_characters   = true
  require_symbols                = true
  allow_users_to_change_password = true
  max_password_age               = 90
  password_reuse_prevention      = 24
}

resource "aws_iam_policy" "deny_regions" {
  name        = "deny-unapproved-regions"
  description = "Deny actions outside approved regions"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "DenyOtherRegions"
        Effect   = "Deny"
        NotAction = [
          "iam:*", "organizations:*", "route53:*", "cloudfront:*",
          "sts:*", "support:*", "budgets:*",
        ]
        Resource = "*"
        Condition = {
          StringNotEquals = {
            "aws:RequestedRegion" = ["eu-west-1", "eu-central-1"]
          }
        }
      },
    ]
  })
}

output "ci_role_arn" {
  value = aws_iam_role.ci.arn
}

output "app_role_arns" {
  value = { for k, r in aws_iam_role.app : k => r.arn }
}
