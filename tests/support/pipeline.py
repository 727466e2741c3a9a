"""The live pipeline as the end-to-end tests drive it, built from the toolkit (flashsale_kit):
orders through the API, statuses polled in bulk from the orders table, charges checked with
the audit's money rules, OrderPlaced re-published, the consumers' logs read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flashsale.events import OrderPlaced
from flashsale_chaos.money import Violation, order_violations
from flashsale_kit.api import Api
from flashsale_kit.events import publish
from flashsale_kit.logs import LambdaLog, ProcessorLog, handled
from flashsale_kit.polling import WaitTimeout, wait_until
from flashsale_kit.running import RunningStack
from flashsale_kit.tables import TERMINAL, Tables

#: the order's timestamps in the order a successful order gets them
TIMELINE = ("created_at", "processing_at", "completed_at")
#: products the tests create get ids from here up, far from the catalog's 1..1000
PRODUCT_ID_BASE = 900_000


@dataclass
class Pipeline:
    stack: RunningStack = field(default_factory=RunningStack)

    def __post_init__(self) -> None:
        self.api = Api(self.stack.api_url, admin_key=self.stack.env.get("ADMIN_API_KEY"))
        self.tables = Tables(self.stack)
        self.processor_log = ProcessorLog(self.stack.log_path("processor"))
        self.lambda_log = LambdaLog(self.stack.client("logs"), self.stack.function_name)

    @classmethod
    def connect(cls) -> Pipeline:
        """The stack the environment names; fails if its API is not ready."""
        pipeline = cls()
        if not pipeline.api.ready():
            pipeline.close()
            raise AssertionError(f"the API at {pipeline.api.url} is not ready: `make up`")
        return pipeline

    def close(self) -> None:
        self.api.close()

    def new_product(self, stock: int, price: str = "9.99") -> int:
        """A fresh product nobody else orders, so its stock is the test's. PUT /products/<id>
        updates existing products only: the row is written with no stock, then the stock is
        set through the admin endpoint."""
        [product_id] = self.tables.new_products("e2e item", [0], PRODUCT_ID_BASE, price)
        assert self.api.set_stock(product_id, stock)["stock"] == stock
        return product_id

    def wait_terminal(
        self, order_ids: Iterable[str], timeout: float, interval: float = 0.5
    ) -> dict[str, str]:
        """Poll the orders table until every order is completed or failed; the statuses."""
        ids = list(dict.fromkeys(order_ids))
        last: dict[str, str | None] = {}

        def all_done() -> bool:
            last.update(self.tables.statuses(oid for oid in ids if last.get(oid) not in TERMINAL))
            return all(last[oid] in TERMINAL for oid in ids)

        try:
            wait_until(all_done, timeout, interval)
        except WaitTimeout:
            open_ = {oid: last.get(oid) for oid in ids if last.get(oid) not in TERMINAL}
            raise WaitTimeout(
                f"{len(open_)} of {len(ids)} orders not final after {timeout} s: "
                f"{dict(list(open_.items())[:5])}"
            ) from None
        return {oid: str(last[oid]) for oid in ids}

    def money_violations(self, order_ids: Iterable[str]) -> list[Violation]:
        """`make audit`'s money rules over these orders: each one's charges against its status."""
        ids = list(dict.fromkeys(order_ids))
        return order_violations(self.tables.orders(ids), self.tables.charges(ids))

    def publish(self, event: OrderPlaced) -> str:
        return publish(self.stack, event)

    def handled(self, route: str, order_id: str, since: int) -> list[dict]:
        """The consumer's `order processed` entries for this order since the mark."""
        return handled(self.processor_log if route == "ecs" else self.lambda_log, order_id, since)
