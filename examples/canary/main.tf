# Versions and the alias: every change publishes a version; the alias "live" (which the stream trigger
# invokes) follows the newest one unless pinned. To try a new version on part of the traffic:
#   1. apply a change (a new module release, or a configuration change): version N+1 is published;
#   2. pin the alias to the version you trust and give the canary its share:
#        terraform apply -var pinned_version=1 -var canary_weight=0.1      # 10% to the newest version
#   3. roll forward (pinned_version=null, canary_weight=0) or back (canary_weight=0, pin stays).

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

variable "pinned_version" {
  type        = string
  description = "Version the alias stays on; null follows the newest."
  default     = null
}

variable "canary_weight" {
  type        = number
  description = "Share (0 to 1) of invocations for the canary version."
  default     = 0
}

variable "canary_version" {
  type        = string
  description = "Version that gets the canary share; null means the newest."
  default     = null
}

module "orders_flatten" {
  source = "../../terraform"

  name               = "orders"
  partition_key      = "pk"
  explode_attributes = ["items"]

  alias_pinned_version = var.pinned_version
  canary_weight        = var.canary_weight
  canary_version       = var.canary_version
}

output "alias_version" {
  value = module.orders_flatten.lambda_alias_function_version
}

output "newest_version" {
  value = module.orders_flatten.lambda_function_version
}
