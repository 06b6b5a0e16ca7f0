# The pipeline with its secure defaults: a new table (with Time to Live), a new lake bucket, the catalog and the views.
#
#   terraform init
#   terraform plan -var region=eu-west-1

terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100.0, < 7.0.0"
    }
  }
  # Local state by default. For a team, use a remote backend, e.g.:
  # backend "s3" {
  #   bucket       = "my-terraform-state"
  #   key          = "ddb-flatten/orders.tfstate"
  #   region       = "eu-west-1"
  #   encrypt      = true
  #   use_lockfile = true
  # }
}

variable "region" {
  type        = string
  description = "AWS region to deploy to."
  default     = "eu-west-1"
}

provider "aws" {
  region = var.region
  # The module tags its own resources; default_tags add yours on top.
  default_tags {
    tags = {
      team    = "data-platform"
      service = "orders"
    }
  }
}

module "orders_flatten" {
  # From a clone of this repository; from elsewhere pin a release:
  # source = "git::https://github.com/<owner>/ddb-flatten.git//terraform?ref=v0.3.0"
  source = "../../terraform"

  name               = "orders"
  partition_key      = "pk"
  sort_key           = "sk"
  explode_attributes = ["items"]
  carry_attributes   = ["status"]

  # One row per element of items, a column per key (and <key>_number), as the Glue view items_elements.
  element_view_keys = {
    items = ["sku", "qty"]
  }

  # Time to Live: DynamoDB deletes an item once its expires_at (epoch seconds) has passed. The lake keeps
  # it as EXPIRE rows: gone from the current_state view, kept as it expired in the expired_items view.
  ttl_attribute = "expires_at"

  lambda_memory_size    = 512
  batch_size            = 100
  log_retention_in_days = 30

  tags = {
    cost-center = "analytics"
  }
}

output "table_name" {
  value = module.orders_flatten.dynamodb_table_name
}

output "lake_bucket" {
  value = module.orders_flatten.s3_bucket_name
}

output "athena_workgroup" {
  value = module.orders_flatten.athena_workgroup_name
}

output "live_alias_arn" {
  value = module.orders_flatten.lambda_alias_arn
}

output "dlq_url" {
  value = module.orders_flatten.sqs_dlq_url
}
