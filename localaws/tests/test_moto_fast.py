"""moto_fast changes how moto reads and answers DynamoDB calls, never what a client reads: the same
calls, made once on stock moto and once with the patches, give the same answers and errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from localaws import moto_fast

CREDS = {"region_name": "us-east-1", "aws_access_key_id": "test", "aws_secret_access_key": "test"}
ORDER = {
    "order_id": {"S": "o-1"},
    "items": {
        "L": [
            {"M": {"product_id": {"N": "1"}, "quantity": {"N": "2"}, "price": {"N": "5.04"}}},
            {"M": {"product_id": {"N": "7"}, "quantity": {"N": "1"}, "price": {"N": "12"}}},
        ]
    },
    "total": {"N": "22.08"},
    "status": {"S": "pending"},
    "flags": {"SS": ["a", "b"]},
    "counts": {"NS": ["1", "2.5"]},
    "released": {"BOOL": False},
    "note": {"NULL": True},
}


def _outcome(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        answer = call()
    except ClientError as exc:
        error = exc.response
        return {"error": error["Error"], "reasons": error.get("CancellationReasons")}
    answer.pop("ResponseMetadata", None)
    return answer


def scenario_tables(ddb: Any) -> None:
    ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.create_table(
        TableName="events",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def scenario(ddb: Any) -> list[dict[str, Any]]:
    """Every patched operation, its usual variants and its errors; the answers in order."""
    scenario_tables(ddb)
    product = {"product_id": {"S": "p-1"}, "stock": {"N": "3"}}
    key = {"order_id": {"S": "o-1"}}
    take_two = {
        "Update": {
            "TableName": "orders",
            "Key": {"order_id": {"S": "p-1"}},
            "UpdateExpression": "SET stock = stock - :q",
            "ConditionExpression": "stock >= :q",
            "ExpressionAttributeValues": {":q": {"N": "2"}},
        }
    }
    calls: list[Callable[[], dict[str, Any]]] = [
        lambda: ddb.put_item(TableName="orders", Item=ORDER, ReturnConsumedCapacity="TOTAL"),
        lambda: ddb.put_item(
            TableName="orders", Item=ORDER, ConditionExpression="attribute_not_exists(order_id)"
        ),
        lambda: ddb.put_item(
            TableName="orders", Item={"order_id": {"S": "big"}, "x": {"S": "x" * 410_000}}
        ),
        lambda: ddb.get_item(TableName="orders", Key=key),
        lambda: ddb.get_item(TableName="orders", Key={"order_id": {"S": "missing"}}),
        lambda: ddb.get_item(
            TableName="orders",
            Key=key,
            ProjectionExpression="#s, items[0].price",
            ExpressionAttributeNames={"#s": "status"},
        ),
        lambda: ddb.put_item(TableName="orders", Item={"order_id": {"S": "p-1"}, **product}),
        lambda: ddb.transact_write_items(
            TransactItems=[
                take_two,
                {"Put": {"TableName": "orders", "Item": {**ORDER, "order_id": {"S": "o-2"}}}},
            ],
            ClientRequestToken="t-1",
        ),
        lambda: ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        **take_two["Update"],
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "Put": {
                        "TableName": "orders",
                        "Item": {**ORDER, "order_id": {"S": "o-3"}},
                        "ConditionExpression": "attribute_not_exists(order_id)",
                    }
                },
            ]
        ),
        *[  # one expression, two values: the second is refused (a cache keyed on values)
            lambda q=q: ddb.update_item(
                TableName="orders",
                Key={"order_id": {"S": "p-1"}},
                UpdateExpression="SET stock = stock - :q",
                ConditionExpression="stock >= :q",
                ExpressionAttributeValues={":q": {"N": q}},
                ReturnValues="UPDATED_NEW",
            )
            for q in ("1", "100")
        ],
        *[  # the condition's own value and name change while the update's other value does too
            lambda now=now, floor=floor, attr=attr: ddb.update_item(
                TableName="orders",
                Key={"order_id": {"S": "p-1"}},
                UpdateExpression="SET stock = stock - :q, touched = :now",
                ConditionExpression="#a >= :floor",
                ExpressionAttributeNames={"#a": attr},
                ExpressionAttributeValues={
                    ":q": {"N": "0"},
                    ":now": {"S": now},
                    ":floor": {"N": floor},
                },
                ReturnValues="UPDATED_NEW",
            )
            for now, floor, attr in (("t1", "1", "stock"), ("t2", "50", "stock"), ("t3", "1", "x"))
        ],
        *[  # values inside IN, a function, BETWEEN and NOT change between calls of one condition
            lambda values=values: ddb.update_item(
                TableName="orders",
                Key={"order_id": {"S": "p-1"}},
                UpdateExpression="SET touched = :now",
                ConditionExpression="#p IN (:a, :b) AND NOT begins_with(#p, :prefix) "
                "AND stock BETWEEN :lo AND :hi",
                ExpressionAttributeNames={"#p": "product_id"},
                ExpressionAttributeValues={
                    ":now": {"S": "t4"},
                    **{name: {"N" if name in (":lo", ":hi") else "S": v} for name, v in values},
                },
                ReturnValues="ALL_NEW",
            )
            for values in (
                ((":a", "p-1"), (":b", "p-2"), (":prefix", "x"), (":lo", "0"), (":hi", "9")),
                ((":a", "p-7"), (":b", "p-8"), (":prefix", "x"), (":lo", "0"), (":hi", "9")),
                ((":a", "p-1"), (":b", "p-2"), (":prefix", "p-"), (":lo", "0"), (":hi", "9")),
                ((":a", "p-1"), (":b", "p-2"), (":prefix", "x"), (":lo", "5"), (":hi", "9")),
            )
        ],
        *[lambda kw=kw: _update(ddb, **kw) for kw in UPDATES],
        lambda: ddb.get_item(TableName="orders", Key={"order_id": {"S": "u-1"}}),
        *[
            lambda o=o: ddb.put_item(TableName="orders", Item={**ORDER, "order_id": {"S": o}})
            for o in ("u-2", "u-3")
        ],
        lambda: ddb.transact_write_items(
            TransactItems=[
                {"Update": _update_args(**UPDATES[0], order_id="u-2")},
                {"Update": _update_args(**UPDATES[2], order_id="u-3")},
            ]
        ),
        lambda: ddb.transact_write_items(  # a refused update undoes the applied one
            TransactItems=[
                {"Update": _update_args(**UPDATES[2], order_id="u-2")},
                {"Update": _update_args(expr="SET total = gone - :t", order_id="u-3")},
            ]
        ),
        lambda: ddb.batch_get_item(
            RequestItems={
                "orders": {"Keys": [{"order_id": {"S": o}} for o in ("u-1", "u-2", "u-3")]}
            }
        ),
        lambda: ddb.transact_get_items(
            TransactItems=[
                {"Get": {"TableName": "orders", "Key": key}},
                {"Get": {"TableName": "orders", "Key": {"order_id": {"S": "nope"}}}},
            ]
        ),
        lambda: ddb.batch_write_item(
            RequestItems={
                "events": [
                    {
                        "PutRequest": {
                            "Item": {
                                "pk": {"S": pk},
                                "sk": {"N": str(n)},
                                "blob": {"B": b"\x00\xff" * n},
                            }
                        }
                    }
                    for pk in ("a", "b")
                    for n in range(1, 6)
                ]
            }
        ),
        lambda: ddb.batch_get_item(
            RequestItems={
                "events": {
                    "Keys": [
                        {"pk": {"S": "a"}, "sk": {"N": "2"}},
                        {"pk": {"S": "a"}, "sk": {"N": "9"}},
                    ]
                }
            }
        ),
        lambda: ddb.query(
            TableName="events",
            KeyConditionExpression="pk = :p AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues={":p": {"S": "a"}, ":lo": {"N": "2"}, ":hi": {"N": "4"}},
            ScanIndexForward=False,
            Limit=2,
        ),
        lambda: ddb.query(
            TableName="events",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "b"}},
            Limit=3,
            ExclusiveStartKey={"pk": {"S": "b"}, "sk": {"N": "1"}},
        ),
        lambda: ddb.query(
            TableName="events",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "a"}},
        ),
        lambda: ddb.query(
            TableName="events",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "nobody"}},
        ),
        lambda: ddb.query(
            TableName="orders",
            KeyConditionExpression="order_id = :o",
            FilterExpression="#s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":o": {"S": "o-2"}, ":s": {"S": "pending"}},
        ),
        lambda: ddb.scan(
            TableName="orders",
            FilterExpression="#s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "pending"}},
        ),
        lambda: ddb.scan(TableName="events", Limit=2, Select="COUNT"),
        lambda: _pages(ddb, TableName="events", Limit=3),
        lambda: _pages(
            ddb,
            TableName="orders",
            Limit=2,
            FilterExpression="#s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "pending"}},
        ),
        lambda: ddb.scan(
            TableName="events",
            ExclusiveStartKey={"pk": {"S": "a"}, "sk": {"N": "3"}},
            Limit=4,
        ),
        lambda: ddb.delete_item(TableName="orders", Key=key, ReturnValues="ALL_OLD"),
        lambda: ddb.delete_item(TableName="missing-table", Key=key),
    ]
    return [_outcome(call) for call in calls]


#: update expressions: the simple ones moto_fast applies itself, then those it hands to moto
UPDATES: list[dict[str, Any]] = [
    {"expr": "SET #s = :s, note = :n", "names": {"#s": "status"}},
    {"expr": "SET total = total + :t, #c = :t REMOVE note, released", "names": {"#c": "credit"}},
    {
        "expr": "set paid = total - :t add visits :one, total :t",
        "names": {"#s": "status"},
        "cond": "#s = :s",
    },
    {"expr": "ADD newcount :half REMOVE missing_attr", "ret": "UPDATED_OLD"},
    {"expr": "SET copy = total + :t, total = :one", "ret": "ALL_OLD"},
    {"expr": "SET #s = :n", "names": {"#s": "status"}, "cond": "#s = :n", "old": True},
    # moto's code: functions, nested paths, sets, lists, key attributes, errors
    {"expr": "SET visits = if_not_exists(visits, :one)"},
    {"expr": "SET items[0].price = :t, m.x = :one"},
    {"expr": "SET tags = :set"},
    {"expr": "ADD flags :set"},
    {"expr": "SET order_id = :s"},
    {"expr": "SET #k = :s", "names": {"#k": "order_id"}},
    {"expr": "SET #missing = :s", "names": {"#s": "status"}},
    {"expr": "SET a = :nothing"},
    {"expr": "SET total = nothing_here - :t"},
    {"expr": "SET note2 = #s - :t", "names": {"#s": "status"}},
    {"expr": "ADD #s :one", "names": {"#s": "status"}},
    {"expr": "ADD total :s"},
    {"expr": "SET credit = :one REMOVE credit"},
    {"expr": "SET credit = :one, #c = :t", "names": {"#c": "credit"}},
    {"expr": "SET status = :s"},
    {"expr": "SET a = :s SET b = :s"},
    {"expr": "SET big = :big"},
    {"expr": "SET note = :s", "order_id": "u-new"},
    {"expr": "SET note = :s, x = :t", "order_id": "u-new-2", "cond": "attribute_exists(order_id)"},
]
VALUES = {
    ":s": {"S": "paid"},
    ":n": {"S": ""},
    ":t": {"N": "2.5"},
    ":one": {"N": "1"},
    ":half": {"N": "0.5"},
    ":set": {"SS": ["x", "y"]},
    ":big": {"S": "x" * 405_000},
}


def _update_args(
    expr: str,
    names: dict[str, str] | None = None,
    cond: str | None = None,
    ret: str | None = None,
    old: bool = False,
    order_id: str = "u-1",
) -> dict[str, Any]:
    """UpdateItem arguments for one case of UPDATES (only the values the expressions use)."""
    args: dict[str, Any] = {
        "TableName": "orders",
        "Key": {"order_id": {"S": order_id}},
        "UpdateExpression": expr,
        "ExpressionAttributeValues": {
            k: v for k, v in VALUES.items() if k in expr or (cond and k in cond)
        },
    }
    if not args["ExpressionAttributeValues"]:
        del args["ExpressionAttributeValues"]
    if names:
        args["ExpressionAttributeNames"] = names
    if cond:
        args["ConditionExpression"] = cond
    if old:
        args["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return args


def _update(ddb: Any, **case: Any) -> dict[str, Any]:
    args = _update_args(**case)
    if case.get("order_id") is None:  # every case starts from the same order
        ddb.put_item(TableName="orders", Item={**ORDER, "order_id": {"S": "u-1"}})
    return ddb.update_item(**args, ReturnValues=case.get("ret", "ALL_NEW"))


def _pages(ddb: Any, **scan: Any) -> dict[str, Any]:
    """Every page of a paged scan, as a client walks them."""
    pages = []
    while True:
        page = ddb.scan(**scan)
        page.pop("ResponseMetadata", None)
        pages.append(page)
        if "LastEvaluatedKey" not in page:
            return {"pages": pages}
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _run() -> list[dict[str, Any]]:
    with mock_aws():
        return scenario(boto3.client("dynamodb", **CREDS))


def test_clients_read_the_same_answers_and_errors_with_the_patches(monkeypatch):
    stock = _run()
    moto_fast.install(monkeypatch.setattr)
    assert _run() == stock
    assert any("error" in answer for answer in stock)  # the errors were compared too


def test_an_item_over_the_size_limit_is_still_refused(monkeypatch):
    moto_fast.install(monkeypatch.setattr)
    with mock_aws():
        ddb = boto3.client("dynamodb", **CREDS)
        ddb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.put_item(TableName="t", Item={"k": {"S": "fits"}, "x": {"S": "x" * 400_000}})
        with pytest.raises(ClientError, match="Item size has exceeded"):
            ddb.put_item(TableName="t", Item={"k": {"S": "big"}, "x": {"S": "x" * 405_001}})


@pytest.mark.parametrize(
    ("body", "plain"),
    [
        ('{"Item": {"k": {"S": "B"}}}', True),
        ('{"Item": {"k": {"S": "\\"B\\": x"}}}', True),
        ('{"Item": {"k": {"B": "AAE="}}}', False),
        ('{"Item": {"k": {"BS": ["AAE="]}}}', False),
    ],
)
def test_binary_attributes_keep_motos_parser(body, plain):
    assert moto_fast.plain_json(body) is plain


@pytest.mark.parametrize(
    ("expression", "verbs"),
    [
        ("SET #s = :s, note = :n", ["set", "set"]),
        ("set a = a - :q remove b, #c add n :one", ["set", "remove", "remove", "add"]),
        ("SET a=b+:v", ["set"]),
        ("SET a = if_not_exists(a, :v)", None),
        ("SET a.b = :v", None),
        ("SET a[0] = :v", None),
        ("SET a = :v SET b = :v", None),
        ("DELETE s :v", None),
        ("SET a = :v, ", None),
        ("x SET a = :v", None),
    ],
)
def test_only_top_level_set_remove_and_add_are_applied_directly(expression, verbs):
    actions = moto_fast.simple_update(expression)
    assert (None if actions is None else [a.verb for a in actions]) == verbs


def test_simple_updates_skip_motos_validators(monkeypatch):
    """The fast path is taken (the equivalence test alone would pass if it never were)."""
    from moto.dynamodb.parsing import validators

    moto_fast.install(monkeypatch.setattr)

    def refuse(self: Any) -> None:
        raise AssertionError("moto's update validators ran")

    monkeypatch.setattr(validators.UpdateExpressionValidator, "validate", refuse)
    with mock_aws():
        ddb = boto3.client("dynamodb", **CREDS)
        scenario_tables(ddb)
        ddb.put_item(TableName="orders", Item=ORDER)
        answer = _update(ddb, expr="ADD visits :one, credit :t REMOVE note", order_id="o-1")
        assert answer["Attributes"]["credit"] == {"N": "2.5"}
        assert "note" not in answer["Attributes"]
        with pytest.raises(AssertionError, match="validators ran"):
            _update(ddb, expr="SET visits = if_not_exists(visits, :one)", order_id="o-1")
