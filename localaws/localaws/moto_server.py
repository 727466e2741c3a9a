"""moto server for DynamoDB and the X-Ray API, made safe and fast enough for concurrent clients.

Two fixes over `moto_server` for a pipeline under load (moto is pinned, see constraints/dev.txt):
- moto's backends are not thread-safe (e.g. "dictionary changed size during iteration" when a
  scan meets a put), while its server is threaded: requests are serialized per service (one lock
  for DynamoDB, one for X-Ray, ...), which is also what makes the transaction rewrite below atomic;
- TransactWriteItems deep-copies every table it touches as a rollback backup, so each order costs
  O(orders already placed): transactions here check every condition first, then apply, backing up
  only the items they write.

It is served by gunicorn (one gthread worker: moto's state lives in one process) so that clients
keep their connections; per-request plumbing costs are cut by `localaws.moto_fast`, and full
garbage collections stay short however much moto holds (`keep_full_collections_short`).

It also counts the requests it serves per service and operation, so a benchmark can print the
data-plane calls an order costs: `GET /_localaws/calls` answers
`{"dynamodb": {"TransactWriteItems": 12, ...}, ...}` (counts since start; read twice, subtract).

Run: python -m localaws.moto_server [--host 127.0.0.1] [--port 4567] [--threads 32]
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from moto.dynamodb import comparisons
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend

from localaws import moto_fast
from localaws.config import CALLS_PATH

WRITE_OPS = {"Put", "Delete", "Update"}


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _check(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[tuple]:
    """Evaluate every operation's condition without writing; one (code, message, item) each."""
    results: list[tuple] = []
    seen: set[tuple[str, str]] = set()
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        old_item = None
        try:
            if op_type not in WRITE_OPS | {"ConditionCheck"}:
                raise ValueError("Unsupported transaction operation")
            key = _key_of(backend, op_type, op)
            marker = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if marker in seen:
                raise MultipleTransactionsException()
            seen.add(marker)
            current = backend.get_item(op["TableName"], key)
            if op.get("ConditionExpression") is not None:
                condition = comparisons.get_filter_expression(
                    op["ConditionExpression"],
                    op.get("ExpressionAttributeNames"),
                    op.get("ExpressionAttributeValues"),
                )
                if not condition.expr(current):
                    wants_old = op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
                    if wants_old and current:
                        old_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=old_item)
            results.append((None, None, None))
        except MultipleTransactionsException:
            raise
        except ConditionalCheckFailed as exc:
            results.append(("ConditionalCheckFailed", str(exc.message), old_item))
        except Exception as exc:
            results.append((type(exc).__name__, str(exc), old_item))
    return results


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    checked = _check(self, transact_items)
    if any(code is not None for code, _, _ in checked):
        raise TransactionCanceledException(checked)
    backups: list[tuple[str, dict[str, Any], Any]] = []
    try:
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            if op_type not in WRITE_OPS:
                continue
            table_name = op["TableName"]
            key = _key_of(self, op_type, op)
            backups.append((table_name, key, copy.deepcopy(self.get_item(table_name, key))))
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(table_name, op["Item"])
            elif op_type == "Delete":
                self.delete_item(table_name, key)
            else:
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
    except Exception:
        for table_name, key, old in reversed(backups):
            if old is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, old.to_json()["Attributes"])
        raise


def install_transaction_fix() -> None:
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _service_of(environ: dict[str, Any]) -> str:
    """The AWS service a request is for, from its SigV4 credential scope (…/region/service/…)."""
    credential = environ.get("HTTP_AUTHORIZATION", "").partition("Credential=")[2]
    parts = credential.split(",")[0].split("/")
    return parts[3] if len(parts) > 3 else "other"


def _operation_of(environ: dict[str, Any]) -> str:
    """The API operation of a JSON-protocol request (X-Amz-Target: DynamoDB_20120810.PutItem)."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    return target.rpartition(".")[2] or environ.get("PATH_INFO", "/")


class Serialized:
    """WSGI middleware: one request at a time per AWS service inside moto.

    A lock per service keeps each backend consistent while X-Ray traffic does not queue behind
    DynamoDB. The response is read under the lock.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._calls: dict[str, dict[str, int]] = {}

    def calls(self) -> dict[str, dict[str, int]]:
        """Requests served so far, per service and operation."""
        with self._guard:
            return {service: dict(ops) for service, ops in self._calls.items()}

    def _count(self, service: str, operation: str) -> None:
        with self._guard:
            ops = self._calls.setdefault(service, {})
            ops[operation] = ops.get(operation, 0) + 1

    def _lock(self, service: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(service, threading.Lock())

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("PATH_INFO") == CALLS_PATH and environ.get("REQUEST_METHOD") == "GET":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(self.calls()).encode()]
        service = _service_of(environ)
        self._count(service, _operation_of(environ))
        with self._lock(service):
            body = self.app(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                close = getattr(body, "close", None)
                if close:
                    close()


log = logging.getLogger("localaws.moto")

#: a full collection taking longer than this is logged: every request waits for it
SLOW_COLLECTION_SECONDS = 0.1


_collection_started = [0.0]


def freeze_survivors(phase: str, info: dict[str, int]) -> None:
    """gc callback: after a full collection, freeze what survived; log a slow one."""
    if info.get("generation") != 2:
        return
    if phase == "start":
        _collection_started[0] = time.perf_counter()
        return
    gc.freeze()
    took = time.perf_counter() - _collection_started[0]
    if took > SLOW_COLLECTION_SECONDS:
        log.warning("full garbage collection took %.2f s", took)


def keep_full_collections_short() -> None:
    """Freeze what survives each full garbage collection, so the next one walks only what came
    since.

    moto's tables only grow during a session (orders, charges, idempotency records, trace
    segments: over a GB after a few benchmarks), and a full collection walked all of it: a
    stall of seconds during which every request waited (seen as both Lambda environments
    stopping mid-drain at once). Frozen objects are still freed by reference counting when an
    item is replaced or deleted; the tables hold no reference cycles."""
    if freeze_survivors not in gc.callbacks:
        gc.callbacks.append(freeze_survivors)


def create_app() -> Serialized:
    """moto's WSGI app for every service, with the fixes above, serialized and counted."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    install_transaction_fix()
    moto_fast.install()
    keep_full_collections_short()
    return Serialized(DomainDispatcherApplication(create_backend_app))


def serve(app: Callable[..., Iterable[bytes]], host: str, port: int, threads: int) -> None:
    """Serve `app` from one gunicorn gthread worker (moto's state lives in one process).

    moto's own server (werkzeug's development server) closes the connection after every
    response: each call then paid a TCP handshake and a new thread on both sides. gunicorn keeps
    connections alive and serves them from a fixed pool of threads.
    """
    from gunicorn.app.base import BaseApplication

    class MotoServer(BaseApplication):
        def load_config(self) -> None:
            settings = {
                "bind": f"{host}:{port}",
                "workers": 1,
                "worker_class": "gthread",
                "threads": threads,
                "keepalive": 75,
                "timeout": 120,
                "graceful_timeout": 1,  # a call takes milliseconds; idle keep-alives need no wait
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "proc_name": "localaws-moto",
                "control_socket_disable": True,
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Callable[..., Iterable[bytes]]:
            return app

    MotoServer().run()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("MOTO_PORT", "4567")))
    parser.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("MOTO_THREADS", "32")),
        help="requests served at once (each service still runs one at a time)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    serve(create_app(), args.host, args.port, args.threads)


if __name__ == "__main__":
    main()
