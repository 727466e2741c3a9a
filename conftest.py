"""Test-suite wide rules for every test path of the workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PLATFORM_SUITES = {"integration", "e2e"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests under an `integration` or `e2e` folder get that marker."""
    for item in items:
        for suite in PLATFORM_SUITES & set(Path(str(item.fspath)).parts):
            item.add_marker(getattr(pytest.mark, suite))


@pytest.fixture(autouse=True)
def _unit_tests_stay_off_the_local_platform(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unit tests never reach a running emulator, whatever an earlier test put in os.environ.

    (moto's in-process mocks only intercept AWS hostnames: with AWS_ENDPOINT_URL_* set, a unit
    test would silently talk to the real local platform.)
    """
    if any(request.node.get_closest_marker(suite) for suite in PLATFORM_SUITES):
        return
    for key in list(os.environ):
        if key.startswith("AWS_ENDPOINT_URL") or key == "AWS_XRAY_DAEMON_ADDRESS":
            monkeypatch.delenv(key)
