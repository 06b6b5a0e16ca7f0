# Mock values for the AWS provider in this module's tests (terraform test, Terraform >= 1.7).
# The provider validates some computed values where they are used, so they look real.
mock_data "aws_partition" {
  defaults = { partition = "aws" }
}
mock_data "aws_region" {
  defaults = { id = "eu-west-1", name = "eu-west-1" }
}
mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}
mock_data "aws_iam_policy_document" {
  defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
}
# Computed values the provider validates where they are used: realistic ARNs.
mock_resource "aws_iam_role" {
  defaults = { arn = "arn:aws:iam::123456789012:role/orders-flatten-lambda" }
}
mock_resource "aws_dynamodb_table" {
  defaults = {
    arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders"
    stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-12-01T00:00:00.000"
  }
}
mock_resource "aws_s3_bucket" {
  defaults = { arn = "arn:aws:s3:::orders-lake-0001", id = "orders-lake-0001", bucket = "orders-lake-0001" }
}
mock_resource "aws_sqs_queue" {
  defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:orders-flatten-dlq", url = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-flatten-dlq" }
}
mock_resource "aws_cloudwatch_log_group" {
  defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders-flatten" }
}
mock_resource "aws_lambda_function" {
  defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders-flatten", version = "1" }
}
mock_resource "aws_lambda_alias" {
  defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders-flatten:live" }
}
# The checkpoint pointer the current-state view follows (the maintenance run moves it).
mock_data "aws_ssm_parameters_by_path" {
  defaults = { names = [], values = [] }
}
mock_resource "aws_ssm_parameter" {
  defaults = { arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/ddb-flatten/orders/checkpoint-pointer" }
}
mock_resource "aws_glue_catalog_database" {
  defaults = { arn = "arn:aws:glue:eu-west-1:123456789012:database/orders" }
}
mock_resource "aws_glue_catalog_table" {
  defaults = { arn = "arn:aws:glue:eu-west-1:123456789012:table/orders/current_state" }
}
