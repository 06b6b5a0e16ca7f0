# Bring your own lake bucket: the pipeline writes under its prefixes and leaves the bucket's own settings
# (encryption, policy, lifecycle, notifications) as they are. A bucket has one notification configuration,
# so the backfill fan-out rule is yours to add (see the module README).

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

variable "bucket_name" {
  type        = string
  description = "The existing lake bucket."
}

module "orders_flatten" {
  source = "../../terraform"

  name               = "orders"
  partition_key      = "pk"
  explode_attributes = ["items"]

  create_bucket         = false
  existing_bucket_name  = var.bucket_name
  lake_prefix           = "ddb-flatten/orders/rows"
  quarantine_prefix     = "ddb-flatten/orders/quarantine"
  export_prefix         = "ddb-flatten/orders/exports"
  athena_results_prefix = "ddb-flatten/orders/athena-results"
  # existing_bucket_kms_key_arn = "arn:aws:kms:…"   # when the bucket uses SSE-KMS
}

output "lake_location" {
  value = module.orders_flatten.s3_lake_location
}
