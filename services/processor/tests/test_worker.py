from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from flashsale.domain.model import OrderStatus
from order_processor.heartbeat import Heartbeat
from order_processor.worker import Worker

from .conftest import WAIT, FakeQueue, World, wait_until


@contextmanager
def running(worker: Worker) -> Iterator[dict]:
    """Run the worker's loop in a thread; stop it and collect run()'s result on exit."""
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(drained=worker.run()), daemon=True)
    thread.start()
    try:
        yield result
    finally:
        worker.stop()
        thread.join(WAIT * 2)
        assert not thread.is_alive(), "the worker did not stop"


def test_never_more_payments_in_flight_than_the_concurrency(world: World, queue: FakeQueue, config):
    orders = [world.place() for _ in range(5)]
    for _, body in orders:
        queue.put(body)
    worker = Worker(queue, world.deps, config)

    with running(worker):
        assert wait_until(lambda: world.held.running == 2)
        # Both slots are busy: the worker must not ask SQS for more while they are.
        asked_while_full = len(queue.asked)
        assert not wait_until(lambda: len(queue.asked) > asked_while_full, timeout=0.3)
        world.held.gate.set()
        assert wait_until(lambda: len(queue.deleted) == 5)

    assert world.held.peak == 2
    assert max(queue.asked) == 2
    assert all(world.orders.get(o.order_id).status is OrderStatus.COMPLETED for o, _ in orders)


def test_asks_only_for_free_slots_up_to_ten(world: World, queue: FakeQueue, config):
    worker = Worker(queue, world.deps, replace(config, concurrency=25))
    world.held.gate.set()
    worker.poll_once()
    assert queue.asked == [10]


def test_deletes_only_after_the_outcome_is_recorded(world: World, queue: FakeQueue, config):
    order, body = world.place()
    message = queue.put(body)
    status_at_delete: list[OrderStatus] = []
    queue.on_delete = lambda _rh: status_at_delete.append(world.orders.get(order.order_id).status)
    world.held.gate.set()

    with running(Worker(queue, world.deps, config)):
        assert wait_until(lambda: queue.deleted == [message.receipt_handle])

    assert status_at_delete == [OrderStatus.COMPLETED]
    assert len(world.ledger.charges(order.order_id)) == 1


def test_a_redelivered_message_is_not_charged_again(world: World, queue: FakeQueue, config):
    order, body = world.place()
    world.held.gate.set()
    first, second = queue.put(body), queue.put(body, receive_count=2)

    with running(Worker(queue, world.deps, config)):
        assert wait_until(lambda: len(queue.deleted) == 2)

    assert set(queue.deleted) == {first.receipt_handle, second.receipt_handle}
    assert len(world.ledger.charges(order.order_id)) == 1


def test_a_poison_message_is_returned_to_the_queue_not_deleted(
    world: World, queue: FakeQueue, config
):
    poison = queue.put("{not json", receive_count=3)

    with running(Worker(queue, world.deps, config)):
        assert wait_until(lambda: queue.visibility)

    assert queue.visibility == [(poison.receipt_handle, 0)]
    assert queue.deleted == []


def test_a_transient_gateway_error_is_retried_after_a_backoff(queue: FakeQueue, config):
    world = World(error_rate=1.0)
    world.held.gate.set()
    order, body = world.place()
    message = queue.put(body, receive_count=3)

    with running(Worker(queue, world.deps, config)):
        assert wait_until(lambda: queue.visibility)

    assert queue.visibility == [(message.receipt_handle, config.backoff(3))]
    assert config.backoff(3) > 0
    assert queue.deleted == []
    assert world.orders.get(order.order_id).status is OrderStatus.PROCESSING


def test_stop_finishes_in_flight_payments_and_deletes_their_messages(
    world: World, queue: FakeQueue, config
):
    order, body = world.place()
    message = queue.put(body)
    worker = Worker(queue, world.deps, config)

    with running(worker) as result:
        assert wait_until(lambda: world.held.running == 1)
        worker.stop()
        receives_at_stop = len(queue.asked)
        queue.put(world.place()[1])  # arrives after the stop: must not be taken
        world.held.gate.set()
        assert wait_until(lambda: "drained" in result)

    assert result["drained"] is True
    assert queue.deleted == [message.receipt_handle]
    assert world.orders.get(order.order_id).status is OrderStatus.COMPLETED
    assert len(queue.asked) <= receives_at_stop + 1  # at most the receive already under way
    assert len(queue.available) + len(queue.visibility) == 1  # untouched or handed back


def test_stop_reports_payments_that_outlive_the_stop_timeout(
    world: World, queue: FakeQueue, config
):
    queue.put(world.place()[1])
    worker = Worker(queue, world.deps, replace(config, stop_timeout=0.2))

    with running(worker) as result:
        assert wait_until(lambda: world.held.running == 1)
        worker.stop()
        assert wait_until(lambda: "drained" in result)
        world.held.gate.set()

    assert result["drained"] is False
    assert queue.deleted == []


def test_the_heartbeat_extends_messages_while_they_are_paid(world: World, queue: FakeQueue, config):
    config = replace(config, visibility_timeout=2, heartbeat_interval=0.1)
    message = queue.put(world.place()[1])
    heartbeat = Heartbeat(queue, config.visibility_timeout, config.heartbeat_interval)

    with running(Worker(queue, world.deps, config, heartbeat=heartbeat)):
        assert wait_until(lambda: (message.receipt_handle, 2) in queue.extended)
        world.held.gate.set()
        assert wait_until(lambda: queue.deleted == [message.receipt_handle])

    assert heartbeat.in_flight() == 0
