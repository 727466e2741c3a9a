"""Resident memory of the stack's processes: the API (gunicorn master and workers), the
processor, and the payment Lambda's runtime process."""

from __future__ import annotations

from pathlib import Path

from flashsale_load import machine
from localaws import processes


def rss_mib(pid: int) -> float | None:
    kib = processes.rss_kib(pid)
    return round(kib / 1024, 1) if kib else None


def tree_rss(pid: int) -> dict[str, float | None]:
    """`pid` and each descendant: pid -> RSS MiB."""
    return {str(p): rss_mib(p) for p in [pid, *processes.descendants(pid)]}


def lambda_pids(function_name: str, run_dir: Path | None = None) -> list[int]:
    """Processes running the function (their environment names it), where readable; with
    `run_dir`, only those of that stack's LocalStack (another stack may run the same names)."""
    if run_dir is not None:
        localstack = machine.pid_records(run_dir).get("localstack")
        candidates = processes.descendants(localstack) if localstack else []
    else:
        candidates = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    found = [
        pid
        for pid in candidates
        if machine.process_environ(pid).get("AWS_LAMBDA_FUNCTION_NAME") == function_name
    ]
    return sorted(found)


def stack_rss(run_dir: Path, function_name: str) -> dict[str, dict[str, float | None]]:
    """name -> {pid: RSS MiB} for the API, the processor and the Lambda process(es)."""
    pids = machine.pid_records(run_dir)
    report: dict[str, dict[str, float | None]] = {}
    for name in ("api", "processor"):
        if name in pids:
            report[name] = tree_rss(pids[name])
    report["payment-fn"] = {str(p): rss_mib(p) for p in lambda_pids(function_name, run_dir)}
    return report
