"""The pipeline every end-to-end test module drives (one per module, closed after it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.pipeline import Pipeline


@pytest.fixture(scope="module")
def pipeline(local_aws: dict[str, str]) -> Iterator[Pipeline]:
    pipeline = Pipeline.connect()
    yield pipeline
    pipeline.close()
