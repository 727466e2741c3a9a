import json
from datetime import datetime

from flashsale_load.compare import main, read_recorded, summarize, write_report

PHASES = ["sync", "async-ecs", "async-lambda"]


def test_summaries_of_a_recorded_run(compare_run):
    summaries, series = summarize(compare_run, PHASES)
    by_phase = {s.phase: s for s in summaries}
    sync, ecs, lam = by_phase["sync"], by_phase["async-ecs"], by_phase["async-lambda"]
    assert (sync.requests, sync.accepted, sync.completed_in_window) == (12, 12, 12)
    assert sync.response_avg_ms > 100 > ecs.response_avg_ms  # sync waits for the payment
    assert (ecs.requests, ecs.accepted) == (37, 37)
    assert ecs.completed_in_window + ecs.completed_after_window == 37
    assert ecs.completed_after_window >= 1
    assert lam.accepted == 35 and lam.unfinished == 0
    assert ecs.peak_queue_depth == 9 and lam.peak_queue_depth == 9
    assert sync.peak_queue_depth == 0
    assert series["completions"]["async-ecs"][-1][1] == 37
    assert set(series["depths"]["async-lambda"]) == {"order-queue", "payment-queue"}


RECORDED = {
    "run": {"users per phase": 3},
    "stack": {"processor": {}},
    "machine": {"nproc": 64, "memory_mib": 1024, "cpu": "Recorded CPU", "python": "3.11.0"},
    "started_at": datetime(2026, 3, 4, 5, 6).timestamp(),
}


def test_report_files(compare_run):
    path = write_report(compare_run, PHASES, RECORDED)
    text = path.read_text()
    assert text.startswith("# Flash sale: the three phases compared (2026-03-04 05:06)")
    assert "| orders accepted | 12 | 37 | 35 |" in text
    assert "## Machine" in text and "| nproc | 64 |" in text and "Recorded CPU" in text
    assert "| users per phase | 3 |" in text
    # a run recorded before these figures existed: n/a, never 0
    assert "| queue depth at the start | n/a | n/a | n/a |" in text
    assert "| queue depth samples failed | n/a | n/a | n/a |" in text
    for image in ("orders.png", "completions.png", "queue_depth.png"):
        assert f"]({image})" in text
        assert (compare_run / image).read_bytes().startswith(b"\x89PNG")
    summary = json.loads((compare_run / "summary.json").read_text())
    assert [p["phase"] for p in summary["phases"]] == PHASES
    assert summary["phases"][0]["success_rate"] == 1.0


def test_a_phase_that_did_not_run_is_left_out(compare_run):
    summaries, _ = summarize(compare_run, ["sync", "async-ecs", "async-lambda", "nope"])
    assert [s.phase for s in summaries] == PHASES


def test_report_only_keeps_the_runs_own_machine_date_and_settings(compare_run, capsys):
    (compare_run / "settings.json").write_text(json.dumps(RECORDED))
    assert read_recorded(compare_run) == RECORDED
    assert main(["--report-only", str(compare_run)]) == 0
    text = (compare_run / "report.md").read_text()
    assert "(2026-03-04 05:06)" in text and "| nproc | 64 |" in text
    assert "| users per phase | 3 |" in text


def test_report_only_says_what_the_run_did_not_record(compare_run):
    write_report(compare_run, PHASES, read_recorded(compare_run))
    text = (compare_run / "report.md").read_text()
    assert "(date not recorded)" in text
    assert "machine this run measured on was not recorded" in text
    assert "load settings were not recorded" in text
    assert "stack's settings were not recorded" in text
    assert "nproc" not in text


def test_start_depth_released_orders_and_sampler_errors_are_reported(compare_run):
    (compare_run / "async-ecs" / "queues.json").write_text(
        json.dumps({"start_depth": 0, "released": {"failed": 7, "queued": {"order-queue": 7}}})
    )
    (compare_run / "async-lambda" / "queues.json").write_text(
        json.dumps({"start_depth": 0, "released": {"failed": 0, "queued": {}}})
    )
    (compare_run / "queue_depth_errors.json").write_text(
        json.dumps({"async-lambda": {"count": 3, "last": "payment-queue: EndpointError: down"}})
    )
    text = write_report(compare_run, PHASES, RECORDED).read_text()
    assert "| queue depth at the start | n/a | 0 | 0 |" in text
    assert "| unfinished, failed and released after the wait | n/a | 7 | 0 |" in text
    assert "| queue depth samples failed | 0 | 0 | 3 |" in text
    assert "async-ecs: 7 orders were not finished when the wait ended" in text
    assert "queue_depth_errors.json" in text
