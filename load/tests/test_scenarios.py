from datetime import datetime

import pytest

from flashsale_load import scenarios
from flashsale_load.scenarios import locust_command, run_dir, scenario, seconds


@pytest.mark.parametrize(
    ("text", "expected"), [("60", 60), ("60s", 60), ("2m", 120), ("1m30s", 90), ("1h", 3600)]
)
def test_run_time_syntax(text, expected):
    assert seconds(text) == expected


def test_bad_run_time():
    with pytest.raises(ValueError):
        seconds("soon")


def test_every_scenario_has_its_locustfile():
    for scn in scenarios.SCENARIOS.values():
        assert scn.locustfile.is_file(), scn.locustfile


def test_command_of_a_user_count_scenario(tmp_path):
    argv = locust_command(
        scenario("flash"),
        phase="sync",
        host="http://127.0.0.1:8080",
        out_dir=tmp_path,
        run_time="30s",
        orders_log=tmp_path / "orders.csv",
    )
    joined = " ".join(argv)
    assert "--headless" in argv and "-u 20 -r 20 -t 30s" in joined
    assert f"--csv {tmp_path / 'locust'}" in joined
    assert f"--json-file {tmp_path / 'locust'}" in joined
    assert "--phase sync" in joined and "--orders-log" in joined
    assert "--html" in argv


def test_a_shaped_scenario_leaves_users_and_time_to_the_shape(tmp_path):
    argv = locust_command(
        scenario("spike"), phase="async-ecs", host="h", out_dir=tmp_path, html=False
    )
    assert "-u" not in argv and "-t" not in argv and "--html" not in argv


def test_run_dir_is_timestamped(tmp_path):
    path = run_dir(tmp_path, "flash-sync", now=datetime(2026, 1, 2, 3, 4, 5))
    assert path == tmp_path / "20260102-030405-flash-sync" and path.is_dir()
