"""The scenario files import and define what locust needs. Checked in a child interpreter:
importing locust monkey-patches the process with gevent, which pytest's process must not get."""

import json
import os
import subprocess
import sys

from flashsale_load import scenarios

PROBE = """
import importlib.util, json, sys
from locust import LoadTestShape, User
found = {}
for path in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location("scenario", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    users = [n for n, v in vars(module).items()
             if isinstance(v, type) and issubclass(v, User) and not v.abstract]
    shapes = [v for v in vars(module).values()
              if isinstance(v, type) and issubclass(v, LoadTestShape) and not v.abstract]
    ticks = []
    for shape in shapes:
        instance = shape()
        instance.get_run_time = lambda t=0.0: 0.5
        ticks.append(instance.tick())
    found[path] = {"users": users, "ticks": ticks,
                   "hosts": [vars(module)[n].host for n in users]}
print(json.dumps(found))
"""


def test_every_scenario_defines_a_user_and_the_spike_a_shape():
    paths = [str(s.locustfile) for s in scenarios.SCENARIOS.values()]
    env = {**os.environ, "SPIKE_BASE_USERS": "2", "API_URL": "http://127.0.0.1:9999"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *paths],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    for path in paths:
        assert len(found[path]["users"]) == 1, path
        assert found[path]["hosts"] == ["http://127.0.0.1:9999"]
    spike = found[str(scenarios.scenario("spike").locustfile)]
    assert spike["ticks"] == [[2, 2.0]]  # quiet start: the base users
    flash = found[str(scenarios.scenario("flash").locustfile)]
    assert flash["ticks"] == []
