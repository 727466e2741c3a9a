"""Fixtures of the load tools' unit tests: recorded runs under fixtures/, no platform needed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def compare_run(tmp_path: Path) -> Path:
    """A copy of a recorded `load-compare` run (three phases of 3 users for 4 s)."""
    target = tmp_path / "compare"
    shutil.copytree(FIXTURES / "compare", target)
    return target


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process with test credentials (the root conftest keeps endpoints away)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield
