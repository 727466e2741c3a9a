"""The partial-batch evidence and the command line's refusals (no platform)."""

from __future__ import annotations

from flashsale_chaos.cli import main
from flashsale_chaos.scenarios import ALL, BY_NAME
from flashsale_chaos.scenarios.deliveries import RECORD_FAILED, _mixed_batches


def test_mixed_batches_need_a_paid_order_and_a_failed_record_in_one_invocation():
    entries = [
        {"function_request_id": "r1", "message": "order processed", "order_id": "a"},
        {"function_request_id": "r1", "message": RECORD_FAILED},
        {"function_request_id": "r2", "message": "order processed", "order_id": "b"},
        {"function_request_id": "r3", "message": RECORD_FAILED},
        {"function_request_id": "r3", "message": RECORD_FAILED},
    ]
    assert _mixed_batches(entries, {"a", "b"}) == (1, 3)
    assert _mixed_batches(entries, {"b"}) == (0, 3)


def test_scenarios_are_listed_in_order_and_unknown_ones_refused(capsys):
    assert main(["--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    # the default run in order, then the negative controls (run by name only)
    assert listed[: len(ALL)] == [s.name for s in ALL] and ALL[-1].name == "localstack-restart"
    assert listed[len(ALL) :] == ["no-idempotency-key"]
    assert set(BY_NAME) == set(listed)
    assert main(["no-such-scenario"]) == 2
    assert "unknown scenario" in capsys.readouterr().err


def test_the_load_is_bounded(capsys):
    assert main(["--orders", "5000", "flash-sale"]) == 2
    assert "bounded" in capsys.readouterr().err


def test_a_stack_that_is_not_up_is_a_clear_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("API_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("STATE_DIR", str(tmp_path))
    assert main(["flash-sale"]) == 2
    assert "make up" in capsys.readouterr().err
