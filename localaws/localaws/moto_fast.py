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
- every condition was parsed again on every call (0.3-0.4 ms each), although a pipeline sends
  the same few expressions over and over, with other values each time (a timestamp, an order's
  total): the parsed condition (a tree evaluated against an item, never changed by the
  evaluation) is kept per expression and the names it refers to, with its values left as slots
  that each call fills with its own (a copy of the tree, ~20 us);
- a Query on a table's own key sorted every item of the table to keep those of one partition
  (a ledger lookup cost 0.13 s of CPU once the table held the charges of a few thousand orders):
  it now starts from that partition's items; queries on an index keep moto's code;
- every page of a Scan sorted the whole table by comparing moto's attribute objects, then walked
  it up to the page's start key: 0.5 s a page on a table of 30,000 orders, so the sweeper's
  paged scan held the local DynamoDB for 30 s (and stalled the API mid-spike). A scan of the
  table itself now sorts on the keys' plain values and starts at the page's start key (a binary
  search); index scans keep moto's code;
- an update expression was parsed twice per call, then deep-copied and walked by ten validators
  before one more walk executed it: ~1.6 ms per update, the largest share of moto's CPU in a drain
  (every order's status changes are updates). Parses are now kept per expression, and the
  expressions a pipeline writes (top-level `SET a = :v`, `SET a = a + :v` / `- :v`,
  `REMOVE a`, `ADD a :n` on numbers, on an item that exists) are applied directly, with moto's
  own arithmetic and size check. Anything else (nested paths, functions, sets, key attributes,
  a missing name or value, an item created by the update, streams) and every error take moto's
  code, so errors stay moto's own.

tests/test_moto_fast.py runs the same calls with and without these patches and compares what a
client reads.
"""

from __future__ import annotations

import base64
import datetime
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
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


#: distinct (expression, names, value placeholders) conditions kept parsed
CONDITION_CACHE_SIZE = 4096


def _condition_patches() -> list[Patch]:
    from moto.dynamodb import comparisons, models, responses
    from moto.dynamodb.models import table

    class Slot(comparisons.AttributeValue):
        """A value placeholder (`:v`) in a kept condition, replaced by each call's own value."""

        def __init__(self, name: str, value: dict[str, Any]) -> None:
            super().__init__(value)
            self.name = name

    class SlotParser(comparisons.ConditionExpressionParser):
        """moto's parser, leaving each value as a Slot: values reach the tree only as operands
        (every other check looks at a node's kind), so one parse serves every call of an
        expression whatever its values."""

        def _make_operand(self, node: Any) -> Any:
            if node.kind == self.Kind.EXPRESSION_ATTRIBUTE_VALUE:
                return Slot(node.text, node.value)
            return super()._make_operand(node)

    def bind(node: Any, values: dict[str, Any]) -> Any:
        """A copy of a kept condition with this call's values in its slots."""
        if isinstance(node, Slot):
            return comparisons.AttributeValue(values[node.name])
        if isinstance(node, (list, tuple)):
            return type(node)(bind(child, values) for child in node)
        if isinstance(node, (comparisons.Op, comparisons.Func)):
            copy = object.__new__(type(node))
            copy.__dict__.update({k: bind(v, values) for k, v in node.__dict__.items()})
            return copy
        return node  # a path or a literal: no value inside

    #: (expression, its names, the value placeholders present) -> (tree with slots, found)
    kept: dict[tuple[str | None, str, str], tuple[Any, list[Any], list[Any]]] = {}

    def present(mapping: dict[str, Any] | None, expr: str) -> dict[str, Any] | None:
        """The entries of `mapping` whose placeholder occurs in the expression (a superset of
        those it refers to)."""
        if mapping is None:
            return None
        return {k: v for k, v in mapping.items() if k in expr}

    class Parsed:
        """Stands in for moto's parser: `parse()` and what it found come from the kept tree."""

        def __init__(self, expr: str | None, names: Any, values: Any) -> None:
            self._expr = expr
            self._names = present(names, expr or "")
            self._values = present(values, expr or "")
            self.expr_attr_names_found: Any = None
            self.expr_attr_values_found: Any = None

        def parse(self) -> Any:
            values = self._values
            key = (
                self._expr,
                json.dumps(self._names, sort_keys=True),
                "null" if values is None else ",".join(sorted(values)),
            )
            found = kept.get(key)
            if found is None:
                parser = SlotParser(self._expr, self._names, values)
                found = (
                    parser.parse(),
                    parser.expr_attr_names_found,
                    parser.expr_attr_values_found,
                )
                if len(kept) >= CONDITION_CACHE_SIZE:
                    kept.clear()
                kept[key] = found
            tree, names_found, values_found = found
            self.expr_attr_names_found = list(names_found)  # copies: callers may extend them
            self.expr_attr_values_found = list(values_found)
            # a condition without values has no slot: its tree is shared like any other
            return bind(tree, values or {}) if values_found else tree

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


def _drawing_from(table: Any, candidates: list[Any], call: Callable[[], Any]) -> Any:
    """Run moto's `call` (a Query or Scan) with `table.all_items()`, where moto draws the items
    it reads, answering `candidates`. Swapping the method on the instance is safe: the server
    runs one DynamoDB call at a time (moto_server.Serialized)."""
    table.all_items = lambda: candidates
    try:
        return call()
    finally:
        del table.all_items


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
        # only this partition's items are read
        return _drawing_from(self, candidates, lambda: generic(self, hash_key, *args, **kwargs))

    return [(Table, "query", query)]


#: distinct update expressions kept parsed (moto's tree and the simple plan)
UPDATE_CACHE_SIZE = 1024

_PATH = r"#?[A-Za-z_][A-Za-z0-9_]*"
_VALUE = r":[A-Za-z0-9_]+"
_SET_ACTION = re.compile(rf"\s*({_PATH})\s*=\s*(?:({_VALUE})|({_PATH})\s*([+-])\s*({_VALUE}))\s*")
_REMOVE_ACTION = re.compile(rf"\s*({_PATH})\s*")
_ADD_ACTION = re.compile(rf"\s*({_PATH})\s+({_VALUE})\s*")
_CLAUSE = re.compile(r"\b(SET|REMOVE|ADD)\b", re.IGNORECASE)


@dataclass(frozen=True)
class UpdateAction:
    """One action of a simple update: `verb` is set, add or remove; `target` and `source` are
    top-level attribute names or `#aliases`; `operator` is + or - for `SET a = b + :v`."""

    verb: str
    target: str
    value: str | None = None
    source: str | None = None
    operator: str | None = None


@functools.lru_cache(maxsize=UPDATE_CACHE_SIZE)
def simple_update(expression: str) -> tuple[UpdateAction, ...] | None:
    """The actions of an update expression made only of top-level SET (a value, or an attribute
    plus or minus a value), REMOVE and ADD actions, one clause of each at most; else None."""
    parts = _CLAUSE.split(expression)
    if parts[0].strip() or len(parts) < 3:
        return None
    actions: list[UpdateAction] = []
    seen: set[str] = set()
    for verb, body in zip(parts[1::2], parts[2::2], strict=True):
        verb = verb.lower()
        if verb in seen:
            return None
        seen.add(verb)
        for text in body.split(","):
            action = _action(verb, text)
            if action is None:
                return None
            actions.append(action)
    return tuple(actions)


def _action(verb: str, text: str) -> UpdateAction | None:
    if verb == "set":
        match = _SET_ACTION.fullmatch(text)
        if match is None:
            return None
        target, value, source, operator, operand = match.groups()
        if value is not None:
            return UpdateAction("set", target, value)
        return UpdateAction("set", target, operand, source, operator)
    if verb == "remove":
        match = _REMOVE_ACTION.fullmatch(text)
        return None if match is None else UpdateAction("remove", match.group(1))
    match = _ADD_ACTION.fullmatch(text)
    return None if match is None else UpdateAction("add", match.group(1), match.group(2))


#: attribute types a simple SET writes as given (sets and binary take moto's code)
_SETTABLE_TYPES = frozenset({"S", "N", "BOOL", "NULL", "M", "L"})


def _update_patches() -> list[Patch]:
    from moto.dynamodb import models
    from moto.dynamodb.exceptions import ConditionalCheckFailed, ItemSizeTooLarge
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

    reserved = frozenset(ReservedKeywords.get_reserved_keywords())
    generic_make = UpdateExpressionParser.make.__func__
    generic_update = DynamoDBBackend.update_item

    @functools.lru_cache(maxsize=UPDATE_CACHE_SIZE)
    def make(cls: type, expression: str) -> Any:
        """moto's parse, kept: callers read the tree; its validators deep-copy it first."""
        return generic_make(cls, expression)

    def new_values(
        actions: tuple[UpdateAction, ...], attrs: dict[str, Any], names: dict, values: dict, keys
    ) -> list[tuple[str, Any]] | None:
        """(attribute, new value or None to remove) for each action, read from the item as it
        was (as moto's validators resolve every operand before executing); None when an action
        is one moto must judge."""
        out: list[tuple[str, Any]] = []
        for action in actions:
            spelled = (action.target, action.source or "#")
            if any(not path.startswith("#") and path.upper() in reserved for path in spelled):
                return None  # moto's error
            name = _resolve(action.target, names)
            if name is None or name in keys or action.target in keys:
                return None
            if any(name == done for done, _ in out):
                return None  # overlapping paths: moto's error
            if action.verb == "remove":
                out.append((name, None))
                continue
            operand = values.get(action.value)
            if not isinstance(operand, dict) or len(operand) != 1:
                return None
            kind = next(iter(operand))
            if action.verb == "set" and action.source is None:
                if kind not in _SETTABLE_TYPES:
                    return None
                out.append((name, DynamoType(operand)))
                continue
            if kind != "N":
                return None
            if action.verb == "add":
                current = attrs.get(name, DynamoType({"N": "0"}))
            else:
                source = _resolve(action.source, names)
                current = attrs.get(source) if source is not None else None
            if current is None or current.type != "N":
                return None
            value = DynamoType(operand)
            out.append((name, current - value if action.operator == "-" else current + value))
        return out

    def update_item(
        self: DynamoDBBackend,
        table_name: str,
        key: dict[str, dict[str, Any]],
        update_expression: str,
        expression_attribute_names: dict[str, Any],
        expression_attribute_values: dict[str, Any],
        attribute_updates: dict[str, Any] | None = None,
        expected: dict[str, Any] | None = None,
        condition_expression: str | None = None,
        return_values_on_condition_check_failure: str | None = None,
    ) -> Any:
        def generic() -> Any:
            return generic_update(
                self,
                table_name,
                key,
                update_expression,
                expression_attribute_names,
                expression_attribute_values,
                attribute_updates,
                expected,
                condition_expression,
                return_values_on_condition_check_failure,
            )

        actions = simple_update(update_expression) if update_expression else None
        table = self.get_table(table_name)
        if actions is None or attribute_updates or expected or table.stream_shard is not None:
            return generic()
        UpdateExpressionParser.make(update_expression)  # moto's parse errors, as before
        keys = {table.hash_key_attr, table.range_key_attr, *table.attribute_keys} - {None}
        if any(k not in key for k in (table.hash_key_attr, table.range_key_attr) if k):
            return generic()
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        item = table.get_item(hash_value, range_value)
        if item is None:
            return generic()  # the update creates the item: moto's code
        names, values = expression_attribute_names or {}, expression_attribute_values or {}
        condition = models.create_condition_expression_parser(
            condition_expression, names, values
        ).parse()
        if not condition.expr(item):
            if return_values_on_condition_check_failure == "ALL_OLD":
                raise ConditionalCheckFailed(item=item.to_json()["Attributes"])
            raise ConditionalCheckFailed
        changes = new_values(actions, item.attrs, names, values, keys)
        if changes is None:
            return generic()
        before = dict(item.attrs)
        try:
            for name, value in changes:
                if value is None:
                    item.attrs.pop(name, None)
                else:
                    item.attrs[name] = value  # moto's own size check
        except ItemSizeTooLarge:
            dict.clear(item.attrs)
            dict.update(item.attrs, before)
            return generic()  # moto's error, with moto's partial update
        return item

    return [
        (UpdateExpressionParser, "make", classmethod(make)),
        (DynamoDBBackend, "update_item", update_item),
    ]


def _resolve(path: str, names: dict[str, Any]) -> str | None:
    return names.get(path) if path.startswith("#") else path


def _scan_patches() -> list[Patch]:
    import bisect

    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    generic = Table.scan

    def plain(value: DynamoType) -> Any:
        """`cast_value` (what moto's comparisons compare) without its chain of type checks."""
        kind = value.type
        if kind == "S":
            return value.value
        return Decimal(value.value) if kind == "N" else value.cast_value

    def rank(hash_key: DynamoType, range_key: DynamoType | None = None) -> Any:
        """moto's sort key for a table's items (`all_items`), on plain values."""
        if range_key is not None:
            return (plain(hash_key), plain(range_key))
        return plain(hash_key)

    def scan(
        self: Table, filters: Any, limit: Any, exclusive_start_key: Any, *args: Any, **kw: Any
    ):
        index_name = args[1] if len(args) > 1 else kw.get("index_name")
        start = exclusive_start_key
        keys = (
            (self.hash_key_attr, self.range_key_attr)
            if self.range_key_attr
            else (self.hash_key_attr,)
        )
        if index_name is not None or (start is not None and any(k not in start for k in keys)):
            return generic(self, filters, limit, exclusive_start_key, *args, **kw)
        if self.range_key_attr:
            found = [item for partition in self.items.values() for item in partition.values()]
        else:
            found = list(self.items.values())
        ranked = sorted(
            ((rank(item.hash_key, item.range_key), item) for item in found), key=lambda p: p[0]
        )
        begin = (
            0
            if start is None
            else bisect.bisect_right(
                [key for key, _ in ranked], rank(*(DynamoType(start[k]) for k in keys))
            )
        )
        candidates = [item for _, item in ranked[begin:]]
        return _drawing_from(
            self,
            candidates,
            lambda: generic(self, filters, limit, exclusive_start_key, *args, **kw),
        )

    return [(Table, "scan", scan)]


def patches() -> list[Patch]:
    """(owner, attribute, replacement) for every fix above."""
    return [
        *_dispatch_patches(),
        *_json_patches(),
        *_item_patches(),
        *_condition_patches(),
        *_query_patches(),
        *_scan_patches(),
        *_update_patches(),
    ]


def install(setattr_: Callable[[Any, str, Any], None] = setattr) -> None:
    for owner, name, replacement in patches():
        setattr_(owner, name, replacement)
