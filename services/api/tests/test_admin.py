"""Fail closed: outside 'local' the API does not start without an admin key of its own."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from flashsale.settings import LOCAL_ADMIN_API_KEY, Settings
from orders_api.admin import AdminKeyError, check_admin_key

GOOD_KEY = "k" * 32


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (None, "ADMIN_API_KEY is not set"),
        ("", "ADMIN_API_KEY is not set"),
        (LOCAL_ADMIN_API_KEY, "published local key"),
        ("short-key", "shorter than"),
    ],
)
def test_outside_local_a_missing_or_weak_key_refuses_to_start(key, problem):
    with pytest.raises(AdminKeyError, match=problem):
        check_admin_key(Settings(env_name="prod", admin_api_key=key))


def test_local_and_a_real_key_start():
    check_admin_key(Settings())  # local: the published key is fine there
    check_admin_key(Settings(env_name="prod", admin_api_key=GOOD_KEY))


def test_from_env_gives_no_default_key_outside_local():
    assert Settings.from_env({"ENV_NAME": "prod"}).admin_api_key is None


def test_the_wsgi_entrypoint_refuses_to_load_without_a_key():
    env = {k: v for k, v in os.environ.items() if k != "ADMIN_API_KEY"}
    env.update(ENV_NAME="prod", AWS_REGION="us-east-1", AWS_XRAY_SDK_ENABLED="false")
    result = subprocess.run(
        [sys.executable, "-c", "import orders_api.wsgi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "AdminKeyError: ENV_NAME=prod: ADMIN_API_KEY is not set" in result.stderr
