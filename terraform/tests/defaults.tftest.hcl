# The module with only the required inputs: every secure default, checked on an apply against a mock provider.
# Runs offline with a mock AWS provider: terraform init && terraform test

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name               = "orders"
  partition_key      = "pk"
  explode_attributes = ["items"]
}

run "defaults" {
  command = apply

  assert {
    condition     = aws_dynamodb_table.source[0].stream_enabled && aws_dynamodb_table.source[0].stream_view_type == "NEW_AND_OLD_IMAGES"
    error_message = "the table streams NEW_AND_OLD_IMAGES"
  }
  assert {
    condition     = aws_dynamodb_table.source[0].point_in_time_recovery[0].enabled && aws_dynamodb_table.source[0].deletion_protection_enabled
    error_message = "PITR and deletion protection are on by default"
  }
  assert {
    condition     = aws_dynamodb_table.source[0].server_side_encryption[0].enabled
    error_message = "the table is encrypted"
  }
  assert {
    condition     = aws_dynamodb_table.source[0].hash_key == "pk" && aws_dynamodb_table.source[0].range_key == null
    error_message = "partition key pk, no sort key"
  }
  assert {
    condition     = alltrue([for k in ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"] : aws_s3_bucket_public_access_block.lake[0][k]])
    error_message = "all public access is blocked"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.lake[0].rule[*].apply_server_side_encryption_by_default[0].sse_algorithm) == "AES256"
    error_message = "SSE-S3 without a key"
  }
  assert {
    condition     = aws_s3_bucket.lake[0].force_destroy == false
    error_message = "a non-empty bucket is not destroyed"
  }
  assert {
    condition     = length(aws_lambda_alias.live.routing_config) == 0
    error_message = "no canary by default"
  }
  assert {
    condition     = aws_lambda_function.flatten.publish && aws_lambda_function.flatten.runtime == "nodejs22.x"
    error_message = "every change publishes a version, on nodejs22.x"
  }
  assert {
    condition     = aws_lambda_function.flatten.tracing_config[0].mode == "Active"
    error_message = "active tracing"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.stream[0].maximum_retry_attempts == 10 && aws_lambda_event_source_mapping.stream[0].maximum_record_age_in_seconds == 21600
    error_message = "bounded retries and record age"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.stream[0].bisect_batch_on_function_error && contains(aws_lambda_event_source_mapping.stream[0].function_response_types, "ReportBatchItemFailures")
    error_message = "bisect and partial batch responses"
  }
  assert {
    condition     = aws_cloudwatch_log_group.function.retention_in_days == 30
    error_message = "log retention"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.errors) == 1 && length(aws_cloudwatch_metric_alarm.iterator_age) == 1 && length(aws_cloudwatch_metric_alarm.dlq_messages) == 1
    error_message = "three alarms"
  }
  assert {
    condition     = length(aws_iam_role_policy.backfill) == 1 && length(aws_s3_bucket_notification.export_files) == 1
    error_message = "backfill on by default"
  }
  assert {
    condition     = aws_glue_catalog_table.flattened.parameters["parquet.compression"] == "ZSTD" && endswith(aws_glue_catalog_table.flattened.parameters["storage.location.template"], "/")
    error_message = "Athena's table properties"
  }
  assert {
    condition     = aws_glue_catalog_table.current_state.storage_descriptor[0].ser_de_info[0].serialization_library == "-"
    error_message = "the view has a non-empty SerDe info"
  }
  assert {
    condition     = length(aws_glue_catalog_table.element_view) == 0
    error_message = "no per-element view unless configured"
  }
  assert {
    condition     = output.module_version == "0.3.0"
    error_message = "the module reports its version"
  }
}
