# The lake's data lifecycle: Time to Live on the created table, its expiries (EXPIRE rows) left out of the
# current-state view and kept in the expired-items view, history retention in the function's environment, and
# the rights the erasure and retention runtime uses.
# Runs offline with a mock AWS provider: terraform init && terraform test

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name               = "orders"
  partition_key      = "pk"
  sort_key           = "sk"
  explode_attributes = ["items"]
}

run "defaults_ttl_off_history_kept" {
  command = apply

  assert {
    condition     = !contains(keys(aws_lambda_function.flatten.environment[0].variables), "HISTORY_RETENTION_DAYS")
    error_message = "without history_retention_days the function keeps history for ever: no HISTORY_RETENTION_DAYS"
  }
  assert {
    condition     = aws_glue_catalog_table.expired_items.name == "expired_items" && aws_glue_catalog_table.expired_items.table_type == "VIRTUAL_VIEW" && output.glue_catalog_expired_items_view_name == "expired_items"
    error_message = "the expired-items view, a Glue view named expired_items, and its output"
  }
  assert {
    condition     = endswith(jsondecode(base64decode(trimsuffix(trimprefix(aws_glue_catalog_table.expired_items.view_original_text, "/* Presto View: "), " */"))).originalSql, "WHERE version_rank = 1\n  AND event_name = 'EXPIRE'")
    error_message = "expired_items keeps the latest versions that are an EXPIRE"
  }
  assert {
    condition     = strcontains(jsondecode(base64decode(trimsuffix(trimprefix(aws_glue_catalog_table.expired_items.view_original_text, "/* Presto View: "), " */"))).originalSql, "FROM \"orders\".\"flattened\"") && !strcontains(jsondecode(base64decode(trimsuffix(trimprefix(aws_glue_catalog_table.expired_items.view_original_text, "/* Presto View: "), " */"))).originalSql, "\"checkpoints\"")
    error_message = "expired_items reads the flattened table's days, no checkpoint (checkpoints leave expired items out)"
  }
  assert {
    condition     = [for c in aws_glue_catalog_table.expired_items.storage_descriptor[0].columns : c.name] == [for c in aws_glue_catalog_table.current_state.storage_descriptor[0].columns : c.name]
    error_message = "expired_items has the current state's columns"
  }
  assert {
    condition     = strcontains(jsondecode(base64decode(trimsuffix(trimprefix(aws_glue_catalog_table.current_state.view_original_text, "/* Presto View: "), " */"))).originalSql, "AND event_name IS DISTINCT FROM 'EXPIRE'")
    error_message = "the current-state view leaves expired items out"
  }
  assert {
    condition     = aws_athena_named_query.expired_items_view.name == "orders expired_items view" && endswith(aws_athena_named_query.expired_items_view.query, "AND event_name = 'EXPIRE'") && startswith(aws_athena_named_query.expired_items_view.query, "-- The SQL of the view \"orders\".\"expired_items\"")
    error_message = "a read-only named query holds the view's SQL"
  }
  assert {
    condition     = sort(tolist(one([for st in data.aws_iam_policy_document.maintenance.statement : one([for c in st.condition : c.values if c.variable == "s3:prefix"]) if st.sid == "ErasureListsObjectsAndVersionsOfItsPrefixes"]))) == sort(["flattened/*", "state/*", "quarantine/*", "athena-results/*", "exports/*"])
    error_message = "the erasure lists objects and versions under the lake's prefixes only"
  }
  assert {
    condition     = one([for st in data.aws_iam_policy_document.maintenance.statement : st.resources if st.sid == "ErasureDeletesOldObjectVersions"]) == toset(["arn:aws:s3:::orders-lake-0001/flattened/*", "arn:aws:s3:::orders-lake-0001/state/*", "arn:aws:s3:::orders-lake-0001/quarantine/*", "arn:aws:s3:::orders-lake-0001/athena-results/*", "arn:aws:s3:::orders-lake-0001/exports/*"])
    error_message = "noncurrent versions are deleted under the data, state, quarantine, results and export prefixes"
  }
  assert {
    condition     = one([for st in data.aws_iam_policy_document.maintenance.statement : st.resources if st.sid == "ErasureRewritesExportFiles"]) == toset(["arn:aws:s3:::orders-lake-0001/exports/*"]) && one([for st in data.aws_iam_policy_document.maintenance.statement : st.resources if st.sid == "ErasureRewritesQuarantineRecords"]) == toset(["arn:aws:s3:::orders-lake-0001/quarantine/*"])
    error_message = "the erasure rewrites quarantine records and export files"
  }
  assert {
    condition     = one([for st in data.aws_iam_policy_document.maintenance.statement : st.resources if st.sid == "ErasureDeletesQueryResults"]) == toset(["arn:aws:s3:::orders-lake-0001/athena-results/*"]) && aws_lambda_function.flatten.environment[0].variables["ATHENA_RESULTS_PREFIX"] == "athena-results"
    error_message = "the erasure deletes query results, and the function knows where they are"
  }
}

