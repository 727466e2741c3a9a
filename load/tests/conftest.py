"""Fixtures of the load tools' unit tests: recorded runs under fixtures/, no platform needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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
