"""`make audit` against the suite's stack, and its negative controls: one order's status
corrupted in the table makes it exit 1 naming that order; a chaos run whose consumers charge
without an idempotency key makes the scenario's audit FAIL naming the double charges."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support.pipeline import Pipeline

from flashsale_chaos import report
from flashsale_chaos.scenarios import BY_NAME, Context
from flashsale_kit.api import order_body
from flashsale_kit.running import RunningStack

ROOT = Path(__file__).resolve().parents[2]


def make_audit() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-s", "audit"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def set_status(pipeline: Pipeline, table: str, order_id: str, status: str) -> None:
    pipeline.tables.ddb.update_item(
        TableName=table,
        Key={"order_id": {"S": order_id}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": status}},
    )


@pytest.mark.timeout(600)
def test_a_corrupted_order_status_makes_make_audit_exit_1_naming_it(pipeline: Pipeline) -> None:
    api, tables = pipeline.api, pipeline.tables
    product = pipeline.new_product(stock=5)
    [placed] = api.place_many([("ecs", order_body(40_002, product, 1))])
    assert pipeline.wait_terminal([placed.order_id], timeout=90) == {placed.order_id: "completed"}
    table = tables.settings.orders_table
    set_status(pipeline, table, placed.order_id, "failed")  # charged, but shown failed
    try:
        corrupted = make_audit()
    finally:
        set_status(pipeline, table, placed.order_id, "completed")
    # the audit exits 1; make reports a failed recipe as its own exit 2 ("Error 1")
    assert corrupted.returncode != 0, corrupted.stdout + corrupted.stderr
    assert "audit] Error 1" in corrupted.stderr, corrupted.stderr
    assert f"VIOLATION failed but charged: {placed.order_id}" in corrupted.stdout
    assert f"failed without its stock given back: {placed.order_id}" in corrupted.stdout
    repaired = make_audit()
    assert "Traceback" not in repaired.stderr  # other tests may leave violations of their own
    assert placed.order_id not in repaired.stdout


@pytest.mark.timeout(600)
def test_without_idempotency_keys_the_chaos_audit_fails_naming_double_charges(local_aws) -> None:
    stack = RunningStack()
    stack.require_ready()
    ctx = Context.connect(stack, orders=24, settle_timeout=180)
    try:
        outcome = BY_NAME["no-idempotency-key"].run(ctx)
    finally:
        ctx.api.close()
        if stack.process("processor") is None:
            stack.start("processor")
    text = f"\n{report.table([outcome])}\n{report.details([outcome])}"
    assert outcome.verdict == "FAIL" and outcome.max_charges >= 2, text
    money = next(c for c in outcome.checks if c.name == "charges match order status")
    assert "double charge" in money.detail, text
    refund = next(c for c in outcome.checks if c.name.startswith("after refunding"))
    assert refund.ok, text  # the control leaves no double charge behind for `make audit`
    processor = stack.process("processor")
    assert processor is not None, "the processor was not restored"
    environ = Path(f"/proc/{processor.pid}/environ")
    if environ.exists():  # Linux: the restored processor charges with keys again
        assert b"PAYMENT_IDEMPOTENCY_KEYS" not in environ.read_bytes()
