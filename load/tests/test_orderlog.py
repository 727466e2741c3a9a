from flashsale_load.orderlog import AcceptedOrder, OrdersLogWriter, read


def test_round_trip(tmp_path):
    path = tmp_path / "orders.csv"
    writer = OrdersLogWriter(path)
    writer.mark("start", 100.0)
    writer.order(AcceptedOrder("a", "async-ecs", 100.5, 202))
    writer.order(AcceptedOrder("b", "async-ecs", 101.25, 202))
    writer.mark("stop", 160.0)
    writer.close()
    log = read(path)
    assert (log.start_ts, log.stop_ts) == (100.0, 160.0)
    assert log.order_ids == ["a", "b"]
    assert log.orders[1] == AcceptedOrder("b", "async-ecs", 101.25, 202)


def test_missing_log_is_empty(tmp_path):
    log = read(tmp_path / "none.csv")
    assert log.orders == [] and log.start_ts is None


def test_recorded_log(fixtures):
    log = read(fixtures / "compare" / "sync" / "orders.csv")
    assert log.start_ts and log.stop_ts and log.stop_ts > log.start_ts
    assert len(log.orders) == 12
    assert all(order.status == 200 for order in log.orders)
