# A customer managed key for everything the pipeline stores: the table, the bucket (SSE-KMS with a
# bucket key), the DLQ, the function's environment and Athena's results.

terraform {
  required_version = ">= 1.9.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100.0, < 7.0.0"
    }
  }
}

variable "region" {
  type        = string
  description = "AWS region to deploy to."
  default     = "eu-west-1"
}

provider "aws" {
  region = var.region
}

resource "aws_kms_key" "pipeline" {
  description             = "ddb-flatten orders pipeline"
  deletion_window_in_days = 30
  enable_key_rotation     = true
}

module "orders_flatten" {
  source = "../../terraform"

  name               = "orders"
  partition_key      = "pk"
  sort_key           = "sk"
  explode_attributes = ["items"]
  carry_attributes   = ["status"]
  element_view_keys  = { items = ["sku", "qty"] }

  kms_key_arn = aws_kms_key.pipeline.arn
}

output "kms_key_arn" {
  value = aws_kms_key.pipeline.arn
}

output "pipeline" {
  value = module.orders_flatten
}
