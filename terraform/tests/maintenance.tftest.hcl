# The lake's maintenance: the daily schedule (compaction, then a checkpoint), the checkpoints table,
# and the current-state view following the checkpoint pointer the run moves.
# Runs offline with a mock AWS provider: terraform init && terraform test

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name               = "orders"
  partition_key      = "pk"
  explode_attributes = ["items"]
}

run "schedule_by_default" {
  command = apply

  assert {
    condition     = aws_scheduler_schedule.maintenance[0].schedule_expression == "cron(30 7 * * ? *)" && aws_scheduler_schedule.maintenance[0].schedule_expression_timezone == "UTC"
    error_message = "a daily schedule, in UTC"
  }
  assert {
    condition     = aws_scheduler_schedule.maintenance[0].target[0].arn == aws_lambda_alias.live.arn && jsondecode(aws_scheduler_schedule.maintenance[0].target[0].input) == { action = "compact" }
    error_message = "the schedule sends {\"action\":\"compact\"} to the alias"
  }
  assert {
    condition     = aws_scheduler_schedule.maintenance[0].target[0].retry_policy[0].maximum_retry_attempts == 2
    error_message = "bounded retries"
  }
  assert {
    condition     = aws_glue_catalog_table.checkpoints.parameters["projection.checkpoint.type"] == "injected" && endswith(aws_glue_catalog_table.checkpoints.parameters["storage.location.template"], "/state/checkpoints/checkpoint=$${checkpoint}/")
    error_message = "the checkpoints table is projected on an injected checkpoint under the state prefix"
  }
  assert {
    condition     = aws_ssm_parameter.checkpoint_pointer.name == "/ddb-flatten/orders/checkpoint-pointer" && aws_ssm_parameter.checkpoint_pointer.type == "String"
    error_message = "the pointer parameter"
  }
  assert {
    condition     = aws_lambda_function.flatten.environment[0].variables["CHECKPOINT_PARAMETER"] == aws_ssm_parameter.checkpoint_pointer.name && aws_lambda_function.flatten.environment[0].variables["STATE_PREFIX"] == "state"
    error_message = "the function knows the parameter and the state prefix"
  }
  assert {
    condition     = strcontains(jsondecode(base64decode(trimsuffix(trimprefix(aws_glue_catalog_table.current_state.view_original_text, "/* Presto View: "), " */"))).originalSql, "WHERE checkpoint = 'none'")
    error_message = "with no checkpoint yet, the view reads the 'none' checkpoint (empty) and every day"
  }
}

run "view_follows_the_pointer" {
  command = plan

  override_data {
    target = data.aws_ssm_parameters_by_path.checkpoint_pointer
    values = {
      names  = ["/ddb-flatten/orders/other", "/ddb-flatten/orders/checkpoint-pointer"]
      values = ["x", "{\"checkpoint\":\"2026-11-30-0a1b2c3d\",\"bound\":\"2026-11-30\",\"parts\":1}"]
    }
  }
  assert {
    condition     = strcontains(jsondecode(base64decode(trimsuffix(trimprefix(aws_glue_catalog_table.current_state.view_original_text, "/* Presto View: "), " */"))).originalSql, "WHERE checkpoint = '2026-11-30-0a1b2c3d'")
    error_message = "the view reads the checkpoint the pointer names"
  }
  assert {
    condition     = strcontains(jsondecode(base64decode(trimsuffix(trimprefix(aws_glue_catalog_table.current_state.view_original_text, "/* Presto View: "), " */"))).originalSql, "WHERE dt >= '2026-11-30'")
    error_message = "and the days from its bound"
  }
  assert {
    condition     = strcontains(aws_athena_named_query.current_state_view.query, "WHERE checkpoint = 'none'")
    error_message = "the named query's copy does not change with every checkpoint"
  }
}

run "schedule_off" {
  command = plan

  variables {
    create_compaction_schedule = false
  }
  assert {
    condition     = length(aws_scheduler_schedule.maintenance) == 0 && length(aws_iam_role.scheduler) == 0
    error_message = "no schedule and no scheduler role"
  }
  assert {
    condition     = output.scheduler_schedule_name == null
    error_message = "the schedule output is null"
  }
}

run "custom_schedule" {
  command = plan

  variables {
    compaction_schedule_expression = "cron(0 4 * * ? *)"
    checkpoint_retention           = 5
  }
  assert {
    condition     = aws_scheduler_schedule.maintenance[0].schedule_expression == "cron(0 4 * * ? *)" && aws_lambda_function.flatten.environment[0].variables["CHECKPOINT_RETENTION"] == "5"
    error_message = "the schedule and the retention reach the schedule and the function"
  }
}

