# Existing table, existing bucket, a customer managed key, no sort key, carried attributes, per-element views.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name               = "orders"
  partition_key      = "pk"
  explode_attributes = ["items"]
}

run "existing_table" {
  variables {
    create_table               = false
    existing_table_name        = "orders-live"
    existing_stream_arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders-live/stream/2026-01-01T00:00:00.000"
    existing_table_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }
  assert {
    condition     = length(aws_dynamodb_table.source) == 0
    error_message = "no table is created"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.stream[0].event_source_arn == var.existing_stream_arn
    error_message = "the trigger reads the existing stream"
  }
  assert {
    condition     = output.dynamodb_table_name == "orders-live" && output.dynamodb_table_stream_arn == var.existing_stream_arn
    error_message = "the outputs name the existing table"
  }
  assert {
    condition     = aws_lambda_function.flatten.environment[0].variables["TABLE_ARN"] == "arn:aws:dynamodb:eu-west-1:123456789012:table/orders-live"
    error_message = "the function's table ARN is derived from the stream ARN"
  }
}

run "existing_bucket" {
  variables {
    create_bucket               = false
    existing_bucket_name        = "shared-data-lake"
    existing_bucket_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }
  assert {
    condition     = length(aws_s3_bucket.lake) == 0 && length(aws_s3_bucket_policy.lake) == 0 && length(aws_s3_bucket_notification.export_files) == 0
    error_message = "the existing bucket is left as it is (no policy, no notification takeover)"
  }
  assert {
    condition     = aws_lambda_function.flatten.environment[0].variables["LAKE_BUCKET"] == "shared-data-lake" && output.s3_bucket_name == "shared-data-lake"
    error_message = "the function writes to the existing bucket"
  }
  assert {
    condition     = startswith(aws_glue_catalog_table.flattened.storage_descriptor[0].location, "s3://shared-data-lake/flattened/")
    error_message = "the catalog points at the existing bucket"
  }
}

run "customer_managed_key" {
  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }
  assert {
    condition     = aws_dynamodb_table.source[0].server_side_encryption[0].kms_key_arn == var.kms_key_arn
    error_message = "the table uses the key"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.lake[0].rule[*].apply_server_side_encryption_by_default[0].kms_master_key_id) == var.kms_key_arn
    error_message = "the bucket uses SSE-KMS with the key"
  }
  assert {
    condition     = aws_sqs_queue.dlq.kms_master_key_id == var.kms_key_arn && aws_lambda_function.flatten.kms_key_arn == var.kms_key_arn
    error_message = "the DLQ and the function environment use the key"
  }
  assert {
    condition     = aws_athena_workgroup.lake.configuration[0].result_configuration[0].encryption_configuration[0].encryption_option == "SSE_KMS"
    error_message = "Athena results are encrypted with the key"
  }
  assert {
    condition     = aws_athena_workgroup.maintenance.configuration[0].result_configuration[0].encryption_configuration[0].encryption_option == "SSE_KMS" && aws_athena_workgroup.maintenance.configuration[0].result_configuration[0].encryption_configuration[0].kms_key_arn == var.kms_key_arn
    error_message = "the maintenance workgroup's results too"
  }
}

run "sort_key_and_carried_attributes" {
  variables {
    sort_key         = "line_id"
    sort_key_type    = "N"
    carry_attributes = ["customer_id", "status"]
  }
  assert {
    condition     = aws_dynamodb_table.source[0].range_key == "line_id" && length(aws_dynamodb_table.source[0].attribute) == 2
    error_message = "the sort key is part of the key schema"
  }
  assert {
    condition     = [for c in aws_glue_catalog_table.flattened.storage_descriptor[0].columns : c.name] == ["pk", "sk", "attribute", "item_index", "key", "value", "value_type", "event_name", "event_time", "sequence", "customer_id", "status"]
    error_message = "the carried attributes are columns after the schema's"
  }
  assert {
    condition     = aws_lambda_function.flatten.environment[0].variables["CARRY_ATTRIBUTES"] == "customer_id,status" && aws_lambda_function.flatten.environment[0].variables["SORT_KEY"] == "line_id"
    error_message = "the handler gets them too"
  }
}

run "no_sort_key" {
  assert {
    condition     = aws_dynamodb_table.source[0].range_key == null && length(aws_dynamodb_table.source[0].attribute) == 1
    error_message = "only the partition key"
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.flatten.environment[0].variables), "SORT_KEY") || aws_lambda_function.flatten.environment[0].variables["SORT_KEY"] == ""
    error_message = "the handler reads no sort key"
  }
}

run "per_element_views" {
  variables {
    carry_attributes  = ["status"]
    element_view_keys = { items = ["sku", "unit.price"] }
  }
  assert {
    condition     = aws_glue_catalog_table.element_view["items"].name == "items_elements"
    error_message = "one view per attribute, named <attribute>_elements"
  }
  assert {
    condition     = [for c in aws_glue_catalog_table.element_view["items"].storage_descriptor[0].columns : c.name] == ["pk", "sk", "item_index", "sku", "sku_number", "unit_price", "unit_price_number", "status", "event_time"]
    error_message = "a column and a _number column per key path"
  }
  assert {
    condition     = strcontains(aws_athena_named_query.element_view["items"].query, "FROM \"orders\".\"current_state\"")
    error_message = "the view's SQL, as a read-only named query"
  }
}
