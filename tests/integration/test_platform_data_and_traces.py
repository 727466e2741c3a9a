"""DynamoDB (moto) and the X-Ray path (UDP daemon stand-in -> X-Ray API on moto)."""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from flashsale_kit.polling import wait_until


def test_dynamodb_conditional_write_refuses_to_oversell(aws):
    ddb = aws("dynamodb")
    table = f"it-{uuid.uuid4().hex[:10]}"
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "product_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "product_id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        ddb.put_item(TableName=table, Item={"product_id": {"N": "1"}, "stock": {"N": "1"}})

        def take_one() -> None:
            ddb.update_item(
                TableName=table,
                Key={"product_id": {"N": "1"}},
                UpdateExpression="SET stock = stock - :one",
                ConditionExpression="stock >= :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

        take_one()
        with pytest.raises(ClientError) as refused:
            take_one()
        assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
        item = ddb.get_item(TableName=table, Key={"product_id": {"N": "1"}})["Item"]
        assert item["stock"] == {"N": "0"}
    finally:
        ddb.delete_table(TableName=table)


def test_a_segment_sent_to_the_daemon_port_is_returned_by_batch_get_traces(aws):
    now = time.time()
    trace_id = f"1-{int(now):08x}-{secrets.token_hex(12)}"
    segment = {
        "trace_id": trace_id,
        "id": secrets.token_hex(8),
        "name": "integration-test",
        "start_time": now,
        "end_time": now + 0.01,
    }
    host, port = os.environ["AWS_XRAY_DAEMON_ADDRESS"].split(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        datagram = b'{"format":"json","version":1}\n' + json.dumps(segment).encode()
        udp.sendto(datagram, (host, int(port)))
    traces = wait_until(lambda: aws("xray").batch_get_traces(TraceIds=[trace_id])["Traces"])
    documents = [json.loads(s["Document"]) for s in traces[0]["Segments"]]
    assert [d["id"] for d in documents] == [segment["id"]]
    assert documents[0]["name"] == "integration-test"
