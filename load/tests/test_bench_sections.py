"""`make bench`'s exit status: a failed correctness check fails the run, a figure never does."""

from __future__ import annotations

from flashsale_load.bench import __main__ as bench
from flashsale_load.config import BenchSettings


def section(result):
    return lambda stack, settings, out: dict(result)


class CleanStarts:
    def __init__(self):
        self.calls = 0

    def __call__(self, stack, settings):
        self.calls += 1
        return {"clean": True}


def test_a_failed_correctness_check_fails_the_run(tmp_path, capsys):
    runners = {
        "drain": section({"ratio": 0.97, bench.FAILED_CHECKS: ["ledger: every order charged"]}),
        "coldstart": section({"cold_invoke_ms": 900.0}),
    }
    results, starts = {}, CleanStarts()
    failed = bench.run_sections(
        ["coldstart", "drain"], runners, None, BenchSettings(), tmp_path, results, starts
    )
    assert failed == ["drain"]
    assert results["coldstart"] == {"cold_invoke_ms": 900.0, "start": {"clean": True}}
    assert starts.calls == 2 and results["drain"]["start"] == {"clean": True}
    assert "drain: check FAILED: ledger: every order charged" in capsys.readouterr().err


def test_a_figure_under_its_goal_is_printed_not_failed(tmp_path):
    runners = {"coldstart": section({"cold_overhead_ms": None, bench.FAILED_CHECKS: []})}
    failed = bench.run_sections(
        ["coldstart"], runners, None, BenchSettings(), tmp_path, {}, CleanStarts()
    )
    assert failed == []


def test_a_section_that_raises_is_failed_and_the_others_still_run(tmp_path):
    def broken(stack, settings, out):
        raise RuntimeError("the consumer did not resume")

    results = {}
    failed = bench.run_sections(
        ["coldstart", "rss"],
        {"coldstart": broken, "rss": section({"api": {}})},
        None,
        BenchSettings(),
        tmp_path,
        results,
        CleanStarts(),
    )
    assert failed == ["coldstart"]
    assert results["coldstart"]["error"].startswith("RuntimeError")
    assert results["rss"] == {"api": {}, "start": {"clean": True}}


def test_a_consumers_failed_drain_check_fails_the_drain_section(tmp_path, monkeypatch):
    """The drain section measures each consumer; one consumer's ledger failure is the section's."""
    checks = {"ecs": [], "lambda": ["ledger: 3 orders charged more than once"]}
    monkeypatch.setattr(
        bench, "drain_one", lambda stack, s, out, name: {bench.FAILED_CHECKS: checks[name]}
    )
    settings = BenchSettings(drain_consumers=("ecs", "lambda"))
    result = bench.bench_drain(None, settings, tmp_path)
    assert result[bench.FAILED_CHECKS] == ["lambda: ledger: 3 orders charged more than once"]
    failed = bench.run_sections(
        ["drain"], {"drain": bench.bench_drain}, None, settings, tmp_path, {}, CleanStarts()
    )
    assert failed == ["drain"]
