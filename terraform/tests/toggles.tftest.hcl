# Switching parts off: backfill, alarms, the stream trigger.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name               = "orders"
  partition_key      = "pk"
  explode_attributes = ["items"]
}

run "backfill_off" {
  variables {
    backfill_enabled = false
  }
  assert {
    condition     = length(aws_iam_role_policy.backfill) == 0 && length(aws_s3_bucket_notification.export_files) == 0 && length(aws_lambda_permission.s3_export_files) == 0
    error_message = "no export rights, no notification, no S3 permission"
  }
}

run "alarms_off" {
  variables {
    create_alarms = false
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.errors) + length(aws_cloudwatch_metric_alarm.iterator_age) + length(aws_cloudwatch_metric_alarm.dlq_messages) == 0
    error_message = "no alarms"
  }
}

run "alarms_notify_a_topic" {
  variables {
    alarm_sns_topic_arn = "arn:aws:sns:eu-west-1:123456789012:alerts"
  }
  assert {
    condition     = contains(aws_cloudwatch_metric_alarm.errors[0].alarm_actions, var.alarm_sns_topic_arn)
    error_message = "the alarms notify the topic"
  }
}

run "trigger_off" {
  variables {
    create_event_source_mapping = false
  }
  assert {
    condition     = length(aws_lambda_event_source_mapping.stream) == 0 && output.lambda_event_source_mapping_uuid == null
    error_message = "no stream trigger"
  }
}

run "trigger_paused" {
  variables {
    event_source_mapping_enabled = false
  }
  assert {
    condition     = aws_lambda_event_source_mapping.stream[0].enabled == false
    error_message = "the trigger exists, paused"
  }
}
