"""Every locust scenario under load/locustfiles runs headless for a few seconds with 1-2 users
against the running pipeline (API_URL, default http://127.0.0.1:8080), without failed requests;
the orders it placed reach a final state."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from flashsale_kit.api import Api
from flashsale_load import config, locust_stats, orderlog, proc, scenarios
from flashsale_load.locust_stats import AGGREGATED
from flashsale_load.order_records import wait_terminal

API_URL = config.api_url()

#: scenario -> (phase, users, run time): every path is covered, each run a few seconds and a
#: few dozen orders at most (the closed loop orders back to back: against sync that is one
#: order per payment, not a backlog for the next test)
RUNS = {
    "normal": ("async-lambda", 2, "4s"),
    "flash": ("async-ecs", 2, "3s"),
    "spike": ("async-lambda", 0, ""),
    "browse": ("async-ecs", 2, "4s"),
    "closed": ("sync", 1, "5s"),
}
SPIKE_ENV = {
    "SPIKE_BASE_USERS": "1",
    "SPIKE_PEAK_USERS": "2",
    "SPIKE_QUIET_S": "1",
    "SPIKE_RAMP_S": "1",
    "SPIKE_HOLD_S": "2",
    "SPIKE_COOL_S": "1",
}


@pytest.fixture(scope="module")
def api(local_aws: dict[str, str]) -> str:
    try:
        up = requests.get(f"{API_URL}/health", timeout=3).status_code == 200
    except requests.RequestException:
        up = False
    if not up:
        pytest.fail(f"the API does not answer on {API_URL}: start the pipeline with `make up`")
    return API_URL


def run_scenario(name: str, out_dir: Path) -> Path:
    phase, users, run_time = RUNS[name]
    scn = scenarios.scenario(name)
    argv = scenarios.locust_command(
        scn,
        phase=phase,
        host=API_URL,
        out_dir=out_dir,
        run_time=run_time or None,
        users=users or None,
        spawn_rate=users or None,
        orders_log=out_dir / "orders.csv",
        html=False,
    )
    env = {**os.environ, **SPIKE_ENV}
    code = proc.run_bounded(argv, out_dir / "locust.log", timeout=90, env=env)
    log = (out_dir / "locust.log").read_text(errors="replace")
    assert code in (0, 1), f"locust exited {code}:\n{log[-2000:]}"
    return out_dir


@pytest.mark.parametrize("name", sorted(RUNS))
def test_scenario_runs_against_the_pipeline(name: str, api: str, tmp_path: Path) -> None:
    out_dir = run_scenario(name, tmp_path)
    stats = locust_stats.read(out_dir)
    total = stats.get(AGGREGATED)
    assert total is not None and total.requests > 0, "no request was made"
    failures = (out_dir / "locust_failures.csv").read_text()
    assert total.failures == 0, f"failed requests:\n{failures}"

    log = orderlog.read(out_dir / "orders.csv")
    assert log.start_ts is not None and log.stop_ts is not None
    if name == "browse":
        # tasks are drawn at random (weights 5/3/1): a few seconds show some browsing, not all
        assert {"search", "product"} & set(stats)
    else:
        assert log.orders, "no order was accepted"
    client = Api(api)
    try:
        records = wait_terminal(client, log.order_ids, timeout=180)
    finally:
        client.close()
    stuck = {oid: r.status if r else "missing" for oid, r in records.items()}
    stuck = {oid: status for oid, status in stuck.items() if status not in ("completed", "failed")}
    assert not stuck, f"orders not finished after 180 s: {stuck}"
    expected_route = RUNS[name][0].removeprefix("async-")
    assert {r.route for r in records.values() if r} <= {expected_route}
