"""In-process moto for the adapter tests: a clean AWS environment, tables and clients."""

from __future__ import annotations

import functools
import inspect
import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from unittest import mock

import boto3
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from flashsale.adapters.dynamodb import create_tables
from flashsale.settings import Settings

REGION = "us-east-1"
SETTINGS = Settings.from_env({"ENV_NAME": "test", "AWS_REGION": REGION})


@contextmanager
def moto_aws() -> Iterator[None]:
    """mock_aws with fake credentials and no endpoint overrides (they would bypass moto)."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    for key in saved:
        del os.environ[key]
    os.environ.update(
        AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION=REGION
    )
    try:
        with mock_aws(), atomic_moto_dynamodb():
            yield
    finally:
        for key in [k for k in os.environ if k.startswith("AWS_")]:
            del os.environ[key]
        os.environ.update(saved)


@contextmanager
def atomic_moto_dynamodb() -> Iterator[None]:
    """Serialise moto's DynamoDB backend calls.

    DynamoDB applies each request atomically; moto does not (a conditional write checks, then
    writes, and a cancelled transaction restores a copy of whole tables), so concurrent threads
    can interleave inside it. Tests of concurrent behaviour need the real service's atomicity.
    """
    lock = threading.RLock()

    def locked(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            with lock:
                return method(*args, **kwargs)

        return wrapper

    with ExitStack() as stack:
        for name, method in inspect.getmembers(DynamoDBBackend, inspect.isfunction):
            if not name.startswith("_"):
                stack.enter_context(mock.patch.object(DynamoDBBackend, name, locked(method)))
        yield


def dynamodb_with_tables():
    client = boto3.client("dynamodb", region_name=REGION)
    create_tables(client, SETTINGS)
    return client
