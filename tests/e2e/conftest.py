"""The pipeline every end-to-end test module drives (one per module, closed after it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from support.pipeline import Pipeline


@pytest.fixture(scope="module")
def pipeline(local_aws: dict[str, str]) -> Iterator[Pipeline]:
    pipeline = Pipeline.connect()
    yield pipeline
    pipeline.close()


@pytest.fixture(scope="module")
def http(local_aws: dict[str, str]) -> Iterator[requests.Session]:
    """A plain HTTP session to the API at API_URL; fails when the API does not answer."""
    url = local_aws["API_URL"]
    session = requests.Session()
    try:
        session.get(f"{url}/health", timeout=5).raise_for_status()
    except requests.RequestException as exc:
        pytest.fail(f"the API at {url} is not answering ({exc}): start it with `make up`")
    yield session
    session.close()
