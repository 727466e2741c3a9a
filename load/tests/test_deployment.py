import json

import pytest

from flashsale_load.cost import break_even, cost_row, deployed_model, load_pricing, study_model
from flashsale_load.deployment import (
    Input,
    invocation_ms,
    read_deployment,
    report_durations,
    stack_settings,
    task_rate_from_compare,
    template_defaults,
)


class FakeCfn:
    """describe_stacks of one deployed stack; any other name is not deployed."""

    def __init__(self, name, parameters):
        self.name, self.parameters = name, parameters

    def describe_stacks(self, StackName):
        if StackName != self.name:
            raise RuntimeError(f"Stack with id {StackName} does not exist")
        params = [{"ParameterKey": k, "ParameterValue": v} for k, v in self.parameters.items()]
        return {"Stacks": [{"StackName": StackName, "Parameters": params}]}


def test_report_lines_give_billed_durations(fixtures):
    lines = (fixtures / "lambda" / "report_lines.log").read_text().splitlines()
    assert report_durations(lines) == [3102, 3051, 3208, 42]


def test_invocation_duration_is_the_median_of_the_paying_invocations(fixtures):
    durations = [3102, 3051, 3208, 42]
    measured = invocation_ms(durations, 3.0, "a log")
    assert measured.value == 3102  # the 42 ms probe paid nothing and is left out
    assert "3 invocations" in measured.source
    assert invocation_ms([42], 3.0, "a log").value is None


def test_stack_settings_prefer_the_deployed_stack_and_say_so():
    cfn = FakeCfn("local-payment-fn", {"MemorySize": "1024", "BatchSize": "5"})
    params, source = stack_settings("payment_fn", "local", cfn)
    assert (params["MemorySize"], params["BatchSize"]) == ("1024", "5")
    assert params["PaymentConcurrency"] == template_defaults("payment_fn")["PaymentConcurrency"]
    assert source == "deployed stack local-payment-fn"
    params, source = stack_settings("processor", "local", cfn)
    assert params["Cpu"] == template_defaults("processor")["Cpu"]
    assert "template default" in source and "not deployed" in source


def test_task_rate_from_a_compare_run(tmp_path):
    phases = [
        {"phase": "sync", "completed_in_window": 9, "completed_after_window": 0, "window_s": 30},
        {
            "phase": "async-ecs",
            "completed_in_window": 90,
            "completed_after_window": 210,
            "window_s": 30.0,
            "drain_s": 70.0,
        },
    ]
    (tmp_path / "summary.json").write_text(json.dumps({"phases": phases}))
    rate = task_rate_from_compare(tmp_path)
    assert rate.value == pytest.approx(3.0) and "300 orders completed in 100 s" in rate.source
    assert task_rate_from_compare(tmp_path / "missing").value is None


def test_without_a_measured_run_the_deployed_model_is_not_available():
    d = read_deployment("local")
    assert d.invocation_ms.value is None and d.task_orders_per_s.value is None
    assert set(d.missing()) == {"invocation_ms", "task_orders_per_s"}
    assert deployed_model(d) is None
    assert d.lambda_memory_mb.value == 512 and "template default" in d.lambda_memory_mb.source


def test_a_batch_divides_the_billed_duration_per_order(fixtures):
    p = load_pricing()
    d = read_deployment(
        "local", lambda_log=fixtures / "lambda" / "report_lines.log", task_rate=10 / 3
    )
    assert d.invocation_ms == Input(3102, d.invocation_ms.source)
    model = deployed_model(d)
    study = study_model(p)
    # 512 MB x 3.102 s for a batch of 10 orders, against 512 MB x 3 s for each order
    assert model.gb_seconds_per_order == pytest.approx(0.5 * 3.102 / 10)
    assert study.gb_seconds_per_order == pytest.approx(1.5)
    assert model.invocations_per_order == pytest.approx(0.1)
    # 0.25 vCPU / 0.5 GB tasks from the processor stack: half the study's task price
    assert cost_row(10_000, p, model).ecs_compute == pytest.approx(
        cost_row(10_000, p).ecs_compute / 2
    )
    million = cost_row(1_000_000, p, model)
    assert million.lambda_compute == 0.0  # 155,100 GB-s: inside the free tier
    assert cost_row(1_000_000, p).lambda_compute > 0
    # the study's ~1M orders/month break-even does not survive the batch
    even = break_even(p, model)
    assert even is None or even > 10 * break_even(p)


class FakeLogs:
    """filter_log_events of one log group, in pages."""

    def __init__(self, group, pages):
        self.group, self.pages = group, pages

    def get_paginator(self, name):
        assert name == "filter_log_events"
        return self

    def paginate(self, logGroupName, filterPattern):
        assert (logGroupName, filterPattern) == (self.group, "REPORT")
        return [{"events": [{"message": line} for line in page]} for page in self.pages]


def test_the_invocation_duration_is_read_from_the_functions_logs(fixtures):
    lines = (fixtures / "lambda" / "report_lines.log").read_text().splitlines()
    logs = FakeLogs("/aws/lambda/local-payment-fn", [lines[:4], lines[4:]])
    d = read_deployment("local", logs=logs)
    assert d.invocation_ms.value == 3102
    assert "/aws/lambda/local-payment-fn" in d.invocation_ms.source
    assert read_deployment("local", logs=FakeLogs("other", [])).invocation_ms.value is None
