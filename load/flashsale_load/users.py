"""Locust users shared by the scenario files under load/.

The processing path comes from `--phase` (or LOAD_PHASE): sync, async-ecs or async-lambda.
`--orders-log PATH` (or LOAD_ORDERS_LOG) records every accepted order id for the reports.
FastHttpUser keeps the generator's own CPU cost low (about 5x cheaper per request than
HttpUser).
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, constant, events, task
from locust.env import Environment

from flashsale_load import config, locust_stats
from flashsale_load.orderlog import AcceptedOrder, OrdersLogWriter
from flashsale_load.phases import DEFAULT_PHASE, PHASE_NAMES, Phase, order_body, phase
from flashsale_load.phases import product_id as random_product_id
from flashsale_load.phases import search_term as random_search_term

_log: OrdersLogWriter | None = None


@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    parser.add_argument(
        "--phase",
        choices=PHASE_NAMES,
        default=DEFAULT_PHASE,
        env_var="LOAD_PHASE",
        help="processing path to order through: sync, async-ecs or async-lambda",
    )
    parser.add_argument(
        "--orders-log",
        default="",
        env_var="LOAD_ORDERS_LOG",
        help="CSV file recording the accepted order ids and the load window",
    )
    parser.add_argument(
        "--summary-file",
        default="",
        env_var="LOAD_SUMMARY_FILE",
        help="JSON file of locust's final figures per request name (locust_stats.py)",
    )


def _option(environment: Environment, name: str) -> str:
    """An option added above, as locust parsed it (flag, else its env_var, else default)."""
    return getattr(environment.parsed_options, name, None) or ""


@events.test_start.add_listener
def _open_log(environment: Environment, **_: Any) -> None:
    global _log
    path = _option(environment, "orders_log")
    if path and _log is None:
        _log = OrdersLogWriter(Path(path))
        _log.mark("start", time.time())


@events.test_stop.add_listener
def _close_log(environment: Environment, **_: Any) -> None:
    global _log
    if _log is not None:
        _log.mark("stop", time.time())
        _log.close()
        _log = None


@events.quitting.add_listener
def _write_summary(environment: Environment, **_: Any) -> None:
    path = _option(environment, "summary_file")
    if path:
        locust_stats.write(environment.stats, Path(path))


class StoreUser(FastHttpUser):
    """A client of the store's API. Subclasses choose the tasks and the think time."""

    abstract = True
    host = config.api_url()
    network_timeout = 60.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.rng = random.Random()
        self.phase: Phase = phase(_option(self.environment, "phase") or DEFAULT_PHASE)

    def place_order(self) -> None:
        phase_ = self.phase
        with self.client.post(
            phase_.path,
            json=order_body(self.rng),
            headers=phase_.headers,
            name=phase_.request_name,
            catch_response=True,
        ) as response:
            if response.status_code == phase_.accepted_status:
                order_id = _order_id(response)
                if order_id is None:
                    response.failure("accepted, but no order_id in the answer")
                    return
                response.success()
                if _log is not None:
                    _log.order(
                        AcceptedOrder(order_id, phase_.name, time.time(), response.status_code)
                    )
            elif phase_.is_answer(response.status_code):
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}: {_excerpt(response)}")

    def search(self) -> None:
        with self.client.get(
            "/products/search",
            params={"q": random_search_term(self.rng)},
            name="search",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or "products" not in (_json(response) or {}):
                response.failure(f"HTTP {response.status_code}: {_excerpt(response)}")

    def view_product(self) -> None:
        self.client.get(f"/products/{random_product_id(self.rng)}", name="product")


class OrderingUser(StoreUser):
    """A customer who only orders; subclasses set how long they think between orders."""

    abstract = True

    @task
    def order(self) -> None:
        self.place_order()


class NormalUser(OrderingUser):
    """An ordinary day: a customer orders every couple of seconds."""

    abstract = True
    wait_time = between(1, 3)


class FlashSaleUser(OrderingUser):
    """A flash sale: customers order as fast as the page lets them."""

    abstract = True
    wait_time = between(0.1, 0.5)


class ClosedLoopUser(OrderingUser):
    """A benchmark client: the next order as soon as the last one is answered."""

    abstract = True
    wait_time = constant(0)


class BrowseBuyUser(StoreUser):
    """Shoppers search, look at products and sometimes buy."""

    abstract = True
    wait_time = between(0.5, 2)

    @task(5)
    def browse_search(self) -> None:
        self.search()

    @task(3)
    def browse_product(self) -> None:
        self.view_product()

    @task(1)
    def buy(self) -> None:
        self.place_order()


def _json(response: Any) -> dict[str, Any] | None:
    try:
        body = response.json()
    except Exception:
        return None
    return body if isinstance(body, dict) else None


def _order_id(response: Any) -> str | None:
    body = _json(response) or {}
    value = body.get("order_id")
    return value if isinstance(value, str) and value else None


def _excerpt(response: Any, limit: int = 200) -> str:
    text = response.text or ""
    return text[:limit] if text else (str(response.error) if response.error else "no body")
