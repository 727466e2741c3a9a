"""An attacker's run against the live API (`make up`): guessed, missing and timing-probed admin
keys, oversized, deep and malformed bodies, control characters in `Idempotency-Key` and
`X-Processing-Route`, unknown methods. Each is a clear 4xx in the API's JSON error shape, and
nothing is written: the orders, the stock of every product, the ledger and the idempotency
records count the same before and after (read from the DynamoDB tables directly).

Control characters cannot be sent through an HTTP client library (they refuse to), so those
requests go over a raw socket, as an attacker's would.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from support.pipeline import Pipeline

from flashsale_kit.api import Api
from flashsale_kit.polling import wait_until

GOOD = {"customer_id": 7, "items": [{"product_id": 1, "quantity": 1}]}
ORDER_PATHS = ("/orders/sync", "/orders/async")


@pytest.fixture(scope="module")
def audit(pipeline: Pipeline) -> Callable[[], dict[str, Any]]:
    tables, settings = pipeline.tables, pipeline.tables.settings

    def snapshot() -> dict[str, Any]:
        return {
            "orders": tables.count(settings.orders_table),
            "payments": tables.count(settings.payments_table),
            "idempotency": tables.count(settings.idempotency_table),
            "stock": {pid: stock for pid, (stock, _) in tables.products().items()},
        }

    return snapshot


@pytest.fixture(scope="module")
def api(audit: Callable[[], dict[str, Any]]) -> Iterator[Api]:
    """The API, once earlier tests' orders stopped moving stock (two equal audits in a row)."""
    api = Api()
    assert api.ready(), f"the API at {api.url} is not ready: start it with `make up`"
    previous = [audit()]

    def settled() -> bool:
        now = audit()
        same, previous[0] = now == previous[0], now
        return same

    wait_until(settled, timeout=120, interval=1.0)
    yield api
    api.close()


@pytest.fixture(scope="module")
def before(api: Api, audit: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    return audit()


def _refused(response: requests.Response, status: set[int]) -> dict[str, Any]:
    assert response.status_code in status, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:300]
    error = response.json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    return error


