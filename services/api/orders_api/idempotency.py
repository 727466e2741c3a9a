"""`Idempotency-Key` handling for the POST endpoints.

A key is bound to a fingerprint of the request (method, path, processing route, canonical JSON
body). The first request runs and its answer is stored; a retry with the same key and body gets
that answer back and creates nothing. Only answers that created an order are stored: when the
handler raises (validation, sold out, outage) the key is abandoned, since nothing was created and
a retry may legitimately run again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flashsale.ports import IdempotencyStore
from orders_api.errors import ApiError

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
#: visible ASCII: no spaces, no control characters (also the OpenAPI document's `pattern`)
KEY_PATTERN = r"^[\x21-\x7e]+$"
_KEY_PATTERN = re.compile(KEY_PATTERN)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def validate_key(raw: str | None) -> str | None:
    """The header's value, or None when absent; raises a 400 ApiError when it is unusable."""
    if raw is None:
        return None
    if not raw or len(raw) > MAX_KEY_LENGTH or not _KEY_PATTERN.fullmatch(raw):
        raise ApiError(
            400,
            "invalid_idempotency_key",
            f"{HEADER} must be 1-{MAX_KEY_LENGTH} visible ASCII characters",
            HEADER,
        )
    return raw


def fingerprint(method: str, path: str, body: Any, **extra: str | None) -> str:
    canonical = json.dumps(
        {"method": method, "path": path, "body": body, **extra},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def run(
    store: IdempotencyStore,
    key: str | None,
    request_fingerprint: str,
    handler: Callable[[], Answer],
) -> Answer:
    """Run `handler` at most once per key; replay the stored answer for a matching retry."""
    if key is None:
        return handler()
    stored = store.begin(key, request_fingerprint)
    if stored is not None:
        return Answer(stored.status_code, stored.body, replayed=True)
    try:
        answer = handler()
    except BaseException:
        _quietly(store.abandon, key)
        raise
    # The order exists now: answer the client even if recording the answer fails (the key then
    # stays in flight until it expires, so a retry gets 409 rather than a second order).
    _quietly(store.complete, key, answer.status, answer.body)
    return answer


def _quietly(operation: Callable[..., object], *args: object) -> None:
    try:
        operation(*args)
    except Exception:
        log.exception("idempotency store: %s failed", getattr(operation, "__name__", operation))
