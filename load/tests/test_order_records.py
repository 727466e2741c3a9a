from flashsale_load.analysis import OrderRecord
from flashsale_load.order_records import read_records, wait_terminal, write_records


class FakeClient:
    """Orders finish after a number of lookups; records how often each was looked up."""

    def __init__(self, finish_after: dict[str, int]) -> None:
        self.finish_after = finish_after
        self.lookups: dict[str, int] = {}

    def find_many(self, ids):
        """GET /orders/<id> bodies, as `Api.find_many` answers them."""
        found = {}
        for oid in ids:
            self.lookups[oid] = self.lookups.get(oid, 0) + 1
            done = self.lookups[oid] >= self.finish_after[oid]
            found[oid] = {
                "order_id": oid,
                "status": "completed" if done else "pending",
                "route": "ecs",
                "created_at": "2026-01-31T12:00:01Z",
                "completed_at": "2026-01-31T12:00:02Z" if done else None,
            }
        return found


def test_polls_until_every_order_is_terminal_and_stops_asking_for_finished_ones():
    client = FakeClient({"a": 1, "b": 3})
    records = wait_terminal(client, ["a", "b"], timeout=10, interval=0.01)
    assert all(record.is_terminal for record in records.values())
    assert client.lookups == {"a": 1, "b": 3}


def test_gives_up_at_the_deadline_with_the_last_state():
    client = FakeClient({"a": 10**9})
    records = wait_terminal(client, ["a"], timeout=0.2, interval=0.05)
    assert records["a"].status == "pending"


def test_waits_for_the_queues_before_looking_up():
    """Not even a first lookup while orders are queued: it would slow the drain it times."""
    client = FakeClient({"a": 1})
    depths = [5, 5, 0]
    asked: list[int] = []

    def backlog() -> int:
        asked.append(client.lookups.get("a", 0))
        return depths[len(asked) - 1]

    records = wait_terminal(client, ["a"], timeout=10, backlog=backlog, interval=0.01, recheck_s=60)
    assert records["a"].is_terminal and client.lookups == {"a": 1}
    assert asked == [0, 0, 0]  # no lookup before the queues were empty


def test_records_round_trip(tmp_path):
    records = {
        "a": OrderRecord("a", "completed", "lambda", 1.5, completed_ts=4.25, processing_ts=2.0),
        "b": OrderRecord("b", "failed", "ecs", 1.0, failed_ts=3.0),
        "c": None,
    }
    write_records(tmp_path / "orders.csv", records)
    assert read_records(tmp_path / "orders.csv") == records


def test_recorded_files_round_trip_byte_for_byte(fixtures, tmp_path):
    from flashsale_load.sampler import read_samples, write_samples

    recorded = fixtures / "compare" / "async-ecs" / "orders_final.csv"
    write_records(tmp_path / "orders.csv", read_records(recorded))
    assert (tmp_path / "orders.csv").read_bytes() == recorded.read_bytes()
    depths = fixtures / "compare" / "queue_depth.csv"
    write_samples(tmp_path / "depths.csv", read_samples(depths))
    assert (tmp_path / "depths.csv").read_bytes() == depths.read_bytes()