def _raw(api: Api, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `request` as bytes over its own connection; the status, headers and body."""
    url = urlsplit(api.url)
    with socket.create_connection((url.hostname, url.port or 80), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def _post_raw(api: Api, path: str, header: bytes) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps(GOOD).encode()
    return _raw(
        api,
        b"POST " + path.encode() + b" HTTP/1.1\r\nHost: api\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\n" + header + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body,
    )


# -- admin keys ---------------------------------------------------------------------------------


def test_missing_and_wrong_admin_keys_are_refused_alike(api: Api, before) -> None:
    url = f"{api.url}/products/1"
    change = {"stock": -1}  # invalid: even a key that got through could not write
    assert _refused(api.session.put(url, json=change, timeout=10), {401})["field"] == "X-Admin-Key"
    real = api.admin_key
    guesses = [
        "",
        "admin",
        "local-admin-key\t-",
        real.upper(),
        real[:-1],
        real + "x",
        "x" * 4000,
        *(real[:n] + "#" * (len(real) - n) for n in range(len(real))),  # timing probes
    ]
    answers = set()
    for guess in dict.fromkeys(g for g in guesses if g != real):
        response = api.session.put(url, json=change, headers={"X-Admin-Key": guess}, timeout=10)
        if not guess.strip():
            _refused(response, {401})
            continue
        error = _refused(response, {403})
        answers.add((response.status_code, json.dumps(error, sort_keys=True)))
    # a key sharing a longer prefix with the real one gets exactly the same answer
    assert len(answers) == 1, answers


def test_ready_details_stay_hidden_without_the_key(api: Api) -> None:
    for headers in ({}, {"X-Admin-Key": "guess"}):
        body = api.session.get(f"{api.url}/ready", headers=headers, timeout=10).json()
        assert set(body) <= {"status", "error"}, body


# -- bodies -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ORDER_PATHS)
def test_oversized_deep_and_malformed_bodies(api: Api, path: str, before) -> None:
    url = f"{api.url}{path}"
    cases: list[tuple[bytes, set[int]]] = [
        (b'{"customer_id": 7, "pad": "' + b"x" * 70_000 + b'"}', {413}),
        (b"[" * 50_000 + b"]" * 50_000, {400, 413}),
        (b"[" * 20_000 + b"]" * 20_000, {400}),
        (b'{"a":' * 5_000 + b"1" + b"}" * 5_000, {400, 422}),
        (b'{"customer_id": 7, "items": ' + b"[" * 3_000 + b"]" * 3_000 + b"}", {400, 422}),
        (b'{"customer_id": 7, "items": [', {400}),
        (b'{"customer_id": NaN, "items": []}', {400}),
        (b"\xff\xfe{}", {400}),
        (b'{"customer_id": 7, "customer_id": "x", "items": []}', {422}),
    ]
    for body, status in cases:
        # each on a connection of its own: a refused body is left unread
        response = requests.post(
            url, data=body, headers={"Content-Type": "application/json"}, timeout=30
        )
        _refused(response, status)


# -- headers ------------------------------------------------------------------------------------

CONTROL = [b"\x00", b"\x01", b"\x08", b"\x1b[31m", b"\x7f", b"\t", b"\xc3\xa9", b"\xff"]


@pytest.mark.parametrize("path", ORDER_PATHS)
@pytest.mark.parametrize("char", CONTROL, ids=[c.hex() for c in CONTROL])
def test_control_characters_in_idempotency_key_and_route(
    api: Api, path: str, char: bytes, before
) -> None:
    # inside the value: leading and trailing blanks are not part of an HTTP header value
    headers = [b"Idempotency-Key: zq" + char + b"91"]
    if path == "/orders/async":  # the only path that reads the route
        headers.append(b"X-Processing-Route: ec" + char + b"s")
    for header in headers:
        status, answer, body = _post_raw(api, path, header)
        assert 400 <= status < 500, (header, status, body[:200])
        assert answer["content-type"].startswith("application/json"), (header, body[:200])
        error = json.loads(body)["error"]
        assert error["code"] and error["message"]
        assert b"zq" not in body  # the value is never echoed


def test_header_injection_is_not_reflected(api: Api, before) -> None:
    status, headers, _ = _post_raw(api, "/orders/async", b"Idempotency-Key: a\rSet-Cookie: x=1")
    assert 400 <= status < 500 and "set-cookie" not in headers


# -- methods ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", [b"DELETE", b"PATCH", b"TRACE", b"CONNECT", b"FOO", b"PROPFIND"])
@pytest.mark.parametrize("path", [*ORDER_PATHS, "/products/1"])
def test_unknown_methods_are_405(api: Api, method: bytes, path: str, before) -> None:
    status, headers, body = _raw(
        api, method + b" " + path.encode() + b" HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n"
    )
    assert status == 405, (status, body[:200])
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"]["code"] == "method_not_allowed"
    assert "allow" in headers


def test_a_malformed_request_line_is_a_json_400(api: Api, before) -> None:
    status, headers, body = _raw(api, b"POST /orders/async HTTP/9.9 extra\r\n\r\n")
    assert 400 <= status < 500 and headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"]["message"]


# -- nothing written ----------------------------------------------------------------------------


def test_zz_nothing_was_written(before, audit) -> None:
    """Last in this module: after every attack, the audit is the one taken before."""
    after = audit()
    assert after["orders"] == before["orders"]
    assert after["payments"] == before["payments"]
    assert after["idempotency"] == before["idempotency"]
    changed = {
        p: (s, after["stock"].get(p))
        for p, s in before["stock"].items()
        if after["stock"].get(p) != s
    }
    assert not changed, changed
