"""Per-request costs of moto's server that do not depend on what is asked, removed.

Profiled under the order API's load (py-spy, cProfile), a DynamoDB call cost moto 1-5 ms of CPU,
most of it plumbing rather than DynamoDB:
- the dispatcher asks "is this host a moto module?" by listing moto's package folder on every
  request: the list is fixed for a run, so it is read once;
- every call looks up the handler's method names with `inspect.getmembers`: cached per class;
- moto reads every DynamoDB request and writes every answer through a model-driven parser and
  serializer that walk the botocore shapes attribute by attribute (for an order's reservation
  write, half of moto's CPU). DynamoDB speaks plain JSON and moto's DynamoDB handlers read and
  build it in wire form (`{"Item": {"k": {"S": "x"}}}`), so the data-plane operations are read
  with `json.loads` and answered with `json.dumps`. Requests with binary attributes (base64 on
  the wire, bytes inside moto), errors and all other operations keep moto's own code;
- building an item checked the 400 KB limit by summing the sizes of every attribute already set
  at each attribute set (quadratic, and recursive in nested maps and lists): an item is now sized
  once, against the same limit;
- every condition was parsed again on every call, although a pipeline sends the same few
  expressions with the same few values over and over: the parsed condition (a tree evaluated
  against an item, never changed by the evaluation) is kept per expression, names and values;
- a Query on a table's own key sorted every item of the table to keep those of one partition
  (a ledger lookup cost 0.13 s of CPU once the table held the charges of a few thousand orders):
  it now starts from that partition's items; queries on an index keep moto's code.

tests/test_moto_fast.py runs the same calls with and without these patches and compares what a
client reads.
"""

from __future__ import annotations

import base64
import datetime
import functools
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

#: the data-plane operations read and answered as plain JSON
JSON_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
CONTENT_TYPE = "application/x-amz-json-1.0"
#: moto's own item limit (LimitedSizeDict): DynamoDB's 400 KB, measured at about 405,000 bytes
ITEM_SIZE_LIMIT = 405_000

Patch = tuple[Any, str, Any]


def _wire(value: Any) -> Any:
    """JSON for what moto's DynamoDB answers hold besides plain JSON types."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def plain_json(body: str) -> bool:
    """No binary attribute values (`"B":`, `"BS":`), which moto's parser decodes from base64.

    A string holding those characters is escaped on the wire (`\\"B\\":`), so it never matches."""
    return '"B":' not in body and '"BS":' not in body


def _dispatch_patches() -> list[Patch]:
    from moto import backends
    from moto.core import responses, utils

    modules = tuple(backends.list_of_moto_modules())
    return [
        (backends, "list_of_moto_modules", lambda: modules),
        (responses, "method_names_from_class", functools.cache(utils.method_names_from_class)),
    ]


def _json_patches() -> list[Patch]:
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoHandler

    generic_parse = DynamoHandler.parse_parameters
    generic_serialize = DynamoHandler.serialized

    def parse_parameters(self: DynamoHandler, request: Any) -> None:
        body = request.get_data(as_text=True)
        if self._get_action() in JSON_OPERATIONS and plain_json(body):
            self.params = json.loads(body)
        else:
            generic_parse(self, request)

    def serialized(self: DynamoHandler, action_result: ActionResult) -> Any:
        result = action_result.result
        if isinstance(result, dict) and self._get_action() in JSON_OPERATIONS:
            headers = {"Content-Type": CONTENT_TYPE, **self.response_headers}
            return 200, headers, json.dumps(result, default=_wire)
        return generic_serialize(self, action_result)

    return [
        (DynamoHandler, "parse_parameters", parse_parameters),
        (DynamoHandler, "serialized", serialized),
    ]


def _item_patches() -> list[Patch]:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    def init(
        self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]
    ) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        values = {key: DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in values.items()) > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict()
        dict.update(self.attrs, values)

    return [(Item, "__init__", init)]


#: distinct (expression, names, values) conditions kept parsed
CONDITION_CACHE_SIZE = 4096


def _condition_patches() -> list[Patch]:
    from moto.dynamodb import comparisons, models, responses
    from moto.dynamodb.models import table

    generic = comparisons.create_condition_expression_parser

    @functools.lru_cache(maxsize=CONDITION_CACHE_SIZE)
    def parsed(expr: str | None, names: str, values: str) -> tuple[Any, Any, Any]:
        parser = generic(expr, json.loads(names), json.loads(values))
        return parser.parse(), parser.expr_attr_names_found, parser.expr_attr_values_found

    def key(mapping: dict[str, Any] | None) -> str:
        return json.dumps(mapping, sort_keys=True)

    class Parsed:
        """Stands in for moto's parser: `parse()` and what it found come from the cache."""

        def __init__(self, expr: str | None, names: Any, values: Any) -> None:
            self._args = (expr, key(names), key(values))
            self.expr_attr_names_found: Any = None
            self.expr_attr_values_found: Any = None

        def parse(self) -> Any:
            op, names_found, values_found = parsed(*self._args)
            self.expr_attr_names_found = list(names_found)  # copies: callers may extend them
            self.expr_attr_values_found = list(values_found)
            return op

    def get_filter_expression(expr: str | None, names: Any, values: Any) -> Any:
        return Parsed(expr, names, values).parse()

    return [
        *[
            (module, "create_condition_expression_parser", Parsed)
            for module in (comparisons, models, responses)
        ],
        *[
            (module, "get_filter_expression", get_filter_expression)
            for module in (comparisons, models, table)
        ],
    ]


def _query_patches() -> list[Patch]:
    from moto.dynamodb.models.table import Table

    generic = Table.query

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name is not None or hash_key is None:
            return generic(self, hash_key, *args, **kwargs)
        partition = self.items.get(hash_key)  # .get: `items` is a defaultdict
        if partition is None:
            candidates = []
        elif self.range_key_attr:
            candidates = list(partition.values())
        else:
            candidates = [partition]
        # moto's query draws its candidates from all_items(); only this partition's are read.
        # Swapping the method on the instance is safe: the server runs one DynamoDB call at a
        # time (moto_server.Serialized).
        self.all_items = lambda: candidates  # type: ignore[method-assign]
        try:
            return generic(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    return [(Table, "query", query)]


def patches() -> list[Patch]:
    """(owner, attribute, replacement) for every fix above."""
    return [
        *_dispatch_patches(),
        *_json_patches(),
        *_item_patches(),
        *_condition_patches(),
        *_query_patches(),
    ]


def install(setattr_: Callable[[Any, str, Any], None] = setattr) -> None:
    for owner, name, replacement in patches():
        setattr_(owner, name, replacement)
