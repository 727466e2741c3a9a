from dataclasses import replace

from flashsale_kit.polling import wait_until
from flashsale_load.sampler import QueueSampler, read_errors, read_samples


class FakeSqs:
    """Queue counts by URL, as RunningStack.queue_counts answers them."""

    def __init__(self, depths):
        self.depths = depths

    def counts(self, url):
        if url not in self.depths:
            raise RuntimeError("AWS.SimpleQueueService.NonExistentQueue")
        visible, in_flight = self.depths[url]
        return {
            "ApproximateNumberOfMessages": visible,
            "ApproximateNumberOfMessagesNotVisible": in_flight,
        }


def test_samples_every_queue_with_the_current_label(tmp_path):
    sqs = FakeSqs({"u1": (3, 1), "u2": (0, 2)})
    sampler = QueueSampler(sqs.counts, {"order-queue": "u1", "payment-queue": "u2"})
    assert sampler.latest_total() is None
    sampler.label = "async-ecs"
    sampler.sample_once()
    assert sampler.latest_total() == 6
    assert {(s.queue, s.depth, s.label) for s in sampler.samples} == {
        ("order-queue", 4, "async-ecs"),
        ("payment-queue", 2, "async-ecs"),
    }
    sampler.write_csv(tmp_path / "q.csv")
    assert read_samples(tmp_path / "q.csv") == [
        replace(s, ts=round(s.ts, 3)) for s in sampler.samples
    ]


def test_a_failing_queue_is_counted_not_fatal():
    sampler = QueueSampler(FakeSqs({"u1": (1, 0)}).counts, {"order-queue": "u1", "gone": "u9"})
    sampler.sample_once()
    assert sampler.failures[""].count == 1 and len(sampler.samples) == 1
    assert sampler.latest_total() is None  # an incomplete sample is no answer


def test_failed_samples_are_kept_per_phase_with_the_last_error(tmp_path):
    sampler = QueueSampler(FakeSqs({"u1": (1, 0)}).counts, {"order-queue": "u1", "gone": "u9"})
    sampler.label = "async-ecs"
    sampler.sample_once()
    sampler.sample_once()
    sampler.label = "async-lambda"
    sampler.sample_once()
    sampler.write_errors(tmp_path / "errors.json")
    errors = read_errors(tmp_path / "errors.json")
    assert {label: seen.count for label, seen in errors.items()} == {
        "async-ecs": 2,
        "async-lambda": 1,
    }
    assert errors["async-ecs"].last == "gone: RuntimeError: AWS.SimpleQueueService.NonExistentQueue"
    assert read_errors(tmp_path / "not-recorded.json") is None


def test_thread_samples_until_stopped():
    sampler = QueueSampler(FakeSqs({"u1": (0, 0)}).counts, {"order-queue": "u1"}, interval=0.01)
    sampler.start()
    try:
        wait_until(lambda: len(sampler.samples) >= 3, timeout=5, interval=0.01)
    finally:
        sampler.stop()
    assert not sampler._ticker._thread.is_alive()