# The maintenance runs as Athena UNLOAD statements in a workgroup of its own: its own cutoff (a checkpoint reads the whole
# current state), its results (UNLOAD manifests and metadata) under their own prefix, encrypted, the configuration enforced.
run "maintenance_workgroup" {
  command = apply

  assert {
    condition     = aws_athena_workgroup.maintenance.name == "orders-flatten-maintenance" && aws_athena_workgroup.maintenance.state == "ENABLED" && output.athena_maintenance_workgroup_name == "orders-flatten-maintenance"
    error_message = "the maintenance workgroup is named after the analysts' one, enabled, and an output"
  }
  assert {
    condition     = aws_athena_workgroup.maintenance.configuration[0].bytes_scanned_cutoff_per_query == 1099511627776 && aws_athena_workgroup.lake.configuration[0].bytes_scanned_cutoff_per_query == 10737418240
    error_message = "a 1 TiB cutoff for maintenance; the analysts keep 10 GiB"
  }
  assert {
    condition     = aws_athena_workgroup.maintenance.configuration[0].enforce_workgroup_configuration && aws_athena_workgroup.maintenance.configuration[0].publish_cloudwatch_metrics_enabled && aws_athena_workgroup.maintenance.configuration[0].engine_version[0].selected_engine_version == "Athena engine version 3"
    error_message = "configuration enforced, metrics on, engine 3"
  }
  assert {
    condition     = aws_athena_workgroup.maintenance.configuration[0].result_configuration[0].output_location == "s3://orders-lake-0001/athena-results/maintenance/" && aws_athena_workgroup.maintenance.configuration[0].result_configuration[0].encryption_configuration[0].encryption_option == "SSE_S3"
    error_message = "results under athena-results/maintenance/, SSE_S3 without a key"
  }
  assert {
    condition     = aws_athena_workgroup.maintenance.force_destroy == false
    error_message = "force_destroy off, as the analysts' workgroup"
  }
  assert {
    condition = (
      aws_lambda_function.flatten.environment[0].variables["ATHENA_WORKGROUP"] == aws_athena_workgroup.maintenance.name &&
      aws_lambda_function.flatten.environment[0].variables["GLUE_TABLE"] == aws_glue_catalog_table.flattened.name &&
      aws_lambda_function.flatten.environment[0].variables["GLUE_CHECKPOINTS_TABLE"] == aws_glue_catalog_table.checkpoints.name &&
      aws_lambda_function.flatten.environment[0].variables["CHECKPOINT_REBUILD_SHARE"] == "0.25" &&
      aws_lambda_function.flatten.environment[0].variables["CHECKPOINT_MAX_AGE_DAYS"] == "30"
    )
    error_message = "the function knows the maintenance workgroup, the tables its statements read and the checkpoint policy"
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.flatten.environment[0].variables), "COMPACTION_MAX_TASK_BYTES")
    error_message = "no task size any more (compaction_max_task_bytes is deprecated)"
  }
  assert {
    condition     = one([for st in data.aws_iam_policy_document.maintenance.statement : st.resources if st.sid == "MaintenanceRunsQueriesInItsWorkgroupOnly"]) == toset(["arn:aws:athena:eu-west-1:123456789012:workgroup/orders-flatten-maintenance"])
    error_message = "the role starts queries in the maintenance workgroup only"
  }
  assert {
    condition     = one([for st in data.aws_iam_policy_document.maintenance.statement : st.resources if st.sid == "MaintenanceQueriesReadTheLakeTables"]) == toset(["arn:aws:glue:eu-west-1:123456789012:catalog", "arn:aws:glue:eu-west-1:123456789012:database/orders", "arn:aws:glue:eu-west-1:123456789012:table/orders/flattened", "arn:aws:glue:eu-west-1:123456789012:table/orders/checkpoints"])
    error_message = "Athena reads the two tables with the role's rights"
  }
  assert {
    condition     = one([for st in data.aws_iam_policy_document.maintenance.statement : st.resources if st.sid == "MaintenanceQueriesWriteTheirResultsPrefixOnly"]) == toset(["arn:aws:s3:::orders-lake-0001/athena-results/maintenance/*"])
    error_message = "the UNLOAD results prefix only"
  }
}

run "maintenance_settings" {
  command = plan

  variables {
    athena_workgroup_name                             = "analysts"
    athena_results_prefix                             = "results"
    athena_maintenance_bytes_scanned_cutoff_per_query = 5497558138880
    checkpoint_rebuild_share                          = 0.0000001
    checkpoint_max_age_days                           = 30
    compaction_max_task_bytes                         = 268435456
  }
  assert {
    condition     = aws_athena_workgroup.maintenance.name == "analysts-maintenance" && aws_athena_workgroup.maintenance.configuration[0].bytes_scanned_cutoff_per_query == 5497558138880
    error_message = "the name follows athena_workgroup_name; the cutoff is the variable's"
  }
  assert {
    condition     = endswith(aws_athena_workgroup.maintenance.configuration[0].result_configuration[0].output_location, "/results/maintenance/")
    error_message = "the results follow athena_results_prefix"
  }
  assert {
    condition     = aws_lambda_function.flatten.environment[0].variables["CHECKPOINT_REBUILD_SHARE"] == "0.0000001" && aws_lambda_function.flatten.environment[0].variables["CHECKPOINT_MAX_AGE_DAYS"] == "30"
    error_message = "the checkpoint policy reaches the function, the share in positional notation (as the handler reads it)"
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.flatten.environment[0].variables), "COMPACTION_MAX_TASK_BYTES")
    error_message = "compaction_max_task_bytes is accepted and has no effect"
  }
}
