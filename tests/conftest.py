"""Fixtures shared by the integration and end-to-end tests.

Tests under tests/integration and tests/e2e talk to the platform `make up` started. Endpoints
come from the same variables the services read (the env file `make up` writes, then the process
environment), defaulting to the standard local ports. When the platform does not answer, those
tests fail with a clear message rather than skip: a suite that silently skips proves nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from flashsale_kit.running import RunningStack, stack_env
from localaws import health

LOCAL_ENV = stack_env()
# e2e modules read the API's address at import: the stack's own, unless the caller names one
os.environ.setdefault("API_URL", LOCAL_ENV["API_URL"])


@pytest.fixture(scope="session")
def local_aws() -> Iterator[dict[str, str]]:
    """The local platform's client environment, applied to this process for the session."""
    missing = [
        name
        for name, url in (
            ("LocalStack", f"{LOCAL_ENV['AWS_ENDPOINT_URL']}/_localstack/health"),
            ("moto", f"{LOCAL_ENV['AWS_ENDPOINT_URL_DYNAMODB']}/moto-api/"),
        )
        if not health.http_ok(url, timeout=2)
    ]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not answering: start the platform with `make up`")
    saved = {key: os.environ.get(key) for key in LOCAL_ENV}
    os.environ.update(LOCAL_ENV)
    yield dict(LOCAL_ENV)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def aws(local_aws: dict[str, str]) -> Callable[[str], object]:
    """`aws("sqs")` -> a boto3 client for the local platform (one per service per session)."""
    return RunningStack().client
