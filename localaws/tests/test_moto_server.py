import gc
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from localaws import health, moto_server

CREDS = {"region_name": "us-east-1", "aws_access_key_id": "test", "aws_secret_access_key": "test"}


def create_tables(ddb) -> None:
    for name, key, kind in (("products", "product_id", "N"), ("orders", "order_id", "S")):
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": kind}],
            BillingMode="PAY_PER_REQUEST",
        )
    for product_id, stock in ((1, 1), (2, 5)):
        ddb.put_item(
            TableName="products",
            Item={"product_id": {"N": str(product_id)}, "stock": {"N": str(stock)}},
        )


def place(ddb, order_id: str, items: dict[int, int]) -> None:
    reserve = [
        {
            "Update": {
                "TableName": "products",
                "Key": {"product_id": {"N": str(product_id)}},
                "UpdateExpression": "SET stock = stock - :q",
                "ConditionExpression": "stock >= :q",
                "ExpressionAttributeValues": {":q": {"N": str(quantity)}},
            }
        }
        for product_id, quantity in items.items()
    ]
    order = {
        "Put": {
            "TableName": "orders",
            "Item": {"order_id": {"S": order_id}},
            "ConditionExpression": "attribute_not_exists(order_id)",
        }
    }
    ddb.transact_write_items(TransactItems=[*reserve, order])


def stock(ddb, product_id: int) -> int:
    item = ddb.get_item(TableName="products", Key={"product_id": {"N": str(product_id)}})["Item"]
    return int(item["stock"]["N"])


@pytest.fixture
def fixed_moto(monkeypatch):
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_server.transact_write_items)
    with mock_aws():
        ddb = boto3.client("dynamodb", **CREDS)
        create_tables(ddb)
        yield ddb


def test_a_transaction_applies_every_write_when_every_condition_holds(fixed_moto):
    place(fixed_moto, "o1", {1: 1, 2: 2})
    assert (stock(fixed_moto, 1), stock(fixed_moto, 2)) == (0, 3)
    assert "Item" in fixed_moto.get_item(TableName="orders", Key={"order_id": {"S": "o1"}})


def test_a_failed_condition_cancels_the_whole_transaction_with_reasons(fixed_moto):
    with pytest.raises(ClientError) as cancelled:
        place(fixed_moto, "o2", {2: 2, 1: 5})  # product 2 has stock, product 1 does not
    error = cancelled.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in error["CancellationReasons"]] == [
        "None",
        "ConditionalCheckFailed",
        "None",
    ]
    assert (stock(fixed_moto, 1), stock(fixed_moto, 2)) == (1, 5)
    assert "Item" not in fixed_moto.get_item(TableName="orders", Key={"order_id": {"S": "o2"}})


def test_a_duplicate_put_is_refused_and_nothing_is_reserved(fixed_moto):
    place(fixed_moto, "o3", {2: 1})
    with pytest.raises(ClientError):
        place(fixed_moto, "o3", {2: 1})
    assert stock(fixed_moto, 2) == 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_server_sells_exactly_the_stock_to_concurrent_buyers():
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "localaws.moto_server", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        assert health.wait_until(lambda: health.http_ok(f"{url}/moto-api/"), timeout=30)
        config = Config(retries={"max_attempts": 1}, max_pool_connections=16)
        ddb = boto3.client("dynamodb", endpoint_url=url, config=config, **CREDS)
        create_tables(ddb)
        ddb.put_item(TableName="products", Item={"product_id": {"N": "1"}, "stock": {"N": "40"}})

        def buy(i: int) -> str:
            try:
                place(ddb, f"order-{i}", {1: 1})
                return "ok"
            except ClientError as exc:
                return exc.response["Error"]["Code"]

        with ThreadPoolExecutor(16) as pool:
            outcomes = list(pool.map(buy, range(100)))
        assert outcomes.count("ok") == 40
        assert set(outcomes) == {"ok", "TransactionCanceledException"}
        assert stock(ddb, 1) == 0
        assert ddb.scan(TableName="orders", Select="COUNT")["Count"] == 40
        calls = requests.get(f"{url}{moto_server.CALLS_PATH}", timeout=5).json()["dynamodb"]
        assert calls["TransactWriteItems"] == 100
        assert calls["Scan"] == 1
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_requests_are_serialized_per_service_from_the_credential_scope():
    scope = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{}/aws4_request, SignedHeaders=x"
    assert moto_server._service_of({"HTTP_AUTHORIZATION": scope.format("dynamodb")}) == "dynamodb"
    assert moto_server._service_of({"HTTP_AUTHORIZATION": scope.format("xray")}) == "xray"
    assert moto_server._service_of({}) == "other"
    app = moto_server.Serialized(lambda environ, start: [b"ok"])
    assert app._lock("dynamodb") is app._lock("dynamodb")
    assert app._lock("dynamodb") is not app._lock("xray")


def test_a_full_collection_freezes_its_survivors():
    """The next full collection then walks only what came since (moto's tables stay out)."""
    moto_server.keep_full_collections_short()
    moto_server.keep_full_collections_short()  # once only
    gc.disable()  # only the collections below
    gc.unfreeze()  # a server app built by an earlier test may have frozen already
    try:
        assert gc.callbacks.count(moto_server.freeze_survivors) == 1
        kept = [[i] for i in range(10_000)]
        gc.collect(1)
        assert gc.get_freeze_count() == 0  # young collections leave everything as it was
        gc.collect()
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.callbacks.remove(moto_server.freeze_survivors)
        gc.unfreeze()
        gc.enable()
