"""Behaviour every OrderStore / IdempotencyStore must show; run against the fakes and DynamoDB."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from decimal import Decimal

import pytest

from flashsale.domain.model import (
    InvalidTransition,
    Order,
    OrderItem,
    OrderStatus,
    OutOfStock,
    PaymentTerms,
    Route,
    UnknownProduct,
)
from flashsale.ports import IdempotencyConflict, StoredResponse


def at_once(task: Callable[[], None], copies: int) -> None:
    """Run `copies` of `task` on as many threads at once, and wait for them all."""
    threads = [threading.Thread(target=task) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)


def new_order(*lines: tuple[int, int], route: Route = Route.ECS) -> Order:
    return Order.new(1, [OrderItem(pid, qty, Decimal("2.50")) for pid, qty in lines], route)


class OrderStoreContract:
    """Subclasses provide fixtures `orders` (an OrderStore) and `products` (its ProductStore),
    with products 1, 2, 3 in stock 10 each."""

    def test_place_reserves_stock_and_stores_the_order(self, orders, products):
        order = new_order((1, 3), (2, 1))
        orders.place(order)
        assert orders.get(order.order_id) == order
        assert products.get(1).stock == 7
        assert products.get(2).stock == 9

    def test_repeated_product_lines_are_reserved_together(self, orders, products):
        orders.place(new_order((1, 3), (1, 4)))
        assert products.get(1).stock == 3
        with pytest.raises(OutOfStock):
            orders.place(new_order((1, 2), (1, 2)))
        assert products.get(1).stock == 3

    def test_out_of_stock_writes_nothing(self, orders, products):
        order = new_order((1, 2), (2, 11))
        with pytest.raises(OutOfStock) as info:
            orders.place(order)
        assert info.value.product_id == 2 and info.value.requested == 11
        assert orders.get(order.order_id) is None
        assert products.get(1).stock == 10

    def test_unknown_product_writes_nothing(self, orders, products):
        order = new_order((1, 2), (999, 1))
        with pytest.raises(UnknownProduct) as info:
            orders.place(order)
        assert info.value.product_id == 999
        assert orders.get(order.order_id) is None
        assert products.get(1).stock == 10

    def test_concurrent_buyers_get_exactly_the_stock(self, orders, products):
        buyers, stock = 25, 10
        accepted, refused = [], []

        def buy() -> None:
            order = new_order((3, 1))
            try:
                orders.place(order)
                accepted.append(order.order_id)
            except OutOfStock:
                refused.append(order.order_id)

        at_once(buy, buyers)
        assert len(accepted) == stock
        assert len(refused) == buyers - stock
        assert products.get(3).stock == 0
        assert all(orders.get(oid) is not None for oid in accepted)
        assert all(orders.get(oid) is None for oid in refused)

    def test_transition_is_conditional(self, orders):
        order = new_order((1, 1))
        orders.place(order)
        moved = orders.transition(
            order.order_id, {OrderStatus.PENDING}, OrderStatus.PROCESSING, processing_at="t1"
        )
        assert moved
        stored = orders.get(order.order_id)
        assert stored.status is OrderStatus.PROCESSING and stored.processing_at == "t1"
        assert stored.updated_at >= order.updated_at
        assert not orders.transition(order.order_id, {OrderStatus.PENDING}, OrderStatus.FAILED)
        assert orders.transition(
            order.order_id,
            {OrderStatus.PROCESSING},
            OrderStatus.COMPLETED,
            completed_at="t2",
            payment_id="pay_1",
        )
        stored = orders.get(order.order_id)
        assert (stored.status, stored.payment_id) == (OrderStatus.COMPLETED, "pay_1")
        assert not orders.transition(
            order.order_id, {OrderStatus.PROCESSING}, OrderStatus.PROCESSING
        )
        assert orders.get(order.order_id).status is OrderStatus.COMPLETED

    def test_transition_of_missing_order_is_false(self, orders):
        assert not orders.transition("missing", {OrderStatus.PENDING}, OrderStatus.PROCESSING)

    def test_transition_sets_only_transition_fields(self, orders):
        with pytest.raises(ValueError):
            orders.transition("x", {OrderStatus.PENDING}, OrderStatus.PROCESSING, total=1)

    def test_backward_transition_is_refused(self, orders):
        with pytest.raises(InvalidTransition):
            orders.transition("any", {OrderStatus.COMPLETED}, OrderStatus.PENDING)

    def test_only_one_concurrent_transition_wins(self, orders):
        order = new_order((1, 1))
        orders.place(order)
        wins = []

        def attempt() -> None:
            if orders.transition(order.order_id, {OrderStatus.PENDING}, OrderStatus.FAILED):
                wins.append(1)

        at_once(attempt, 8)
        assert len(wins) == 1

    def test_release_stock_exactly_once(self, orders, products):
        order = new_order((1, 4), (2, 2))
        orders.place(order)
        assert orders.release_stock(order.order_id)
        assert not orders.release_stock(order.order_id)
        assert products.get(1).stock == 10 and products.get(2).stock == 10
        assert orders.get(order.order_id).stock_released
        assert not orders.release_stock("missing")

    def test_move_answers_with_the_order_as_written(self, orders):
        order = new_order((1, 2))
        orders.place(order)
        moved = orders.move(order.order_id, {OrderStatus.PENDING}, OrderStatus.PROCESSING)
        assert moved.status is OrderStatus.PROCESSING
        assert (moved.total, moved.items, moved.customer_id) == (
            order.total,
            order.items,
            order.customer_id,
        )
        assert orders.move(order.order_id, {OrderStatus.PENDING}, OrderStatus.FAILED) is None
        assert orders.move("missing", {OrderStatus.PENDING}, OrderStatus.PROCESSING) is None

    def test_claim_holds_only_while_the_order_is_what_its_event_says(self, orders):
        order = new_order((1, 2))
        orders.place(order)
        claim = functools.partial(orders.claim, order.order_id)
        cheaper = PaymentTerms(order.customer_id, order.total - Decimal("0.01"))
        someone_else = PaymentTerms(order.customer_id + 1, order.total)
        assert not claim(cheaper) and not claim(someone_else)
        assert orders.get(order.order_id).status is OrderStatus.PENDING
        assert claim(order.terms, processing_at="2026-01-01T00:00:00.000Z")
        stored = orders.get(order.order_id)
        assert stored.status is OrderStatus.PROCESSING and stored.processing_at
        assert claim(order.terms)  # a redelivery claims it again
        orders.transition(order.order_id, {OrderStatus.PROCESSING}, OrderStatus.COMPLETED)
        assert not claim(order.terms)
        assert not orders.claim("missing", order.terms)

    def test_fail_and_release_is_one_step_and_happens_once(self, orders, products):
        order = new_order((1, 4), (2, 2))
        orders.place(order)
        assert orders.fail_and_release(
            order, {OrderStatus.PENDING}, failure_reason="payment_declined"
        )
        stored = orders.get(order.order_id)
        assert stored.status is OrderStatus.FAILED and stored.stock_released
        assert stored.failure_reason == "payment_declined"
        assert products.get(1).stock == 10 and products.get(2).stock == 10
        assert not orders.fail_and_release(order.order_id, {OrderStatus.PENDING})
        assert not orders.release_stock(order.order_id)
        assert products.get(1).stock == 10

    def test_fail_and_release_refuses_a_completed_order(self, orders, products):
        order = new_order((1, 3))
        orders.place(order)
        orders.transition(order.order_id, {OrderStatus.PENDING}, OrderStatus.PROCESSING)
        orders.transition(order.order_id, {OrderStatus.PROCESSING}, OrderStatus.COMPLETED)
        assert not orders.fail_and_release(order.order_id, {OrderStatus.PROCESSING})
        assert orders.get(order.order_id).status is OrderStatus.COMPLETED
        assert products.get(1).stock == 7


class IdempotencyStoreContract:
    """Subclasses provide the fixture `idempotency` (an IdempotencyStore)."""

    def test_first_use_proceeds_then_replays(self, idempotency):
        assert idempotency.begin("k1", "fp") is None
        idempotency.complete("k1", 202, {"order_id": "o1", "status": "pending"})
        assert idempotency.begin("k1", "fp") == StoredResponse(
            202, {"order_id": "o1", "status": "pending"}
        )

    def test_in_flight_key_conflicts(self, idempotency):
        assert idempotency.begin("k2", "fp") is None
        with pytest.raises(IdempotencyConflict) as info:
            idempotency.begin("k2", "fp")
        assert info.value.reason == IdempotencyConflict.IN_FLIGHT

    def test_other_body_conflicts(self, idempotency):
        assert idempotency.begin("k3", "fp") is None
        idempotency.complete("k3", 200, {"ok": True})
        with pytest.raises(IdempotencyConflict) as info:
            idempotency.begin("k3", "other")
        assert info.value.reason == IdempotencyConflict.MISMATCH

    def test_abandon_lets_a_retry_run(self, idempotency):
        assert idempotency.begin("k4", "fp") is None
        idempotency.abandon("k4")
        assert idempotency.begin("k4", "fp") is None

    def test_abandon_keeps_completed_responses(self, idempotency):
        assert idempotency.begin("k5", "fp") is None
        idempotency.complete("k5", 201, ["x"])
        idempotency.abandon("k5")
        assert idempotency.begin("k5", "fp") == StoredResponse(201, ["x"])

    def test_concurrent_begins_let_one_through(self, idempotency):
        winners = []

        def attempt() -> None:
            try:
                if idempotency.begin("k6", "fp") is None:
                    winners.append(1)
            except IdempotencyConflict:
                pass

        at_once(attempt, 8)
        assert len(winners) == 1
