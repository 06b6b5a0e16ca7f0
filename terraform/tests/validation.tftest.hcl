# Every bad value is refused at plan with a message naming the variable (expect_failures).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name               = "orders"
  partition_key      = "pk"
  explode_attributes = ["items"]
}

run "name_with_capitals" {
  command = plan
  variables {
    name = "Orders"
  }
  expect_failures = [var.name]
}

run "unknown_key_type" {
  command = plan
  variables {
    partition_key_type = "X"
  }
  expect_failures = [var.partition_key_type]
}

run "carried_name_the_view_uses" {
  command = plan
  variables {
    carry_attributes = ["version_rank"]
  }
  expect_failures = [var.carry_attributes]
}

run "retention_cloudwatch_refuses" {
  command = plan
  variables {
    log_retention_in_days = 42
  }
  expect_failures = [var.log_retention_in_days]
}

run "unbounded_retries" {
  command = plan
  variables {
    maximum_retry_attempts = -1
  }
  expect_failures = [var.maximum_retry_attempts]
}

run "batch_too_big" {
  command = plan
  variables {
    batch_size = 10001
  }
  expect_failures = [var.batch_size]
}

run "bad_kms_key" {
  command = plan
  variables {
    kms_key_arn = "alias/mine"
  }
  expect_failures = [var.kms_key_arn]
}

run "pinned_version_not_a_number" {
  command = plan
  variables {
    alias_pinned_version = "$LATEST"
  }
  expect_failures = [var.alias_pinned_version]
}

# nullable = false: null for a variable with a default means the default (not an error deep in the module).
run "null_means_the_default" {
  command = plan
  variables {
    create_table = null
    batch_size   = null
  }
  assert {
    condition     = length(aws_dynamodb_table.source) == 1 && aws_lambda_event_source_mapping.stream[0].batch_size == 10000
    error_message = "null gives the defaults"
  }
}

run "existing_table_without_stream" {
  command = plan
  variables {
    create_table        = false
    existing_table_name = "orders-live"
  }
  expect_failures = [var.create_table]
}

run "element_view_of_an_attribute_not_exploded" {
  command = plan
  variables {
    element_view_keys = { lines = ["sku"] }
  }
  expect_failures = [var.element_view_keys]
}

run "element_keys_deriving_one_column" {
  command = plan
  variables {
    element_view_keys = { items = ["a.b", "a_b"] }
  }
  expect_failures = [var.element_view_keys]
}

run "element_key_clashing_with_a_carried_attribute" {
  command = plan
  variables {
    carry_attributes  = ["status"]
    element_view_keys = { items = ["status"] }
  }
  expect_failures = [var.element_view_keys]
}

run "sort_key_equal_to_partition_key" {
  command = plan
  variables {
    sort_key = "pk"
  }
  expect_failures = [var.sort_key]
}

run "existing_bucket_missing" {
  command = plan
  variables {
    create_bucket = false
  }
  expect_failures = [var.create_bucket]
}

run "exploding_a_key" {
  command = plan
  variables {
    explode_attributes = ["pk"]
  }
  expect_failures = [var.explode_attributes]
}

run "overlapping_prefixes" {
  command = plan
  variables {
    lake_prefix       = "data"
    quarantine_prefix = "data"
  }
  expect_failures = [var.lake_prefix]
}

run "maintenance_cutoff_under_athena_minimum" {
  command = plan
  variables {
    athena_maintenance_bytes_scanned_cutoff_per_query = 10485759
  }
  expect_failures = [var.athena_maintenance_bytes_scanned_cutoff_per_query]
}

run "workgroup_name_leaving_no_room_for_maintenance" {
  command = plan
  variables {
    athena_workgroup_name = "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
  }
  expect_failures = [var.athena_workgroup_name]
}

run "rebuild_share_above_4" {
  command = plan
  variables {
    checkpoint_rebuild_share = 4.5
  }
  expect_failures = [var.checkpoint_rebuild_share]
}

run "rebuild_share_below_0" {
  command = plan
  variables {
    checkpoint_rebuild_share = -0.1
  }
  expect_failures = [var.checkpoint_rebuild_share]
}

run "checkpoint_max_age_0" {
  command = plan
  variables {
    checkpoint_max_age_days = 0
  }
  expect_failures = [var.checkpoint_max_age_days]
}

run "checkpoint_max_age_not_whole" {
  command = plan
  variables {
    checkpoint_max_age_days = 1.5
  }
  expect_failures = [var.checkpoint_max_age_days]
}

# Deprecated, no effect, but still validated as in 0.3.0: a value 0.3.0 refused is still refused.
run "deprecated_task_size_still_validated" {
  command = plan
  variables {
    compaction_max_task_bytes = 1000
  }
  expect_failures = [var.compaction_max_task_bytes]
}

# The data lifecycle's inputs.
run "ttl_on_a_key_attribute" {
  command = plan
  variables {
    ttl_attribute = "pk"
  }
  expect_failures = [var.ttl_attribute]
}

run "ttl_on_the_sort_key" {
  command = plan
  variables {
    sort_key      = "sk"
    ttl_attribute = "sk"
  }
  expect_failures = [var.ttl_attribute]
}

run "ttl_on_your_own_table" {
  command = plan
  variables {
    create_table        = false
    existing_table_name = "orders"
    existing_stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-12-01T00:00:00.000"
    ttl_attribute       = "expires_at"
  }
  expect_failures = [var.ttl_attribute]
}

run "ttl_attribute_with_a_space" {
  command = plan
  variables {
    ttl_attribute = "expires at"
  }
  expect_failures = [var.ttl_attribute]
}

run "history_retention_zero" {
  command = plan
  variables {
    history_retention_days = 0
  }
  expect_failures = [var.history_retention_days]
}

run "history_retention_too_long" {
  command = plan
  variables {
    history_retention_days = 36501
  }
  expect_failures = [var.history_retention_days]
}

run "history_retention_not_whole" {
  command = plan
  variables {
    history_retention_days = 1.5
  }
  expect_failures = [var.history_retention_days]
}

run "expired_view_named_like_the_table" {
  command = plan
  variables {
    glue_expired_items_view_name = "flattened"
  }
  expect_failures = [var.glue_expired_items_view_name]
}

run "element_view_named_like_the_expired_view" {
  command = plan
  variables {
    glue_expired_items_view_name = "items_elements"
    element_view_keys            = { items = ["sku"] }
  }
  expect_failures = [var.element_view_keys]
}