run "ttl_off_by_default" {
  command = plan

  assert {
    condition     = length([for t in aws_dynamodb_table.source[0].ttl : t if t.enabled == true]) == 0
    error_message = "without ttl_attribute the module turns no TTL on (and writes no ttl block: the provider keeps a table's TTL as it is)"
  }
}

run "ttl_on" {
  command = plan

  variables {
    ttl_attribute = "expires_at"
  }
  assert {
    condition     = length(aws_dynamodb_table.source[0].ttl) == 1 && aws_dynamodb_table.source[0].ttl[0].enabled == true && aws_dynamodb_table.source[0].ttl[0].attribute_name == "expires_at"
    error_message = "ttl { attribute_name = ttl_attribute, enabled = true }"
  }
}

run "retention_set" {
  command = plan

  variables {
    history_retention_days             = 400
    noncurrent_version_expiration_days = 7
  }
  assert {
    condition     = aws_lambda_function.flatten.environment[0].variables["HISTORY_RETENTION_DAYS"] == "400"
    error_message = "the function deletes history past history_retention_days"
  }
  assert {
    condition     = aws_lambda_function.flatten.environment[0].variables["STATE_PREFIX"] == "state" && aws_lambda_function.flatten.environment[0].variables["CHECKPOINT_RETENTION"] == "3"
    error_message = "the rest of the environment is as before"
  }
}

run "backfill_off_export_rights_kept" {
  command = apply

  variables {
    backfill_enabled = false
  }
  assert {
    condition     = one([for st in data.aws_iam_policy_document.maintenance.statement : st.resources if st.sid == "ErasureRewritesExportFiles"]) == toset(["arn:aws:s3:::orders-lake-0001/exports/*"])
    error_message = "without backfill the erasure still reaches the export prefix (exports written before hold whole items)"
  }
}

run "custom_expired_view_name" {
  command = plan

  variables {
    glue_expired_items_view_name = "ttl_archive"
    glue_database_name           = "lake_db"
    carry_attributes             = ["status"]
  }
  assert {
    condition     = aws_glue_catalog_table.expired_items.name == "ttl_archive" && aws_athena_named_query.expired_items_view.name == "orders ttl_archive view"
    error_message = "the view and its named query follow glue_expired_items_view_name"
  }
  assert {
    condition     = strcontains(jsondecode(base64decode(trimsuffix(trimprefix(aws_glue_catalog_table.expired_items.view_original_text, "/* Presto View: "), " */"))).originalSql, "\"status\"") && jsondecode(base64decode(trimsuffix(trimprefix(aws_glue_catalog_table.expired_items.view_original_text, "/* Presto View: "), " */"))).schema == "lake_db"
    error_message = "the carried columns and the database reach the view"
  }
}
