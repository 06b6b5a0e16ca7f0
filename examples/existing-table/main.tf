# Bring your own table: the pipeline reads the stream of a table that already exists (and keeps its settings).
# The stream must carry NEW_AND_OLD_IMAGES (or NEW_IMAGE). Pass the table's key if it has one.

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

variable "table_name" {
  type        = string
  description = "The existing table."
}

variable "stream_arn" {
  type        = string
  description = "The existing table's stream ARN (aws dynamodb describe-table --query Table.LatestStreamArn)."
}

module "orders_flatten" {
  source = "../../terraform"

  name               = "orders"
  partition_key      = "pk"
  sort_key           = "sk"
  explode_attributes = ["items"]

  create_table        = false
  existing_table_name = var.table_name
  existing_stream_arn = var.stream_arn
  # existing_table_kms_key_arn = "arn:aws:kms:…"   # when the table uses a customer managed key
}

output "lambda_alias_arn" {
  value = module.orders_flatten.lambda_alias_arn
}
