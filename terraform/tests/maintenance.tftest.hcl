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
