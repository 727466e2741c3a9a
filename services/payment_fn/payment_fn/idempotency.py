"""Powertools' DynamoDB idempotency layer with the records of one batch written together.

The records of a batch are written at the same moments (every record starts, then finishes,
within a few ms of the others), each with its own put (INPROGRESS) and update (COMPLETED): two
DynamoDB calls per order. Here those writes go through a group commit: concurrent ones share a
TransactWriteItems. Powertools still builds every item, condition and answer itself; only how
the request travels changes. A put refused in the transaction (the record exists) is sent again
on its own, so Powertools receives DynamoDB's own answer (the stored record, or a success when
it expired in between) exactly as without grouping.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from flashsale.adapters.dynamodb.group_commit import GroupCommit

#: what a TransactWriteItems Put / Update accepts of put_item / update_item's arguments
_PUT_FIELDS = ("TableName", "Item", "ConditionExpression")
_UPDATE_FIELDS = ("TableName", "Key", "UpdateExpression", "ConditionExpression")
_EXPRESSION_FIELDS = ("ExpressionAttributeNames", "ExpressionAttributeValues")


def _action(kind: str, fields: tuple[str, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    body = {name: kwargs[name] for name in (*fields, *_EXPRESSION_FIELDS) if name in kwargs}
    return {kind: body}


class GroupedWrites:
    """The DynamoDB client Powertools sees: put_item and update_item join a group commit,
    everything else (get_item, delete_item) goes straight to the client."""

    def __init__(self, client: Any, key_attr: str) -> None:
        self._client = client
        self._group = GroupCommit(client, put_key=(key_attr,))

    @property
    def group(self) -> GroupCommit:
        return self._group

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        if self._group.submit([_action("Put", _PUT_FIELDS, kwargs)]):
            return {}
        # refused: the record exists. On its own, the put fails with the stored record (what
        # Powertools answers from) or succeeds if that record expired meanwhile.
        return self._client.put_item(**kwargs)

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        if self._group.submit([_action("Update", _UPDATE_FIELDS, kwargs)]):
            return {}
        return self._client.update_item(**kwargs)  # only a condition refuses: DynamoDB's answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class GroupedDynamoDBPersistenceLayer(DynamoDBPersistenceLayer):
    """DynamoDBPersistenceLayer whose record writes share transactions with concurrent ones."""

    def __init__(self, table_name: str, boto3_client: Any, key_attr: str = "id") -> None:
        super().__init__(
            table_name=table_name,
            boto3_client=GroupedWrites(boto3_client, key_attr),
            key_attr=key_attr,
        )
