# The alias: follows the newest version, pinned (rollback), or pinned with a canary share on another version.
# The mock provider reports version "1" for the function (tests/mocks).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name               = "orders"
  partition_key      = "pk"
  explode_attributes = ["items"]
}

run "follows_the_newest_version" {
  assert {
    condition     = aws_lambda_alias.live.function_version == aws_lambda_function.flatten.version
    error_message = "unpinned, the alias follows the newest published version"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.stream[0].function_name == aws_lambda_alias.live.arn
    error_message = "the stream trigger invokes the alias, not the function"
  }
}

run "pinned" {
  variables {
    alias_pinned_version = "3"
  }
  assert {
    condition     = aws_lambda_alias.live.function_version == "3" && length(aws_lambda_alias.live.routing_config) == 0
    error_message = "pinned to 3, no canary"
  }
}

run "canary_of_a_tenth_with_a_pin" {
  variables {
    alias_pinned_version = "1"
    canary_weight        = 0.1
    canary_version       = "2"
  }
  assert {
    condition     = aws_lambda_alias.live.function_version == "1"
    error_message = "the alias stays on the pinned version"
  }
  assert {
    condition     = aws_lambda_alias.live.routing_config[0].additional_version_weights == tomap({ "2" = 0.1 })
    error_message = "a tenth of the invocations go to version 2"
  }
}

run "canary_defaults_to_the_newest_version" {
  variables {
    alias_pinned_version = "3"
    canary_weight        = 0.25
  }
  assert {
    condition     = aws_lambda_alias.live.routing_config[0].additional_version_weights == tomap({ (aws_lambda_function.flatten.version) = 0.25 })
    error_message = "without canary_version the canary is the newest version"
  }
}

run "canary_weights_from_0_to_1" {
  variables {
    alias_pinned_version = "1"
    canary_weight        = 1
    canary_version       = "2"
  }
  assert {
    condition     = aws_lambda_alias.live.routing_config[0].additional_version_weights["2"] == 1
    error_message = "a weight of 1 is allowed"
  }
}

run "canary_needs_a_pin" {
  command = plan
  variables {
    canary_weight = 0.1
  }
  expect_failures = [aws_lambda_alias.live]
}

run "canary_weight_above_1_is_refused" {
  command = plan
  variables {
    alias_pinned_version = "1"
    canary_weight        = 1.5
  }
  expect_failures = [var.canary_weight]
}
